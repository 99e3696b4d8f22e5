"""Failure drills of the outbox: the broker down or black-holed, SMTP refusing, a worker
killed mid-send. Real PostgreSQL, Redis, Celery worker processes and a real SMTP server
(aiosmtpd, on a free port); only the clock is simulated where the drill spans minutes.
"""

import asyncio
import contextlib
import datetime as dt
import email
import socket
import threading
import time
from collections import Counter

import kombu.pools
import psycopg
import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage
from eren.celery import app as celery_app
from events import services
from events.models import EmailDelivery, EventPost, EventRegistration
from scripts.services import free_port
from tests.conftest import database_url_for_subprocesses
from tests.factories import EventPostFactory, OrganizerFactory, UserFactory

# Workers must see the rows these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

DRILL_SETTINGS = "tests.core.drill_worker_settings"
CLOSED_PORT = 9


class Mailbox:
    """An SMTP server's handler: refuses while told to, can hold a message before answering,
    and counts every transaction; `delivered` keeps one copy per Message-ID, as a mailbox."""

    def __init__(self) -> None:
        self.refusing = False
        self.transactions: list[tuple[str, list[str]]] = []
        self.release = threading.Event()
        self.release.set()
        self.data_arrived = threading.Event()
        # The last statement of every drill-worker connection that sat inside a transaction
        # while SMTP was talking (none may).
        self.open_transactions_seen: list[str] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refusing:
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        self.transactions.append((message["Message-ID"], list(envelope.rcpt_tos)))
        self.open_transactions_seen.extend(await asyncio.to_thread(_worker_transactions_open))
        self.data_arrived.set()
        await asyncio.to_thread(self.release.wait, 60)
        return "250 OK"

    @property
    def delivered(self) -> dict[str, list[str]]:
        return dict(self.transactions)


