"""Property checks over rendered manifests. Each returns a list of problems (empty = fine),
so the tests can show on purpose-made bad manifests that they do fail."""

import re

from tests.deploy.conftest import containers, pod_specs

# [registry[:port]/]repo[:tag][@sha256:digest]
REPO_RE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
FLOATING_TAGS = {"latest", "lts", "stable", "main", "master", "edge", "nightly", "dev"}
SECRET_NAME_RE = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APP_KEY|PRIVATE|DSN)", re.I)


def parse_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference."""
    name, _, digest = image.partition("@")
    repository, tag = name, None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = name.rsplit(":", 1)
    return repository, tag, digest or None


def image_problems(image: str) -> list[str]:
    repository, tag, digest = parse_image(image)
    if not REPO_RE.match(repository) or (tag is not None and not TAG_RE.match(tag)):
        return [f"{image!r} is not a valid image reference"]
    if digest is not None and not DIGEST_RE.match(digest):
        return [f"{image!r} has a malformed digest"]
    if not tag and not digest:
        return [f"{image!r} has neither tag nor digest"]
    if tag and tag.lower() in FLOATING_TAGS:
        return [f"{image!r} uses the floating tag {tag!r}"]
    if tag and not digest and not re.search(r"\d", tag):
        return [f"{image!r}: tag {tag!r} is not a version"]
    if "bitnami" in repository:
        return [f"{image!r}: Bitnami images are no longer maintained"]
    return []


def images_problems(docs: list[dict]) -> list[str]:
    problems = []
    for name, spec in pod_specs(docs):
        for container in containers(spec):
            problems += [f"{name}: {p}" for p in image_problems(container.get("image", ""))]
    return problems


def host_access_problems(docs: list[dict]) -> list[str]:
    """No docker.sock, no hostPath, no privileged, no host namespaces."""
    problems = []
    for name, spec in pod_specs(docs):
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(key):
                problems.append(f"{name}: {key}")
        for volume in spec.get("volumes", []):
            if "hostPath" in volume:
                problems.append(f"{name}: hostPath volume {volume['name']}")
        for container in containers(spec):
            context = container.get("securityContext", {})
            if context.get("privileged"):
                problems.append(f"{name}/{container['name']}: privileged")
            for mount in container.get("volumeMounts", []):
                if "docker.sock" in mount.get("mountPath", ""):
                    problems.append(f"{name}/{container['name']}: mounts docker.sock")
    for doc in docs:
        if "docker.sock" in str(doc):
            problems.append(f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}: docker.sock")
    return problems


def resources_problems(docs: list[dict]) -> list[str]:
    problems = []
    for name, spec in pod_specs(docs):
        for container in containers(spec):
            resources = container.get("resources", {})
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            for key in ("cpu", "memory"):
                if key not in requests:
                    problems.append(f"{name}/{container['name']}: no {key} request")
            if "memory" not in limits:
                problems.append(f"{name}/{container['name']}: no memory limit")
    return problems


def hardening_problems(docs: list[dict]) -> list[str]:
    problems = []
    for name, spec in pod_specs(docs):
        pod_context = spec.get("securityContext", {})
        if not pod_context.get("runAsNonRoot"):
            problems.append(f"{name}: runAsNonRoot is not set")
        if pod_context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile is not RuntimeDefault")
        for container in containers(spec):
            context = container.get("securityContext", {})
            label = f"{name}/{container['name']}"
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{label}: allowPrivilegeEscalation is not false")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{label}: root filesystem is writable")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{label}: capabilities are not all dropped")
            if context.get("runAsUser") == 0:
                problems.append(f"{label}: runs as root")
    return problems


def inline_secret_problems(docs: list[dict]) -> list[str]:
    """Secrets come from ExternalSecrets only: no Secret objects, no literal secret env."""
    problems = []
    for doc in docs:
        if doc.get("kind") == "Secret" and (doc.get("data") or doc.get("stringData")):
            problems.append(f"Secret/{doc['metadata']['name']} carries data")
        if doc.get("kind") == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if SECRET_NAME_RE.search(key) or re.search(r"://[^/\s:@]+:[^/\s@]+@", value):
                    problems.append(f"ConfigMap/{doc['metadata']['name']}: {key} looks secret")
    for name, spec in pod_specs(docs):
        for container in containers(spec):
            for env in container.get("env", []):
                if "value" in env and SECRET_NAME_RE.search(env["name"]):
                    problems.append(f"{name}/{container['name']}: literal {env['name']}")
    return problems


def canary_problems(rollout: dict) -> list[str]:
    """Canary 20% -> 50% -> 100%, every weight below 100% paused and then analysed."""
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    weights = [step["setWeight"] for step in steps if "setWeight" in step]
    if weights != [20, 50, 100]:
        return [f"canary weights are {weights}, not [20, 50, 100]"]
    at = [i for i, step in enumerate(steps) if "setWeight" in step] + [len(steps)]
    problems = []
    for weight, start, end in zip(weights, at, at[1:], strict=False):
        kinds = [next(iter(step)) for step in steps[start + 1 : end]]
        if weight == 100:
            if kinds:
                problems.append(f"after 100% nothing should follow, found {kinds}")
        elif kinds != ["pause", "analysis"]:
            problems.append(f"at {weight}% there must be a pause and then an analysis: {kinds}")
    return problems
