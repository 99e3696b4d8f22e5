"""A whole release, dry: deploy/jenkins/deploy.sh against a stand-in kubectl that records
every call (tests/deploy/standin_kubectl.py). Checked: the order of the steps, every
workload on the one image, the configuration applied before the migration reads it, no
floating tag, and a failure at any step stopping the release there."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, containers, pod_specs, rendered, tool

DEPLOY_SH = DEPLOY / "jenkins" / "deploy.sh"
STANDIN = Path(__file__).with_name("standin_kubectl.py")
REPOSITORY = "111122223333.dkr.ecr.us-east-1.amazonaws.com/eren"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"{REPOSITORY}@{DIGEST}"
SHA = "3f2c1e9a8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39"
# What an operator applies, never the deployer (a deployer must not widen its own rights).
OPERATOR_KINDS = {"Namespace", "Role", "RoleBinding"}


@dataclass
class Release:
    returncode: int
    output: str
    calls: list[dict]

    def commands(self) -> list[str]:
        return [" ".join(call["argv"]) for call in self.calls]

    def applied(self) -> list[dict]:
        """Every object given to `apply` or `create`, in order."""
        docs = []
        for call in self.calls:
            if {"apply", "create"} & set(call["argv"]):
                for text in call["files"].values():
                    docs += [doc for doc in yaml.safe_load_all(text) if doc]
        return docs


def release(
    tmp_path: Path, env: str, image: str, script: Path = DEPLOY_SH, **standin: str
) -> Release:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n')
    kubectl.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    log.unlink(missing_ok=True)
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_LOG": str(log),
        "STANDIN_REAL_KUBECTL": tool("kubectl"),
        **{f"STANDIN_{key.upper()}": value for key, value in standin.items()},
    }
    result = subprocess.run(
        ["sh", str(script), env, image],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return Release(result.returncode, result.stdout + result.stderr, calls)


# The steps of a release, by a piece of each command, in the order they must run.
STEPS = [
    "apply --server-side --force-conflicts --field-manager=eren-release -f {work}/config.yaml",
    "wait --for=condition=Ready externalsecret --all",
    "delete job eren-migrate --ignore-not-found",
    "create -f {work}/objects/Job_eren-migrate.yaml",
    "get job eren-migrate",
    "logs job/eren-migrate",
    "-f {work}/objects/Deployment_eren-worker.yaml",
    "rollout status deployment/eren-worker",
    "-f {work}/objects/Deployment_eren-beat.yaml",
    "rollout status deployment/eren-beat",
    "-f {work}/objects/Rollout_eren-web.yaml",
    "status eren-web --timeout 2h",
]


def step_of(command: str) -> int:
    for index, step in enumerate(STEPS):
        head, _, tail = step.partition("{work}")
        if head in command and tail in command:
            return index
    raise AssertionError(f"not a release step: {command}")


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Release]:
    return {
        env: release(tmp_path_factory.mktemp(env), env, IMAGE) for env in ("staging", "production")
    }


def test_a_release_runs_every_step_once_in_order(releases, overlay):
    done = releases[overlay]
    assert done.returncode == 0, done.output
    commands = done.commands()
    assert [step_of(command) for command in commands] == list(range(len(STEPS)))
    assert all(f"-n eren-{overlay}" in command for command in commands)
    assert f"released {IMAGE}" in done.output


def test_every_workload_runs_the_one_image(releases, overlay):
    applied = releases[overlay].applied()
    workloads = dict(pod_specs(applied))
    assert set(workloads) == {
        "Rollout/eren-web", "Deployment/eren-worker", "Deployment/eren-beat", "Job/eren-migrate",
    }  # fmt: skip
    for name, spec in workloads.items():
        ours = [c["image"] for c in containers(spec) if c["name"] != "pgbouncer"]
        assert ours, name
        assert set(ours) == {IMAGE}, name
    # No floating tag anywhere: every other image is pinned by digest.
    for name, spec in workloads.items():
        for container in containers(spec):
            assert "@sha256:" in container["image"], f"{name}/{container['name']}"


def test_the_release_applies_the_whole_overlay_but_the_operators_part(releases, overlay):
    def key(doc):
        return doc["kind"], doc["metadata"]["name"]

    applied = [key(doc) for doc in releases[overlay].applied()]
    assert len(applied) == len(set(applied)), "an object was applied twice"
    expected = {key(doc) for doc in rendered(overlay) if doc["kind"] not in OPERATOR_KINDS}
    assert set(applied) == expected


def test_the_migration_reads_a_configmap_the_release_applied_before_it(releases, overlay):
    """A changed config.env renames the hashed ConfigMap: it must exist before the Job."""
    calls = releases[overlay].calls
    create = next(i for i, call in enumerate(calls) if "create" in call["argv"])
    (job,) = [doc for text in calls[create]["files"].values() for doc in yaml.safe_load_all(text)]
    spec = job["spec"]["template"]["spec"]
    wanted = {
        ref["configMapRef"]["name"]
        for container in containers(spec)
        for ref in container.get("envFrom", [])
        if "configMapRef" in ref
    }
    before = {
        doc["metadata"]["name"]
        for call in calls[:create]
        for text in call["files"].values()
        for doc in yaml.safe_load_all(text)
        if doc and doc["kind"] == "ConfigMap"
    }
    assert wanted
    assert wanted <= before


def migration_configmap(done: Release) -> str:
    create = next(call for call in done.calls if "create" in call["argv"])
    (job,) = [doc for text in create["files"].values() for doc in yaml.safe_load_all(text)]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    (name,) = [ref["configMapRef"]["name"] for ref in container["envFrom"] if "configMapRef" in ref]
    return name


def test_a_changed_config_env_ships_its_configmap_before_the_migration(releases, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(DEPLOY, copy / "deploy")
    with (copy / "deploy" / "k8s" / "base" / "config.env").open("a") as config:
        config.write("EREN_RELEASE_TEST=1\n")
    done = release(tmp_path, "production", IMAGE, script=copy / "deploy" / "jenkins" / "deploy.sh")
    assert done.returncode == 0, done.output
    before = migration_configmap(releases["production"])
    after = migration_configmap(done)
    assert after != before  # a new hashed name ...
    applied = [doc["metadata"]["name"] for doc in done.applied() if doc["kind"] == "ConfigMap"]
    assert after in applied  # ... applied in the configuration step, before the Job


def test_a_git_sha_tag_is_released_as_such(tmp_path):
    done = release(tmp_path, "staging", f"{REPOSITORY}:{SHA}")
    assert done.returncode == 0, done.output
    web = next(doc for doc in done.applied() if doc["kind"] == "Rollout")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{REPOSITORY}:{SHA}"


@pytest.mark.parametrize(
    "image",
    [
        f"{REPOSITORY}:latest",
        f"{REPOSITORY}",
        f"{REPOSITORY}:v1.2.3",
        f"{REPOSITORY}:main",
        f"{REPOSITORY}:{SHA[:12]}",
        f"{REPOSITORY}@sha256:abc",
    ],
)
def test_a_floating_or_unpinned_image_is_refused_before_anything_runs(tmp_path, image):
    done = release(tmp_path, "production", image)
    assert done.returncode == 2, done.output
    assert "refusing" in done.output
    assert done.calls == []


def test_an_image_the_overlay_does_not_name_is_refused(tmp_path):
    done = release(tmp_path, "production", f"registry.example.org/eren@{DIGEST}")
    assert done.returncode == 1
    assert "does not run registry.example.org/eren@" in done.output
    assert done.calls == []


def test_an_unknown_environment_is_refused(tmp_path):
    done = release(tmp_path, "prod", IMAGE)
    assert done.returncode == 2
    assert "unknown environment" in done.output
    assert done.calls == []


@pytest.mark.parametrize(
    ("standin", "failed_step", "then"),
    [
        ({"fail": "config.yaml"}, 0, []),
        ({"fail": "externalsecret"}, 1, []),
        ({"fail": "delete job eren-migrate"}, 2, []),
        ({"fail": "Job_eren-migrate.yaml"}, 3, []),
        ({"job": "Failed"}, 4, ["logs job/eren-migrate --tail=200"]),
        ({"fail": "Deployment_eren-worker.yaml"}, 6, []),
        ({"fail": "rollout status deployment/eren-worker"}, 7, ["undo deployment/eren-worker"]),
        ({"fail": "Deployment_eren-beat.yaml"}, 8, []),
        ({"fail": "rollout status deployment/eren-beat"}, 9, ["undo deployment/eren-beat"]),
        ({"fail": "Rollout_eren-web.yaml"}, 10, []),
        # Aborted by the analysis: Argo already sent the traffic back.
        ({"fail": "--timeout 2h", "rollout": "Degraded"}, 11, ["--watch=false"]),
        # Nobody decided on an inconclusive canary in time: the release aborts it.
        (
            {"fail": "--timeout 2h", "rollout": "Paused - CanaryPauseStep"},
            11,
            ["--watch=false", "abort eren-web"],
        ),
    ],
)
def test_a_failure_at_any_step_stops_the_release_there(tmp_path, standin, failed_step, then):
    done = release(tmp_path, "production", IMAGE, **standin)
    assert done.returncode == 1, done.output
    commands = done.commands()
    steps = [step_of(command) for command in commands[: failed_step + 1]]
    assert steps == list(range(failed_step + 1)), commands
    after = commands[failed_step + 1 :]
    assert len(after) == len(then), after
    for command, expected in zip(after, then, strict=True):
        assert expected in command
    assert "released" not in done.output
