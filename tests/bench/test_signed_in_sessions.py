"""The load test's sessions made beforehand sign a student in like a login through the form."""

import pytest
from django.conf import settings
from django.urls import reverse

from bench.signed_in import sessions_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_session_made_beforehand_is_signed_in(client):
    student = UserFactory(email="student1@bench.wustl.edu")
    UserFactory(email="someone@wustl.edu")  # not a benchmark student: no session

    keys = sessions_create(5)

    assert len(keys) == 1
    client.cookies[settings.SESSION_COOKIE_NAME] = keys[0]
    response = client.get(reverse("events:mine"))
    assert response.status_code == 200
    assert response.wsgi_request.user == student
