"""Images that are not ours are pinned by digest (the few still pending are listed), no
digest is an obvious stand-in, and Renovate's configuration reaches every file that names
an image, the Python locks and the Jenkins plugins."""

import json
import re

import pytest
import yaml

from tests.deploy import checks
from tests.deploy.conftest import DEPLOY, OVERLAYS, REPO, containers, load_yaml, pod_specs, rendered

OURS = ("111122223333.dkr.ecr.us-east-1.amazonaws.com/", "eren:")
# No digest could be looked up from here for these (no registry is reachable; docs/deploy.md,
# "Images"): pinned by version until someone runs `crane digest` on them. Renovate's
# docker:pinDigests adds the digest in its first pull request.
PENDING_DIGESTS = {
    "quay.io/argoproj/kubectl-argo-rollouts:v1.9.0",
    "datadog/agent:7.71.2",
    "datadog/cluster-agent:7.71.2",
    "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.3",
    "axllent/mailpit:v1.27.0",
}
RENOVATE = json.loads((REPO / "renovate.json").read_text())
# Renovate's own default file patterns of the managers that need none in renovate.json.
DEFAULT_PATTERNS = {
    "dockerfile": [r"(^|/|\.)([Dd]ocker|[Cc]ontainer)file$"],
    "docker-compose": [r"(^|/)(?:docker-)?compose[^/]*\.ya?ml$"],
    "kustomize": [r"(^|/)kustomization\.ya?ml$"],
}


def images_in_files() -> list[tuple[str, str, str]]:
    """(file, manager that keeps it, image) for every image the repository names."""
    found = []
    for name in ("Dockerfile", "deploy/jenkins/deploy-tools.Dockerfile"):
        text = (REPO / name).read_text()
        refs = re.findall(r"^ARG \w+_IMAGE=(\S+)$", text, re.M)
        refs += [r for r in re.findall(r"^FROM (\S+)", text, re.M) if "$" not in r]
        found += [(name, "dockerfile", ref) for ref in refs]
    compose = load_yaml(REPO / "docker-compose.yml")["services"]
    found += [("docker-compose.yml", "docker-compose", s["image"]) for s in compose.values()]
    for overlay in OVERLAYS:
        for _, spec in pod_specs(rendered(overlay)):
            for container in containers(spec):
                found.append(
                    ("deploy/k8s/base/kustomization.yaml", "kustomize", container["image"])
                )
    for path in sorted((DEPLOY / "jenkins" / "agents").glob("*.yaml")):
        name = str(path.relative_to(REPO))
        for container in containers(load_yaml(path)["spec"]):
            found.append((name, "kubernetes", container["image"]))
    jenkins = load_yaml(DEPLOY / "jenkins" / "values.yaml")["controller"]["image"]
    found.append(
        ("deploy/jenkins/values.yaml", "helm-values", f"{jenkins['repository']}:{jenkins['tag']}")
    )
    autoscaler = load_yaml(DEPLOY / "autoscaling" / "cluster-autoscaler-values.yaml")["image"]
    found.append(
        (
            "deploy/autoscaling/cluster-autoscaler-values.yaml",
            "helm-values",
            f"{autoscaler['repository']}:{autoscaler['tag']}",
        )
    )
    datadog = load_yaml(DEPLOY / "datadog" / "values.yaml")
    for key, repository in (("agents", "datadog/agent"), ("clusterAgent", "datadog/cluster-agent")):
        found.append(
            ("deploy/datadog/values.yaml", "regex", f"{repository}:{datadog[key]['image']['tag']}")
        )
    return [(f, m, ref) for f, m, ref in found if not ref.startswith(OURS)]


IMAGES = images_in_files()


def fake_digest_problem(digest: str) -> str | None:
    """Why a sha256 digest looks made up: few distinct characters or a short repeating
    unit (0000..., abab..., 0123456789abcdef x 4, deadbeef x 8)."""
    hexdigits = digest.removeprefix("sha256:")
    if len(set(hexdigits)) <= 6:
        return "too few distinct characters"
    for period in range(1, 17):
        if hexdigits == (hexdigits[:period] * (64 // period + 1))[:64]:
            return f"repeats every {period} characters"
    return None


@pytest.mark.parametrize(("path", "manager", "image"), IMAGES, ids=lambda v: str(v)[:60])
def test_every_image_not_ours_is_pinned_by_digest(path, manager, image):
    assert checks.image_problems(image) == [], path
    _, tag, digest = checks.parse_image(image)
    if image in PENDING_DIGESTS:
        assert digest is None, f"{image} has a digest now: take it off PENDING_DIGESTS"
        assert tag, image
        return
    assert digest, f"{path}: {image} is not pinned by digest"
    assert fake_digest_problem(digest) is None, f"{path}: {image}"


def test_the_pending_list_holds_only_images_still_named():
    assert {image for _, _, image in IMAGES} >= PENDING_DIGESTS


def test_one_digest_belongs_to_one_repository():
    owners: dict[str, set[str]] = {}
    for _, _, image in IMAGES:
        repository, _, digest = checks.parse_image(image)
        if digest:
            owners.setdefault(digest, set()).add(repository)
    assert {d: r for d, r in owners.items() if len(r) > 1} == {}


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:" + "0" * 64,
        "sha256:" + "a" * 64,
        "sha256:" + "0123456789abcdef" * 4,
        "sha256:" + "deadbeef" * 8,
        "sha256:" + "ab" * 32,
    ],
)
def test_the_fake_digest_check_catches_stand_ins(digest):
    assert fake_digest_problem(digest)


