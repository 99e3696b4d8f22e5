"""The signed-in pages of issue 25, and how a benchmark signs in to see them.

Used in process by bench.signed_in_profile (Django set up, test client) and over HTTP by
bench.page_cache_benchmark --signed-in (a session cookie from allauth's login form).
The demo accounts of `manage.py seed_demo` are the default: their password is published
(demo.data.DEMO_PASSWORD) and the demo student has registrations, points and follows.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request

DEMO_PASSWORD = "washu-demo"  # noqa: S105 - demo.data.DEMO_PASSWORD, published
DEMO_EMAILS = {"student": "student@wustl.edu", "organizer": "organizer@wustl.edu"}
DETAIL = "detail"  # stands for a walk over upcoming events' detail pages

# (name, who is signed in, path): every page a signed-in student sees, and the dashboard.
SIGNED_IN_PAGES = (
    # The floor: every signed-in request loads its session (Redis) and its user (SQL).
    ("/health with the session cookie", "student", "/health"),
    ("home /", "student", "/"),
    ("event detail", "student", DETAIL),
    ("My events", "student", "/me/events/"),
    ("My E-score", "student", "/me/escore/"),
    ("leaderboard", "student", "/leaderboard/"),
    ("account", "student", "/me/account/"),
    ("organizer dashboard", "organizer", "/organize/"),
)
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in_user(*, role: str, email: str | None = None):
    """The user a role signs in as, in process (Django must be set up)."""
    from users.models import User

    return User.objects.get(email__iexact=email or DEMO_EMAILS[role])


def detail_paths(count: int) -> list[str]:
    """Detail pages of the first 100 upcoming public events, repeated to `count`, in process."""
    from events.models import EventPost

    ids = list(
        EventPost.objects.upcoming()
        .filter(visibility=EventPost.Visibility.PUBLIC)
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)[:100]
    )
    return [f"/events/{ids[index % len(ids)]}/" for index in range(count)]


def detail_paths_http(base: str, count: int = 100) -> list[str]:
    """The same walk over HTTP, from the public API (soonest first)."""
    with urllib.request.urlopen(  # noqa: S310 - the benchmark's own loopback server
        f"{base}/api/v1/events?sort=start&page_size=100", timeout=30
    ) as response:
        ids = [hit["id"] for hit in json.load(response)["results"]]
    return [f"/events/{ids[index % len(ids)]}/" for index in range(count)]


def session_cookie(base: str, *, email: str, password: str = DEMO_PASSWORD) -> str:
    """Log in through allauth's form; return the Cookie header a signed-in browser sends."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=30) as response:
        token = _CSRF_INPUT.search(response.read().decode())
    form = urllib.parse.urlencode(
        {
            "login": email,
            "password": password,
            "csrfmiddlewaretoken": token.group(1) if token else "",
        }
    ).encode()
    with opener.open(f"{base}/accounts/login/", data=form, timeout=30) as response:
        landed = response.geturl()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies or "/accounts/" in landed:
        raise SystemExit(f"could not log in as {email} (landed on {landed})")
    return "; ".join(f"{name}={value}" for name, value in sorted(cookies.items()))


def sessions_create(count: int, *, email_domain: str = "@bench.wustl.edu") -> list[str]:
    """Signed-in sessions for `count` students, made in process (Django set up with the
    server's SECRET_KEY and cache): what a login leaves, without its PBKDF2, so a load test
    on a busy machine measures the pages, not the hashing of 200 passwords at once."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    from users.models import User

    students = User.objects.filter(
        email__endswith=email_domain, is_active=True, is_staff=False
    ).order_by("pk")[:count]
    keys = []
    for student in students:
        session = SessionStore()
        session[SESSION_KEY] = str(student.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = student.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def main() -> None:
    """`python -m bench.signed_in sessions N FILE`: N session keys, one a line, into FILE."""
    import sys

    import django

    _command, count, path = sys.argv[1:4]
    django.setup()
    keys = sessions_create(int(count))
    with open(path, "w") as output:
        output.write("\n".join(keys))


if __name__ == "__main__":
    main()
