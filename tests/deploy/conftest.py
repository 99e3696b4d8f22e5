"""Shared helpers for validating the deployment bundle offline.

No cluster, no Docker engine: manifests are rendered with `kubectl kustomize` and checked
against schemas and the properties the architecture requires. A missing tool is a failure
with the command that installs it, never a skip.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
SCHEMAS = DEPLOY / "schemas"
TOOLS = REPO / ".tools"
OVERLAYS = ("staging", "production")
# EKS version of the cluster (deploy/eksctl/cluster.yaml); manifests are validated against it.
KUBERNETES_VERSION = "1.34.0"
INSTALL_HINT = "run `make deploy-tools` (see deploy/tools.mk)"


@pytest.fixture(autouse=True)
def _isolated_cache():
    """These tests touch neither Django's cache nor Redis; replaces tests/conftest.py's."""
    return


def tool(name: str) -> str:
    """Path of a validation tool: .tools/, then the virtualenv, then PATH; else fail."""
    candidates = [
        TOOLS / "bin" / name,
        Path(sys.executable).parent / name,
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed: {INSTALL_HINT}")


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def render(overlay: str) -> list[dict]:
    result = run([tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)])
    assert result.returncode == 0, f"kustomize failed for {overlay}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


_rendered: dict[str, list[dict]] = {}


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request) -> str:
    return request.param


def rendered(overlay: str) -> list[dict]:
    if overlay not in _rendered:
        _rendered[overlay] = render(overlay)
    return _rendered[overlay]


@pytest.fixture(scope="session")
def manifests(overlay) -> list[dict]:
    return rendered(overlay)


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc.get("kind") == kind]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every workload, Rollout included."""
    specs = []
    for doc in docs:
        kind = doc.get("kind")
        name = f"{kind}/{doc.get('metadata', {}).get('name')}"
        if kind in {"Deployment", "StatefulSet", "DaemonSet", "Job", "Rollout", "ReplicaSet"}:
            specs.append((name, doc["spec"]["template"]["spec"]))
        elif kind == "CronJob":
            specs.append((name, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
        elif kind == "Pod":
            specs.append((name, doc["spec"]))
    return specs


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def load_yaml(path: Path) -> dict:
    with path.open() as handle:
        return yaml.safe_load(handle)


# --- Jenkinsfile and Job DSL syntax check, started early -------------------------------
# CodeNarc on the JVM takes tens of seconds; it runs in the background while the other
# checks run, and test_jenkins waits for it.

GROOVY_LINT_ARGS = ["--noserver", "--failon", "error", "--output", "txt"]
# Parse errors are what matters; one cheap rule keeps CodeNarc from running its whole set.
GROOVY_LINT_ARGS += ["--rulesets", "EmptyCatchBlock"]
_groovy_lint: dict[str, subprocess.Popen] = {}


def groovy_sources() -> list[Path]:
    """The Jenkinsfile and the Job DSL script of Jenkins' JCasC (deploy/jenkins/values.yaml),
    side by side in one directory (npm-groovy-lint lints below the files' common parent)."""
    directory = Path(tempfile.mkdtemp(prefix="eren-groovy-"))
    jenkinsfile = directory / "Jenkinsfile"
    jenkinsfile.write_text((REPO / "Jenkinsfile").read_text())
    values = load_yaml(DEPLOY / "jenkins" / "values.yaml")
    jobs = yaml.safe_load(values["controller"]["JCasC"]["configScripts"]["jobs"])["jobs"]
    job_dsl = directory / "jobs.groovy"
    job_dsl.write_text("\n".join(job["script"] for job in jobs))
    return [jenkinsfile, job_dsl]


def groovy_lint_process() -> subprocess.Popen | None:
    if "process" not in _groovy_lint:
        candidates = [
            TOOLS / "bin" / "npm-groovy-lint",
            TOOLS / "npm/node_modules/.bin/npm-groovy-lint",
        ]
        executable = next((str(c) for c in candidates if c.exists()), None)
        if executable is None:
            return None
        sources = groovy_sources()
        _groovy_lint["process"] = subprocess.Popen(
            [executable, *GROOVY_LINT_ARGS, *map(str, sources)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=sources[0].parent,
        )
    return _groovy_lint["process"]


def pytest_collection_modifyitems(items):
    """Wait for the Jenkinsfile check last, so it overlaps with everything else."""
    last = [item for item in items if item.name == "test_jenkinsfile_parses"]
    for item in last:
        items.remove(item)
        items.append(item)


def pytest_collection_finish(session):
    # Under pytest-xdist every worker collects every test but only one runs this check, and
    # which one is decided later: there the check starts when it runs, beside the other worker.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if any(item.name == "test_jenkinsfile_parses" for item in session.items):
        groovy_lint_process()
