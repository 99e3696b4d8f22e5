"""The leaderboard shows a pseudonym unless the student opts in to their name.

Until now every account started as "show my name" (and a student without a name was shown
by the start of their e-mail address), which FERPA directory holds do not allow. Nobody can
tell which of those students chose it, so every account showing its name now shows a
pseudonym instead; each student may opt in again on their account page. Every account
without a pseudonym gets one. The leaderboard's cached names expire within CACHE_TTL.
"""

from django.db import migrations, models

import users.pseudonyms


def pseudonyms_for_everyone(apps, schema_editor):
    User = apps.get_model("users", "User")
    without = list(User.objects.filter(pseudonym="").only("pk"))
    for user in without:
        user.pseudonym = users.pseudonyms.pseudonym_generate()
    User.objects.bulk_update(without, ["pseudonym"], batch_size=1000)
    switched = User.objects.filter(leaderboard_visibility="public").update(
        leaderboard_visibility="pseudonym"
    )
    if switched:
        print(f"\n  {switched} account(s) now show a pseudonym on the leaderboard.")


class Migration(migrations.Migration):
    dependencies = [("users", "0005_one_account_per_mailbox")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="leaderboard_visibility",
            field=models.CharField(
                choices=[
                    ("pseudonym", "Show my pseudonym"),
                    ("public", "Show my name"),
                    ("hidden", "Hide me"),
                ],
                default="pseudonym",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="pseudonym",
            field=models.CharField(
                blank=True, default=users.pseudonyms.pseudonym_generate, max_length=40
            ),
        ),
        migrations.RunPython(pseudonyms_for_everyone, migrations.RunPython.noop),
    ]
