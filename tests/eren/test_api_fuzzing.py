"""API fuzzing: schemathesis generates requests from /api/v1/openapi.json, as every role.

Every operation is called with a bounded number of generated inputs, valid and invalid
(schemathesis' positive and negative modes: wrong types, out-of-range numbers, strings where
integers belong...), against the WSGI app as an anonymous visitor, a student, an organizer
and a staff member (signed in with a second factor). Path ids are drawn partly from real
events, so authorized operations reach the services. No answer may be a 500, and every
answer must match the schema (status codes, bodies, content types). Separately, every
operation that takes a request is sent bodies of the wrong content type, as each role.

Budget: make test runs on a loaded 2-core machine, so examples are few per operation and
role (FUZZ_EXAMPLES); derandomized, so a run is reproducible and a failure is not luck.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from eren.wsgi import application
from tests.conftest import sign_in
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    OrganizerFactory,
    UserFactory,
)

ROLES = ("anonymous", "student", "organizer", "staff")
# Examples per operation for each role; anonymous requests mostly stop at the 401.
FUZZ_EXAMPLES = {"anonymous": 5, "student": 8, "organizer": 8, "staff": 8}
CSRF_TOKEN = "f" * 32
EVENT_IDS: list[int] = []


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, a real event instead of a generated id."""
    if not path_parameters or "event_id" not in path_parameters or not EVENT_IDS:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters["event_id"], *EVENT_IDS]).map(
        lambda event_id: {**path_parameters, "event_id": event_id}
    )


def _role_cookies(role: str) -> dict[str, str]:
    """The cookies of a browser signed in as `role` (the CSRF header always matches)."""
    if role == "anonymous":
        return {"csrftoken": CSRF_TOKEN}
    organizer = OrganizerFactory()
    user = {
        "student": UserFactory,
        "organizer": lambda: organizer,
        "staff": lambda: UserFactory(is_staff=True),
    }[role]()
    client = Client()
    sign_in(client, user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_TOKEN}


def _app(environ, start_response):
    """The WSGI app, keeping the test's database connection open: Django's request signals
    close it, so they are off during each call (as Django's test client does; signing staff
    in through the test client turns them back on, hence every call)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    return application(environ, start_response)


@pytest.fixture
def api_schema(db):
    organizer = OrganizerFactory()
    events = [
        EventPostFactory(organizer=organizer),
        EventPostFactory(organizer=organizer, status="draft"),
        EventPostFactory(),
    ]
    EventRegistrationFactory(event=events[0])
    EVENT_IDS[:] = [event.pk for event in events]
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app)
    EVENT_IDS.clear()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


# Signed in, two of schemathesis' checks do not apply: a case meant to carry a broken session
# carries the role's own ("ignored_auth"), and the API ignores query parameters it does not
# know, as web APIs do ("negative_data_rejection" counts that as accepting invalid input).
# Every other check stays: no 5xx, documented status codes, bodies and content types.
SIGNED_IN_EXCLUDED = [schemathesis.checks.ignored_auth, schemathesis.checks.negative_data_rejection]


def _fuzz(case, cookies: dict[str, str]) -> None:
    # The schema names the session cookie, so schemathesis generates one (often empty):
    # the role's own cookies replace it.
    case.cookies = {**(case.cookies or {}), **cookies}
    excluded = SIGNED_IN_EXCLUDED if "sessionid" in cookies else []
    case.call_and_validate(headers={"X-CSRFToken": CSRF_TOKEN}, excluded_checks=excluded)


def _settings(role: str):
    return settings(
        max_examples=FUZZ_EXAMPLES[role],
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


@schema.parametrize()
@_settings("anonymous")
def test_the_api_answers_anonymous_requests_as_its_schema_says(case):
    _fuzz(case, _role_cookies("anonymous"))


@pytest.fixture
def student_cookies(db):
    return _role_cookies("student")


@pytest.fixture
def organizer_cookies(db):
    return _role_cookies("organizer")


@pytest.fixture
def staff_cookies(db):
    return _role_cookies("staff")


@schema.parametrize()
@_settings("student")
def test_the_api_answers_a_students_requests_as_its_schema_says(case, student_cookies):
    _fuzz(case, student_cookies)


@schema.parametrize()
@_settings("organizer")
def test_the_api_answers_an_organizers_requests_as_its_schema_says(case, organizer_cookies):
    _fuzz(case, organizer_cookies)


@schema.parametrize()
@_settings("staff")
def test_the_api_answers_staff_requests_as_its_schema_says(case, staff_cookies):
    _fuzz(case, staff_cookies)


# --- Bodies of the wrong content type, for every operation that takes one -------------------

WRONG_BODIES = [
    ("multipart/form-data", b"title=x"),  # no boundary
    ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data\r\n\r\nx"),
    ("application/x-www-form-urlencoded", b"title=%00&capacity=2147483648"),
    ("text/plain", b"hello"),
    ("application/xml", b"<event/>"),
    ("application/json", b'{"title": "\\u0000", "capacity": 1e309}'),
    # Valid for the operations that take one of these fields, but for the NUL.
    ("application/json", b'{"reason": "rain\\u0000", "token": "\\u0000", "title": "\\u0000"}'),
    ("application/json", b'{"capacity": 2147483648}'),
    ("application/json", b"\xff\xfe"),
    ("application/json", b""),
]


@pytest.mark.parametrize("role", ROLES)
def test_bodies_of_the_wrong_content_type_are_4xx_for_every_role(api_schema, role):
    client = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    cookies = _role_cookies(role)
    operations = [
        (method.upper(), path.replace("{event_id}", str(EVENT_IDS[0])))
        for path, items in api_schema.raw_schema["paths"].items()
        for method in items
        if method in {"post", "patch", "put", "delete"}
    ]
    assert len(operations) >= 6
    for name, value in cookies.items():
        client.cookies[name] = value
    for method, path in operations:
        for content_type, body in WRONG_BODIES:
            response = client.generic(method, path, body, content_type=content_type)
            assert response.status_code < 500, (role, method, path, content_type)
            if response.status_code >= 400:
                assert response.json()["error"]["message"], (role, method, path, content_type)
