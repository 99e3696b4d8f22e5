"""One account per mailbox: every address in its canonical form (users.addresses).

Accounts whose addresses reach the same mailbox (`alice@`, `Alice@`, `alice+2@wustl.edu`)
are resolved before the constraint is added. In each such group one account keeps the
mailbox, chosen in this order: staff or superuser, then an address already canonical, then a
confirmed address, then the earliest to join. The others are retired, not deleted, because
they may hold registrations and score entries that only staff should weigh: each becomes
inactive with an unusable password, its address `duplicate-<id>@invalid`, and its allauth
addresses are removed. The migration prints every retired account; staff delete them in the
admin, which closes the account through users.services.user_delete (seats they held go to
the waitlist). Every other address, and every allauth address row, is rewritten canonical.
"""

import unicodedata
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.db import migrations, models
from django.db.models.functions import Lower


def _canonical(address: str) -> str:
    # A copy of users.addresses.email_canonical as of this migration.
    text = unicodedata.normalize("NFKC", address)
    text = unicodedata.normalize("NFKC", text.casefold()).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text
    untagged = local.split("+", 1)[0]
    return f"{untagged or local}@{domain}"


def one_account_per_mailbox(apps, schema_editor):
    User = apps.get_model("users", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    verified_ids = set(EmailAddress.objects.filter(verified=True).values_list("user_id", flat=True))
    groups = defaultdict(list)
    for user in User.objects.order_by("pk"):
        groups[_canonical(user.email)].append(user)

    def keeps(user, canonical):
        return (
            not (user.is_staff or user.is_superuser),
            user.email != canonical,
            user.pk not in verified_ids,
            user.date_joined,
            user.pk,
        )

    retired = []
    for canonical, members in groups.items():
        members.sort(key=lambda user: keeps(user, canonical))
        keeper, others = members[0], members[1:]
        for user in others:
            retired.append((user.pk, user.email, keeper.pk))
            EmailAddress.objects.filter(user_id=user.pk).delete()
            user.email = f"duplicate-{user.pk}@invalid"
            user.is_active = False
            user.password = make_password(None)
            user.save(update_fields=["email", "is_active", "password"])
        if keeper.email != canonical:
            keeper.email = canonical
            keeper.save(update_fields=["email"])

    by_user = defaultdict(list)
    for address in EmailAddress.objects.order_by("user_id", "-verified", "-primary", "pk"):
        by_user[address.user_id].append(address)
    for addresses in by_user.values():
        seen = set()
        for address in addresses:
            canonical = _canonical(address.email)
            if canonical in seen:
                address.delete()
                continue
            seen.add(canonical)
            if address.email != canonical:
                address.email = canonical
                address.save(update_fields=["email"])

    if retired:
        print(f"\n  {len(retired)} account(s) shared a mailbox with another and were retired:")
        for user_id, email, keeper_id in retired:
            print(f"    user {user_id} ({email}): the mailbox stays with user {keeper_id}")


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0004_email_reminders"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunPython(one_account_per_mailbox, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(email=Lower("email"))
                & ~models.Q(email__regex=r"^[^@+]+\+[^@]*@"),
                name="user_email_canonical",
            ),
        ),
    ]
