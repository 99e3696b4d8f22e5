"""Start gunicorn as production does, on 127.0.0.1, for a benchmark; stop it cleanly.

    python -m bench.server --port 8100      # serves until Ctrl-C

Same command as the image (`gunicorn -c gunicorn.conf.py eren.wsgi`, so the same worker
class, workers, threads and max_requests), DJANGO_ENV=production through bench.settings with
a random SECRET_KEY for the run, DEBUG off, and whitenoise's manifest static files collected
into a temporary STATIC_ROOT (kept for the next run while the sources are unchanged).
Every start empties the cached pages (anonymous pages, category counts) of its Redis key
prefix, so each run starts cold whatever ran before it.
The image starts gunicorn under ddtrace-run; without a Datadog agent that only adds a
failing exporter, so the benchmark leaves it out.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def static_root_collected(environment: dict[str, str]) -> Path:
    """whitenoise's manifest static files, collected once per version of the sources.

    collectstatic with compression takes a minute on a busy 2-core machine, so the result is
    kept in the temporary directory under a key of static/ and the lock file, and reused.
    """
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update((ROOT / "requirements" / "dev.txt").read_bytes())
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(ROOT)} {path.stat().st_size}".encode())
            digest.update(path.read_bytes())
    static_root = Path(tempfile.gettempdir()) / f"eren-bench-static-{digest.hexdigest()[:12]}"
    if (static_root / "staticfiles.json").exists():
        return static_root
    building = Path(tempfile.mkdtemp(prefix="eren-bench-static-"))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**environment, "STATIC_ROOT": str(building)},
        check=True,
    )
    try:
        building.rename(static_root)
    except OSError:  # another run collected it first
        shutil.rmtree(building, ignore_errors=True)
    return static_root


class BenchServer:
    """gunicorn under production settings; use as a context manager."""

    def __init__(
        self,
        *,
        port: int = 8100,
        workers: int | None = None,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workers = workers
        self.extra_env = env or {}
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._tmp: str | None = None

    def environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        environment.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DJANGO_ENV="production",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # Load generators connect directly: no proxy in front.
            TRUSTED_PROXY_COUNT="0",
            ADMIN_URL="bench-admin/",
            DATABASE_URL=os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/eren_bench"
            ),
            REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"),
            # The generator's students (bench.leaderboard_benchmark) may register.
            SIGNUP_EMAIL_DOMAINS="wustl.edu,bench.wustl.edu",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
            PYTHONUNBUFFERED="1",
        )
        if self.workers:
            environment["GUNICORN_WORKERS"] = str(self.workers)
        environment.update(self.extra_env)
        return environment

    def page_cache_clear(self, environment: dict[str, str]) -> int:
        """Delete the cached anonymous pages and category counts this server would read.

        The key shapes are django-redis's `<prefix>:<version>:<key>` (eren/caching.py,
        events/selectors.py); the leaderboard and sessions are kept.
        """
        import redis

        prefix = environment.get("CACHE_KEY_PREFIX", "eren")
        client = redis.Redis.from_url(environment["REDIS_URL"])
        deleted = 0
        for pattern in (f"{prefix}:*:anon-page:*", f"{prefix}:*:events:category-*"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(keys), 1000):
                deleted += client.delete(*keys[start : start + 1000])
        client.close()
        return deleted

    def start(self) -> BenchServer:
        if threading.current_thread() is threading.main_thread():
            # gunicorn runs in a session of its own (Ctrl-C must not reach it half-way), so a
            # SIGTERM to this process exits through stop() instead of leaving it running.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        self._tmp = tempfile.mkdtemp(prefix="eren-bench-")
        environment = self.environment()
        environment["STATIC_ROOT"] = str(static_root_collected(environment))
        self.page_cache_clear(environment)
        python = sys.executable
        log_path = self.log_path or Path(self._tmp) / "gunicorn.log"
        self.log_path = log_path
        log = log_path.open("ab")
        gunicorn = str(Path(python).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "eren.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}:\n{self.log_tail()}")
            try:
                health = f"{self.url}/health"  # http://127.0.0.1 only
                with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"gunicorn not healthy after {self.startup_timeout}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(value) for value in children.read_text().split()] if children.exists() else []

    def worker_rss_mb(self) -> dict[int, float]:
        """VmRSS of every worker, in MB (1024² bytes), from /proc/<pid>/status."""
        rss = {}
        for pid in self.worker_pids():
            with contextlib.suppress(FileNotFoundError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss[pid] = int(line.split()[1]) / 1024
        return rss

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGTERM: gunicorn's graceful shutdown, as Kubernetes stops a pod.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS (default: the config's)")
    arguments = parser.parse_args()
    with BenchServer(port=arguments.port, workers=arguments.workers) as server:
        print(f"serving {server.url} (log {server.log_path}); Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()


if __name__ == "__main__":
    main()
