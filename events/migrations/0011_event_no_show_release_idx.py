import django.contrib.postgres.operations
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction; the events table is written to
    # while it runs (docs/deploy.md, "Safe migrations").
    atomic = False

    dependencies = [
        ("events", "0010_attendance"),
    ]

    operations = [
        django.contrib.postgres.operations.AddIndexConcurrently(
            model_name="eventpost",
            index=models.Index(
                condition=models.Q(
                    ("no_shows_released_at", None),
                    ("release_no_shows", True),
                    ("status", "published"),
                ),
                fields=["starts_at"],
                name="event_no_show_release_idx",
            ),
        ),
    ]
