"""Writes about users: profile, the organizer role, closing an account."""

import json
from datetime import timedelta
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core import outbox
from core.errors import UserError
from escore import tasks as escore_tasks
from escore.models import ScoreEntry
from events import services as event_services
from events.access import AccessFeature, features_ordered
from events.models import EventPost, EventRegistration, OrganizerMessage
from events.recommendations import recommendations_forget
from orgs.models import Officer

from .models import OrganizerRequest, User


class AccountError(UserError):
    """A request about the account that cannot be carried out, with a readable reason."""

    code = "account_error"


def _access_needs_clean(access_needs: list[str]) -> list[str]:
    if any(need not in AccessFeature.values for need in access_needs):
        raise ValidationError({"access_needs": "Choose needs from the list."})
    return features_ordered(access_needs)


def user_access_needs_update(*, user: User, access_needs: list[str]) -> User:
    """Save the accessibility needs alone (the API); the picks are computed again."""
    user.access_needs = _access_needs_clean(access_needs)
    user.save(update_fields=["access_needs"])
    transaction.on_commit(lambda: recommendations_forget(user_id=user.pk), robust=True)
    return user


def user_profile_update(
    *,
    user: User,
    display_name: str,
    leaderboard_visibility: str,
    pseudonym: str,
    email_reminders: bool | None = None,
    access_needs: list[str] | None = None,
) -> User:
    """Save how the student is named on the site and shown on the leaderboard.

    `email_reminders` (None: unchanged) turns the day-before reminder e-mails on or off;
    `access_needs` (None: unchanged) are the accessibility features the student needs.
    """
    user.display_name = display_name.strip()
    user.leaderboard_visibility = leaderboard_visibility
    user.pseudonym = pseudonym.strip()
    if email_reminders is not None:
        user.email_reminders = email_reminders
    if access_needs is not None:
        user.access_needs = _access_needs_clean(access_needs)
    if user.leaderboard_visibility == User.LeaderboardVisibility.PSEUDONYM and not user.pseudonym:
        raise ValidationError({"pseudonym": "Choose a pseudonym to show on the leaderboard."})
    if user.leaderboard_visibility == User.LeaderboardVisibility.PUBLIC and not user.display_name:
        raise ValidationError({"display_name": "Add your name to show it on the leaderboard."})
    user.full_clean(
        exclude=[f.name for f in User._meta.fields if f.name not in {"display_name", "pseudonym"}]
    )
    user.save(
        update_fields=[
            "display_name",
            "leaderboard_visibility",
            "pseudonym",
            "email_reminders",
            "access_needs",
        ]
    )
    if access_needs is not None:
        transaction.on_commit(lambda: recommendations_forget(user_id=user.pk), robust=True)
    _leaderboard_refresh_queue(user_id=user.pk)
    return user


def user_reminders_turn_off(*, token: str) -> User:
    """Turn reminders off for the user the token names; AccountError for a bad link."""
    try:
        user_id = signing.loads(token, salt=User.REMINDERS_OFF_SALT)
    except signing.BadSignature as exc:
        raise AccountError(
            "This link is not valid. Turn reminders off on your account page."
        ) from exc
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise AccountError("This account no longer exists.")
    if user.email_reminders:
        user.email_reminders = False
        user.save(update_fields=["email_reminders"])
    return user


def organizer_request_create(*, user: User, reason: str) -> OrganizerRequest:
    """A student asks for the organizer role; staff decide in the admin."""
    reason = reason.strip()
    if user.is_organizer or user.is_staff:
        raise AccountError("You can already organize events.")
    if not reason:
        raise AccountError("Tell staff in a sentence or two what you would like to organize.")
    if len(reason) > OrganizerRequest.REASON_MAX_LENGTH:
        raise AccountError("Keep the reason under 500 characters.")
    try:
        with transaction.atomic():
            return OrganizerRequest.objects.create(user=user, reason=reason)
    except IntegrityError as exc:
        # The partial unique index: a second submit while one is pending.
        raise AccountError("Your request is already waiting for staff.") from exc


