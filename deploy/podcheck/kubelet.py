"""Pods as the kubelet runs them, with processes instead of a container runtime.

Each pod gets a network namespace (its own IP on the node's bridge, its own loopback) and a
UTS namespace (hostname = pod name); each container a mount namespace in which its volumes
are mounted at their mountPaths, the root file system is read-only when the manifest says
so, and the process runs as the manifest's user and groups (fsGroup included). The kubelet
side runs in the host's namespaces: HTTP and TCP probes connect to the pod IP, exec probes
and preStop hooks enter the container's namespaces.

Kubelet behaviour kept: native sidecars (init containers with restartPolicy Always) start
first and must pass their startup probe before the next container starts; liveness and
readiness begin after the startup probe; a container that exits or fails liveness is
restarted; deletion runs preStop, then SIGTERM, then SIGKILL at the end of the grace
period, and stops sidecars after the app containers, in reverse order.
"""

import contextlib
import hashlib
import http.client
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy.podcheck import manifests


class PodError(RuntimeError):
    pass


def sh(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode:
        raise PodError(f"{' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


# --- The node's network ----------------------------------------------------------------------


class Node:
    """A bridge with the node's address; every pod is a network namespace on it."""

    PREFIX = "epc"  # interface and namespace names carry the check's pid

    def __init__(self) -> None:
        self.tag = f"{self.PREFIX}{os.getpid()}"
        self.bridge = f"{self.tag}b"
        used = sh("ip", "-4", "route", "show")
        octet = next(n for n in random.sample(range(100, 250), 150) if f"10.{n}.0." not in used)
        self.subnet = f"10.{octet}.0"
        self.address = f"{self.subnet}.1"
        self.namespaces: list[str] = []
        self._lock = threading.Lock()
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.address}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")

    def add_pod_network(self, pod_name: str) -> tuple[str, str]:
        """(namespace, pod IP) for a new pod."""
        namespace = f"{self.tag}-{pod_name}"
        with self._lock:
            index = len(self.namespaces)
            self.namespaces.append(namespace)
        host_end, pod_end = f"{self.tag}h{index}", f"{self.tag}p{index}"
        ip = f"{self.subnet}.{10 + index}"
        sh("ip", "netns", "add", namespace)
        sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", pod_end)
        sh("ip", "link", "set", host_end, "master", self.bridge, "up")
        sh("ip", "link", "set", pod_end, "netns", namespace)
        inside = ("ip", "netns", "exec", namespace, "ip")
        sh(*inside, "link", "set", pod_end, "name", "eth0")
        sh(*inside, "addr", "add", f"{ip}/24", "dev", "eth0")
        sh(*inside, "link", "set", "eth0", "up")
        sh(*inside, "link", "set", "lo", "up")
        sh(*inside, "route", "add", "default", "via", self.address)
        return namespace, ip

    def close(self) -> None:
        for index, namespace in enumerate(self.namespaces):
            kill_namespace_processes(namespace)
            # Deleting the host's end removes the pair at once, even while a closing socket
            # keeps the namespace itself alive a little longer.
            for command in (
                ["ip", "link", "del", f"{self.tag}h{index}"],
                ["ip", "netns", "del", namespace],
            ):
                subprocess.run(command, capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)

    @classmethod
    def clean_up_after_dead_runs(cls) -> None:
        """Remove namespaces, links and bridges left by a check that was killed outright."""
        for line in sh("ip", "netns", "list").splitlines():
            name = line.split()[0] if line.split() else ""
            pid = name[len(cls.PREFIX) :].split("-")[0]
            if name.startswith(cls.PREFIX) and pid.isdigit() and not Path(f"/proc/{pid}").exists():
                kill_namespace_processes(name)
                subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        for line in sh("ip", "-o", "link", "show").splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            match = re.fullmatch(rf"{cls.PREFIX}(\d+)(b|h\d+)", name)
            if match and not Path(f"/proc/{match.group(1)}").exists():
                subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)


def kill_namespace_processes(namespace: str) -> None:
    pids = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
    ).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


# --- Volumes -----------------------------------------------------------------------------------


