from django.contrib.postgres.operations import CreateExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm for typo-tolerant search and suggestions; cube + earthdistance for "near me"."""

    initial = True
    dependencies = []

    operations = [
        TrigramExtension(),
        CreateExtension("cube"),
        CreateExtension("earthdistance"),
    ]
