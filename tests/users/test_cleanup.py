"""The daily clean-up: stale unverified sign-ups, expired sessions, old e-mail records."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.utils import timezone

from events import tasks as event_tasks
from events.models import EmailDelivery
from tests.factories import (
    EventPostFactory,
    EventRegistrationFactory,
    ScoreEntryFactory,
    UserFactory,
)
from users import tasks
from users.models import OrganizerRequest, User

pytestmark = pytest.mark.django_db


def unverified(days_old: float = 8, **kwargs) -> User:
    user = UserFactory(email_verified=False, **kwargs)
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - dt.timedelta(days=days_old))
    return user


def test_deletes_only_stale_unverified_sign_ups_without_data(caplog):
    stale = [unverified(), unverified(days_old=30)]
    kept = [
        unverified(days_old=6),
        UserFactory(),  # verified
        unverified(is_staff=True),
        unverified(is_superuser=True),
        unverified(is_organizer=True),
    ]
    logged_in = unverified()
    User.objects.filter(pk=logged_in.pk).update(last_login=timezone.now())
    with_registration = unverified()
    EventRegistrationFactory(user=with_registration)
    with_score = unverified()
    ScoreEntryFactory(user=with_score)
    organized = unverified()
    EventPostFactory(organizer=organized)
    asked = unverified()
    OrganizerRequest.objects.create(user=asked, reason="Chess club")
    second_address_verified = unverified()
    EmailAddress.objects.create(
        user=second_address_verified, email="other@wustl.edu", verified=True
    )
    # Created by hand (admin, shell, demo data), never through sign-up: no address rows.
    no_address = UserFactory()
    EmailAddress.objects.filter(user=no_address).delete()
    User.objects.filter(pk=no_address.pk).update(date_joined=timezone.now() - dt.timedelta(days=30))
    kept += [
        logged_in,
        with_registration,
        with_score,
        organized,
        asked,
        second_address_verified,
        no_address,
    ]

    with caplog.at_level("INFO", logger="users.tasks"):
        assert tasks.unverified_users_delete.apply().get() == 2

    assert not User.objects.filter(pk__in=[user.pk for user in stale]).exists()
    assert not EmailAddress.objects.filter(user_id__in=[user.pk for user in stale]).exists()
    assert set(User.objects.filter(pk__in=[user.pk for user in kept])) == set(kept)
    assert "Deleted 2 unverified accounts" in caplog.text
    assert tasks.unverified_users_delete.apply().get() == 0


def test_the_age_limit_is_a_setting(settings):
    settings.UNVERIFIED_ACCOUNT_MAX_AGE_DAYS = 3
    unverified(days_old=4)

    assert tasks.unverified_users_delete.apply().get() == 1


def test_deletes_expired_sessions_only(caplog):
    now = timezone.now()
    Session.objects.create(
        session_key="expired", session_data="", expire_date=now - dt.timedelta(minutes=1)
    )
    Session.objects.create(
        session_key="live", session_data="", expire_date=now + dt.timedelta(days=1)
    )

    with caplog.at_level("INFO", logger="users.tasks"):
        assert tasks.expired_sessions_delete.apply().get() == 1

    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert "Deleted 1 expired sessions" in caplog.text


def test_drops_email_records_older_than_the_retention(settings, caplog):
    settings.EMAIL_DELIVERY_RETENTION_DAYS = 10
    user = UserFactory()
    now = timezone.now()
    for key, days in (("old", 11), ("recent", 9)):
        EmailDelivery.objects.create(
            key=key,
            kind=EmailDelivery.Kind.REMINDER,
            user=user,
            recipient=user.email,
            sent_at=now - dt.timedelta(days=days),
        )

    with caplog.at_level("INFO", logger="events.tasks"):
        assert event_tasks.email_deliveries_delete_old.apply().get() == 1

    assert list(EmailDelivery.objects.values_list("key", flat=True)) == ["recent"]
    assert "Deleted 1 e-mail delivery records" in caplog.text