# --- Renovate ---------------------------------------------------------------------------


def js_regex(pattern: str) -> re.Pattern:
    """A Renovate (JavaScript) pattern, `/.../` or bare, as a Python regex."""
    return re.compile(pattern.strip("/").replace("(?<", "(?P<"))


def patterns(manager: str) -> list[re.Pattern]:
    if manager == "regex":
        configured = [p for m in RENOVATE["customManagers"] for p in m["managerFilePatterns"]]
    else:
        configured = RENOVATE.get(manager, {}).get("managerFilePatterns", [])
    return [js_regex(p) for p in configured or DEFAULT_PATTERNS[manager]]


@pytest.mark.parametrize("path", sorted({(p, m) for p, m, _ in IMAGES}), ids=str)
def test_renovate_reaches_every_file_that_names_an_image(path):
    name, manager = path
    assert RENOVATE.get(manager, {}).get("enabled", True) is not False
    assert any(pattern.search(name) for pattern in patterns(manager)), (name, manager)
    assert "docker:pinDigests" in RENOVATE["extends"]


def test_renovates_regex_finds_the_datadog_images():
    text = (DEPLOY / "datadog" / "values.yaml").read_text()
    (manager,) = [m for m in RENOVATE["customManagers"] if "datasourceTemplate" not in m]
    found = [m.groupdict() for m in js_regex(manager["matchStrings"][0]).finditer(text)]
    assert {(f["depName"], f["currentValue"]) for f in found} == {
        ("datadog/agent", "7.71.2"),
        ("datadog/cluster-agent", "7.71.2"),
    }


def test_renovates_regex_finds_every_jenkins_plugin():
    text = (DEPLOY / "jenkins" / "values.yaml").read_text()
    plugins = load_yaml(DEPLOY / "jenkins" / "values.yaml")["controller"]["installPlugins"]
    (manager,) = [m for m in RENOVATE["customManagers"] if "datasourceTemplate" in m]
    assert manager["datasourceTemplate"] == "jenkins-plugins"
    found = [m.groups() for m in js_regex(manager["matchStrings"][0]).finditer(text)]
    assert [f"{name}:{version}" for name, version in found] == plugins


@pytest.mark.parametrize(
    "lock", sorted((REPO / "requirements").glob("*.txt")), ids=lambda p: p.name
)
def test_renovate_can_rerun_each_locks_command(lock):
    """The pip-compile manager reads the command from the header and reruns it."""
    name = str(lock.relative_to(REPO))
    assert any(p.search(name) for p in patterns("pip-compile"))
    header = lock.read_text().splitlines()[:2]
    assert header[0] == "# This file was autogenerated by uv via the following command:"
    command = header[1].removeprefix("#").split()
    assert command[:3] == ["uv", "pip", "compile"]
    assert command[command.index("-o") + 1] == name
    assert "--generate-hashes" in command
    assert (REPO / command[-1]).is_file()  # the source: pyproject.toml or bootstrap.in
    # Every lock's command is in the Makefile's `make lock`, so the two never disagree.
    makefile = (REPO / "Makefile").read_text()
    assert f"-o {'$(BOOTSTRAP)' if 'bootstrap' in name else name} {command[-1]}" in makefile


def test_renovate_keeps_the_lock_and_not_a_second_copy_of_it():
    assert RENOVATE["pip_requirements"]["enabled"] is False
    assert RENOVATE["lockFileMaintenance"]["enabled"] is True
    rules = RENOVATE["packageRules"]
    allowed = {name: r["allowedVersions"] for r in rules for name in r.get("matchPackageNames", [])
               if "allowedVersions" in r}  # fmt: skip
    # The architecture's versions: Python 3.12, PostgreSQL 16, Redis 7, Kubernetes 1.34.
    assert allowed["python"] == "<3.13"
    assert allowed["postgres"] == "<17"
    assert allowed["redis"] == "<8"
    assert allowed["registry.k8s.io/autoscaling/cluster-autoscaler"] == "<1.35"
    assert yaml.safe_load(json.dumps(RENOVATE)) == RENOVATE  # plain JSON, no comments
    assert not (REPO / ".github" / "dependabot.yml").exists()  # one bot, not two
