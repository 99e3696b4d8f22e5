"""The 200-user mix of issue 8, and the single-page users the baseline ratios need.

    locust -f bench/locustfile.py --headless -u 200 -r 50 -t 60s -H http://127.0.0.1:8100 \\
        Visitor Student

Visitor (9 in 10 users, anonymous): event list 50%, search 25%, event detail 15% of the
requests. Student (1 in 10, logged in through allauth's form on start): register for an
event or cancel the registration 5%, leaderboard or My events 5%. Both think for
BENCH_THINK_TIME seconds ("min,max", default 0.5,1.5) between requests, so the shares hold.
HelloUser, EventListUser and SearchUser request one page with no think time: the server's
throughput on the trivial /health view and on the pages the ratios compare with it.
PacedSearchUser searches about once a second, so N users offer about N searches/s: the
latency of the search page at a given rate rather than at saturation. Its pauses are
exponential (arrivals as from many independent students); fixed one-second pauses would
send the users' requests in synchronised bursts and measure the bursts.

SignedInStudent is the same mix with every user a logged-in student (register or cancel 5%,
leaderboard 3%, My events 2%, My E-score 2%, the rest the visitor's pages).

Students are the generator's student<N>@bench.wustl.edu, N from 1 to BENCH_STUDENTS, with
the password bench.generate_events.BENCH_PASSWORD (bench/generate_events.py --students).
"""

from __future__ import annotations

import itertools
import os
import random
import re
from http.cookiejar import Cookie

from gevent.lock import Semaphore
from locust import FastHttpUser, between, constant, events, task
from locust.runners import LocalRunner

from bench.vocabulary import ranked_words, zipf_cumulative_weights

BENCH_PASSWORD = "washu-bench"  # noqa: S105 - bench.generate_events.BENCH_PASSWORD
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "100000"))
THINK_MIN, THINK_MAX = (float(v) for v in os.environ.get("BENCH_THINK_TIME", "0.5,1.5").split(","))
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# What people type: mostly the frequent words, sometimes two, sometimes a rarer one.
WORDS = ranked_words()[:3000]
WORD_WEIGHTS = zipf_cumulative_weights(len(WORDS))
_student_numbers = itertools.count(random.randint(1, STUDENTS))
_upcoming_event_ids: list[int] = []
_upcoming_event_ids_lock = Semaphore()

# A student's login is a PBKDF2 hash (a quarter of a second of a core), and the ramp-up's
# logins arrive together and starve every other request while they run. With --reset-stats
# the statistics are reset again once every student has logged in, so the figures are those
# of the mix alone (one locust process; with --processes, locust's own reset at the end of
# spawning applies).
_logins = {"done": 0, "students": None, "measuring": False}


def _measure_once_logged_in(environment) -> None:
    students = _logins["students"]
    if students is None or _logins["done"] < students or _logins["measuring"]:
        return
    _logins["measuring"] = True
    if environment.reset_stats and isinstance(environment.runner, LocalRunner):
        environment.stats.reset_all()


@events.init.add_listener
def _watch_spawning(environment, **_kwargs) -> None:
    def spawned(**_kwargs) -> None:
        counts = environment.runner.user_classes_count
        _logins["students"] = counts.get("Student", 0) + counts.get("SignedInStudent", 0)
        _measure_once_logged_in(environment)

    environment.events.spawning_complete.add_listener(spawned)


def search_terms() -> str:
    words = random.choices(WORDS, cum_weights=WORD_WEIGHTS, k=random.choice((1, 1, 1, 2)))
    return " ".join(words)


def upcoming_event_ids(client) -> list[int]:
    """Ids of upcoming published events, read once per process from the API."""
    with _upcoming_event_ids_lock:
        if not _upcoming_event_ids:
            _upcoming_event_ids_read(client)
    return _upcoming_event_ids


def _upcoming_event_ids_read(client) -> None:
    for page in (1, 2, 3):
        with client.get(
            f"/api/v1/events?sort=start&page_size=100&page={page}",
            name="/api/v1/events (setup)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                break
            data = response.json()
        _upcoming_event_ids.extend(hit["id"] for hit in data["results"])
        if not data["has_next"]:
            break


class Visitor(FastHttpUser):
    weight = 9
    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self) -> None:
        self.event_ids = upcoming_event_ids(self.client)

    @task(50)
    def event_list(self) -> None:
        page = random.choice((1, 1, 1, 2, 3))
        self.client.get("/" if page == 1 else f"/?page={page}", name="/ (event list)")

    @task(25)
    def search(self) -> None:
        self.client.get("/search/", params={"q": search_terms()}, name="/search/?q=")

    @task(15)
    def event_detail(self) -> None:
        event_id = random.choice(self.event_ids)
        self.client.get(f"/events/{event_id}/", name="/events/<id>/")


