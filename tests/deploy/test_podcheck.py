"""The smoke version of `make pod-check`, for make test: no namespaces, no root.

`make pod-check` runs the rendered production pods as the kubelet would (a few minutes, and
it needs network and mount namespaces, so Jenkins runs it in a stage of its own). Here, the
parts that need neither: External Secrets synced from secrets of the shape Secrets Manager
holds, every container's environment and volumes resolved from them, and the rendered
PgBouncer configuration run by Debian's PgBouncer through pgbouncer-run.sh, probed on this
machine's non-loopback address and reloaded when its Secret changes.
"""

import copy
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from deploy.podcheck import manifests
from deploy.podcheck.kubelet import tcp_probe
from deploy.podcheck.secrets import SecretsManager, SyncError, sync
from tests.deploy.conftest import of_kind, one, rendered

POD_IP = "10.0.3.7"


def secrets_manager(path: Path, overlay: str) -> SecretsManager:
    """What the operator and RDS put in Secrets Manager (docs/deploy.md)."""
    store = SecretsManager(path)
    store.write(
        {
            f"eren/{overlay}/app": {
                "SECRET_KEY": "s" * 50,
                "REDIS_URL": "rediss://:token@master.eren.abc123.use1.cache.amazonaws.com:6379/0",
                "EMAIL_URL": "smtp+tls://user:pass@email-smtp.us-east-1.amazonaws.com:587",
                "SENTRY_DSN": "",
                "GOOGLE_MAPS_API_KEY": "",
                "DATABASE_HOST": "eren.abc123.us-east-1.rds.amazonaws.com",
                "DATABASE_PORT": "5432",
                "DATABASE_NAME": "eren",
            },
            # RDS-managed master user secret: username and password, nothing else.
            f"eren/{overlay}/rds": {"username": "eren_admin", "password": "p@ss:w/rd?#"},
            f"eren/{overlay}/datadog": {"api-key": "a" * 32, "app-key": "b" * 40},
        }
    )
    return store


def synced_secrets(manifests_: list[dict], store: SecretsManager) -> dict[str, dict]:
    return dict(sync(external, store) for external in of_kind(manifests_, "ExternalSecret"))


