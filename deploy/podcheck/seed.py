"""Data the check needs, written the way an operator would: a one-off pod from the app image
(the migration Job's template) running this module. Prints the events as JSON."""

import datetime as dt
import json

import django

django.setup()

from django.utils import timezone  # noqa: E402 - after django.setup()

from events.models import EventCategory, EventPost  # noqa: E402
from users.models import User  # noqa: E402

EVENTS = 4


def main() -> None:
    organizer = User.objects.create_user(
        email="organizer@wustl.edu", password=None, is_organizer=True, display_name="Organizer"
    )
    category = EventCategory.objects.create(name="Talks", slug="talks")
    starts_at = timezone.now() + dt.timedelta(days=3)
    events = [
        EventPost.objects.create(
            organizer=organizer,
            category=category,
            title=f"Pod check talk {number}",
            description="A talk in Graham Chapel.",
            location_name="Graham Chapel",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=1),
            capacity=50,
            status=EventPost.Status.PUBLISHED,
        )
        for number in range(1, EVENTS + 1)
    ]
    print(json.dumps({"events": [{"id": e.pk, "title": e.title} for e in events]}))


if __name__ == "__main__":
    main()
