import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_SECRET = "k" * 30 + "-this-is-a-long-production-like-secret-value"
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": REAL_SECRET,
    "DATABASE_URL": "postgres://eren:secret@db.internal:5432/eren",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "ALLOWED_HOSTS": "eren.washu.edu",
    "CSRF_TRUSTED_ORIGINS": "https://eren.washu.edu",
    "TRUSTED_PROXY_COUNT": "1",
    "ADMIN_URL": "staff-area/",
}


def run_django(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {*PRODUCTION, "DJANGO_SETTINGS_MODULE"}
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="eren.settings.base")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_setting(missing):
    environment = {key: value for key, value in PRODUCTION.items() if key != missing}
    completed = run_django("check", environment=environment)
    assert completed.returncode != 0
    assert f"{missing} is not set" in completed.stderr


def test_production_names_every_missing_setting_at_once():
    completed = run_django("check", environment={"DJANGO_ENV": "production"})
    assert completed.returncode != 0
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        assert name in completed.stderr


def test_production_refuses_the_development_secret_key():
    environment = {
        **PRODUCTION,
        "SECRET_KEY": "django-insecure-local-only-never-use-in-production",
    }
    completed = run_django("check", environment=environment)
    assert completed.returncode != 0
    assert "SECRET_KEY is a development value" in completed.stderr


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("DEBUG", "true", "DEBUG is on"),
        ("SECRET_KEY", "ab" * 30, "SECRET_KEY is shorter than 50 characters or has fewer than 5"),
        ("SECRET_KEY", "x" * 49, "SECRET_KEY is shorter than 50"),
        ("SECRET_KEY_FALLBACKS", f"{REAL_SECRET},short", "SECRET_KEY_FALLBACKS[1] is shorter"),
        ("TRUSTED_PROXY_COUNT", "", "TRUSTED_PROXY_COUNT is not set"),
        ("ADMIN_URL", "admin/", "ADMIN_URL is not set to a path of its own"),
        ("ADMIN_URL", "", "ADMIN_URL is not set to a path of its own"),
    ],
)
def test_production_refuses_to_start_open(setting, value, reason):
    environment = {**PRODUCTION, setting: value}
    if not value:
        del environment[setting]
    completed = run_django("check", environment=environment)
    assert completed.returncode != 0
    assert reason in completed.stderr


def test_the_previous_secret_keys_still_verify_what_they_signed():
    old = "o" * 25 + "-the-secret-before-the-rotation-0123456789"
    signed = run_django(
        "shell",
        "-c",
        "from django.core import signing; print(signing.dumps('ticket'))",
        environment={**PRODUCTION, "SECRET_KEY": old},
    )
    assert signed.returncode == 0, signed.stderr
    token = signed.stdout.strip().splitlines()[-1]
    check = f"from django.core import signing; print(signing.loads({token!r}))"
    rotated = {**PRODUCTION, "SECRET_KEY_FALLBACKS": old}
    completed = run_django("shell", "-c", check, environment=rotated)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("ticket")
    # Once the old key is dropped from the fallbacks, what it signed is refused.
    completed = run_django("shell", "-c", check, environment=PRODUCTION)
    assert "BadSignature" in completed.stderr


def test_the_image_runs_as_production_unless_told_otherwise():
    # A container started without configuration must refuse to start (the checks above),
    # not serve debug pages with the development key as a checkout does.
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.index("AS runtime") :]
    assert "DJANGO_ENV=production" in runtime.split("RUN ")[0]


def test_production_refuses_eager_celery():
    completed = run_django("check", environment={**PRODUCTION, "CELERY_TASK_ALWAYS_EAGER": "true"})
    assert completed.returncode != 0
    assert "CELERY_TASK_ALWAYS_EAGER" in completed.stderr


def test_deploy_check_reports_no_errors_with_production_settings():
    completed = run_django("check", "--deploy", "--fail-level", "ERROR", environment=PRODUCTION)
    assert completed.returncode == 0, completed.stderr


def test_local_defaults_need_nothing_set():
    completed = run_django("check", environment={})
    assert completed.returncode == 0, completed.stderr


def test_rediss_url_verifies_the_certificate_in_cache_broker_and_result_backend():
    """A bare rediss:// URL (as ElastiCache shows it) must work for .delay(): Celery's
    result backend refuses it without ssl_cert_reqs, and its broker would not verify."""
    script = (
        "import json, ssl; from django.conf import settings; from eren.celery import app;"
        "backend = app.backend; broker = app.connection_for_write();"
        "print(json.dumps({'cache': settings.CACHES['default']['LOCATION'],"
        " 'backend': backend.connparams['ssl_cert_reqs'] == ssl.CERT_REQUIRED,"
        " 'backend_ca': backend.connparams.get('ssl_ca_certs'),"
        " 'broker': broker.ssl}))"
    )
    environment = {
        **PRODUCTION,
        "REDIS_URL": "rediss://:token@cache.internal:6379/0?ssl_ca_certs=/etc/ca.pem",
    }
    completed = run_django("shell", "-c", script, environment=environment)
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    assert answer["cache"] == (
        "rediss://:token@cache.internal:6379/0?ssl_ca_certs=%2Fetc%2Fca.pem&ssl_cert_reqs=required"
    )
    assert answer["backend"] is True
    assert answer["backend_ca"] == "/etc/ca.pem"
    assert answer["broker"] == {"ssl_ca_certs": "/etc/ca.pem", "ssl_cert_reqs": 2}


def test_an_explicit_ssl_cert_reqs_is_kept():
    script = "from django.conf import settings; print(settings.CELERY_BROKER_URL)"
    environment = {**PRODUCTION, "REDIS_URL": "rediss://cache.internal:6379/0?ssl_cert_reqs=none"}
    completed = run_django("shell", "-c", script, environment=environment)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == (
        "rediss://cache.internal:6379/0?ssl_cert_reqs=none"
    )
