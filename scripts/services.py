"""PostgreSQL and Redis for `make run` and `make test`, found or started.

For each service, in this order: the URL in the environment (`DATABASE_URL`, `REDIS_URL`),
the standard local port, a private server started from the machine's own binaries with its
data under a run directory. Private servers stop when the `LocalServices` block ends, on an
error or Ctrl-C too. Standard library only: this runs before Django is configured.

As a command it runs another command with the URLs in its environment, e.g. `make pytest`
(`EREN_PRIVATE_SERVICES=1`: private servers even when the standard ports answer):

    python scripts/services.py -- pytest -x
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/eren"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
INSTALL_HINT = (
    "E-Ren needs PostgreSQL (15 or newer, with the contrib extensions) and Redis (7).\n"
    "Either set DATABASE_URL and REDIS_URL to servers you have, or install them locally:\n"
    "  Debian/Ubuntu: sudo apt-get install postgresql postgresql-contrib redis-server\n"
    "  macOS:         brew install postgresql@16 redis\n"
    "or run the containerised stack instead: docker compose up"
)


class ServiceError(SystemExit):
    """A service that cannot be had; the message says what to do."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def wait_for_port(host: str, port: int, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise ServiceError(f"{what} did not start on {host}:{port}.")


def postgres_bindir() -> Path | None:
    candidates = []
    if shutil.which("pg_config"):
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        candidates.append(bindir)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    candidates += sorted(glob.glob("/opt/homebrew/opt/postgresql@*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; as root (a container, CI) run it as `postgres`."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    raise ServiceError("Running as root without `runuser` to start PostgreSQL as `postgres`.")


class LocalServices:
    """Find or start PostgreSQL and Redis; `database_url` and `redis_url` say where they are.

    `private=True` skips the standard ports (a private pair even when a server runs there);
    a private port of 0 takes any free one.
    """

    def __init__(
        self,
        *,
        run_dir: Path,
        database_name: str = "eren",
        private: bool = False,
        pg_port: int = 54329,
        redis_port: int = 63799,
        say: Callable[[str], None] = print,
    ) -> None:
        self.run_dir = run_dir
        self.database_name = database_name
        self.private = private
        self.pg_port = pg_port or free_port()
        self.redis_port = redis_port or free_port()
        self.say = say
        self.database_url = ""
        self.redis_url = ""
        self._pg_data: Path | None = None
        self._redis: subprocess.Popen | None = None

    def __enter__(self) -> LocalServices:
        try:
            self.database_url = self._find(
                "PostgreSQL", "DATABASE_URL", DEFAULT_DATABASE_URL, 5432, self._start_postgres
            )
            self.redis_url = self._find(
                "Redis", "REDIS_URL", DEFAULT_REDIS_URL, 6379, self._start_redis
            )
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _find(
        self, what: str, variable: str, default_url: str, port: int, start: Callable[[], str]
    ) -> str:
        """The configured server (which must answer), else the standard port, else `start`."""
        configured = os.environ.get(variable)
        url = configured or default_url
        if configured or not self.private:
            if port_open(*host_port(url, port)):
                self.say("{}: {}:{}".format(what, *host_port(url, port)))
                return url
            if configured:
                raise ServiceError(f"{variable} is set but nothing answers at {url}.")
        return start()

    def _start_postgres(self) -> str:
        bindir = postgres_bindir()
        if bindir is None:
            raise ServiceError("No PostgreSQL found.\n" + INSTALL_HINT)
        data = self.run_dir / "postgres"
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(data, "postgres")
            self.say(f"initialising a private PostgreSQL in {data}")
            subprocess.run(
                as_postgres_user(
                    [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        self.say(f"starting a private PostgreSQL on 127.0.0.1:{self.pg_port}")
        self._pg_data = data
        options = f"-p {self.pg_port} -k {data} -c listen_addresses=127.0.0.1"
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log")]
        subprocess.run(
            as_postgres_user([*pg_ctl, "-o", options, "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{self.database_name}"

    def _start_redis(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("No Redis found.\n" + INSTALL_HINT)
        data = self.run_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        self.say(f"starting a private Redis on 127.0.0.1:{self.redis_port}")
        with (data / "server.log").open("ab") as log:
            self._redis = subprocess.Popen(
                [binary, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--dir",
                 str(data), "--save", "", "--appendonly", "no",
                 "--maxmemory-policy", "volatile-lru"],
                stdout=log,
                stderr=log,
            )  # fmt: skip
        wait_for_port("127.0.0.1", self.redis_port, "Redis")
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def stop(self) -> None:
        """Stop the private servers this block started; the others are left alone."""
        if self._redis is not None:
            self._redis.terminate()
            try:
                self._redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
            self._redis = None
        if self._pg_data is not None:
            bindir = postgres_bindir()
            if bindir and (self._pg_data / "postmaster.pid").exists():
                subprocess.run(
                    as_postgres_user(
                        [str(bindir / "pg_ctl"), "-D", str(self._pg_data), "-m", "fast", "stop"]
                    ),
                    check=False,
                    stdout=subprocess.DEVNULL,
                )
            self._pg_data = None


def shared_temp_dir(prefix: str) -> Path:
    """A temporary directory that a root process's PostgreSQL (run as `postgres`) can enter."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def main(argv: list[str]) -> int:
    """Run the command after `--` with DATABASE_URL and REDIS_URL set (`make pytest`)."""
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    if not command:
        sys.exit("usage: python scripts/services.py -- COMMAND [ARGS...]")
    run_dir = shared_temp_dir("eren-services-")
    with LocalServices(
        run_dir=run_dir,
        private=os.environ.get("EREN_PRIVATE_SERVICES", "") in {"1", "true", "yes"},
        pg_port=0,
        redis_port=0,
        say=lambda message: print(f"[services] {message}", flush=True),
    ) as services:
        env = {**os.environ, "DATABASE_URL": services.database_url}
        env["REDIS_URL"] = services.redis_url
        # The command has the terminal: on Ctrl-C it stops first, then the servers do.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.run(command, env=env, check=False).returncode
        finally:
            signal.signal(signal.SIGINT, previous)
            services.stop()
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
