"""`manage.py outbox status|relay|run|resend`: see and drain the outbox (docs/runbook.md)."""

from django.core.management.base import BaseCommand, CommandParser

from core import outbox
from core.models import OutboxMessage


class Command(BaseCommand):
    help = (
        "status: pending rows, the oldest one's age, dead letters. relay: hand due rows to "
        "Celery now. run: run due rows in this process, without the broker. resend: queue "
        "every dead letter again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "relay", "run", "resend"])
        parser.add_argument("--limit", type=int, default=500, help="rows for relay and run")

    def handle(self, *args, action: str, limit: int, **options) -> None:
        if action == "status":
            report = outbox.report()
            self.stdout.write(
                f"pending {report['pending']}, oldest {report['oldest_pending_seconds']:.0f} s, "
                f"dead {report['dead']}"
            )
        elif action == "relay":
            self.stdout.write(f"relayed {outbox.relay(limit=limit)}")
        elif action == "run":
            self.stdout.write(f"ran {outbox.run_due(limit=limit)}")
        else:
            dead = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
            self.stdout.write(f"resent {outbox.resend(dead.values_list('pk', flat=True))}")
