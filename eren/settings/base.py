"""E-Ren settings: one module, everything from the environment (12-factor).

Local defaults let `make run` work with nothing set. `DJANGO_ENV=staging|production`
refuses to start without the secrets and hosts a real deployment needs.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from eren.sentry import sentry_init as _sentry_init
from eren.settings import sso as _sso

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# A checkout is local unless told otherwise, so `make run`, tests and manage.py need nothing
# set; the image says DJANGO_ENV=production (Dockerfile), so a container started without
# configuration refuses to start instead of serving debug pages with the development key.
DJANGO_ENV = env.str("DJANGO_ENV", default="local")
if DJANGO_ENV not in {"local", "test", "staging", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be one of local, test, staging, production (got {DJANGO_ENV!r})."
    )
DEPLOYED = DJANGO_ENV in {"staging", "production"}

LOCAL_SECRET_KEY = "django-insecure-local-only-never-use-in-production"  # noqa: S105
LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/eren"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_ADMIN_URL = "admin/"


def _secret_problem(name: str, secret: str) -> str | None:
    """Why a signing key is unfit for a deployment, or None. Django's own check (W009) asks
    for 50 characters and 5 different ones; a development or `django-insecure` key is refused."""
    if secret == LOCAL_SECRET_KEY or secret.startswith("django-insecure"):
        return f"{name} is a development value"
    if len(secret) < 50 or len(set(secret)) < 5:
        return f"{name} is shorter than 50 characters or has fewer than 5 different ones"
    return None


def _required_in_deployment() -> None:
    """Refuse to start a deployment that is not configured as one, naming every problem at
    once: missing secrets and hosts, a weak key, debug pages, an unset proxy count, the
    default admin path."""
    problems = []
    secret = env.str("SECRET_KEY", default="")
    if not secret:
        problems.append("SECRET_KEY is not set")
    elif problem := _secret_problem("SECRET_KEY", secret):
        problems.append(problem)
    for index, fallback in enumerate(env.list("SECRET_KEY_FALLBACKS", default=[])):
        if problem := _secret_problem(f"SECRET_KEY_FALLBACKS[{index}]", fallback):
            problems.append(problem)
    for name in ("DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"):
        if not env.str(name, default=""):
            problems.append(f"{name} is not set")
    # Debug pages show settings (the Redis and SMTP passwords in their URLs) and source.
    if env.bool("DEBUG", default=False):
        problems.append("DEBUG is on")
    # Without it every client shares the ALB's address as its rate-limit key (or, set too
    # high, picks its own): the number of proxies must be a decision, not a default.
    if not env.str("TRUSTED_PROXY_COUNT", default=""):
        problems.append("TRUSTED_PROXY_COUNT is not set (1 behind the ALB)")
    if env.str("ADMIN_URL", default=LOCAL_ADMIN_URL).strip("/") == LOCAL_ADMIN_URL.strip("/"):
        problems.append("ADMIN_URL is not set to a path of its own (not admin/)")
    if problems:
        raise ImproperlyConfigured(
            f"DJANGO_ENV={DJANGO_ENV} refuses to start: " + "; ".join(problems) + "."
        )


if DEPLOYED:
    _required_in_deployment()

# --- Core -------------------------------------------------------------------------------

SECRET_KEY = env.str("SECRET_KEY", default=LOCAL_SECRET_KEY)
# Rotation: the new key signs, the old ones (comma-separated) still verify sessions, password
# reset links and tickets until they are dropped from this list.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "local")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "ninja",
    "corsheaders",
    "csp",
    "core",
    "users",
    "events",
    "escore",
    "orgs",
    "demo",
]

MIDDLEWARE = [
    # First: every later middleware's log lines and every response carry the request id.
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.security.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.static.StaticFilesMiddleware",
    "core.caching.DefaultPrivateCacheMiddleware",
    # Before CommonMiddleware, so a preflight is answered before any redirect.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff act only from sessions that passed a second factor (users/mfa.py).
    "users.mfa.StaffMfaMiddleware",
    # Last: it needs request.user and answers before the view runs.
    "core.ratelimits.RateLimitMiddleware",
]

ROOT_URLCONF = "eren.urls"
WSGI_APPLICATION = "eren.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=LOCAL_DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PgBouncer in transaction mode cannot keep a server-side cursor across transactions.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, sessions, Celery ---------------------------------------------------------


def _redis_url(name: str, default: str) -> str:
    """A Redis URL from the environment; TLS (`rediss://`) verifies the server's certificate.

    Celery's result backend refuses a `rediss://` URL without `ssl_cert_reqs` (every
    `.delay()` raises ValueError) and its broker would then skip verification, while
    redis-py verifies by default: `ssl_cert_reqs=required` makes all three verify, against
    the system CA bundle (ElastiCache's certificates are Amazon's) or the URL's
    `ssl_ca_certs=<file>`. A URL that names `ssl_cert_reqs` itself is kept as it is.
    """
    url = env.str(name, default=default)
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.scheme != "rediss" or any(key == "ssl_cert_reqs" for key, _ in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, ("ssl_cert_reqs", "required")])))


REDIS_URL = _redis_url("REDIS_URL", LOCAL_REDIS_URL)
CACHE_TTL = env.int("CACHE_TTL", default=300)

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key expires: with maxmemory-policy volatile-lru only keys with a TTL are
        # evicted, so cache pressure can never evict Celery's queues.
        "TIMEOUT": CACHE_TTL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="eren"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            # A cache that is down is a cache miss, not an error page.
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Rate-limit counters: the same Redis, but errors reach core.ratelimits, which decides per
# limit whether Redis being down lets the request through (reads) or refuses it (logins).
CACHES["ratelimit"] = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": _redis_url("RATELIMIT_REDIS_URL", REDIS_URL),
    "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="eren") + "-rl",
    "OPTIONS": {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "SOCKET_CONNECT_TIMEOUT": 0.5,
        "SOCKET_TIMEOUT": 0.5,
    },
}

# The database is the copy that counts; Redis in front of it makes reads cheap.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

CELERY_BROKER_URL = _redis_url("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = _redis_url("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_RESULT_EXPIRES = 60 * 60 * 24
# Nothing reads the tasks' results. Storing one makes every .delay() subscribe to it in the
# result backend, and while Redis is down that subscription retries for ~20 s inside the
# request that enqueued the task. A caller that wants the result asks for it per call.
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task unacknowledged this long is handed to another worker. Nothing may be scheduled
# further ahead than this with countdown/eta: "send at" times live in the database instead.
#
# Requests never publish (they write outbox rows); the relay and beat do, and a broker that
# is down or drops packets must cost them seconds, not minutes: bounded connect, socket and
# publish-retry times. The visibility timeout (an hour) is far longer than the longest task
# (CELERY_TASK_TIME_LIMIT), so a task still running is never handed to a second worker.
BROKER_TIMEOUT = env.float("BROKER_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 60 * 60,
    "socket_timeout": BROKER_TIMEOUT,
    "socket_connect_timeout": BROKER_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_REDIS_SOCKET_TIMEOUT = BROKER_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_TIMEOUT
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Workers log through Django's LOGGING (JSON with trace ids when deployed), not Celery's own
# handler, so Datadog correlates task logs like web logs.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if CELERY_TASK_ALWAYS_EAGER and DEPLOYED:
    raise ImproperlyConfigured("CELERY_TASK_ALWAYS_EAGER must never be on in staging/production.")
# The transactional outbox (core/outbox.py): how often the relay hands due rows to Celery,
# how long a handed-over row waits before it is handed over again (longer than any task
# runs), the back-off between failed attempts, when a failing row becomes a dead letter,
# and how long done rows are kept.
OUTBOX_RELAY_SECONDS = env.float("OUTBOX_RELAY_SECONDS", default=2.0)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=10 * 60)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=60 * 60)
OUTBOX_DEAD_AFTER_HOURS = env.float("OUTBOX_DEAD_AFTER_HOURS", default=24)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
if OUTBOX_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("OUTBOX_LEASE_SECONDS must be longer than the task time limit.")
# Every periodic task, run by the one beat process (times in CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE: dict = {
    # Beat's dead man's switch: the worker counts it (metric), beat's liveness probe reads
    # the file beat touches when it sends it (eren/celery.py).
    "beat-heartbeat": {
        "task": "eren.beat_heartbeat",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "outbox-relay": {
        "task": "core.tasks.outbox_relay",
        "schedule": OUTBOX_RELAY_SECONDS,
        # A relay that waited longer than its interval is replaced by the next one.
        "options": {"expires": max(OUTBOX_RELAY_SECONDS, 1.0)},
    },
    "outbox-prune": {
        "task": "core.tasks.outbox_prune",
        "schedule": crontab(hour=3, minute=40),
    },
    # E-score: organizer awards for events that ended, and the ledger ↔ Redis reconcile.
    "escore-organizer-awards": {
        "task": "escore.tasks.score_organizer_awards_due",
        "schedule": 10 * 60,
    },
    "escore-attendance-reconcile": {
        "task": "escore.tasks.score_attendance_reconcile",
        "schedule": 15 * 60,
    },
    "escore-leaderboard-reconcile": {
        "task": "escore.tasks.leaderboard_reconcile",
        "schedule": 10 * 60,
    },
    # "Did you mean" learns the words of new and edited titles.
    "search-words-refresh": {
        "task": "events.tasks.search_words_refresh_task",
        "schedule": 60 * 60,
    },
    # Suggestions read a Redis prefix index; rebuilt after event changes and every 10 min.
    "search-prefix-index-refresh": {
        "task": "events.tasks.search_prefix_index_refresh_task",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "queue-due-reminder-emails": {
        "task": "events.tasks.reminders_queue_due",
        "schedule": timedelta(minutes=5),
        # A sweep not started within its own interval is replaced by the next one.
        "options": {"expires": 5 * 60},
    },
    # Seats of students not checked in by the start + grace go to the waitlist (opt-in).
    "release-no-shows": {
        "task": "events.tasks.no_shows_release_due",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
    "delete-unverified-accounts": {
        "task": "users.tasks.unverified_users_delete",
        "schedule": crontab(hour=3, minute=10),
    },
    "delete-expired-sessions": {
        "task": "users.tasks.expired_sessions_delete",
        "schedule": crontab(hour=3, minute=20),
    },
    "delete-old-email-deliveries": {
        "task": "events.tasks.email_deliveries_delete_old",
        "schedule": crontab(hour=3, minute=30),
    },
}

# Leaderboard sorted sets are a cache of the ledger: they expire (and may be evicted under
# volatile-lru) unless refreshed; every write and the 10-minute reconcile push this forward.
ESCORE_LEADERBOARD_TTL = env.int("ESCORE_LEADERBOARD_TTL", default=7 * 24 * 60 * 60)

# --- Auth -------------------------------------------------------------------------------

AUTH_USER_MODEL = "users.User"
# Django's backend finds the account by its canonical address (UserManager); allauth's own
# would match case-insensitively in the database, where UPPER of a dotless i (U+0131) is 'I'.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Nobody logs in, or registers for an event, before proving they read the school mailbox;
# registration eligibility lives in events.services.registration_check_eligibility.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# By a code typed into the browser that signed up (or logged in, or asked for the change),
# not a link: a link works in any browser, so a victim following the link that an attacker's
# sign-up with their address triggered would verify the attacker's account and password
# (pre-account hijacking). A code is useless to anyone but the session waiting for it.
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "users.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "users.forms.LoginForm",
    "signup": "users.forms.SignupForm",
    "reset_password": "users.forms.ResetPasswordForm",
}
# Changing the address keeps the old one until the new one is confirmed.
ACCOUNT_CHANGE_EMAIL = True
# ASVS 2.2.3 / 2.5.5: tell the account's address when its password or address changes (a
# password reset, a new address confirmed: then the old address is told), or MFA is changed.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "E-Ren: "
# Sign-up is open to these e-mail domains only (exact match, case-insensitive).
SIGNUP_EMAIL_DOMAINS = [
    domain.strip().lower()
    for domain in env.list("SIGNUP_EMAIL_DOMAINS", default=["wustl.edu"])
    if domain.strip()
]

# --- Single sign-on with the campus account (WUSTL Key), docs/security.md -----------------
# OpenID Connect and/or SAML 2.0 through allauth's social accounts, both off by default.
SSO_OIDC_ENABLED = env.bool("SSO_OIDC_ENABLED", default=False)
SSO_OIDC_ISSUER = env.str("SSO_OIDC_ISSUER", default="")
SSO_OIDC_CLIENT_ID = env.str("SSO_OIDC_CLIENT_ID", default="")
SSO_OIDC_CLIENT_SECRET = env.str("SSO_OIDC_CLIENT_SECRET", default="")
SSO_SAML_ENABLED = env.bool("SSO_SAML_ENABLED", default=False)
SSO_SAML_IDP_METADATA_URL = env.str("SSO_SAML_IDP_METADATA_URL", default="")
SSO_SAML_IDP_ENTITY_ID = env.str("SSO_SAML_IDP_ENTITY_ID", default="")
SSO_SAML_IDP_SSO_URL = env.str("SSO_SAML_IDP_SSO_URL", default="")
SSO_SAML_IDP_SLO_URL = env.str("SSO_SAML_IDP_SLO_URL", default="")
SSO_SAML_IDP_X509_CERT = env.str("SSO_SAML_IDP_X509_CERT", default="")
SSO_SAML_SP_ENTITY_ID = env.str("SSO_SAML_SP_ENTITY_ID", default="")
SSO_SAML_SP_X509_CERT = env.str("SSO_SAML_SP_X509_CERT", default="")
SSO_SAML_SP_PRIVATE_KEY = env.str("SSO_SAML_SP_PRIVATE_KEY", default="")
# With both on, the one "Sign in with WUSTL Key" button uses this protocol: oidc or saml.
SSO_PREFERRED = env.str("SSO_PREFERRED", default="oidc")
# Addresses an identity provider may assert; anything else is refused (default: the sign-up
# domains).
SSO_EMAIL_DOMAINS = [
    domain.strip().lower()
    for domain in env.list("SSO_EMAIL_DOMAINS", default=SIGNUP_EMAIL_DOMAINS)
    if domain.strip()
]
# Affiliations (student, staff, faculty) whose sign-in grants the organizer role; none by
# default.
SSO_ORGANIZER_AFFILIATIONS = [
    value.strip().lower()
    for value in env.list("SSO_ORGANIZER_AFFILIATIONS", default=[])
    if value.strip()
]
# Sign-up with an e-mail address and password, for people single sign-on does not cover.
SSO_EMAIL_SIGNUP_OPEN = env.bool("SSO_EMAIL_SIGNUP_OPEN", default=True)
# How far the identity provider's clock may be from ours (ID-token and assertion times).
SSO_CLOCK_SKEW_SECONDS = env.int("SSO_CLOCK_SKEW_SECONDS", default=120)

SOCIALACCOUNT_PROVIDERS = _sso.socialaccount_providers(
    oidc=_sso.oidc_app(
        issuer=SSO_OIDC_ISSUER,
        client_id=SSO_OIDC_CLIENT_ID,
        client_secret=SSO_OIDC_CLIENT_SECRET,
    )
    if SSO_OIDC_ENABLED
    else None,
    saml=_sso.saml_app(
        idp_entity_id=SSO_SAML_IDP_ENTITY_ID,
        idp_sso_url=SSO_SAML_IDP_SSO_URL,
        idp_slo_url=SSO_SAML_IDP_SLO_URL,
        idp_x509_cert=SSO_SAML_IDP_X509_CERT,
        idp_metadata_url=SSO_SAML_IDP_METADATA_URL,
        sp_entity_id=SSO_SAML_SP_ENTITY_ID,
        sp_x509_cert=SSO_SAML_SP_X509_CERT,
        sp_private_key=SSO_SAML_SP_PRIVATE_KEY,
    )
    if SSO_SAML_ENABLED
    else None,
)
if SSO_OIDC_ENABLED and not (SSO_OIDC_ISSUER and SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "SSO_OIDC_ENABLED needs SSO_OIDC_ISSUER, SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET."
    )
if SSO_SAML_ENABLED and not (
    SSO_SAML_IDP_ENTITY_ID
    and (SSO_SAML_IDP_METADATA_URL or (SSO_SAML_IDP_SSO_URL and SSO_SAML_IDP_X509_CERT))
):
    raise ImproperlyConfigured(
        "SSO_SAML_ENABLED needs SSO_SAML_IDP_ENTITY_ID and either SSO_SAML_IDP_METADATA_URL "
        "or SSO_SAML_IDP_SSO_URL with SSO_SAML_IDP_X509_CERT."
    )
SOCIALACCOUNT_ADAPTER = "users.sso.SocialAccountAdapter"
# Accounts are made without a form: the school address the IdP asserts is trusted as verified
# (users.sso checks its domain); an address that already has an account is never linked
# silently (users.sso asks for that account's own sign-in first).
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False
# The button posts to E-Ren first (CSRF-protected), which redirects to the IdP.
SOCIALACCOUNT_LOGIN_ON_GET = False
# The IdP pages a form post or redirect may go to (CSP form-action, below).
_sso_form_origins = [
    origin
    for origin in (
        _sso.origin(SSO_OIDC_ISSUER) if SSO_OIDC_ENABLED else None,
        _sso.origin(SSO_SAML_IDP_SSO_URL) if SSO_SAML_ENABLED else None,
        _sso.origin(SSO_SAML_IDP_SLO_URL) if SSO_SAML_ENABLED else None,
    )
    if origin
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ASVS 2.1.1: at least 12 characters; no composition rules, long pass phrases welcome.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Multi-factor authentication (allauth.mfa): any account may add it, staff must (users/mfa.py).
# Authenticator apps (TOTP) and security keys or passkeys (WebAuthn), with recovery codes.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "E-Ren"
# WebAuthn needs HTTPS, except on localhost for `make run`.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not DEPLOYED
# The demo's staff account (seed_demo) has an authenticator; locally, with debug pages on,
# its code is 000000. allauth itself refuses this setting unless DEBUG is on.
MFA_TOTP_INSECURE_BYPASS_CODE = "000000" if DJANGO_ENV == "local" and DEBUG else None

# A password-reset link works for an hour (Django's default is three days).
PASSWORD_RESET_TIMEOUT = 60 * 60

# --- E-mail -----------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds an SMTP call may take before the attempt fails and the outbox retries it later.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# A claim on an e-mail (events/emails) older than this, never accepted, was left by a worker
# that died mid-send: the retry takes it over. Well beyond the time one send may take.
EMAIL_CLAIM_SECONDS = env.int("EMAIL_CLAIM_SECONDS", default=3 * EMAIL_TIMEOUT + 30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="E-Ren <no-reply@eren.washu.edu>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# How long a sent e-mail's idempotency record is kept. The reminder sweep reads the last two
# days of them, so fewer than 2 is refused.
EMAIL_DELIVERY_RETENTION_DAYS = env.int("EMAIL_DELIVERY_RETENTION_DAYS", default=30)
if EMAIL_DELIVERY_RETENTION_DAYS < 2:
    raise ImproperlyConfigured("EMAIL_DELIVERY_RETENTION_DAYS must be at least 2.")
# Sign-ups that never confirmed their address (and hold no data) are deleted after this.
UNVERIFIED_ACCOUNT_MAX_AGE_DAYS = env.int("UNVERIFIED_ACCOUNT_MAX_AGE_DAYS", default=7)

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en-us"
# The campus clock (core/clock.py) and Celery beat read it: the one place it is written.
TIME_ZONE = "America/Chicago"
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = env.str("STATIC_URL", default="/static/")
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploads (event cover images, events/images.py). Local disk in development and tests;
# with MEDIA_S3_BUCKET set (production), S3 through django-storages, with the pod's IAM role
# (no keys in the environment). MEDIA_URL then defaults to the bucket's (or
# MEDIA_CUSTOM_DOMAIN's, a CDN in front of it) address.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
MEDIA_S3_REGION = env.str("MEDIA_S3_REGION", default="us-east-1")
MEDIA_CUSTOM_DOMAIN = env.str("MEDIA_CUSTOM_DOMAIN", default="")
_media_host = MEDIA_CUSTOM_DOMAIN or (
    f"{MEDIA_S3_BUCKET}.s3.{MEDIA_S3_REGION}.amazonaws.com" if MEDIA_S3_BUCKET else ""
)
MEDIA_URL = env.str("MEDIA_URL", default=f"https://{_media_host}/" if _media_host else "/media/")
_default_storage: dict = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "region_name": MEDIA_S3_REGION,
            "custom_domain": _media_host,
            # Cover images are public; names are random, so nothing is guessed or replaced.
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    if MEDIA_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if DEPLOYED
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Unhashed static names (hashed ones are cached for a year, see eren/static.py): the
# architecture's 1 hour for assets.
WHITENOISE_MAX_AGE = env.int("WHITENOISE_MAX_AGE", default=0 if DEBUG else 60 * 60)
# Source maps (the API docs' 5 MB of them) are fetched only by browser developer tools:
# compressing them took half of collectstatic's time, in every image build and test run.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- HTTP caching (eren/caching.py) -----------------------------------------------------

# Anonymous list, search and detail pages: public for this long, and kept whole in Redis.
ANONYMOUS_PAGE_CACHE_SECONDS = env.int("ANONYMOUS_PAGE_CACHE_SECONDS", default=300)
# What a search computed for a page (ids, ranks, headlines, counts; never the rows), reused
# while nothing it reads changes (events/search/result_cache.py); 0: every search computed.
SEARCH_RESULT_CACHE_SECONDS = env.int("SEARCH_RESULT_CACHE_SECONDS", default=30)
# Signed-in pages: the parts every reader shares, rendered once for this long (the home
# page's list of cards, the leaderboard's top 50); the reader's own parts never are.
SHARED_FRAGMENT_CACHE_SECONDS = env.int("SHARED_FRAGMENT_CACHE_SECONDS", default=30)
LEADERBOARD_CACHE_SECONDS = env.int("LEADERBOARD_CACHE_SECONDS", default=5)

# --- Security ---------------------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=DEPLOYED)
# The ALB health check speaks plain HTTP to the pod.
SECURE_REDIRECT_EXEMPT = [r"^health"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if DEPLOYED else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = DEPLOYED
# Off by default: browsers' preload list takes registrable domains only (washu.edu), so the
# directive on eren.washu.edu would promise HTTPS-only on the university's behalf and change
# nothing. Off is a decision, so Django's reminder about it (security.W021) is silenced here.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = DEPLOYED
CSRF_COOKIE_SECURE = DEPLOYED
SESSION_COOKIE_HTTPONLY = True
# API clients read the csrftoken cookie to send it back in X-CSRFToken (see eren/api.py).
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str(
    "SECURE_REFERRER_POLICY", default="strict-origin-when-cross-origin"
)
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])
if not SECURE_HSTS_PRELOAD and "security.W021" not in SILENCED_SYSTEM_CHECKS:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# The site itself is served at the root; the admin sits at ADMIN_URL behind staff login.
ADMIN_URL = env.str("ADMIN_URL", default=LOCAL_ADMIN_URL)
if ADMIN_URL.startswith("/") or not ADMIN_URL.endswith("/") or ADMIN_URL.strip("/") == "":
    raise ImproperlyConfigured(
        f"ADMIN_URL must be a relative path ending in a slash, like 'admin/' (got {ADMIN_URL!r})."
    )

# The map view's background tiles ({z}/{x}/{y} and optionally {s} in the URL; blank for
# no tiles: the markers on an empty map). Tests run offline with none. Production should
# point at a tile service the university has an agreement with; OpenStreetMap's own
# servers allow light use with attribution.
MAP_TILE_URL = env.str(
    "MAP_TILE_URL",
    default="" if DJANGO_ENV == "test" else "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
)
MAP_TILE_ATTRIBUTION = env.str(
    "MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors" if MAP_TILE_URL else ""
)
if MAP_TILE_URL and not MAP_TILE_URL.startswith("https://"):
    raise ImproperlyConfigured(f"MAP_TILE_URL must be an https:// URL (got {MAP_TILE_URL!r}).")
# The tiles' origin for img-src; a {s} subdomain becomes a wildcard.
_tile_origin = "/".join(MAP_TILE_URL.split("/")[:3]).replace("{s}", "*") if MAP_TILE_URL else None

# Content-Security-Policy (django-csp 4): scripts and styles come from files only, never
# inline. STATIC_URL may point at a CDN, whose origin is then allowed for assets.
_static_origin = (
    "/".join(STATIC_URL.split("/")[:3]) if STATIC_URL.startswith(("http://", "https://")) else None
)
_assets = ["'self'", *([_static_origin] if _static_origin else [])]
_media_origin = (
    "/".join(MEDIA_URL.split("/")[:3]) if MEDIA_URL.startswith(("http://", "https://")) else None
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": _assets,
        "style-src": _assets,
        # data: for the icons Swagger UI's stylesheet embeds (/api/v1/docs).
        "img-src": [
            *_assets,
            "data:",
            *([_media_origin] if _media_origin else []),
            *([_tile_origin] if _tile_origin else []),
        ],
        "font-src": _assets,
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *sorted(set(_sso_form_origins))],
        "frame-ancestors": ["'none'"],
    },
}
# Features the site uses (geolocation for "near me" on the search page), all others off.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default=(
        "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), "
        "magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()"
    ),
)

# CORS (django-cors-headers): the JSON API only, to the origins listed; no cookies cross
# origin, so another site can read public data but never act as a logged-in student.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = False

# --- Rate limits (core/ratelimits.py and allauth's, counters in Redis) ---------------------

# Client addresses come from X-Forwarded-For: exactly this many proxies (the ALB: 1) append
# to it, so the entry that many places from the right is the client; anything to its left
# was written by the client and is ignored. 0 (local): REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_IP_META_KEY = "core.ratelimits.client_ip"
# "count/period" with period s, m, h or d, optionally a multiple ("5/5m"), e.g. "10/m".
_RATE = re.compile(r"[1-9]\d*/\d*[smhd]")


def _rate(name: str, default: str) -> str:
    rate = env.str(name, default=default)
    if not _RATE.fullmatch(rate):
        raise ImproperlyConfigured(f"{name} must look like 10/m or 5/5m (got {rate!r}).")
    return rate


# The site's own limits (core.ratelimits, django-ratelimit counters).
RATELIMITS = {
    "registration_user": _rate("RATELIMIT_REGISTRATION_USER", "30/m"),
    "search_ip": _rate("RATELIMIT_SEARCH_IP", "120/m"),
    "api_user": _rate("RATELIMIT_API_USER", "600/m"),
    # Codes a student sends for self check-in (guessing one is 1 in a billion a try).
    "check_in_code_user": _rate("RATELIMIT_CHECK_IN_CODE_USER", "10/m"),
    # Counted from OrganizerMessage rows in the database, not Redis (events.services).
    "organizer_message_event": _rate("RATELIMIT_ORGANIZER_MESSAGE_EVENT", "3/h"),
    # Score disputes a student files (escore:dispute-create).
    "dispute_user": _rate("RATELIMIT_DISPUTE_USER", "10/h"),
    # Saved searches a student saves (events:saved-search-create).
    "saved_search_user": _rate("RATELIMIT_SAVED_SEARCH_USER", "30/h"),
}
# Accounts: allauth's own limits, which count where its flows know what happened (a failed
# login, an address) and answer in the form, the same whether the password was right or not.
# Per address ("key") they count the canonical address (users.addresses). A failed login
# counts against the account only from browsers that never signed in to it: each browser
# that did has its own count (users.devices), so nobody can lock a student out of the
# laptop they use by failing on purpose. Per IP, limits are generous: a campus NAT puts many
# students behind one address.
ACCOUNT_RATE_LIMITS = {
    # Every login POST per client IP.
    "login": _rate("RATELIMIT_LOGIN_IP", "30/m") + "/ip",
    # Failed logins per account (or per account and known browser).
    "login_failed": _rate("RATELIMIT_LOGIN_ACCOUNT", "5/5m") + "/key",
    "signup": _rate("RATELIMIT_SIGNUP_IP", "60/h") + "/ip",
    # users.forms.SignupForm: sign-ups naming one address (each mails its owner).
    "signup_email": _rate("RATELIMIT_SIGNUP_ACCOUNT", "3/h") + "/key",
    "reset_password": ",".join(
        (
            _rate("RATELIMIT_PASSWORD_RESET_IP", "30/h") + "/ip",
            _rate("RATELIMIT_PASSWORD_RESET_ACCOUNT", "3/h") + "/key",
        )
    ),
}
# "Forgot password" for an address without an account mails nothing (allauth's default
# would mail any address typed in, at any domain), and looks the same as for one with.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_PREVENT_ENUMERATION = True
if not RATELIMIT_ENABLE:
    ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]

# --- Logging ----------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json: one object a line for Datadog (with dd.trace_id/dd.span_id under ddtrace-run).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if DEPLOYED else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain (got {LOG_FORMAT!r}).")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.request_id.RequestIdFilter"},
        # Tokens in URLs (check-in, calendar feed, reminders, reset) never reach a log.
        "redact_tokens": {"()": "core.logging.RedactTokensFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "core.logging.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_tokens"],
            "stream": "ext://sys.stdout",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Error tracking and metrics ---------------------------------------------------------

# Sentry starts only when SENTRY_DSN is set (eren/sentry.py); DogStatsD metrics are sent
# only when DD_AGENT_HOST or DD_DOGSTATSD_URL names an agent (eren/metrics.py).
SENTRY_ENABLED = _sentry_init(env.ENVIRON)

# --- Geocoding (events/geocoding.py) ----------------------------------------------------

# Empty: events are placed with the campus gazetteer and Google is never called.
GOOGLE_MAPS_API_KEY = env.str("GOOGLE_MAPS_API_KEY", default="")
GOOGLE_GEOCODING_URL = env.str(
    "GOOGLE_GEOCODING_URL", default="https://maps.googleapis.com/maps/api/geocode/json"
)
GOOGLE_GEOCODING_TIMEOUT = env.float("GOOGLE_GEOCODING_TIMEOUT", default=5.0)
# Celery's rate limit is per worker, not global: N workers may call Google N times as often.
GOOGLE_GEOCODING_RATE_LIMIT = env.str("GOOGLE_GEOCODING_RATE_LIMIT", default="30/m")
# Google's terms allow geocodes to be cached for up to 30 consecutive days.
GEOCODE_CACHE_MAX_AGE_DAYS = env.int("GEOCODE_CACHE_MAX_AGE_DAYS", default=30)
# Mondays 8:00 Central: new events from followed organizations and categories (orgs.digest).
CELERY_BEAT_SCHEDULE["orgs-weekly-digest"] = {
    "task": "orgs.tasks.digests_queue_weekly",
    "schedule": crontab(day_of_week=1, hour=8, minute=0),
}
# Daily, 7:30 Central: new events matching each saved search with e-mails on (at most one a day).
CELERY_BEAT_SCHEDULE["saved-search-alerts"] = {
    "task": "events.tasks.saved_search_alerts_queue",
    "schedule": crontab(hour=7, minute=30),
}
CELERY_BEAT_SCHEDULE["geocode-cache-prune"] = {
    "task": "events.tasks.geocode_cache_prune_task",
    "schedule": crontab(hour=4, minute=20),
}
