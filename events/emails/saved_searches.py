"""The daily e-mail of new events matching a saved search, with a one-click stop.

Beat queues one outbox row per saved search with e-mails on, per campus day
(`saved_search_alerts_queue`); each row sends at most one e-mail, once per (saved search,
day) through the delivery record, and only when something new matches.
"""

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import clock, outbox
from events.models import EmailDelivery, SavedSearch
from events.services import saved_searches

from .delivery import Email, absolute, campus_time, deliver, one_line

EMAIL_OFF_SALT = "events.saved-search-email-off"
EMAIL_MAX_EVENTS = 20


def day_of(moment: datetime) -> str:
    return clock.local(moment).date().isoformat()


def email_off_token(saved: SavedSearch) -> str:
    """Names the saved search in its e-mail's one-click stop link; it can only do that."""
    return signing.dumps(saved.pk, salt=EMAIL_OFF_SALT)


def saved_search_email_turn_off(*, token: str) -> SavedSearch | None:
    """Stop the e-mails of the token's saved search; None when the token is not ours."""
    try:
        saved_search_id = signing.loads(token, salt=EMAIL_OFF_SALT)
    except signing.BadSignature:
        return None
    saved = SavedSearch.objects.filter(pk=saved_search_id).first()
    if saved is not None:
        SavedSearch.objects.filter(pk=saved.pk).update(email_alerts=False)
    return saved


def saved_search_alerts_queue(*, now: datetime | None = None) -> int:
    """One outbox row per saved search with e-mails on, for today; queuing twice adds none."""
    from events import tasks

    day = day_of(now or timezone.now())
    count = 0
    with transaction.atomic():
        due = SavedSearch.objects.filter(email_alerts=True, user__is_active=True).values_list(
            "pk", flat=True
        )
        for saved_search_id in due.iterator():
            outbox.add(
                tasks.saved_search_alert_send,
                saved_search_id,
                day,
                key=f"saved-search-alert:{saved_search_id}:{day}",
            )
            count += 1
    return count


def saved_search_alert_send(*, saved_search_id: int, day: str) -> bool:
    """E-mail the search's new matches, unless e-mails are off, nothing is new, or today's
    went out already; True when sent now."""
    saved = (
        SavedSearch.objects.select_related("user")
        .filter(pk=saved_search_id, email_alerts=True, user__is_active=True)
        .first()
    )
    if saved is None:
        return False
    try:
        events = saved_searches.saved_search_new_matches(saved)
    except saved_searches.SearchParamsError:
        return False  # the query no longer parses (a category is gone): nothing to match
    if not events:
        return False
    user = saved.user
    shown = events[:EMAIL_MAX_EVENTS]
    off_url = absolute(reverse("events:saved-search-email-off", args=[email_off_token(saved)]))
    subject = one_line(f"New on E-Ren for “{saved.name}” ({len(events)})")
    context = {
        "subject": subject,
        "name": user.get_short_name(),
        "search_name": saved.name,
        "search_url": absolute(saved.get_absolute_url()),
        "more": len(events) - len(shown),
        "events": [
            {
                "title": event.title,
                "when": campus_time(event.starts_at),
                "url": absolute(event.get_absolute_url()),
            }
            for event in shown
        ],
        "unsubscribe_url": off_url,
        "account_url": absolute(reverse("users:account")),
        "site_url": settings.SITE_URL,
        "reason": "You asked E-Ren to e-mail you new events for this saved search.",
    }
    email = Email(
        subject=subject,
        text=render_to_string("events/emails/saved_search.txt", context),
        html=render_to_string("events/emails/saved_search.html", context),
        headers=(
            ("List-Unsubscribe", f"<{off_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )
    sent = deliver(
        key=f"saved-search:{saved.pk}:{day}",
        kind=EmailDelivery.Kind.SAVED_SEARCH,
        user=user,
        email=email,
    )
    # Also after a retry that found today's e-mail sent: what it told about is not news.
    saved_searches.saved_search_mark_seen(
        saved_search_id=saved.pk, event_ids=[event.pk for event in events]
    )
    return sent