def test_every_container_gets_its_environment_and_volumes_from_the_synced_secrets(
    manifests, overlay, tmp_path
):
    secrets = synced_secrets(manifests, secrets_manager(tmp_path / "sm.json", overlay))
    assert set(secrets) == {"eren-app", "eren-pgbouncer", "eren-datadog-analysis"}
    config_maps = {
        m["metadata"]["name"]: m.get("data", {}) for m in of_kind(manifests, "ConfigMap")
    }
    workloads = [
        one(manifests, "Rollout", "eren-web"),
        one(manifests, "Deployment", "eren-worker"),
        one(manifests, "Deployment", "eren-beat"),
        one(manifests, "Job", "eren-migrate"),
    ]
    fields = {
        "status.podIP": POD_IP,
        "status.hostIP": "10.0.3.1",
        "metadata.labels['rollouts-pod-template-hash']": "6f764de2f9",
    }
    environments = {}
    for workload in workloads:
        spec = workload["spec"]["template"]["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            environment = manifests_environment(container, config_maps, secrets, fields)
            unresolved = {k: v for k, v in environment.items() if "$(" in v}
            assert not unresolved, f"{workload['metadata']['name']}/{container['name']}"
            environments[workload["metadata"]["name"], container["name"]] = environment
        for volume in spec.get("volumes", []):
            for source in volume.get("projected", {}).get("sources", []):
                name = (source.get("secret") or source.get("configMap"))["name"]
                assert name in secrets or name in config_maps, name
    web = environments["eren-web", "web"]
    assert web["ALLOWED_HOSTS"].endswith(f",{POD_IP}")
    # The app reaches RDS through its sidecar without the password, which rotates.
    assert web["DATABASE_URL"] == "postgres://eren_admin@127.0.0.1:6432/eren"
    assert environments["eren-worker", "worker"]["DATABASE_URL"] == web["DATABASE_URL"]
    migrate = environments["eren-migrate", "migrate"]["DATABASE_URL"]
    assert migrate == (
        "postgres://eren_admin:p%40ss%3Aw%2Frd%3F%23@eren.abc123.us-east-1.rds.amazonaws.com"
        ":5432/eren?sslmode=require"
    )
    pgbouncer = secrets["eren-pgbouncer"]
    assert pgbouncer["userlist.txt"] == '"eren_admin" "p@ss:w/rd?#"\n'
    assert (
        "eren = host=eren.abc123.us-east-1.rds.amazonaws.com port=5432 dbname=eren"
        in (pgbouncer["databases.ini"])
    )


def test_sso_secrets_are_optional_until_the_operator_adds_them(manifests, overlay, tmp_path):
    """The WUSTL Key secrets sync as empty strings while the store lacks them (SSO off), and
    as their values once added: `{{ index . "KEY" | default "" }}` in the ExternalSecret."""
    store = secrets_manager(tmp_path / "sm.json", overlay)
    external = one(manifests, "ExternalSecret", "eren-app")
    _, before = sync(external, store)
    assert before["SSO_OIDC_CLIENT_SECRET"] == before["SSO_SAML_SP_PRIVATE_KEY"] == ""
    store.update(f"eren/{overlay}/app", SSO_OIDC_CLIENT_SECRET="oidc-secret")
    _, after = sync(external, store)
    assert after["SSO_OIDC_CLIENT_SECRET"] == "oidc-secret"
    assert after["SECRET_KEY"] == before["SECRET_KEY"] == "s" * 50


def manifests_environment(container, config_maps, secrets, fields) -> dict[str, str]:
    return manifests.container_environment(
        container, config_maps=config_maps, secrets=secrets, fields=fields, base={}
    )


def test_a_property_the_rds_secret_does_not_hold_writes_no_secret(manifests, overlay, tmp_path):
    """As External Secrets does: a missing property fails the sync (no Secret, no pods)."""
    store = secrets_manager(tmp_path / "sm.json", overlay)
    external = copy.deepcopy(one(manifests, "ExternalSecret", "eren-pgbouncer"))
    for item in external["spec"]["data"]:
        if item["secretKey"] == "db_host":
            item["remoteRef"] = {"key": f"eren/{overlay}/rds", "property": "host"}
    with pytest.raises(SyncError, match=f"key host does not exist in secret eren/{overlay}/rds"):
        sync(external, store)


# --- PgBouncer -------------------------------------------------------------------------


def non_loopback_address() -> str:
    """This machine's address on its default route (a pod's IP, on a Jenkins agent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))  # no packet is sent
        return probe.getsockname()[0]


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        pytest.fail("pgbouncer is not installed: run `make deploy-tools`")
    return found


class PgBouncerSidecar:
    """The rendered sidecar's files in a directory of their own, run by pgbouncer-run.sh."""

    def __init__(self, directory: Path, ini: str, files: dict[str, str]) -> None:
        with socket.socket() as free:
            free.bind(("", 0))
            self.port = free.getsockname()[1]
        directory.chmod(0o755)
        ini = ini.replace("/etc/pgbouncer/", f"{directory}/")
        ini = ini.replace("listen_port = 6432", f"listen_port = {self.port}")
        self.directory = directory
        self.write({**files, "pgbouncer.ini": ini})
        self.log = directory / "sidecar.log"
        # PgBouncer refuses to run as root; the manifest runs it as uid 70.
        user = (
            ["setpriv", "--reuid=70", "--regid=70", "--clear-groups"] if os.geteuid() == 0 else []
        )
        self.process = subprocess.Popen(
            [*user, "sh", str(directory / "pgbouncer-run.sh")],
            env={**os.environ, "PGBOUNCER_CONFIG_DIR": str(directory),
                 "PATH": f"{Path(pgbouncer_binary()).parent}:{os.environ['PATH']}"},
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def write(self, files: dict[str, str]) -> None:
        for name, content in files.items():
            (self.directory / name).write_text(content)
            (self.directory / name).chmod(0o644)

    def probe(self, address: str) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            if tcp_probe(address, self.port, {"timeoutSeconds": 1})[0]:
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> str:
        """SIGTERM, as the kubelet sends it; PgBouncer's exit code is not looked at."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)
        return self.log.read_text()


@pytest.fixture
def sidecar_dir():
    """Readable by PgBouncer's uid (pytest's own temporary directories are not)."""
    directory = Path(tempfile.mkdtemp(prefix="eren-pgbouncer-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def sidecar_files(tmp_path):
    """The sidecar's files as the production overlay renders them (staging's are the same)."""
    manifests = rendered("production")
    rollout = one(manifests, "Rollout", "eren-web")
    names = {
        s["configMap"]["name"]
        for v in rollout["spec"]["template"]["spec"]["volumes"]
        for s in v.get("projected", {}).get("sources", [])
        if "configMap" in s
    }
    (config,) = [
        m["data"] for m in of_kind(manifests, "ConfigMap") if m["metadata"]["name"] in names
    ]
    secret = synced_secrets(manifests, secrets_manager(tmp_path / "sm.json", "production"))
    files = {**config, **secret["eren-pgbouncer"]}
    return files.pop("pgbouncer.ini"), files


def test_pgbouncer_answers_the_kubelets_tcp_probe_on_the_pod_ip(sidecar_files, sidecar_dir):
    ini, files = sidecar_files
    sidecar = PgBouncerSidecar(sidecar_dir, ini, files)
    try:
        assert sidecar.probe(non_loopback_address()), sidecar.log.read_text()
        assert sidecar.probe("127.0.0.1")
    finally:
        sidecar.stop()


def test_the_probe_fails_when_pgbouncer_listens_on_loopback_only(sidecar_files, sidecar_dir):
    ini, files = sidecar_files
    loopback_only = ini.replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1")
    sidecar = PgBouncerSidecar(sidecar_dir, loopback_only, files)
    try:
        assert sidecar.probe("127.0.0.1"), sidecar.log.read_text()
        assert not tcp_probe(non_loopback_address(), sidecar.port, {"timeoutSeconds": 1})[0]
    finally:
        sidecar.stop()


def test_pgbouncer_reloads_when_the_kubelet_updates_its_secret(sidecar_files, sidecar_dir):
    """RDS rotates the password; the new userlist.txt reaches the running PgBouncer."""
    ini, files = sidecar_files
    sidecar = PgBouncerSidecar(sidecar_dir, ini, files)
    try:
        assert sidecar.probe("127.0.0.1"), sidecar.log.read_text()
        sidecar.write({"userlist.txt": '"eren_admin" "rotated-password"\n'})
        deadline = time.monotonic() + 15
        while "got SIGHUP" not in sidecar.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = sidecar.log.read_text()
        assert "configuration changed, reloading PgBouncer" in log
        assert "got SIGHUP" in log
    finally:
        began = time.monotonic()
        assert "got SIGTERM" in sidecar.stop()
    # SIGTERM reaches PgBouncer at once, not after the wrapper's next poll.
    assert time.monotonic() - began < 3
