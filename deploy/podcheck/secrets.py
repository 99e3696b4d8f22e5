"""Secrets Manager from a local file, and External Secrets' sync of the rendered objects.

The file is a list of what `aws secretsmanager get-secret-value` returns for each secret
(`Name`, `SecretString`), so it has exactly the shape the operator reads: the RDS-managed
secret, for one, holds `username` and `password` and nothing else.
"""

import json
import re
from pathlib import Path
from urllib.parse import quote_plus


class SyncError(RuntimeError):
    """What External Secrets reports as SecretSyncedError: no Secret is written."""


class SecretsManager:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, secrets: dict[str, dict]) -> None:
        entries = [
            {"Name": name, "SecretString": json.dumps(value)} for name, value in secrets.items()
        ]
        self.path.write_text(json.dumps(entries, indent=2) + "\n")
        self.path.chmod(0o600)

    def read(self) -> dict[str, dict]:
        entries = json.loads(self.path.read_text())
        return {entry["Name"]: json.loads(entry["SecretString"]) for entry in entries}

    def update(self, name: str, **values: str) -> None:
        secrets = self.read()
        secrets[name] = {**secrets[name], **values}
        self.write(secrets)


def _value(secrets: dict[str, dict], key: str, prop: str | None, name: str) -> str:
    if key not in secrets:
        raise SyncError(f"{name}: secret {key} does not exist")
    secret = secrets[key]
    if prop is None:
        return json.dumps(secret)
    if prop not in secret:
        raise SyncError(f"{name}: key {prop} does not exist in secret {key}")
    value = secret[prop]
    return value if isinstance(value, str) else json.dumps(value)


# {{ .name }}, {{ .name | urlquery }} and {{ index . "name" | default "" }}: the part of
# External Secrets' v2 templates (Go text/template with Sprig) that the bundle uses. `index`
# of a key the store lacks is the empty string (Go's zero value for a map), which is how an
# optional key (the SSO secrets while SSO is off) is written. Anything else fails loudly
# rather than guess.
_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_INDEX = re.compile(r'index \. "(\w+)"')
_DEFAULT = re.compile(r'default "([^"\\]*)"')
_FUNCTIONS = {"urlquery": lambda value: quote_plus(value, safe="")}


def render_template(template: str, values: dict[str, str], name: str) -> str:
    def action(match: re.Match) -> str:
        variable, *pipes = (part.strip() for part in match.group(1).split("|"))
        optional = _INDEX.fullmatch(variable)
        known = all(p in _FUNCTIONS or _DEFAULT.fullmatch(p) for p in pipes)
        if not (optional or re.fullmatch(r"\.\w+", variable)) or not known:
            raise SyncError(f"{name}: template action {match.group(0)!r} is not understood")
        if optional:
            result = values.get(optional.group(1), "")
        elif variable[1:] in values:
            result = values[variable[1:]]
        else:
            raise SyncError(f"{name}: template refers to {variable}, which has no value")
        for pipe in pipes:
            fallback = _DEFAULT.fullmatch(pipe)
            result = (result or fallback.group(1)) if fallback else _FUNCTIONS[pipe](result)
        return result

    return _ACTION.sub(action, template)


def sync(external_secret: dict, store: SecretsManager) -> tuple[str, dict[str, str]]:
    """(target Secret name, its data) as External Secrets would write them."""
    spec = external_secret["spec"]
    name = external_secret["metadata"]["name"]
    secrets = store.read()
    values: dict[str, str] = {}
    for item in spec.get("dataFrom", []):
        extracted = json.loads(_value(secrets, item["extract"]["key"], None, name))
        values.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in extracted.items()})
    for item in spec.get("data", []):
        ref = item["remoteRef"]
        values[item["secretKey"]] = _value(secrets, ref["key"], ref.get("property"), name)
    template = spec["target"].get("template")
    if template:
        if (
            template.get("engineVersion", "v2") != "v2"
            or template.get("mergePolicy", "Replace") != "Replace"
        ):
            raise SyncError(f"{name}: only engineVersion v2 with mergePolicy Replace is emulated")
        values = {
            key: render_template(text, values, name) for key, text in template["data"].items()
        }
    return spec["target"].get("name", name), values
