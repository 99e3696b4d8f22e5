"""`python -m deploy.podcheck` (`make pod-check`): exit 0 when every row passes."""

import argparse
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from deploy.podcheck.checks import DEREGISTRATION_LAG, PodCheck, Row, requirements
from deploy.podcheck.standins import postgres_bindir

DIFFERENCES = """\
How the stand-ins differ from AWS:
- Pods are processes in network, mount and UTS namespaces, not containers: no image is
  pulled (the app runs from this checkout and its .venv, PgBouncer from Debian's package,
  1.18 where the manifest pins 1.25), no cgroup limits, no PID namespace, no NetworkPolicy,
  no Service/ALB: the check plays the ALB (Host, X-Forwarded-For/-Proto to the pod IP),
  no cluster DNS (/etc/hosts names the pod, other lookups fail at once).
  The image's collectstatic step runs first, into the work directory (STATIC_ROOT).
- The app runs as uid 10001 only where that user can run the virtualenv (not when it
  sits under a private home directory); PgBouncer always runs as uid 70 with the fsGroup.
- RDS: PostgreSQL {pg} with TLS required and a non-superuser owner, not RDS (no
  rds_superuser role: the stand-in's superuser creates the extensions RDS would let the
  owner create, cube and earthdistance; no Multi-AZ failover); sslmode=require verifies no
  certificate, as in production.
- ElastiCache: redis-server 7 with TLS and an AUTH token; its certificate comes from a CA
  made for the run, given to the app as SSL_CERT_FILE where production uses the image's
  CA bundle (Amazon's). No failover, no replica.
- SES: a small SMTP server (STARTTLS, AUTH PLAIN); nothing is delivered.
- Secrets Manager and External Secrets: a JSON file in get-secret-value shape, synced by
  the check (the refresh interval and the kubelet's volume sync, a minute or two each in
  EKS, happen at once here).
- Grace periods and the preStop sleep are real; the ALB's deregistration lag is taken as
  {lag:.0f} s."""


def print_table(rows: list[Row], width: int = 110) -> None:
    name_width = min(max(len(row.check) for row in rows), 56)
    evidence_width = max(width - name_width - 15, 40)
    print(f"{'check':<{name_width}}  result  {'s':>3}  evidence")
    print(f"{'-' * name_width}  ------  ---  {'-' * evidence_width}")
    for row in rows:
        names = textwrap.wrap(row.check, name_width) or [""]
        evidence = textwrap.wrap(row.evidence, evidence_width) or [""]
        for index in range(max(len(names), len(evidence))):
            name = names[index] if index < len(names) else ""
            result, seconds = (
                ("PASS" if row.ok else "FAIL", f"{row.seconds:3.0f}") if index == 0 else ("", "")
            )
            text = evidence[index] if index < len(evidence) else ""
            print(f"{name:<{name_width}}  {result:<6}  {seconds:>3}  {text}".rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.podcheck", description=__doc__)
    parser.add_argument("--overlay", default="production")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    missing = requirements()
    if missing:
        print("make pod-check needs: " + "; ".join(missing), file=sys.stderr)
        return 2

    def interrupted(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # Ctrl-C and SIGTERM stop everything the check started (also when started in the
    # background, where SIGINT would be ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="eren-podcheck-", dir="/var/tmp"))
    workdir.chmod(0o755)  # pods run as other users and read their volumes below it
    began = time.monotonic()
    check = PodCheck(args.overlay, workdir)
    try:
        rows = check.run()
    except KeyboardInterrupt:
        print("Interrupted; everything the check started has been stopped.", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
        return 130
    print(f"\nPod check of the {args.overlay} overlay ({time.monotonic() - began:.0f} s)\n")
    print_table(rows)
    failed = [row for row in rows if not row.ok]
    print()
    print(DIFFERENCES.format(pg=postgres_bindir().parent.name, lag=DEREGISTRATION_LAG))
    for note in check.notes:
        print(note)
    if failed or args.keep:
        print(f"\nLogs of every container: {workdir}/pods/<pod>/<container>.log")
        if failed:
            print_logs(workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks passed.")
    return 1 if failed else 0


def print_logs(workdir: Path, lines: int = 25) -> None:
    for log in sorted((workdir / "pods").glob("*/*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"\n--- {log.relative_to(workdir)} (last {len(tail)} lines)")
        print("\n".join(tail))


if __name__ == "__main__":
    sys.exit(main())
