import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from celery import _state as celery_state
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django_redis import get_redis_connection

from core import outbox
from core.models import OutboxMessage
from eren.celery import app as celery_app
from events.search.synonyms import synonyms_forget


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets its own Redis key prefix, and its keys are deleted afterwards."""
    prefix = f"eren-test-{uuid.uuid4().hex[:12]}"
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = prefix
    caches["ratelimit"]["KEY_PREFIX"] = f"{prefix}-rl"
    settings.CACHES = caches
    synonyms_forget()  # the process's copy may hold rows of a rolled-back test
    yield prefix
    try:
        client = get_redis_connection("default")
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception:  # noqa: S110 - a test that stopped Redis cleans nothing
        pass


@pytest.fixture
def side_effects(django_capture_on_commit_callbacks):
    """What follows a commit, in this process: on-commit callbacks, then the outbox rows.

    `with side_effects(execute=True): client.post(...)` runs the block's on-commit callbacks
    (pytest-django's capture) and then the outbox rows the block wrote, as the relay and a
    worker would (`core.outbox.run_one`). `execute=False` only captures, as pytest-django's
    does; `core.outbox.run_due()` then runs every due row, as a test's worker. The
    relay and a real worker process are drilled in tests/core/test_outbox_drills.py.
    """

    @contextmanager
    def capture(*, execute: bool = False):
        before = OutboxMessage.objects.aggregate(last=Max("pk"))["last"] or 0
        with django_capture_on_commit_callbacks(execute=execute) as callbacks:
            yield callbacks
        if execute:
            # The rows this block wrote (and the rows their tasks write), oldest first.
            ran: set[int] = set()
            while due := list(
                OutboxMessage.objects.filter(pk__gt=before, status="pending")
                .exclude(pk__in=ran)
                .order_by("pk")
            ):
                for message in due:
                    outbox.run_one(message)
                    ran.add(message.pk)

    return capture


@pytest.fixture
def celery_eager():
    """Run `.delay()` in-process, so on_commit callbacks send real mail to the locmem outbox.

    Celery checks `task_always_eager` on every `apply_async`, so flipping it on the app for
    one test (and back) is enough; no test can reach the real broker by accident.
    """
    conf = celery_app.conf
    previous = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = previous
    # Eager apply_async saves and restores a process-global "inside a task" flag without a
    # lock; threads racing through it can leave it set, and then every later result.get()
    # in this process refuses to block.
    celery_state._set_task_join_will_block(False)


ROOT = Path(__file__).resolve().parents[1]


def database_url_for_subprocesses() -> str:
    """The URL of the database this test run uses, for processes the tests start."""
    database = connection.settings_dict
    return (
        f"postgres://{quote(database['USER'])}:{quote(database['PASSWORD'] or '')}"
        f"@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
    )


@pytest.fixture
def celery_worker(tmp_path):
    """Start real Celery worker processes on a queue of the test's own; all stop at the end.

    `celery_worker(name=..., settings_module=..., pool=..., concurrency=..., env=...)` starts
    one and returns its Popen with `.log` (a Path to its output); `celery_worker.queue` is the
    queue to send to, so no other worker on the same Redis can take the test's tasks.
    """
    queue = f"test-{uuid.uuid4().hex[:8]}"
    workers: list[subprocess.Popen] = []

    def start(
        *,
        name: str = "worker",
        settings_module: str = "eren.settings.test",
        pool: str = "solo",
        concurrency: int = 1,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "eren",
                "worker",
                "--queues",
                queue,
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}@%h",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "info",
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **(env or {})},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        worker.log = log
        workers.append(worker)
        return worker

    start.queue = queue
    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)


STAFF_PASSWORD = "staff-test-passphrase"


def log_in_with_second_factor(client: Client, user) -> None:
    """Sign the staff member in as a real browser does: the login form, then the code of an
    authenticator app (a TOTP secret given to the account here), as users.mfa requires."""
    csrf = client.cookies.get("csrftoken")
    client.logout()  # which empties the cookie jar: a client that sends its own token keeps it
    if csrf is not None:
        client.cookies["csrftoken"] = csrf.value
    user.set_password(STAFF_PASSWORD)
    user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("mfa_authenticate")
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302, response.content
    assert client.session["_auth_user_id"] == str(user.pk)


def sign_in(client: Client, user) -> None:
    """Log the user in: directly, or for staff through the login and its second factor."""
    if user.is_staff:
        log_in_with_second_factor(client, user)
    else:
        client.force_login(user)


@pytest.fixture
def admin_client(admin_user):
    """pytest-django's admin client, signed in with a second factor (users.mfa)."""
    client = Client()
    log_in_with_second_factor(client, admin_user)
    return client


# --- Single sign-on: stand-in identity providers on free ports (tests/sso_idp.py, saml_idp.py)


@pytest.fixture
def oidc_idp(settings):
    """The stand-in WUSTL Key speaking OpenID Connect, and E-Ren configured for it."""
    from eren.settings import sso
    from tests.sso_idp import OidcIdp

    idp = OidcIdp().start()
    settings.SOCIALACCOUNT_PROVIDERS = sso.socialaccount_providers(
        oidc=sso.oidc_app(issuer=idp.url, client_id=idp.client_id, client_secret=idp.client_secret),
        saml=None,
    )
    _sso_allow_form_action(settings, idp.url)
    yield idp
    idp.stop()


@pytest.fixture
def saml_idp(settings, client):
    """The stand-in WUSTL Key speaking SAML 2.0, and E-Ren configured for it."""
    from eren.settings import sso
    from tests.saml_idp import SamlIdp

    idp = SamlIdp().start()
    # python3-saml reads the host from the Host header (browsers always send one), and takes
    # no single-label name but localhost.
    client.defaults["HTTP_HOST"] = "localhost"
    settings.SOCIALACCOUNT_PROVIDERS = sso.socialaccount_providers(
        oidc=None,
        saml=sso.saml_app(
            idp_entity_id=idp.entity_id,
            idp_sso_url=idp.sso_url,
            idp_slo_url=idp.slo_url,
            idp_x509_cert=idp.certificate_pem,
        ),
    )
    _sso_allow_form_action(settings, idp.url)
    yield idp
    idp.stop()


def _sso_allow_form_action(settings, origin: str) -> None:
    policy = {**settings.CONTENT_SECURITY_POLICY}
    directives = {**policy["DIRECTIVES"]}
    directives["form-action"] = [*directives["form-action"], origin]
    policy["DIRECTIVES"] = directives
    settings.CONTENT_SECURITY_POLICY = policy
