"""The organizer's cover image: set (this event, or this and the following of its series)
and remove. Checking and encoding live in events.images; nothing here trusts the upload."""

from functools import partial

from django.db import transaction

from events import permissions
from events.errors import EventInvalid, EventStateConflict
from events.images import ALT_MAX_LENGTH, WIDTHS, image_delete, image_renditions, image_store
from events.models import EventPost
from users.models import User

from .locking import event_locked
from .series import series_following

_FIELDS = [*WIDTHS, "image_alt"]


def event_image_set(
    *, event_id: int, by: User, data: bytes, alt: str, following: bool = False
) -> EventPost:
    """Give the event (and with `following`, the later ones of its series) a cover image.

    All or nothing: the files are written first, the rows change in one transaction, and
    the files of a failed attempt are deleted; the replaced files go once it commits.
    """
    alt = " ".join(alt.split())
    if not alt:
        raise EventInvalid(
            {"image_alt": ["Describe the picture for students who use a screen reader."]}
        )
    if len(alt) > ALT_MAX_LENGTH:
        raise EventInvalid({"image_alt": [f"Keep it under {ALT_MAX_LENGTH} characters."]})
    renditions = image_renditions(data)
    event = permissions.event_get_authorized(
        event_id=event_id, user=by, action=permissions.Action.EDIT
    )
    targets = series_following(event=event) if following else [event.pk]
    written: list[str] = []
    try:
        with transaction.atomic():
            for target_id in targets:
                stored = image_store(event_id=target_id, renditions=renditions)
                written += stored.values()
                with event_locked(event_id=target_id, whole_row=True) as target:
                    _check_editable(target=target, by=by)
                    replaced = [getattr(target, field).name for field in WIDTHS]
                    for field, name in stored.items():
                        setattr(target, field, name)
                    target.image_alt = alt
                    target.save(update_fields=[*_FIELDS, "updated_at"])
                    transaction.on_commit(partial(image_delete, replaced))
                if target_id == event.pk:
                    event = target
    except BaseException:
        image_delete(written)
        raise
    return event


def event_image_remove(*, event_id: int, by: User) -> EventPost:
    """Remove the cover image; the category's picture shows instead."""
    with event_locked(event_id=event_id, whole_row=True) as event:
        _check_editable(target=event, by=by)
        replaced = [getattr(event, field).name for field in WIDTHS]
        for field in WIDTHS:
            setattr(event, field, "")
        event.image_alt = ""
        event.save(update_fields=[*_FIELDS, "updated_at"])
        transaction.on_commit(partial(image_delete, replaced))
    return event


def _check_editable(*, target: EventPost, by: User) -> None:
    permissions.event_check_access(user=by, event=target, action=permissions.Action.EDIT)
    if target.status == EventPost.Status.CANCELLED:
        raise EventStateConflict("A cancelled event can no longer be edited.")
