"""API fuzzing: schemathesis generates requests from /api/v1/openapi.json.

Every operation is called with a bounded number of generated inputs against the WSGI app
(anonymous, so the authenticated operations answer their 401 or 403); no answer may be a
500, and every answer must match the schema (status codes, bodies, content types).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from eren.wsgi import application
from tests.factories import EventPostFactory

MAX_EXAMPLES = 15


@pytest.fixture
def api_schema(db):
    # As Django's test client does: the request signals must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    EventPostFactory.create_batch(2)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case):
    case.call_and_validate()