def write_atomic_volume(directory: Path, files: dict[str, str], mode: int, group: int | None):
    """The kubelet's AtomicWriter layout: ..<time>/<file>, ..data -> it, <file> -> ..data/<file>.
    An update writes a new ..<time> directory and swaps ..data in one rename."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    version = directory / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    version.mkdir()
    version.chmod(0o755)
    for name, content in files.items():
        path = version / name
        path.write_text(content)
        path.chmod(mode)
        if group is not None:
            os.chown(path, 0, group)
    staging = directory / "..data_tmp"
    staging.unlink(missing_ok=True)
    staging.symlink_to(version.name)
    old = (directory / "..data").resolve() if (directory / "..data").exists() else None
    staging.rename(directory / "..data")
    for name in files:
        link = directory / name
        if not link.is_symlink():
            link.symlink_to(Path("..data") / name)
    if old is not None and old != version:
        for path in old.iterdir():
            path.unlink()
        old.rmdir()


# --- Probes ----------------------------------------------------------------------------------


@dataclass
class ProbeResult:
    started: float
    at: float  # when the result came
    pod: str
    container: str
    kind: str  # startup, liveness, readiness
    ok: bool
    detail: str


def http_probe(ip: str, port: int, probe: dict) -> tuple[bool, str]:
    get = probe["httpGet"]
    connection = http.client.HTTPConnection(
        get.get("host", ip), port, timeout=probe.get("timeoutSeconds", 1)
    )
    headers = {"Host": f"{ip}:{port}", "User-Agent": "kube-probe/1.34", "Accept": "*/*"}
    headers.update({h["name"]: h["value"] for h in get.get("httpHeaders", [])})
    try:
        connection.request("GET", get.get("path", "/"), headers=headers)
        response = connection.getresponse()
        body = response.read(10 * 1024).decode("utf-8", "replace")
    except OSError as error:
        return False, f"GET {get.get('path')}: {error}"
    finally:
        connection.close()
    return 200 <= response.status < 400, f"{response.status} {body.strip()[:120]}"


def tcp_probe(ip: str, port: int, probe: dict) -> tuple[bool, str]:
    try:
        with socket.create_connection((ip, port), timeout=probe.get("timeoutSeconds", 1)):
            return True, f"connected to {ip}:{port}"
    except OSError as error:
        return False, f"{ip}:{port}: {error}"


# --- Containers and pods ---------------------------------------------------------------------


@dataclass
class Image:
    """What the container runtime would take from the image."""

    environment: dict[str, str]
    workdir: str


@dataclass
class Container:
    pod: "Pod"
    spec: dict
    sidecar: bool
    environment: dict[str, str]
    uid: int
    gid: int
    groups: list[int]
    workdir: str
    log: Path
    process: subprocess.Popen | None = None
    started: threading.Event = field(default_factory=threading.Event)
    ready: bool = False
    restarts: int = 0
    started_at: float = 0.0
    exited_at: float | None = None
    exit_code: int | None = None
    killed: bool = False
    stopping: bool = False

    @property
    def name(self) -> str:
        return self.spec["name"]

    def _privileges(self) -> list[str]:
        if (self.uid, self.gid) == (os.geteuid(), os.getegid()):
            return []
        groups = (
            [f"--groups={','.join(map(str, self.groups))}"] if self.groups else ["--clear-groups"]
        )
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", *groups, "--"]

    def start(self) -> None:
        # The files the kubelet mounts into every container: /etc/hosts names the pod.
        mounts = [
            f"mount --bind {shlex.quote(str(self.pod.directory / name))} /etc/{name}"
            for name in ("hosts", "resolv.conf")
        ]
        # The app runs from the host's checkout and venv (the "image"): a volume mounted over
        # a directory that holds them (an emptyDir at /tmp over a checkout in /tmp) must not
        # hide them. Such a checkout is bound aside first and back in place afterwards.
        checkout = Path(self.workdir)
        targets = [Path(mount["mountPath"]) for mount in self.spec.get("volumeMounts", [])]
        hides_checkout = any(checkout == t or t in checkout.parents for t in targets)
        aside = self.pod.directory / f"checkout-{self.name}"
        if hides_checkout:
            aside.mkdir(parents=True, exist_ok=True)
            mounts.append(f"mount --bind {shlex.quote(str(checkout))} {shlex.quote(str(aside))}")
        for mount in self.spec.get("volumeMounts", []):
            source = self.pod.volume_dirs[mount["name"]]
            target = mount["mountPath"]
            if not Path(target).exists():
                Path(target).mkdir(parents=True)
                self.pod.kubelet.created_mount_points.append(Path(target))
            mounts.append(f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}")
            if mount.get("readOnly"):
                mounts.append(f"mount -o remount,bind,ro {shlex.quote(target)}")
        if hides_checkout:
            mounts.append(f"mkdir -p {shlex.quote(str(checkout))}")
            mounts.append(f"mount --bind {shlex.quote(str(aside))} {shlex.quote(str(checkout))}")
        if self.spec.get("securityContext", {}).get("readOnlyRootFilesystem"):
            mounts.append("mount -o remount,bind,ro /")
        script = "\n".join(
            [
                "set -e",
                f"hostname {shlex.quote(self.pod.name)}",
                *mounts,
                f"cd {shlex.quote(self.workdir)}",
                'exec "$@"',
            ]
        )
        argv = manifests.command_line(self.spec, self.environment)
        self.started.clear()
        self.ready = False
        self.exit_code = self.exited_at = None
        self.stopping = False
        with self.log.open("a") as log, self.pod.kubelet.lifecycle:
            if self.pod.kubelet.stopped.is_set():
                raise PodError("the kubelet has stopped")
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.pod.namespace,
                 "unshare", "--mount", "--uts", "--propagation", "private", "--",
                 "sh", "-c", script, "sh", *self._privileges(), *argv],
                env=self.environment, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.started_at = time.time()
        self.pod.event(f"{self.name}: started (pid {self.process.pid})")
        threading.Thread(target=self._watch, args=(self.process,), daemon=True).start()
        self.pod.kubelet.start_probes(self)

    def _watch(self, process: subprocess.Popen) -> None:
        code = process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # what PID 1's exit does to a container
        if process is not self.process:
            return
        self.exit_code, self.exited_at = code, time.time()
        self.ready = False
        self.pod.event(f"{self.name}: exited with {code}")
        restart = self.sidecar or self.pod.restart_policy == "Always"
        if restart and not self.stopping and not self.pod.terminating:
            self.restarts += 1
            time.sleep(1)
            if not self.pod.terminating:
                with contextlib.suppress(PodError):  # the check is shutting down
                    self.start()

    def exec(self, argv: list[str], timeout: float) -> tuple[int, str]:
        """Run a command in the container, as an exec probe or hook does."""
        if self.process is None or self.process.poll() is not None:
            return 1, "container is not running"
        command = ["nsenter", f"--target={self.process.pid}", "--net", "--mount", "--uts",
                   f"--wd={self.workdir}", *self._privileges(), *argv]  # fmt: skip
        try:
            result = subprocess.run(
                command, env=self.environment, capture_output=True, text=True,
                timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return 1, f"timed out after {timeout:.0f} s"
        return result.returncode, (result.stdout + result.stderr).strip()[-300:]

    def stop(self, deadline: float) -> None:
        """preStop, SIGTERM, and SIGKILL at the deadline."""
        self.stopping = True
        hook = self.spec.get("lifecycle", {}).get("preStop", {})
        if "exec" in hook and self.process and self.process.poll() is None:
            self.pod.event(f"{self.name}: preStop {' '.join(hook['exec']['command'])}")
            self.exec(hook["exec"]["command"], timeout=max(deadline - time.time(), 1))
        elif "sleep" in hook:
            time.sleep(min(hook["sleep"]["seconds"], max(deadline - time.time(), 0)))
        if self.process is None or self.process.poll() is not None:
            return
        self.pod.event(f"{self.name}: SIGTERM")
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=max(deadline - time.time(), 0.1))
        except subprocess.TimeoutExpired:
            self.killed = True
            self.pod.event(f"{self.name}: SIGKILL at the end of the grace period")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        while self.exited_at is None:  # the watcher records the exit
            time.sleep(0.01)


class Pod:
    def __init__(self, kubelet: "Kubelet", name: str, owner: str, template: dict) -> None:
        self.kubelet, self.name, self.owner = kubelet, name, owner
        self.template = template
        self.spec = template["spec"]
        self.restart_policy = self.spec.get("restartPolicy", "Always")
        self.terminating = False
        self.events: list[tuple[float, str]] = []
        self.directory = kubelet.workdir / "pods" / name
        self.directory.mkdir(parents=True)
        self.namespace, self.ip = kubelet.node.add_pod_network(name)
        self.volume_dirs: dict[str, Path] = {}
        self._write_volumes()
        (self.directory / "hosts").write_text(
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            f"::1\tlocalhost ip6-localhost ip6-loopback\n{self.ip}\t{name}\n"
        )
        # No cluster DNS here: lookups that /etc/hosts cannot answer fail at once.
        (self.directory / "resolv.conf").write_text(
            f"search {kubelet.namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 127.0.0.1\noptions ndots:5\n"
        )
        self.containers = [
            *(self._container(c, sidecar=c.get("restartPolicy") == "Always")
              for c in self.spec.get("initContainers", [])),
            *(self._container(c, sidecar=False) for c in self.spec["containers"]),
        ]  # fmt: skip

    def event(self, text: str) -> None:
        self.events.append((time.time(), text))

    @property
    def fields(self) -> dict[str, str]:
        labels = self.template["metadata"].get("labels", {})
        fields = {
            "metadata.name": self.name,
            "metadata.namespace": self.kubelet.namespace,
            "spec.nodeName": "podcheck-node",
            "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
            "status.podIP": self.ip,
            "status.hostIP": self.kubelet.node.address,
        }
        fields.update({f"metadata.labels['{k}']": v for k, v in labels.items()})
        return fields

    def _container(self, spec: dict, *, sidecar: bool) -> Container:
        pod_security = self.spec.get("securityContext", {})
        security = {**pod_security, **spec.get("securityContext", {})}
        image = self.kubelet.image(spec["image"])
        uid, gid = security.get("runAsUser", 0), security.get("runAsGroup", 0)
        groups = [gid, *pod_security.get("supplementalGroups", [])]
        if "fsGroup" in pod_security:
            groups.append(pod_security["fsGroup"])
        if image is self.kubelet.app_image and not self.kubelet.app_user_allowed(uid, gid):
            uid, gid, groups = os.geteuid(), os.getegid(), []
        environment = manifests.container_environment(
            spec, config_maps=self.kubelet.config_maps, secrets=self.kubelet.secrets,
            fields=self.fields, base={**image.environment, "HOSTNAME": self.name},
        )  # fmt: skip
        return Container(
            pod=self, spec=spec, sidecar=sidecar, environment=environment, uid=uid, gid=gid,
            groups=sorted(set(groups)), workdir=image.workdir,
            log=self.directory / f"{spec['name']}.log",
        )  # fmt: skip

    def _write_volumes(self) -> None:
        fs_group = self.spec.get("securityContext", {}).get("fsGroup")
        for volume in self.spec.get("volumes", []):
            directory = self.directory / "volumes" / volume["name"]
            self.volume_dirs[volume["name"]] = directory
            if "emptyDir" in volume:
                directory.mkdir(parents=True)
                directory.chmod(0o2777 if fs_group is not None else 0o777)
                if fs_group is not None:
                    os.chown(directory, 0, fs_group)
            else:
                self.write_volume(volume, fs_group)

    def write_volume(self, volume: dict, fs_group: int | None) -> None:
        if "projected" in volume:
            sources = volume["projected"]["sources"]
            mode = volume["projected"].get("defaultMode", 0o644)
        elif "configMap" in volume or "secret" in volume:
            sources = [volume]
            mode = (volume.get("configMap") or volume.get("secret")).get("defaultMode", 0o644)
        else:
            raise PodError(f"volume {volume['name']}: only emptyDir, configMap, secret, projected")
        files: dict[str, str] = {}
        for source in sources:
            if "configMap" in source:
                files.update(self.kubelet.config_maps[source["configMap"]["name"]])
            else:
                name = source["secret"].get("name") or source["secret"]["secretName"]
                if name not in self.kubelet.secrets:
                    raise PodError(f"Secret {name} does not exist: the pod cannot start")
                files.update(self.kubelet.secrets[name])
        if fs_group is not None:
            mode |= 0o440
        write_atomic_volume(self.directory / "volumes" / volume["name"], files, mode, fs_group)

    def refresh_secret_volumes(self, secret: str) -> None:
        """The kubelet's periodic sync of mounted Secrets (about a minute in EKS)."""
        fs_group = self.spec.get("securityContext", {}).get("fsGroup")
        for volume in self.spec.get("volumes", []):
            sources = volume.get("projected", {}).get("sources", [volume])
            names = {s["secret"].get("name") or s["secret"].get("secretName")
                     for s in sources if "secret" in s}  # fmt: skip
            if secret in names:
                self.write_volume(volume, fs_group)
                self.event(f"volume {volume['name']}: Secret {secret} updated")

    def container(self, name: str) -> Container:
        return next(c for c in self.containers if c.name == name)

    def start(self, init_timeout: float = 600) -> None:
        self.event("scheduled")
        for container in self.containers:
            if container.spec in self.spec.get("initContainers", []) and not container.sidecar:
                container.start()
                container.process.wait(timeout=init_timeout)
                if container.exit_code not in (0, None):
                    raise PodError(f"{self.name}: init container {container.name} failed")
                continue
            container.start()
            # The kubelet starts the next container once a sidecar has started; past its
            # startup probe's budget it restarts the sidecar instead, and the pod never runs.
            probe = container.spec.get("startupProbe", {})
            budget = probe.get("initialDelaySeconds", 0) + probe.get(
                "periodSeconds", 10
            ) * probe.get("failureThreshold", 3)
            if container.sidecar and not container.started.wait(budget + 5):
                failures = [
                    r.detail
                    for r in self.kubelet.results
                    if (r.pod, r.container, r.ok) == (self.name, container.name, False)
                ]
                raise PodError(
                    f"{self.name}: sidecar {container.name} never passed its startup probe, so "
                    f"no other container started ({failures[-1] if failures else 'no probe ran'})"
                )

    @property
    def ready(self) -> bool:
        return all(c.ready for c in self.containers)

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready:
                return True
            time.sleep(0.2)
        return False

    def delete(self) -> float:
        """Terminate as the kubelet does; returns the time the deletion began."""
        began = time.time()
        self.event("deleted")
        self.terminating = True
        grace = self.spec.get("terminationGracePeriodSeconds", 30)
        deadline = began + grace
        regular = [c for c in self.containers if not c.sidecar]
        threads = [threading.Thread(target=c.stop, args=(deadline,)) for c in regular]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for container in reversed([c for c in self.containers if c.sidecar]):
            container.stop(max(deadline, time.time() + 2))
        self.event("terminated")
        return began


