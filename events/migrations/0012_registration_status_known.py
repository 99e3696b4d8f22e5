"""Registrations may only hold a known status.

Rows with any other status (the admin's add form saved "" because the status was read-only
there) never took a seat: they were saved around the services, so no counter counted them.
They become cancelled registrations, as of now, so the student can register again properly
and the roster shows them under "cancelled"; the migration prints how many it changed.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

KNOWN = ["confirmed", "waitlisted", "cancelled"]


def void_unknown_statuses(apps, schema_editor):
    EventRegistration = apps.get_model("events", "EventRegistration")
    count = (
        EventRegistration.objects.exclude(status__in=KNOWN)
        .using(schema_editor.connection.alias)
        .update(status="cancelled", cancelled_at=timezone.now(), checked_in_at=None)
    )
    if count:
        print(f"\n  {count} registration(s) with an unknown status are now cancelled.")


class Migration(migrations.Migration):
    dependencies = [("events", "0011_event_no_show_release_idx")]

    operations = [
        migrations.RunPython(void_unknown_statuses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="eventregistration",
            constraint=models.CheckConstraint(
                condition=Q(status__in=KNOWN), name="registration_status_known"
            ),
        ),
    ]