@transaction.atomic
def organizer_request_decide(*, request_id: int, by: User, approve: bool) -> OrganizerRequest:
    """Approve (grant the role) or reject a pending request. Deciding twice changes nothing."""
    request = OrganizerRequest.objects.select_for_update().select_related("user").get(pk=request_id)
    if request.status != OrganizerRequest.Status.PENDING:
        return request
    request.status = (
        OrganizerRequest.Status.APPROVED if approve else OrganizerRequest.Status.REJECTED
    )
    request.decided_by = by
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    if approve and not request.user.is_organizer:
        request.user.is_organizer = True
        request.user.save(update_fields=["is_organizer"])
    return request


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Close the account as README's Privacy section describes, in one transaction: any
    failure leaves the account exactly as it was.

    Every registration and score entry of the user is deleted; a seat freed in an upcoming
    event goes to the first student waiting. Also gone: addresses, second factors, organizer
    requests and messages, the record of e-mails sent, the admin's log entries about the
    account and its rows, and every session. An account that organized events is anonymised
    instead of deleted, because the events (and other students' ledger entries for them) are
    kept.
    """
    now = timezone.now()
    # An organization's events stay with its officers; only one's own events hold it up.
    open_events = EventPost.objects.filter(
        organizer=user, organization__isnull=True, ends_at__gt=now
    ).exclude(status=EventPost.Status.CANCELLED)
    if open_events.exists():
        raise AccountError(
            "You organize events that have not happened yet. Cancel them, or ask staff to "
            "hand them to another organizer, before closing your account."
        )
    presidents = Officer.objects.filter(role=Officer.Role.PRESIDENT)
    other_president = presidents.filter(organization=OuterRef("organization")).exclude(user=user)
    sole_presidencies = list(
        presidents.filter(user=user)
        .filter(~Exists(other_president))
        .order_by("organization__name")
        .values_list("organization__name", flat=True)
    )
    if sole_presidencies:
        raise AccountError(
            f"You are the only president of {', '.join(sole_presidencies)}. Name the next "
            "president on its officers page before closing your account."
        )
    active = EventRegistration.objects.filter(user=user).exclude(
        status=EventRegistration.Status.CANCELLED
    )
    # Event rows are locked before the user row, in the order every other writer takes them.
    for event_id in active.values_list("event_id", flat=True):
        event_services.registration_forget(event_id=event_id, user=user)
    user = User.objects.select_for_update().get(pk=user.pk)
    _admin_log_forget(user=user)
    EventRegistration.objects.filter(user=user).delete()
    user.score_disputes.all().delete()
    user.score_entries.all().delete()
    user.saved_searches.all().delete()
    # The leaderboard is a cache of the ledger: drop the user from it once this commits.
    _leaderboard_refresh_queue(user_id=user.pk)
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    # The record of e-mails sent holds the address; an anonymised account keeps none.
    user.email_deliveries.all().delete()
    # Delivered already (the events are over); what the organizer wrote is theirs.
    OrganizerMessage.objects.filter(sent_by=user).delete()
    user.organizer_requests.all().delete()
    _sessions_end(user=user)
    if not EventPost.objects.filter(organizer=user).exists():
        user.delete()
        return
    user.email = f"deleted-{user.pk}@invalid"
    user.display_name = "Former organizer"
    user.pseudonym = ""
    user.leaderboard_visibility = User.LeaderboardVisibility.HIDDEN
    user.calendar_token = None
    user.is_active = user.is_organizer = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.save()


def _admin_log_forget(*, user: User) -> None:
    """Delete the admin's log entries about the account and its rows, and any that name its
    address (an entry's text is the object's __str__, often the address)."""
    about = Q(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk))
    for model, rows in (
        (EventRegistration, EventRegistration.objects.filter(user=user)),
        (ScoreEntry, ScoreEntry.objects.filter(user=user)),
        (OrganizerRequest, OrganizerRequest.objects.filter(user=user)),
        (EmailAddress, EmailAddress.objects.filter(user=user)),
    ):
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        about |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    about |= Q(object_repr__icontains=user.email) | Q(change_message__icontains=user.email)
    LogEntry.objects.filter(about).delete()


def _sessions_end(*, user: User) -> None:
    """Delete the user's sessions, and logins still waiting for a code or second factor:
    allauth keeps the address in both.

    Sessions are not indexed by user, so every live one is decoded: fine at the pilot's few
    thousand sessions and for an action this rare."""
    store = _session_store()
    live = store.get_model_class().objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator(chunk_size=1000):
        data = session.get_decoded()
        if data.get("_auth_user_id") == str(user.pk) or user.email in json.dumps(data, default=str):
            store(session_key=session.session_key).delete()


def _leaderboard_refresh_queue(*, user_id: int) -> None:
    """Show the student's new name or visibility (or their absence) on the leaderboards.

    An outbox row of the change's transaction: with Redis down the change stands and the
    refresh is retried (and the leaderboard reconcile on beat catches up too).
    """
    outbox.add(escore_tasks.leaderboard_refresh_user, user_id)


# --- Clean-up ----------------------------------------------------------------------------


def user_delete_unverified(*, older_than: timedelta) -> int:
    """Delete sign-ups that never confirmed their address; returns how many accounts.

    Only accounts that signed up through allauth (they have an unconfirmed address and no
    confirmed one), joined before `older_than` ago, never logged in, hold no role (staff,
    superuser, organizer) and no data: no registration, event, score entry or organizer
    request. Anyone else is left alone, whatever their addresses say.
    """
    cutoff = timezone.now() - older_than
    stale = (
        User.objects.filter(
            date_joined__lt=cutoff,
            last_login__isnull=True,
            is_staff=False,
            is_superuser=False,
            is_organizer=False,
        )
        .filter(Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=False)))
        .exclude(Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)))
        .exclude(Exists(EventRegistration.objects.filter(user=OuterRef("pk"))))
        .exclude(Exists(EventPost.objects.filter(organizer=OuterRef("pk"))))
        .exclude(Exists(ScoreEntry.objects.filter(user=OuterRef("pk"))))
        .exclude(Exists(OrganizerRequest.objects.filter(user=OuterRef("pk"))))
    )
    with transaction.atomic():
        # The row locks hold off a login until the delete commits; accounts a login has
        # locked already are skipped until tomorrow.
        user_ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not user_ids:
            return 0
        User.objects.filter(pk__in=user_ids).delete()
    return len(user_ids)


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_delete_expired() -> int:
    """Delete expired sessions from the database, as `manage.py clearsessions` does."""
    count, _ = (
        _session_store().get_model_class().objects.filter(expire_date__lt=timezone.now()).delete()
    )
    return count
