"""The rendered overlay, and what the kubelet derives from a pod template: environment
(envFrom, env, $(VAR) expansion), command and the image's own environment."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("PODCHECK_VENV", REPO / ".venv"))


class ManifestError(RuntimeError):
    pass


def kubectl() -> str:
    bundled = REPO / ".tools" / "bin" / "kubectl"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("kubectl")
    if found is None:
        raise ManifestError("kubectl not found: run `make deploy-tools`")
    return found


def render(overlay: str) -> list[dict]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(REPO / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise ManifestError(f"kubectl kustomize failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    if len(found) != 1:
        raise ManifestError(
            f"expected one {kind}/{name} in the rendered overlay, found {len(found)}"
        )
    return found[0]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def image_environment(git_sha: str) -> dict[str, str]:
    """The runtime stage's ENV of the Dockerfile, as the image would carry it. The image's
    paths are this checkout's: /opt/venv is the virtualenv, /app the repository."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text[text.index(" AS runtime") :]
    environment: dict[str, str] = {}
    for line in stage.splitlines():
        if line.startswith("ENV "):
            for key, value in re.findall(r"(\w+)=(\S+)", line[4:]):
                environment[key] = value.replace("${GIT_SHA}", git_sha)
    system_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    environment["PATH"] = environment["PATH"].replace("/opt/venv/bin", str(VENV / "bin"))
    environment["PATH"] = environment["PATH"].replace("$PATH", system_path)
    return environment


_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(value: str, variables: dict[str, str]) -> str:
    """Kubernetes' $(VAR): defined names are replaced, $$ is a literal $, others stay."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return variables.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, value)


def container_environment(
    container: dict,
    *,
    config_maps: dict[str, dict[str, str]],
    secrets: dict[str, dict[str, str]],
    fields: dict[str, str],
    base: dict[str, str],
) -> dict[str, str]:
    """The environment the kubelet gives a container: envFrom in order, then env in order,
    each value expanded against what came before it; over the image's environment."""
    variables: dict[str, str] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = _lookup(config_maps, source["configMapRef"]["name"], "ConfigMap")
        else:
            data = _lookup(secrets, source["secretRef"]["name"], "Secret")
        variables.update({prefix + key: value for key, value in data.items()})
    for variable in container.get("env", []):
        if "value" in variable:
            variables[variable["name"]] = expand(variable["value"], variables)
            continue
        source = variable["valueFrom"]
        if "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            if path not in fields:
                raise ManifestError(f"fieldRef {path} is not emulated")
            variables[variable["name"]] = fields[path]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            variables[variable["name"]] = _lookup(secrets, ref["name"], "Secret")[ref["key"]]
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            variables[variable["name"]] = _lookup(config_maps, ref["name"], "ConfigMap")[ref["key"]]
        else:
            raise ManifestError(f"valueFrom {sorted(source)} is not emulated")
    return {**base, **variables}


def _lookup(objects: dict[str, dict[str, str]], name: str, kind: str) -> dict[str, str]:
    if name not in objects:
        raise ManifestError(f"{kind} {name} does not exist (the container would not start)")
    return objects[name]


def command_line(container: dict, environment: dict[str, str]) -> list[str]:
    """command + args with $(VAR) expanded; the images here set no ENTRYPOINT."""
    argv = [*container.get("command", []), *container.get("args", [])]
    if not argv:
        raise ManifestError(f"container {container['name']} has no command")
    return [expand(part, environment) for part in argv]
