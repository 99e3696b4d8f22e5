"""Create or update the Datadog monitors in monitors.yaml, matched by name.

Usage: DD_API_KEY=... DD_APP_KEY=... python deploy/monitors/sync.py [--dry-run]
"""

import json
import os
import sys
import urllib.request
from pathlib import Path

import yaml

API = os.environ.get("DD_API_URL", "https://api.datadoghq.com") + "/api/v1/monitor"
SOURCE = Path(__file__).with_name("monitors.yaml")


def _request(method: str, url: str, body: dict | None = None) -> object:
    request = urllib.request.Request(  # noqa: S310 - fixed https URL
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            "DD-API-KEY": os.environ["DD_API_KEY"],
            "DD-APPLICATION-KEY": os.environ["DD_APP_KEY"],
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def monitor_payloads() -> list[dict]:
    payloads = []
    for monitor in yaml.safe_load(SOURCE.read_text())["monitors"]:
        message = f"{monitor['message'].strip()}\n\nRunbook: {monitor['runbook']}"
        payloads.append(
            {
                "name": monitor["name"],
                "type": monitor["type"],
                "query": " ".join(monitor["query"].split()),
                "message": message,
                "options": monitor["options"],
                "tags": ["service:eren-web", "env:production", "managed-by:deploy-monitors"],
            }
        )
    return payloads


def main() -> None:
    payloads = monitor_payloads()
    if "--dry-run" in sys.argv:
        print(json.dumps(payloads, indent=2))
        return
    managed = _request("GET", API + "?monitor_tags=managed-by:deploy-monitors")
    existing = {monitor["name"]: monitor["id"] for monitor in managed}
    for payload in payloads:
        if payload["name"] in existing:
            _request("PUT", f"{API}/{existing[payload['name']]}", payload)
            print("updated", payload["name"])
        else:
            _request("POST", API, payload)
            print("created", payload["name"])


if __name__ == "__main__":
    main()
