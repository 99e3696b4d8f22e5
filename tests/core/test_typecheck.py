"""mypy with django-stubs (make typecheck) guards the services' signatures."""

import subprocess
import sys

from tests.conftest import ROOT

WRONG_CALL = """
from events import services
from users.models import User


def register(user: User) -> None:
    services.registration_create(event_id="42", user=user)
"""


def typecheck(source: str, tmp_path) -> subprocess.CompletedProcess:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_wrong_argument_type_in_a_service_call_fails(tmp_path):
    result = typecheck(WRONG_CALL, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Argument "event_id" to "registration_create" has incompatible type "str"' in (
        result.stdout
    )


def test_the_right_call_passes(tmp_path):
    result = typecheck(WRONG_CALL.replace('event_id="42"', "event_id=42"), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