class Student(FastHttpUser):
    weight = 1
    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self) -> None:
        self.event_ids = upcoming_event_ids(self.client)
        self.registered_event_id: int | None = None
        try:
            self._log_in()
        finally:
            _logins["done"] += 1
            _measure_once_logged_in(self.environment)

    def _log_in(self) -> None:
        number = 1 + next(_student_numbers) % STUDENTS
        page = self.client.get("/accounts/login/", name="/accounts/login/")
        token = CSRF_INPUT.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "login": f"student{number}@bench.wustl.edu",
                "password": BENCH_PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            name="/accounts/login/ (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: status {response.status_code}")

    def _csrf_token(self) -> str:
        # Django accepts the cookie's secret itself in the header (login rotates it).
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return cookie.value
        return ""

    @task(5)
    def register_or_cancel(self) -> None:
        if self.registered_event_id is None:
            event_id, action = random.choice(self.event_ids), "register"
        else:
            event_id, action = self.registered_event_id, "cancel"
        with self.client.post(
            f"/events/{event_id}/{action}",
            headers={"X-CSRFToken": self._csrf_token()},
            name=f"/events/<id>/{action} (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/accounts/" in response.headers.get("Location", ""):
                response.failure(f"status {response.status_code}")
                return
        self.registered_event_id = event_id if action == "register" else None

    @task(3)
    def leaderboard(self) -> None:
        self.client.get("/leaderboard/", name="/leaderboard/")

    @task(2)
    def my_events(self) -> None:
        self.client.get("/me/events/", name="/me/events/")


_SESSIONS_FILE = os.environ.get("BENCH_SESSIONS_FILE")
_sessions = iter(open(_SESSIONS_FILE).read().split()) if _SESSIONS_FILE else None  # noqa: SIM115


class SignedInStudent(Student):
    """The mix with every user signed in (issue 25): the visitor's pages and shares, seen
    signed in (the home page, search and event pages a student gets, none from the page
    cache), plus the student's own: register or cancel, leaderboard, My events, My E-score.

    With BENCH_SESSIONS_FILE (session keys, one a line: bench.signed_in sessions) each user
    takes a session made beforehand instead of logging in through the form."""

    def _log_in(self) -> None:
        if _sessions is None:
            super()._log_in()
            return
        cookie = Cookie(
            0,
            "sessionid",
            next(_sessions),
            None,
            False,
            self.host.split("//")[1].split(":")[0],
            False,
            False,
            "/",
            True,
            False,
            None,
            False,
            None,
            None,
            {},
        )
        self.client.cookiejar.set_cookie(cookie)
        # The first page sets the CSRF cookie the register and cancel forms need.
        with self.client.get("/", name="/ (event list)", catch_response=True) as response:
            if "/accounts/" in response.url or "Log out" not in response.text:
                response.failure("the session is not signed in")

    @task(45)
    def event_list(self) -> None:
        page = random.choice((1, 1, 1, 2, 3))
        self.client.get("/" if page == 1 else f"/?page={page}", name="/ (event list)")

    @task(25)
    def search(self) -> None:
        self.client.get("/search/", params={"q": search_terms()}, name="/search/?q=")

    @task(15)
    def event_detail(self) -> None:
        event_id = random.choice(self.event_ids)
        self.client.get(f"/events/{event_id}/", name="/events/<id>/")

    @task(2)
    def my_escore(self) -> None:
        self.client.get("/me/escore/", name="/me/escore/")


class HelloUser(FastHttpUser):
    """The trivial view every throughput figure is divided by (no I/O, full middleware)."""

    wait_time = constant(0)

    @task
    def hello(self) -> None:
        self.client.get("/health", name="/health (hello)")


class EventListUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def event_list(self) -> None:
        self.client.get("/", name="/ (event list)")


class SearchUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def search(self) -> None:
        self.client.get("/search/", params={"q": search_terms()}, name="/search/?q=")


class PacedSearchUser(FastHttpUser):
    def wait_time(self) -> float:
        return random.expovariate(1.0)

    @task
    def search(self) -> None:
        self.client.get("/search/", params={"q": search_terms()}, name="/search/?q= (paced)")
