"""The organization's activity log (OrgActivity): one function writes it, in the caller's
transaction, so a rolled-back change leaves no line behind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import OrgActivity

if TYPE_CHECKING:
    from events.models import EventPost
    from users.models import User


def record(
    *,
    organization_id: int,
    actor: User | None,
    action: str,
    event: EventPost | None = None,
    subject: User | None = None,
    detail: str = "",
) -> OrgActivity:
    return OrgActivity.objects.create(
        organization_id=organization_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        event=event,
        subject=subject,
        detail=detail[:300],
    )