def _worker_transactions_open() -> list[str]:
    """The drill workers' connections inside a transaction right now: their last statements."""
    with psycopg.connect(database_url_for_subprocesses(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT state || ': ' || query FROM pg_stat_activity"
            " WHERE application_name = 'eren-drill-worker' AND state LIKE 'idle in transaction%%'"
        ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def mailbox():
    handler = Mailbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    handler.release.set()
    controller.stop()


@pytest.fixture
def drill_worker(celery_worker, mailbox):
    def start(name: str = "worker", **env: str):
        return celery_worker(
            name=name,
            settings_module=DRILL_SETTINGS,
            env={
                "DATABASE_URL": database_url_for_subprocesses(),
                "DRILL_SMTP_PORT": str(mailbox.port),
                **env,
            },
        )

    start.queue = celery_worker.queue
    return start


@contextlib.contextmanager
def broker_at(url: str):
    """Point this process's Celery (the relay) at another broker address, then back."""
    conf = celery_app.conf
    saved = conf.broker_url

    def reset() -> None:
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url = url
    reset()
    try:
        yield
    finally:
        conf.broker_url = saved
        reset()


def relay_until_done(queue: str, worker, *, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while OutboxMessage.objects.exclude(status="done").exists():
        if time.monotonic() > deadline:
            rows = list(OutboxMessage.objects.values("task", "status", "attempts", "last_error"))
            pytest.fail(f"Rows not done: {rows}\nWorker log:\n{worker.log.read_text()[-4000:]}")
        outbox.relay(queue=queue)
        time.sleep(0.3)


@contextlib.contextmanager
def black_hole():
    """A broker address whose packets go nowhere: connections queue, nothing ever answers.

    Yields a function that counts the connections made to it so far."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(100)
    hole.setblocking(False)
    made = 0

    def connections() -> int:
        nonlocal made
        with contextlib.suppress(BlockingIOError):
            while True:
                hole.accept()[0].close()
                made += 1
        return made

    connections.url = f"redis://127.0.0.1:{hole.getsockname()[1]}/0"
    try:
        yield connections
    finally:
        hole.close()


def test_broker_down_while_100_students_register_then_exactly_100_emails(
    client, mailbox, drill_worker
):
    event = EventPostFactory(capacity=100, title="Career Fair")
    students = UserFactory.create_batch(100)

    slowest = 0.0
    with black_hole() as connections, broker_at(connections.url):
        for student in students:
            client.force_login(student)
            started = time.monotonic()
            response = client.post(reverse("events:register", args=[event.pk]))
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 302
        assert connections() == 0  # no request so much as tried the broker
        assert outbox.relay() == 0  # the relay tries, and gives up within its timeouts
        assert connections() > 0
    assert slowest < 2.0
    assert EventRegistration.objects.filter(event=event, status="confirmed").count() == 100
    assert mailbox.transactions == []

    worker = drill_worker()
    relay_until_done(drill_worker.queue, worker)

    assert len(mailbox.transactions) == 100
    assert len(mailbox.delivered) == 100  # no Message-ID twice: no duplicates
    recipients = Counter(rcpt for _, rcpts in mailbox.transactions for rcpt in rcpts)
    assert recipients == Counter(student.email for student in students)
    assert mailbox.open_transactions_seen == []  # SMTP never ran inside a transaction
    assert EmailDelivery.objects.filter(accepted_at__isnull=False).count() == 100


def test_a_promotion_and_a_geocode_in_one_transaction_with_the_broker_down_both_happen(
    mailbox, drill_worker
):
    organizer = OrganizerFactory()
    event = EventPostFactory(organizer=organizer, capacity=1, location_name="TBA")
    holder, waiting = UserFactory.create_batch(2)
    for student in (holder, waiting):
        services.registration_create(event_id=event.pk, user=student)
    OutboxMessage.objects.update(status="done")  # those e-mails are not this drill's
    with broker_at(f"redis://127.0.0.1:{CLOSED_PORT}/0"):
        services.event_update(
            event_id=event.pk, by=organizer, capacity=2, location_name="Simon Hall"
        )
        assert outbox.relay() == 0

    worker = drill_worker()
    relay_until_done(drill_worker.queue, worker)

    event.refresh_from_db()
    assert event.geocode_status == EventPost.GeocodeStatus.FOUND
    assert EventRegistration.objects.get(event=event, user=waiting).status == "confirmed"
    promoted = EmailDelivery.objects.get(user=waiting, kind="promoted")
    assert promoted.accepted_at is not None
    assert [waiting.email] in [rcpts for _, rcpts in mailbox.transactions]


def test_a_black_holed_broker_never_holds_a_registration(client, settings):
    student = UserFactory()
    event = EventPostFactory(capacity=5)
    client.force_login(student)
    with black_hole() as connections, broker_at(connections.url):
        started = time.monotonic()
        response = client.post(reverse("events:register", args=[event.pk]))
        answered = time.monotonic() - started
        started = time.monotonic()
        handed = outbox.relay()
        relay_took = time.monotonic() - started
    assert response.status_code == 302
    assert answered < 2.0
    assert handed == 0
    # The relay gives up within the broker timeouts, far inside gunicorn's 30 s.
    assert relay_took < 4 * settings.BROKER_TIMEOUT + 2
    assert OutboxMessage.objects.get().status == "pending"


def test_a_worker_killed_mid_send_the_email_arrives_once(mailbox, drill_worker, settings):
    settings.OUTBOX_LEASE_SECONDS = 3  # the relay hands a lost row over again after 3 s
    student = UserFactory()
    services.registration_create(event_id=EventPostFactory(capacity=5).pk, user=student)
    mailbox.release.clear()  # the server will hold the message before answering

    first = drill_worker("first", DRILL_LEASE_SECONDS="3", DRILL_CLAIM_SECONDS="2")
    outbox.relay(queue=drill_worker.queue)
    if not mailbox.data_arrived.wait(60):
        pytest.fail(f"No message reached the server. Worker log:\n{first.log.read_text()}")
    first.kill()  # SIGKILL, after the server has the whole message, before it answers
    first.wait(timeout=20)
    mailbox.release.set()

    second = drill_worker("second", DRILL_LEASE_SECONDS="3", DRILL_CLAIM_SECONDS="2")
    relay_until_done(drill_worker.queue, second)

    # Sent at most once more, and with the same Message-ID: one e-mail in the mailbox.
    assert len(mailbox.transactions) == 2  # the killed attempt reached DATA; one resend
    assert len(mailbox.delivered) == 1
    assert all(rcpts == [student.email] for _, rcpts in mailbox.transactions)
    delivery = EmailDelivery.objects.get()
    assert delivery.accepted_at is not None
    assert mailbox.open_transactions_seen == []


class SimulatedClock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current


def test_smtp_refusing_for_ten_minutes_then_every_email_arrives_once(
    mailbox, settings, monkeypatch
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", mailbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    event = EventPostFactory(capacity=10)
    students = UserFactory.create_batch(5)
    for student in students:
        services.registration_create(event_id=event.pk, user=student)

    start = timezone.now()
    clock = SimulatedClock(start)
    monkeypatch.setattr(timezone, "now", clock.now)
    outage_ends = start + dt.timedelta(minutes=10)
    rounds = 0
    while OutboxMessage.objects.filter(status="pending").exists():
        rounds += 1
        assert rounds < 50, "the outbox never drained"
        # The worker runs whatever is due; then the clock jumps to the next row's turn.
        mailbox.refusing = clock.now() < outage_ends
        outbox.run_due()
        upcoming = OutboxMessage.objects.filter(status="pending").order_by("available_at")
        if upcoming:
            clock.current = max(clock.current, upcoming[0].available_at)

    assert clock.now() >= outage_ends
    assert clock.now() < outage_ends + dt.timedelta(minutes=20)  # back-off of minutes, not hours
    assert OutboxMessage.objects.filter(status="done").count() == 5
    assert min(OutboxMessage.objects.values_list("attempts", flat=True)) >= 5
    assert len(mailbox.transactions) == 5  # refused attempts never reached DATA
    assert sorted(rcpts[0] for _, rcpts in mailbox.transactions) == sorted(
        student.email for student in students
    )
    assert connection.in_atomic_block is False
