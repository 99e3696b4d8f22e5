"""`make run`: find or start PostgreSQL and Redis, migrate, seed once, serve everything.

Order of preference for each service: the URL in the environment, the standard local port,
a private server under .run/ started from the machine's own binaries (scripts/services.py).
If none can be had, stop with one message saying what to install. Ctrl-C stops gunicorn,
the worker, beat and the private servers. Standard library only until the venv's psycopg:
this runs before Django is configured.

For tests and a second copy beside the first: `EREN_RUN_DIR` (default `.run`),
`EREN_PRIVATE_SERVICES=1` (private servers even when the standard ports answer),
`EREN_PG_PORT` / `EREN_REDIS_PORT` (private ports, default 54329 / 63799; 0 = any free one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from services import LocalServices

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


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
    run_dir = Path(os.environ.get("EREN_RUN_DIR") or ROOT / ".run").resolve()
    run_dir.mkdir(exist_ok=True)
    services = LocalServices(
        run_dir=run_dir,
        private=os.environ.get("EREN_PRIVATE_SERVICES", "") in {"1", "true", "yes"},
        pg_port=int(os.environ.get("EREN_PG_PORT", "54329")),
        redis_port=int(os.environ.get("EREN_REDIS_PORT", "63799")),
        say=say,
    )
    with services:
        env = dict(os.environ)
        env.setdefault("DJANGO_ENV", "local")
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env["DATABASE_URL"] = services.database_url
        env["REDIS_URL"] = services.redis_url
        env["EREN_RUN_DIR"] = str(run_dir)
        env.setdefault("GUNICORN_WORKERS", "2")
        env.setdefault("GUNICORN_BIND", "127.0.0.1:8000")
        env.setdefault("EMAIL_URL", "consolemail://")
        ensure_database(services.database_url)
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
        if has_events(services.database_url):
            say("demo data already loaded (manage.py seed_demo adds what is missing)")
        else:
            manage("seed_demo", env=env)
        # Redis may be fresh (the private one keeps nothing): the ledger refills it.
        manage("rebuild_leaderboards", env=env)
        address = env["GUNICORN_BIND"]
        say(f"serving http://{address} with a Celery worker and beat; Ctrl-C stops all")
        honcho = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "-f", "Procfile.dev"], cwd=ROOT, env=env
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached honcho too (one process group); it stops its processes.
            honcho.send_signal(signal.SIGINT)
            return honcho.wait()


if __name__ == "__main__":
    sys.exit(main())
