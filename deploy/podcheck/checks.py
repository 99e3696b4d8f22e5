"""The pod check: start the stand-ins and the rendered pods, prove what production needs,
and report it as a table."""

import copy
import json
import os
import re
import secrets as random_secrets
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from deploy.podcheck import manifests, standins
from deploy.podcheck.browser import Browser
from deploy.podcheck.kubelet import Image, Kubelet, Node, Pod
from deploy.podcheck.secrets import SecretsManager, SyncError, sync

STUDENT = "pod.check@wustl.edu"
STUDENT_PASSWORD = "a-long-campus-passphrase-for-the-pod-check"  # noqa: S105
RDS_USER = "eren_admin"
DATABASE = "eren"
# While the "ALB" still sends new requests after the pod's deletion began: target
# deregistration reaches the ALB a few seconds after the endpoint goes away, which is what
# the preStop sleep covers.
DEREGISTRATION_LAG = 5.0
# How long the SES stand-in takes over the e-mail the worker is sending at SIGTERM.
SMTP_SEND_SECONDS = 8.0


@dataclass
class Row:
    check: str
    ok: bool
    evidence: str
    seconds: float = 0.0


class CheckFailed(AssertionError):
    pass


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def wait_until(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class PodCheck:
    def __init__(self, overlay: str, workdir: Path) -> None:
        self.overlay, self.workdir = overlay, workdir
        self.rows: list[Row] = []
        self.windows: dict[str, tuple[float, float]] = {}
        self.node: Node | None = None
        self.kubelet: Kubelet | None = None
        self.postgres: standins.PostgresStandIn | None = None
        self.redis: standins.RedisStandIn | None = None
        self.smtp: standins.SmtpStandIn | None = None
        self.notes: list[str] = []

    # --- reporting ---------------------------------------------------------------------------

    def check(self, name: str, proof) -> bool:
        began = time.monotonic()
        try:
            ok, evidence = True, proof()
        except CheckFailed as failure:
            ok, evidence = False, str(failure)
        except Exception as error:
            ok, evidence = False, f"{type(error).__name__}: {error}"
        self.rows.append(Row(name, ok, evidence, time.monotonic() - began))
        return ok

    def log(self, pod: Pod, container: str) -> str:
        path = pod.container(container).log
        return path.read_text(errors="replace") if path.exists() else ""

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> list[Row]:
        try:
            if self.check("render the production overlay, sync its External Secrets", self.setup):
                self.scenarios()
        finally:
            self.close()
        return self.rows

    def scenarios(self) -> None:
        # Each needs the ones before it; a failed start stops the run.
        for name, proof in (
            ("migration Job: manage.py migrate, straight to RDS over TLS", self.migrate),
            ("web pod: PgBouncer sidecar started first, then gunicorn; Ready", self.start_web),
            ("worker and beat pods started", self.start_worker_and_beat),
        ):
            if not self.check(name, proof):
                return
        for name, proof in (
            ("home page and every asset it names, served through the web pod", self.assets),
            ("sign-up through the web pod: verification e-mail sent by the web pod", self.sign_up),
            ("registration through the web pod: confirmation e-mail sent by the worker pod",
             self.register),
            ("every probe of every pod has passed, before any disruption", self.steady),
            ("Redis stopped: web stays Ready, serves pages and a registration", self.redis_down),
            ("PostgreSQL stopped: readiness fails, liveness holds; reason only in the log",
             self.postgres_down),
            ("RDS password rotated: new connections use it, no restart", self.rotate_password),
            ("beat's schedule fires: the worker runs the heartbeat beat sends", self.beat_fires),
            ("SIGTERM: preStop and grace periods; no request dropped; worker finishes its task",
             self.terminate),
        ):  # fmt: skip
            self.check(name, proof)
        self.probe_rows()

    # --- setup --------------------------------------------------------------------------------

    def setup(self) -> str:
        Node.clean_up_after_dead_runs()
        self.docs = manifests.render(self.overlay)
        self.namespace = manifests.of_kind(self.docs, "Namespace")[0]["metadata"]["name"]
        self.config_maps = {
            d["metadata"]["name"]: d.get("data", {})
            for d in manifests.of_kind(self.docs, "ConfigMap")
        }
        web_template = manifests.one(self.docs, "Rollout", "eren-web")["spec"]["template"]
        app_config = next(
            self.config_maps[ref["configMapRef"]["name"]]
            for c in web_template["spec"]["containers"] for ref in c.get("envFrom", [])
            if "configMapRef" in ref
        )  # fmt: skip
        self.site_host = app_config["SITE_HOST"]

        self.node = Node()
        host = self.node.address
        ca = standins.CertificateAuthority(self.workdir / "tls")
        self.static = threading.Thread(target=self.build_static, daemon=True)
        self.static.start()
        self.rds_password = random_secrets.token_urlsafe(24)
        self.postgres = standins.PostgresStandIn(self.workdir / "rds", host, ca)
        self.postgres.create(admin=RDS_USER, password=self.rds_password, database=DATABASE)
        self.redis = standins.RedisStandIn(
            self.workdir / "elasticache", host, ca, random_secrets.token_hex(16)
        )
        self.redis.start()
        self.smtp = standins.SmtpStandIn(
            host, ca, "ses-smtp-user", random_secrets.token_urlsafe(18)
        )
        self.smtp.start()

        keys = [
            ref["remoteRef"]["key"]
            for external in manifests.of_kind(self.docs, "ExternalSecret")
            for ref in external["spec"].get("data", [])
        ]
        prefix = keys[0].rsplit("/", 1)[0]
        self.secrets_manager = SecretsManager(self.workdir / "secrets-manager.json")
        self.rds_secret = f"{prefix}/rds"
        self.secrets_manager.write(
            {
                f"{prefix}/app": {
                    "SECRET_KEY": random_secrets.token_urlsafe(50),
                    "REDIS_URL": self.redis.url,
                    "EMAIL_URL": self.smtp.url,
                    "SENTRY_DSN": "",
                    "GOOGLE_MAPS_API_KEY": "",
                    "DATABASE_HOST": host,
                    "DATABASE_PORT": str(self.postgres.port),
                    "DATABASE_NAME": DATABASE,
                },
                # What RDS writes for a managed master user password: nothing else.
                self.rds_secret: {"username": RDS_USER, "password": self.rds_password},
                f"{prefix}/datadog": {"api-key": "0" * 32, "app-key": "0" * 40},
            }
        )
        self.synced = {}
        self.sync_secrets()

        image_env = manifests.image_environment(git_sha="podcheck")
        image_env["STATIC_ROOT"] = str(self.workdir / "static")
        # The stand-ins' CA plays the part of the image's CA bundle, which holds Amazon's.
        image_env["SSL_CERT_FILE"] = str(ca.cert)
        app = Image(image_env, str(manifests.REPO))
        pgbouncer = Image(
            {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "/"
        )
        self.kubelet = Kubelet(
            node=self.node, workdir=self.workdir, namespace=self.namespace,
            images={"eren": app, "pgbouncer": pgbouncer}, app_image=app,
            config_maps=self.config_maps, secrets=self.synced,
        )  # fmt: skip
        return (
            f"{len(self.docs)} objects; Secrets {', '.join(sorted(self.synced))} from "
            f"{', '.join(sorted(self.secrets_manager.read()))}; node {host}"
        )

    def sync_secrets(self) -> None:
        for external in manifests.of_kind(self.docs, "ExternalSecret"):
            try:
                name, data = sync(external, self.secrets_manager)
            except SyncError as error:
                raise CheckFailed(f"External Secrets would not write the Secret: {error}") from None
            self.synced[name] = data

    def build_static(self) -> None:
        """The Dockerfile's collectstatic step (production storage: hashed names, manifest)."""
        self.static_error = None
        environment = {
            **manifests.image_environment(git_sha="podcheck"),
            "DJANGO_ENV": "production",
            "SECRET_KEY": "collectstatic-at-build-time-only-not-a-real-secret-0123456789",
            "DATABASE_URL": "postgres://build@127.0.0.1:5432/build",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "ALLOWED_HOSTS": "build.invalid",
            "STATIC_ROOT": str(self.workdir / "static"),
        }
        self.static_build = subprocess.Popen(
            ["python", "manage.py", "collectstatic", "--noinput"], cwd=manifests.REPO,
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        _, errors = self.static_build.communicate()
        if self.static_build.returncode:
            self.static_error = errors[-1500:]

    # --- pods ---------------------------------------------------------------------------------

    def migrate(self) -> str:
        job = manifests.one(self.docs, "Job", "eren-migrate")
        began = time.time()
        ok, pod = self.kubelet.run_job(job, timeout=600)
        log = self.log(pod, "migrate")
        require(ok, f"the Job failed:\n{log[-1500:]}")
        applied = log.count("Applying ")
        require(applied > 0, "no migration was applied")
        seed = copy.deepcopy(job)
        seed["metadata"]["name"] = "eren-podcheck-seed"
        seed["spec"]["backoffLimit"] = 0
        seed["spec"]["template"]["spec"]["containers"][0]["command"] = [
            "python",
            "-m",
            "deploy.podcheck.seed",
        ]
        ok, seed_pod = self.kubelet.run_job(seed, timeout=120)
        seed_log = self.log(seed_pod, "migrate")
        require(ok, f"seeding failed:\n{seed_log[-1500:]}")
        self.events = json.loads(seed_log.strip().splitlines()[-1])["events"]
        seconds = time.time() - began
        return f"{applied} migrations applied in {seconds:.0f} s, as uid {pod.containers[0].uid}"

    def start_web(self) -> str:
        """All three Deployments' pods start together, as they do after a release."""
        self.static.join()
        require(
            self.static_error is None, f"collectstatic (image build) failed: {self.static_error}"
        )
        self.others = threading.Thread(target=self.run_worker_and_beat, daemon=True)
        self.others.start()
        rollout = manifests.one(self.docs, "Rollout", "eren-web")
        self.web = self.kubelet.run_pod("Rollout/eren-web", rollout["spec"]["template"])
        require(self.web.wait_ready(180), f"not Ready after 180 s; events: {self.web.events}")
        sidecar, gunicorn = self.web.container("pgbouncer"), self.web.container("web")
        self.web_port = next(
            p["containerPort"] for p in gunicorn.spec["ports"] if p["name"] == "http"
        )
        first_ok = self.first_result(self.web, "pgbouncer", "startup", ok=True)
        require(first_ok is not None and first_ok.at <= gunicorn.started_at,
                "gunicorn started before PgBouncer's startup probe passed")  # fmt: skip
        ready_at = self.first_result(self.web, "web", "readiness", ok=True).at
        return (
            f"pod IP {self.web.ip}; PgBouncer startup probe (tcp {self.web.ip}:6432) ok "
            f"{first_ok.at - sidecar.started_at:.1f} s after its start; gunicorn started "
            f"{gunicorn.started_at - first_ok.at:.1f} s later; "
            f"Ready {ready_at - gunicorn.started_at:.0f} s after that"
        )

    def run_worker_and_beat(self) -> None:
        self.others_error = None
        try:
            worker = manifests.one(self.docs, "Deployment", "eren-worker")
            beat = manifests.one(self.docs, "Deployment", "eren-beat")
            self.worker = self.kubelet.run_pod("Deployment/eren-worker", worker["spec"]["template"])
            self.beat = self.kubelet.run_pod("Deployment/eren-beat", beat["spec"]["template"])
        except Exception as error:
            self.others_error = error

    def start_worker_and_beat(self) -> str:
        self.others.join()
        if self.others_error is not None:
            raise self.others_error
        ready = wait_until(lambda: "ready." in self.log(self.worker, "worker") or None, 120)
        require(ready, f"the worker never logged ready:\n{self.log(self.worker, 'worker')[-1500:]}")
        require(wait_until(lambda: "beat: Starting" in self.log(self.beat, "beat"), 60),
                f"beat did not start:\n{self.log(self.beat, 'beat')[-1500:]}")  # fmt: skip
        return f"worker {self.worker.ip} (with PgBouncer sidecar), beat {self.beat.ip}"

    def first_result(self, pod: Pod, container: str, kind: str, ok: bool):
        return next(
            (r for r in self.kubelet.results
             if (r.pod, r.container, r.kind, r.ok) == (pod.name, container, kind, ok)),
            None,
        )  # fmt: skip

    # --- scenarios ------------------------------------------------------------------------------

    def browser(self) -> Browser:
        return Browser(self.web.ip, self.web_port, self.site_host)

    def assets(self) -> str:
        """Static files come from the pods (WhiteNoise): an asset on a host the bundle does
        not define would be a broken page."""
        visitor = self.browser()
        page = visitor.get("/")
        require(page.status_code == 200, f"/ answered {page.status_code}")
        urls = re.findall(r'(?:href|src)="([^"#]+\.(?:css|js|svg|png|ico|woff2?))"', page.text)
        require(urls, "the home page names no static asset")
        elsewhere = [url for url in urls if not url.startswith("/")]
        require(not elsewhere, f"assets on another host, which nothing here serves: {elsewhere}")
        for url in urls:
            asset = visitor.get(url)
            require(asset.status_code == 200, f"{url} answered {asset.status_code}")
        cache = visitor.get(urls[0]).headers.get("Cache-Control", "")
        return f"{len(urls)} assets, all 200 from the pod (e.g. {urls[0]}: {cache})"

    def sign_up(self) -> str:
        self.student = self.browser()
        response = self.student.post_form(
            "/accounts/signup/",
            {"email": STUDENT, "password1": STUDENT_PASSWORD, "password2": STUDENT_PASSWORD},
        )
        require(
            response.status_code == 302,
            f"sign-up answered {response.status_code}: {response.text[:300]}",
        )
        mail = self.smtp.wait_for(lambda m: STUDENT in m.recipients, timeout=30)
        require(mail is not None, "no verification e-mail reached the SES stand-in")
        link = re.search(r"https://[^/\s]+(/accounts/confirm-email/\S+)", mail.text())
        require(link is not None, f"no confirmation link in: {mail.text()[:300]}")
        confirmed = self.student.post_form(link.group(1), {})
        require(confirmed.status_code == 302, f"confirming answered {confirmed.status_code}")
        mine = self.student.get("/me/events/")
        require(
            mine.status_code == 200, f"/me/events/ answered {mine.status_code} after confirming"
        )
        return (
            f"'{mail.subject}' from {mail.peer} (web pod) over STARTTLS+AUTH; "
            "link followed, logged in"
        )

    def register(self, event_index: int = 0, timeout: float = 60) -> str:
        event = self.events[event_index]
        sent = time.time()
        response = self.student.post_form(
            f"/events/{event['id']}/register", {}, f"/events/{event['id']}/"
        )
        require(response.status_code == 302, f"register answered {response.status_code}")
        page = self.student.get(response.headers["Location"])
        require(
            "You're registered" in page.text,
            "the event page does not say the student is registered",
        )
        mail = self.smtp.wait_for(
            lambda m: STUDENT in m.recipients and event["title"] in m.subject, timeout=timeout
        )
        require(mail is not None, f"no confirmation e-mail within {timeout:.0f} s")
        require(
            mail.peer == self.worker.ip, f"the e-mail came from {mail.peer}, not the worker pod"
        )
        seconds = mail.received_at - sent
        return f"'{mail.subject}' from {mail.peer} (worker pod) {seconds:.1f} s after the POST"

    def beat_fires(self) -> str:
        def ran() -> str | None:
            for line in self.log(self.worker, "worker").splitlines():
                if "eren.beat_heartbeat[" in line and "succeeded" in line:
                    return line
            return None

        line = wait_until(ran, timeout=120, interval=1)
        require(line is not None, "the worker never ran eren.beat_heartbeat")
        sent = [
            line
            for line in self.log(self.beat, "beat").splitlines()
            if "eren.beat_heartbeat" in line
        ]
        require(sent, "beat's log does not show it sending the heartbeat")
        return f"beat sent eren.beat_heartbeat ({len(sent)}x so far), the worker ran it"

    def steady(self) -> str:
        """The kubelet's view before anything is stopped: each probe has run and passed."""
        pods = [self.web, self.worker, self.beat]
        probes = [
            (pod, container, kind)
            for pod in pods
            for container in pod.containers
            for kind in ("startup", "liveness", "readiness")
            if f"{kind}Probe" in container.spec
        ]

        def waiting() -> list[str]:
            return [
                f"{pod.name}/{container.name} {kind}"
                for pod, container, kind in probes
                if self.first_result(pod, container.name, kind, ok=True) is None
            ]

        longest = max(
            c.spec[f"{k}Probe"].get("initialDelaySeconds", 0)
            + c.spec[f"{k}Probe"].get("periodSeconds", 10)
            for _, c, k in probes
        )
        wait_until(lambda: not waiting(), timeout=longest + 30, interval=0.5)
        require(not waiting(), f"never passed: {', '.join(waiting())}")
        failed = [r for r in self.kubelet.results if not r.ok and r.kind != "startup"]
        failed_probes = {f"{r.pod}/{r.container} {r.kind}: {r.detail[:60]}" for r in failed}
        require(not failed, f"failed: {'; '.join(sorted(failed_probes))}")
        return f"{len(probes)} probes of {len(pods)} pods, each passed at least once; none failed"

    def redis_down(self) -> str:
        began = time.time()
        self.redis.stop()
        try:
            served = 0
            visitor = self.browser()
            pages = [
                (visitor, "/"),
                (self.student, "/me/events/"),
                (self.student, f"/events/{self.events[1]['id']}/"),
            ]
            while time.time() < began + 12:
                for browser, path in pages:
                    status = browser.get(path).status_code
                    require(status == 200, f"{path} answered {status} with Redis stopped")
                    served += 1
                time.sleep(1)
            event = self.events[1]
            response = self.student.post_form(
                f"/events/{event['id']}/register", {}, f"/events/{event['id']}/"
            )
            require(
                response.status_code == 302,
                f"registering answered {response.status_code} without Redis",
            )
            page = self.student.get(response.headers["Location"])
            require(
                "You're registered" in page.text,
                "the registration did not go through without Redis",
            )
            ready = self.web.ready
            failures = self.failures(self.web, "web", "readiness", began, time.time())
            details = [r.detail for r in failures[:1]]
            require(ready and not failures, f"readiness failed without Redis: {details}")
        finally:
            ended = time.time()
            connected = self.log(self.worker, "worker").count("Connected to")
            self.redis.start()
            # The worker's liveness probe pings it through Redis: it may fail until then.
            back = wait_until(
                lambda: self.log(self.worker, "worker").count("Connected to") > connected, 60
            )
            self.windows["Redis stopped"] = (began - 5, time.time())
        require(back, "the worker did not reconnect to Redis")
        return (
            f"{served} pages 200 and a registration in {ended - began:.0f} s without Redis; "
            f"readiness never failed; the worker reconnected {time.time() - ended:.0f} s after "
            "Redis came back"
        )

    def postgres_down(self) -> str:
        began = time.time()
        self.postgres.stop()
        try:
            failed = wait_until(
                lambda: [
                    r
                    for r in self.failures(self.web, "web", "readiness", began, time.time())
                    if r.detail.startswith("503")
                ],
                60,
            )
            require(failed, "readiness kept passing with PostgreSQL stopped")
            require(wait_until(lambda: not self.web.ready, 30), "the pod stayed Ready")
            public = self.browser().get("/health/ready")
            require(
                public.status_code == 503,
                f"/health/ready through the ALB answered {public.status_code}",
            )
            require(public.json() == {"status": "unavailable"}, f"public body: {public.text[:200]}")
            liveness = self.failures(self.web, "web", "liveness", began, time.time())
            require(not liveness, f"liveness failed: {[r.detail for r in liveness[:1]]}")
            log = self.log(self.web, "web")
            require(
                "Readiness check failed: the database does not answer" in log,
                "no reason in the log",
            )
        finally:
            stopped = time.time()
            self.postgres.start()
        lived = self.results(self.web, "web", "liveness", began, stopped)
        recovered = wait_until(lambda: self.web.ready, 90, interval=0.5)
        self.windows["PostgreSQL stopped"] = (began - 5, time.time())
        require(recovered, "the pod did not become Ready again after PostgreSQL came back")
        require(all(c.restarts == 0 for c in self.web.containers), "a web container was restarted")
        reason = next(line for line in log.splitlines() if "Readiness check failed" in line)
        return (
            f"probe: {failed[0].detail[:40]!r} within {failed[0].at - began:.0f} s; public body "
            f"{public.text.strip()}; liveness ok {len(lived)}x; "
            f"log: {reason[:90]}...; Ready again {time.time() - stopped:.0f} s after PostgreSQL"
        )

    def rotate_password(self) -> str:
        pids = {
            (p.name, c.name): c.process.pid for p in (self.web, self.worker) for c in p.containers
        }
        old_password, new_password = self.rds_password, random_secrets.token_urlsafe(24)
        rotated = time.time()
        # RDS's rotation: the role's password changes, then the secret.
        self.postgres.set_password(RDS_USER, new_password)
        self.secrets_manager.update(self.rds_secret, password=new_password)
        self.rds_password = new_password
        self.sync_secrets()
        for pod in (self.web, self.worker):
            pod.refresh_secret_volumes("eren-pgbouncer")
        old_ok = self.can_log_in(old_password)
        require(not old_ok, "the old password still works at RDS")
        for pod in (self.web, self.worker):
            reloaded = wait_until(lambda pod=pod: "got SIGHUP" in self.log(pod, "pgbouncer"), 20)
            require(reloaded, f"{pod.name}: PgBouncer was not reloaded")
        ended = self.postgres.disconnect(RDS_USER)
        page = self.student.get("/me/events/")
        require(
            page.status_code == 200, f"/me/events/ answered {page.status_code} after the rotation"
        )
        sessions = self.postgres.sessions(RDS_USER)
        require(
            sessions and all(tls for tls, _ in sessions), f"sessions after the rotation: {sessions}"
        )
        self.register(event_index=2)
        now = {
            (p.name, c.name): c.process.pid for p in (self.web, self.worker) for c in p.containers
        }
        require(now == pids, "a container was restarted")
        return (
            f"old password refused by RDS; both PgBouncers reloaded (pgbouncer-run.sh) "
            f"{time.time() - rotated:.0f} s after; RDS sessions ended: {ended}; new TLS sessions "
            "logged in with the new password: a page and a registration e-mail (worker) "
            "went through; "
            "same processes"
        )

    def can_log_in(self, password: str) -> bool:
        try:
            psycopg.connect(
                host=self.node.address, port=self.postgres.port, user=RDS_USER, password=password,
                dbname=DATABASE, sslmode="require", connect_timeout=5,
            ).close()  # fmt: skip
        except psycopg.OperationalError:
            return False
        return True

    def terminate(self) -> str:
        event = self.events[3]
        self.smtp.delay = SMTP_SEND_SECONDS
        self.smtp.data_started.clear()
        response = self.student.post_form(
            f"/events/{event['id']}/register", {}, f"/events/{event['id']}/"
        )
        require(response.status_code == 302, f"register answered {response.status_code}")
        require(self.smtp.data_started.wait(60), "the worker never started sending the e-mail")

        traffic: list[tuple[float, int | str]] = []
        stop_sending = threading.Event()

        def alb(browser: Browser, path: str) -> None:
            while not stop_sending.is_set():
                try:
                    traffic.append((time.time(), browser.get(path).status_code))
                except Exception as error:
                    traffic.append((time.time(), f"{type(error).__name__}"))

        senders = [
            threading.Thread(target=alb, args=(self.browser(), "/")),
            threading.Thread(target=alb, args=(self.browser(), f"/events/{event['id']}/")),
            threading.Thread(target=alb, args=(self.student, "/me/events/")),
        ]
        for sender in senders:
            sender.start()
        began = {}
        deleters = [
            threading.Thread(target=lambda p=p: began.__setitem__(p.name, p.delete()))
            for p in (self.web, self.worker, self.beat)
        ]
        for deleter in deleters:
            deleter.start()
        time.sleep(DEREGISTRATION_LAG)
        stop_sending.set()
        for sender in senders:
            sender.join()
        for deleter in deleters:
            deleter.join()

        dropped = [status for _, status in traffic if status != 200]
        require(
            traffic and not dropped,
            f"{len(dropped)} of {len(traffic)} requests failed: {dropped[:3]}",
        )
        mail = self.smtp.wait_for(lambda m: event["title"] in m.subject, timeout=5)
        require(mail is not None, "the e-mail the worker was sending at SIGTERM never arrived")
        parts = []
        for pod in (self.web, self.worker, self.beat):
            grace = pod.spec.get("terminationGracePeriodSeconds", 30)
            main = next(c for c in pod.containers if not c.sidecar)
            sigterm = next(t for t, text in pod.events if text == f"{main.name}: SIGTERM")
            require(
                not any(c.killed for c in pod.containers),
                f"{pod.name}: SIGKILLed at the end of the grace period",
            )
            require(main.exit_code == 0, f"{pod.name}: {main.name} exited with {main.exit_code}")
            for sidecar in (c for c in pod.containers if c.sidecar):
                require(
                    sidecar.exited_at >= main.exited_at, f"{pod.name}: the sidecar stopped first"
                )
            parts.append(
                f"{pod.name.split('-')[1]}: SIGTERM at +{sigterm - began[pod.name]:.0f} s, "
                "exit 0 at "
                f"+{main.exited_at - began[pod.name]:.0f} s of {grace} s"
            )
        worker_sigterm = next(t for t, text in self.worker.events if text == "worker: SIGTERM")
        require(
            mail.received_at > worker_sigterm,
            "the e-mail was sent before SIGTERM; nothing was in flight",
        )
        return (
            f"{len(traffic)} requests in the {DEREGISTRATION_LAG:.0f} s before deregistration, "
            "all 200; "
            + "; ".join(parts)
            + f"; e-mail in flight at SIGTERM sent {mail.received_at - worker_sigterm:.0f} s "
            "after it; "
            "sidecars stopped last"
        )

    # --- probes ---------------------------------------------------------------------------------

    def results(self, pod: Pod, container: str, kind: str, start: float, end: float) -> list:
        return [
            r for r in self.kubelet.results
            if (r.pod, r.container, r.kind) == (pod.name, container, kind) and start <= r.at <= end
        ]  # fmt: skip

    def failures(self, pod: Pod, container: str, kind: str, start: float, end: float) -> list:
        return [r for r in self.results(pod, container, kind, start, end) if not r.ok]

    # Failures that a disruption makes right: readiness is meant to fail without the
    # database, and the worker's liveness pings it through Redis.
    EXPECTED = {("eren-web", "web", "readiness"): "PostgreSQL stopped",
                ("eren-worker", "worker", "liveness"): "Redis stopped"}  # fmt: skip

    def probe_rows(self) -> None:
        if self.kubelet is None:
            return
        for pod in self.kubelet.pods:
            if pod.owner.startswith("Job/"):
                continue
            owner = pod.owner.split("/")[1]
            for container in pod.containers:
                for kind in ("startup", "liveness", "readiness"):
                    probe = container.spec.get(f"{kind}Probe")
                    if probe:
                        self.check(
                            f"probe {owner}/{container.name} {kind} ({describe(probe)})",
                            lambda p=pod, c=container, k=kind: self.probe_evidence(p, c, k),
                        )
                self.check(
                    f"no restarts: {owner}/{container.name}",
                    lambda c=container: (
                        require(c.restarts == 0, f"restarted {c.restarts} times") or "0 restarts"
                    ),
                )

    def probe_evidence(self, pod: Pod, container, kind: str) -> str:
        results = self.results(pod, container.name, kind, 0, float("inf"))
        require(results, "never ran")
        if kind == "startup":
            first_ok = next((i for i, r in enumerate(results) if r.ok), None)
            require(first_ok is not None, f"never passed: {results[-1].detail}")
            return f"passed on attempt {first_ok + 1}: {results[first_ok].detail[:60]}"
        window_name = self.EXPECTED.get((pod.owner.split("/")[1], container.name, kind))
        window = self.windows.get(window_name, (0, 0))
        unexpected = [r for r in results if not r.ok and not window[0] <= r.started <= window[1]]
        if unexpected:
            raise CheckFailed(
                f"{len(unexpected)} of {len(results)} failed, e.g. {unexpected[0].detail[:100]}"
            )
        expected = [r for r in results if not r.ok]
        note = f", {len(expected)} failed while {window_name}, as they should" if expected else ""
        return f"{len(results) - len(expected)} passed{note}; last: {results[-1].detail[:50]}"

    # --- cleanup --------------------------------------------------------------------------------

    def close(self) -> None:
        if getattr(self, "static_build", None) is not None:
            standins.stop_process(self.static_build)
        for stop in (
            self.kubelet.close if self.kubelet else None,
            self.node.close if self.node else None,
            self.redis.stop if self.redis else None,
            self.postgres.stop if self.postgres else None,
            self.smtp.stop if self.smtp and hasattr(self.smtp, "server") else None,
        ):
            if stop is not None:
                try:
                    stop()
                except Exception as error:
                    self.notes.append(f"cleanup: {type(error).__name__}: {error}")


def describe(probe: dict) -> str:
    if "httpGet" in probe:
        return f"httpGet {probe['httpGet']['path']}"
    if "tcpSocket" in probe:
        return f"tcpSocket :{probe['tcpSocket']['port']}"
    return "exec " + " ".join(probe["exec"]["command"])[:40]


def requirements() -> list[str]:
    """What the check needs on this machine; empty when all is there."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (network and mount namespaces, the postgres and pgbouncer users)")
    for tool in (
        "ip",
        "unshare",
        "nsenter",
        "setpriv",
        "runuser",
        "openssl",
        "pgbouncer",
        "redis-server",
    ):
        if shutil.which(tool) is None:
            missing.append(tool)
    try:
        standins.postgres_bindir()
    except standins.StandInError as error:
        missing.append(str(error))
    return missing
