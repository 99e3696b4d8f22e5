"""The environment builds from the lock alone, on every supported interpreter, every time.

`make venv` starts from a venv that `python -m venv` made, with whatever pip that Python
bundles (3.11's pip 23.2 once failed on this lock when the index moved: it resolved
pytest-cov's `coverage[toml]` afresh). The bundled pip installs only the hash-pinned uv;
uv installs exactly the lock. These tests build that venv for real, from empty.
"""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
LOCKS = ["bootstrap.txt", "base.txt", "dev.txt"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")
# Anything that ties a lock to one machine or one index: options, file URLs, local paths.
MACHINE_SPECIFIC = re.compile(
    r"^\s*-(?!-hash=)|file:|(?<![\w.])/(?:opt|root|home|tmp|work|usr|var)/"
)


def _pins(lock: str) -> dict[str, list[tuple[str, list[str]]]]:
    """{name: [(version, hashes), ...]}: a universal lock may pin a name once per marker."""
    pins: dict[str, list[tuple[str, list[str]]]] = {}
    current: list[str] | None = None
    for line in (REQUIREMENTS / lock).read_text().splitlines():
        if match := PIN.match(line):
            current = []
            pins.setdefault(canonicalize_name(match[1]), []).append((match[2], current))
        elif (hashed := line.strip()).startswith("--hash=sha256:") and current is not None:
            current.append(hashed.removeprefix("--hash=sha256:").rstrip(" \\"))
    return pins


def _pyenv_pythons() -> list[str]:
    """The interpreters pyenv (when on PATH) knows, whether or not its shims are active."""
    if shutil.which("pyenv") is None:
        return []
    versions = subprocess.run(
        ["pyenv", "versions", "--bare", "--skip-aliases"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    prefixes = [
        subprocess.run(
            ["pyenv", "prefix", version], capture_output=True, text=True, check=False
        ).stdout.strip()
        for version in versions
        if re.fullmatch(r"3\.\d+\.\d+", version)
    ]
    return [f"{prefix}/bin/python3" for prefix in prefixes if prefix]


def _interpreters() -> list:
    """Python >= 3.11 from $PYTHON, PATH and pyenv, one per minor version."""
    found: dict[str, str] = {}
    names = [os.environ.get("PYTHON", ""), "python3", "python3.11", "python3.12", "python3.13"]
    for name in filter(None, names + _pyenv_pythons()):
        path = shutil.which(name)
        if path is None:
            continue
        result = subprocess.run(
            [path, "-c", "import sys, ensurepip; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        version = result.stdout.strip()
        if result.returncode == 0 and tuple(map(int, version.split("."))) >= (3, 11):
            found.setdefault(version, name)
    return [pytest.param(found[version], id=f"python{version}") for version in sorted(found)]


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_names_no_index_url_or_path_of_this_machine(lock):
    text = (REQUIREMENTS / lock).read_text()
    tied = [line for line in text.splitlines() if MACHINE_SPECIFIC.search(line.split("#")[0])]
    assert tied == []


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_with_hashes(lock):
    text = (REQUIREMENTS / lock).read_text()
    requirement_lines = [line for line in text.splitlines() if line.strip() and line[0] not in " #"]
    pins = _pins(lock)
    assert len(requirement_lines) == sum(len(versions) for versions in pins.values())
    unhashed = [name for name, versions in pins.items() for _, hashes in versions if not hashes]
    assert unhashed == []


def test_bootstrap_pins_only_the_installer():
    assert list(_pins("bootstrap.txt")) == ["uv"]


@pytest.mark.parametrize(("lock", "extras"), [("base.txt", []), ("dev.txt", ["dev"])])
def test_lock_satisfies_every_dependency_in_pyproject(lock, extras):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    pins = _pins(lock)
    unmet = []
    for line in wanted:
        requirement = Requirement(line)
        versions = [version for version, _ in pins.get(canonicalize_name(requirement.name), [])]
        if not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            unmet.append(f"{requirement} (lock: {versions or 'missing'})")
    assert unmet == []


def test_the_image_runs_the_versions_that_were_tested():
    tested = _pins("dev.txt")
    differ = {
        name: (versions, tested.get(name))
        for name, versions in _pins("base.txt").items()
        if [v for v, _ in versions] != [v for v, _ in tested.get(name, [])]
    }
    assert differ == {}


@pytest.mark.parametrize("interpreter", _interpreters())
def test_make_venv_builds_from_an_empty_venv_with_the_bundled_pip(interpreter, tmp_path):
    venv = tmp_path / "venv"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV"}
    }
    build = subprocess.run(
        ["make", "-C", str(ROOT), "venv", f"VENV={venv}", f"PYTHON={interpreter}"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr

    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(venv / "bin" / "uv"), "pip", "freeze", "--python", str(python)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pairs = (line.split("==", 1) for line in installed.splitlines() if "==" in line)
    versions = {canonicalize_name(name): version for name, version in pairs}
    expected = {name: pins[0][0] for name, pins in _pins("dev.txt").items() if len(pins) == 1}
    for name in ("django", "celery", "coverage", "pytest-cov", "psycopg", "pip"):
        assert versions.get(name) == expected[name], name
    imports = "import django, celery, psycopg, ddtrace, coverage, pytest_cov"
    subprocess.run([str(python), "-c", imports], check=True)
