"""Local stand-ins for the AWS services the pods use, each private to one check run.

- RDS: PostgreSQL that accepts TLS connections only (as `rds.force_ssl=1`), SCRAM passwords,
  and an admin role that owns the database but is not a superuser (as RDS's master user).
- ElastiCache: Redis 7 with TLS only (in-transit encryption) and an AUTH token.
- SES: an SMTP server that requires STARTTLS and AUTH before it takes mail.

Every server listens on the "node" address of the check's own network and on a free port,
with its data under the check's work directory; the certificates come from a CA made for
the run.
"""

import contextlib
import email
import email.policy
import os
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from scripts import services


class StandInError(RuntimeError):
    pass


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.1)
    raise StandInError(f"{what} did not open {host}:{port} within {timeout:.0f} s")


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- TLS ----------------------------------------------------------------------------------


class CertificateAuthority:
    """A CA made for one run (openssl), and server certificates it signs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.cert = directory / "ca.pem"
        self.key = directory / "ca.key"
        self._openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
            "-subj", "/CN=E-Ren pod-check CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip

    def issue(self, name: str, *, ip: str, dns: str) -> tuple[Path, Path]:
        cert, key = self.directory / f"{name}.pem", self.directory / f"{name}.key"
        self._openssl(
            "req", "-x509", "-CA", str(self.cert), "-CAkey", str(self.key),
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={dns}",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "keyUsage=critical,digitalSignature",
            "-addext", "extendedKeyUsage=serverAuth",
            "-addext", f"subjectAltName=IP:{ip},DNS:{dns}",
        )  # fmt: skip
        return cert, key

    @staticmethod
    def _openssl(*args: str) -> None:
        result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
        if result.returncode:
            raise StandInError(f"openssl {args[0]} failed: {result.stderr.strip()}")


# --- RDS ----------------------------------------------------------------------------------


def postgres_bindir() -> Path:
    bindir = services.postgres_bindir()
    if bindir is None:
        raise StandInError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return bindir


class PostgresStandIn:
    """RDS: TLS only, SCRAM, a non-superuser admin that owns the database."""

    # Untrusted extensions the app's migrations create, which RDS's master user may create.
    RDS_EXTENSIONS = ("cube", "earthdistance")

    def __init__(self, directory: Path, host: str, ca: CertificateAuthority) -> None:
        self.directory, self.host = directory, host
        self.port = free_port(host)
        self.bindir = postgres_bindir()
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = ca.issue("rds", ip=host, dns="eren.rds-standin.internal")
        self.cert, self.key = directory / "server.pem", directory / "server.key"
        shutil.copy(cert, self.cert)
        shutil.copy(key, self.key)
        self.key.chmod(0o600)
        shutil.chown(directory, "postgres")
        for path in (self.cert, self.key):
            shutil.chown(path, "postgres")

    def _as_postgres(self, *command: str) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True, text=True, check=False, cwd=self.directory,
        )  # fmt: skip
        if result.returncode:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise StandInError(f"{Path(command[0]).name} failed: {result.stderr}{log}")

    def create(self, *, admin: str, password: str, database: str) -> None:
        self._as_postgres(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth-local=trust", "--auth-host=reject", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        # As rds.force_ssl=1: a connection without TLS finds no entry and is refused.
        (self.data / "pg_hba.conf").write_text(
            "local all postgres trust\n"
            "hostssl all all 0.0.0.0/0 scram-sha-256\n"
            "host all all 0.0.0.0/0 reject\n"
        )
        self.start()
        with self.superuser() as connection:
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                    sql.Identifier(admin), sql.Literal(password)
                )
            )
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(admin)
                )
            )
        # RDS lets its master user (rds_superuser) create the extensions it supports;
        # PostgreSQL lets only a superuser create the untrusted ones (earthdistance).
        with self.superuser(database) as connection:
            for extension in self.RDS_EXTENSIONS:
                connection.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(extension)))

    def start(self) -> None:
        options = " ".join(
            [
                f"-c listen_addresses={self.host}",
                f"-p {self.port}",
                "-c ssl=on",
                f"-c ssl_cert_file={self.cert}",
                f"-c ssl_key_file={self.key}",
                "-c ssl_min_protocol_version=TLSv1.2",
                f"-c unix_socket_directories={self.directory}",
                "-c password_encryption=scram-sha-256",
                "-c max_connections=40",
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            ]
        )
        self._as_postgres(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"
            )

    def superuser(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.directory), port=self.port, user="postgres", dbname=database,
            autocommit=True,
        )  # fmt: skip

    def set_password(self, role: str, password: str) -> None:
        with self.superuser() as connection:
            connection.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )

    def disconnect(self, role: str) -> int:
        """End every session of the role (as a failover or server_lifetime would)."""
        with self.superuser() as connection:
            rows = connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                [role],
            ).fetchall()
        return len(rows)

    def sessions(self, role: str) -> list[tuple[bool, str]]:
        """(TLS?, application) of each session of the role."""
        with self.superuser() as connection:
            return connection.execute(
                "SELECT s.ssl, a.application_name FROM pg_stat_activity a "
                "JOIN pg_stat_ssl s USING (pid) WHERE a.usename = %s",
                [role],
            ).fetchall()


# --- ElastiCache ----------------------------------------------------------------------------


class RedisStandIn:
    """ElastiCache with in-transit encryption: TLS only, an AUTH token, volatile-lru."""

    def __init__(self, directory: Path, host: str, ca: CertificateAuthority, token: str) -> None:
        self.directory, self.host, self.token = directory, host, token
        self.port = free_port(host)
        directory.mkdir(parents=True, exist_ok=True)
        self.cert, self.key = ca.issue("elasticache", ip=host, dns="eren.cache-standin.internal")
        self.ca = ca.cert
        self.log = directory / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise StandInError("redis-server not found (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary, "--bind", self.host, "--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", str(self.cert), "--tls-key-file", str(self.key),
                "--tls-ca-cert-file", str(self.ca), "--tls-auth-clients", "no",
                "--requirepass", self.token, "--save", "", "--appendonly", "no",
                "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru",
                "--dir", str(self.directory), "--logfile", str(self.log),
            ],
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for_port(self.host, self.port, "Redis")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    @property
    def url(self) -> str:
        """As the ElastiCache console shows the primary endpoint, with the AUTH token."""
        return f"rediss://:{self.token}@{self.host}:{self.port}/0"


# --- SES -----------------------------------------------------------------------------------


@dataclass
class Mail:
    received_at: float
    peer: str
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part else ""


@dataclass
class SmtpStandIn:
    """SES's SMTP interface: STARTTLS, then AUTH PLAIN, then mail. `delay` holds the answer
    to DATA for that many seconds, so a test can catch a worker in the middle of a send."""

    host: str
    ca: CertificateAuthority
    username: str
    password: str
    delay: float = 0.0
    mails: list[Mail] = field(default_factory=list)
    data_started: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        cert, key = self.ca.issue("ses", ip=self.host, dns="email-smtp.ses-standin.internal")
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(cert, key)
        self.lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer((self.host, 0), _SmtpSession)
        self.server.daemon_threads = True
        self.server.standin = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"smtp+tls://{self.username}:{self.password}@{self.host}:{self.port}"

    def wait_for(self, predicate, timeout: float) -> Mail | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [mail for mail in self.mails if predicate(mail)]
            if found:
                return found[0]
            time.sleep(0.1)
        return None


class _SmtpSession(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())
        self.wfile.flush()

    def handle(self) -> None:
        standin: SmtpStandIn = self.server.standin
        tls = authenticated = False
        sender, recipients = "", []
        self.reply("220 email-smtp.ses-standin.internal ESMTP")
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self.reply("250-email-smtp.ses-standin.internal")
                self.reply("250-AUTH PLAIN" if tls else "250-STARTTLS")
                self.reply("250 SIZE 10485760")
            elif verb == "STARTTLS" and not tls:
                self.reply("220 Ready to start TLS")
                self.connection = standin.tls.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                tls = True
            elif verb == "AUTH" and tls:
                _, user, password = b64decode(command.split()[2]).split(b"\0")
                authenticated = (user.decode(), password.decode()) == (
                    standin.username,
                    standin.password,
                )
                self.reply("235 Authentication successful" if authenticated else "535 Bad login")
            elif verb in {"MAIL", "RCPT", "DATA"} and not authenticated:
                self.reply("530 Authentication required")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 Ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 Ok")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                standin.data_started.set()
                body = self._read_data()
                time.sleep(standin.delay)
                message = email.message_from_bytes(body, policy=email.policy.default)
                with standin.lock:
                    standin.mails.append(
                        Mail(time.time(), self.client_address[0], sender, recipients, message)
                    )
                self.reply("250 Ok: queued")
            elif verb in {"RSET", "NOOP"}:
                self.reply("250 Ok")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in {b".\r\n", b".\n", b""}:
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)
