"""`make run`: find or start PostgreSQL and Redis, migrate, seed once, serve everything.

Order of preference for each service: the URL in the environment, the standard local port,
a private server under .run/ started from the machine's own binaries. If none can be had,
stop with one message saying what to install. Standard library only: this runs before
Django is configured.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
VENV_BIN = Path(sys.executable).parent
PRIVATE_PG_PORT = 54329
PRIVATE_REDIS_PORT = 63799
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/eren"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
INSTALL_HINT = (
    "E-Ren needs PostgreSQL (15 or newer, with the contrib extensions) and Redis (7).\n"
    "Either set DATABASE_URL and REDIS_URL to servers you have, or install them locally:\n"
    "  Debian/Ubuntu: sudo apt-get install postgresql postgresql-contrib redis-server\n"
    "  macOS:         brew install postgresql@16 redis\n"
    "or run the containerised stack instead: docker compose up"
)


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def wait_for_port(host: str, port: int, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.2)
    sys.exit(f"[make run] {what} did not start on {host}:{port}; see the logs in {RUN_DIR}.")


def postgres_bindir() -> Path | None:
    candidates = []
    if shutil.which("pg_config"):
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        candidates.append(bindir)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    candidates += sorted(glob.glob("/opt/homebrew/opt/postgresql@*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    return None


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; in a root container run it as `postgres`."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    sys.exit(
        "[make run] Running as root without a `postgres` user to start PostgreSQL.\n" + INSTALL_HINT
    )


def start_private_postgres() -> str:
    bindir = postgres_bindir()
    if bindir is None:
        sys.exit("[make run] No PostgreSQL found.\n" + INSTALL_HINT)
    data = RUN_DIR / "postgres"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
        say(f"initialising a private PostgreSQL in {data}")
        subprocess.run(
            as_postgres_user(
                [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    say(f"starting a private PostgreSQL on 127.0.0.1:{PRIVATE_PG_PORT}")
    subprocess.run(
        as_postgres_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(data / "server.log"),
                "-o",
                f"-p {PRIVATE_PG_PORT} -k {data} -c listen_addresses=127.0.0.1",
                "-w",
                "start",
            ]
        ),
        check=True,
    )
    return f"postgres://postgres@127.0.0.1:{PRIVATE_PG_PORT}/eren"


def stop_private_postgres() -> None:
    bindir = postgres_bindir()
    data = RUN_DIR / "postgres"
    if bindir and (data / "postmaster.pid").exists():
        subprocess.run(
            as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )


def start_private_redis() -> subprocess.Popen:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("[make run] No Redis found.\n" + INSTALL_HINT)
    data = RUN_DIR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    say(f"starting a private Redis on 127.0.0.1:{PRIVATE_REDIS_PORT}")
    log = (data / "server.log").open("ab")
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(PRIVATE_REDIS_PORT),
            "--dir",
            str(data),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "volatile-lru",
        ],
        stdout=log,
        stderr=log,
    )
    wait_for_port("127.0.0.1", PRIVATE_REDIS_PORT, "Redis")
    return process


def ensure_database(url: str) -> None:
    """Create the database named in the URL when the server is there but the database is not."""
    import psycopg  # installed in the virtualenv

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "eren"
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            say(f"creating database {name}")
            connection.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
            )


def has_events(url: str) -> bool:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as connection:
        return connection.execute("SELECT EXISTS (SELECT 1 FROM events_eventpost)").fetchone()[0]


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_ENV", "local")
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    RUN_DIR.mkdir(exist_ok=True)
    private_pg = False
    private_redis: subprocess.Popen | None = None

    database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if port_open(*host_port(database_url, 5432)):
        say(f"PostgreSQL: {host_port(database_url, 5432)[0]}:{host_port(database_url, 5432)[1]}")
    elif "DATABASE_URL" in os.environ:
        sys.exit(f"[make run] DATABASE_URL is set but nothing answers at {database_url}.")
    else:
        database_url = start_private_postgres()
        private_pg = True

    redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
    if port_open(*host_port(redis_url, 6379)):
        say(f"Redis: {host_port(redis_url, 6379)[0]}:{host_port(redis_url, 6379)[1]}")
    elif "REDIS_URL" in os.environ:
        sys.exit(f"[make run] REDIS_URL is set but nothing answers at {redis_url}.")
    else:
        private_redis = start_private_redis()
        redis_url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"

    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = redis_url
    env.setdefault("GUNICORN_WORKERS", "2")
    env.setdefault("GUNICORN_BIND", "127.0.0.1:8000")
    env.setdefault("EMAIL_URL", "consolemail://")
    try:
        ensure_database(database_url)
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
        if has_events(database_url):
            say("demo data already loaded (manage.py seed_demo adds what is missing)")
        else:
            manage("seed_demo", env=env)
        # Redis may be fresh (the private one keeps nothing): the ledger refills it.
        manage("rebuild_leaderboards", env=env)
        say("serving http://127.0.0.1:8000 with a Celery worker and beat; Ctrl-C stops all")
        honcho = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "-f", "Procfile.dev"], cwd=ROOT, env=env
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            honcho.send_signal(signal.SIGINT)
            return honcho.wait()
    finally:
        if private_redis is not None:
            private_redis.terminate()
            private_redis.wait(timeout=10)
        if private_pg:
            stop_private_postgres()


if __name__ == "__main__":
    sys.exit(main())