class Kubelet:
    """Runs pods on one node; records every probe result."""

    def __init__(self, *, node: Node, workdir: Path, namespace: str, images: dict[str, Image],
                 app_image: Image, config_maps: dict, secrets: dict) -> None:  # fmt: skip
        self.node, self.workdir, self.namespace = node, workdir, namespace
        self.images, self.app_image = images, app_image
        self.config_maps, self.secrets = config_maps, secrets
        self.pods: list[Pod] = []
        self.results: list[ProbeResult] = []
        self.created_mount_points: list[Path] = []
        self._lock = threading.Lock()
        self._app_users: dict[tuple[int, int], bool] = {}
        self.stopped = threading.Event()
        # Held while a container starts and while the kubelet stops: nothing starts after.
        self.lifecycle = threading.Lock()

    def image(self, reference: str) -> Image:
        repository = reference.rsplit("@", 1)[0].rsplit(":", 1)[0]
        for name, image in self.images.items():
            if repository.endswith("/" + name) or repository == name:
                return image
        raise PodError(f"no stand-in for image {reference}")

    def app_user_allowed(self, uid: int, gid: int) -> bool:
        """Whether the manifest's user can run the app with the virtualenv's own interpreter
        here (not when it sits under a private home directory); if not, the app runs as the
        current user."""
        if (uid, gid) not in self._app_users:
            probe = "import sys, django, eren; print(sys.base_prefix, sys.version)"

            def interpreter(*privileges: str) -> bytes:
                return subprocess.run(
                    [*privileges, "env", f"PATH={self.app_image.environment['PATH']}",
                     "python", "-c", probe],
                    capture_output=True, check=False, cwd=self.app_image.workdir,
                ).stdout  # fmt: skip

            as_user = interpreter("setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups")
            self._app_users[(uid, gid)] = bool(as_user) and as_user == interpreter()
        return self._app_users[(uid, gid)]

    def run_pod(self, owner: str, template: dict, suffix: str | None = None) -> Pod:
        digest = hashlib.sha256(repr(template).encode()).hexdigest()[:10]
        name = f"{owner.split('/')[1]}-{suffix or digest}"
        template = {**template, "metadata": {**template.get("metadata", {})}}
        labels = dict(template["metadata"].get("labels", {}))
        labels.setdefault("rollouts-pod-template-hash" if owner.startswith("Rollout")
                          else "pod-template-hash", digest)  # fmt: skip
        template["metadata"]["labels"] = labels
        pod = Pod(self, name, owner, template)
        self.pods.append(pod)
        pod.start()
        return pod

    def run_job(self, job: dict, timeout: float) -> tuple[bool, Pod]:
        """A Job's pods, one after another, until one succeeds or backoffLimit is spent."""
        spec = job["spec"]
        deadline = time.monotonic() + min(spec.get("activeDeadlineSeconds", timeout), timeout)
        for attempt in range(spec.get("backoffLimit", 6) + 1):
            pod = self.run_pod(f"Job/{job['metadata']['name']}", spec["template"], f"a{attempt}")
            (container,) = [c for c in pod.containers if not c.sidecar]
            try:
                container.process.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                pod.delete()
                return False, pod
            while container.exit_code is None:
                time.sleep(0.05)
            if container.exit_code == 0:
                return True, pod
        return False, pod

    def start_probes(self, container: Container) -> None:
        for kind in ("startup", "liveness", "readiness"):
            probe = container.spec.get(f"{kind}Probe")
            if probe or kind == "startup":
                threading.Thread(
                    target=self._probe_loop, args=(container, kind, probe, container.process),
                    daemon=True,
                ).start()  # fmt: skip

    def _run_probe(self, container: Container, kind: str, probe: dict) -> bool:
        pod = container.pod
        started = time.time()
        if "exec" in probe:
            code, output = container.exec(probe["exec"]["command"], probe.get("timeoutSeconds", 1))
            ok, detail = code == 0, f"exit {code} {output}".strip()
        else:
            action = probe.get("httpGet") or probe["tcpSocket"]
            port = action["port"]
            if isinstance(port, str):
                port = next(
                    p["containerPort"] for p in container.spec["ports"] if p.get("name") == port
                )
            check = http_probe if "httpGet" in probe else tcp_probe
            ok, detail = check(pod.ip, port, probe)
        with self._lock:
            self.results.append(
                ProbeResult(started, time.time(), pod.name, container.name, kind, ok, detail)
            )
        return ok

    def _probe_loop(self, container: Container, kind: str, probe: dict | None, process) -> None:
        def alive() -> bool:
            return (container.process is process and process.poll() is None
                    and not container.pod.terminating and not self.stopped.is_set())  # fmt: skip

        if kind == "startup" and probe is None:
            container.started.set()
            container.ready = "readinessProbe" not in container.spec
            return
        if kind != "startup":
            while alive() and not container.started.wait(0.2):
                pass
        period = probe.get("periodSeconds", 10)
        threshold = probe.get("failureThreshold", 3)
        next_run = container.started_at + probe.get("initialDelaySeconds", 0)
        failures = 0
        while alive():
            time.sleep(max(next_run - time.time(), 0))
            if not alive():
                return
            next_run = time.time() + period
            ok = self._run_probe(container, kind, probe)
            failures = 0 if ok else failures + 1
            if kind == "startup" and ok:
                container.started.set()
                container.ready = "readinessProbe" not in container.spec
                return
            if kind == "readiness":
                container.ready = ok or (container.ready and failures < threshold)
            if kind in ("startup", "liveness") and failures >= threshold:
                container.pod.event(f"{container.name}: {kind} probe failed {failures} times")
                container.stop(
                    time.time() + container.pod.spec.get("terminationGracePeriodSeconds", 30)
                )
                container.stopping = False
                container.restarts += 1
                with contextlib.suppress(PodError):  # the check is shutting down
                    container.start()
                return

    def close(self) -> None:
        with self.lifecycle:
            self.stopped.set()
        for pod in self.pods:
            pod.terminating = True
            for container in pod.containers:
                if container.process and container.process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(container.process.pid, signal.SIGKILL)
        for path in reversed(self.created_mount_points):
            with contextlib.suppress(OSError):
                path.rmdir()
