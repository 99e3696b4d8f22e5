"""Both overlays render, validate against Kubernetes and CRD schemas, and hold the
properties the architecture requires."""

import copy
import json
import tempfile
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

from tests.deploy import checks
from tests.deploy.conftest import (
    KUBERNETES_VERSION,
    OVERLAYS,
    SCHEMAS,
    containers,
    of_kind,
    one,
    pod_specs,
    rendered,
    run,
    tool,
)

CUSTOM_KINDS = {
    "Rollout": SCHEMAS / "argoproj.io" / "rollout_v1alpha1.json",
    "AnalysisTemplate": SCHEMAS / "argoproj.io" / "analysistemplate_v1alpha1.json",
    "ExternalSecret": SCHEMAS / "external-secrets.io" / "externalsecret_v1.json",
    "SecretStore": SCHEMAS / "external-secrets.io" / "secretstore_v1.json",
}
GUNICORN_GRACEFUL_TIMEOUT = 25


def validate_core(doc: dict) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# --- Schemas ----------------------------------------------------------------------------


def test_overlay_renders_every_kind_the_bundle_needs(manifests):
    kinds = {doc["kind"] for doc in manifests}
    assert kinds >= {
        "Namespace", "Rollout", "AnalysisTemplate", "Service", "Ingress", "Deployment", "Job",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount",
        "Role", "RoleBinding", "ExternalSecret", "SecretStore", "ConfigMap",
    }  # fmt: skip
    assert not [d for d in manifests if d["metadata"].get("name") == "deploy-params"], (
        "the local-config parameters must not be applied"
    )
    namespaces = {d["metadata"].get("namespace") for d in manifests if d["kind"] != "Namespace"}
    assert len(namespaces) == 1, namespaces
    assert "set-by-overlay" not in yaml.safe_dump_all(manifests)


def test_core_kinds_are_valid_at_the_target_kubernetes_version(manifests):
    core = [doc for doc in manifests if doc["kind"] not in CUSTOM_KINDS]
    for doc in core:
        validate_core(doc)


def test_rollout_pod_template_is_a_valid_deployment_pod_template(manifests):
    # kubernetes-validate skips custom resources; the Rollout's template is a core PodSpec.
    rollout = one(manifests, "Rollout", "eren-web")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": copy.deepcopy(rollout["metadata"]),
        "spec": {
            "selector": copy.deepcopy(rollout["spec"]["selector"]),
            "template": copy.deepcopy(rollout["spec"]["template"]),
        },
    }
    validate_core(deployment)


def test_core_validation_rejects_a_broken_pod_template(manifests):
    worker = copy.deepcopy(one(manifests, "Deployment", "eren-worker"))
    worker["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFilesystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_core(worker)


def test_custom_resources_match_their_crd_schemas():
    # One check-jsonschema run per kind covers both overlays (it starts slowly).
    with tempfile.TemporaryDirectory() as scratch:
        for kind, schema in CUSTOM_KINDS.items():
            docs = [(o, d) for o in OVERLAYS for d in of_kind(rendered(o), kind)]
            assert {o for o, _ in docs} == set(OVERLAYS), f"{kind} missing from an overlay"
            files = []
            for index, (overlay, doc) in enumerate(docs):
                path = Path(scratch) / f"{overlay}-{kind}-{index}.json"
                path.write_text(json.dumps(doc))
                files.append(str(path))
            result = run([tool("check-jsonschema"), "--schemafile", str(schema), *files])
            assert result.returncode == 0, f"{kind}:\n{result.stdout}\n{result.stderr}"


def test_crd_schema_check_rejects_an_unknown_field(tmp_path):
    rollout = copy.deepcopy(one(rendered("production"), "Rollout", "eren-web"))
    rollout["spec"]["strategy"]["canary"]["trafficRouting"]["alb"]["servicePortt"] = 80
    path = tmp_path / "rollout.json"
    path.write_text(json.dumps(rollout))
    schema = str(CUSTOM_KINDS["Rollout"])
    result = run([tool("check-jsonschema"), "--schemafile", schema, str(path)])
    assert result.returncode != 0


# --- Images, host access, resources, hardening, secrets ---------------------------------


def test_every_image_is_pinned_and_none_is_latest(manifests):
    assert checks.images_problems(manifests) == []


@pytest.mark.parametrize(
    "image",
    ["eren", "eren:latest", "jenkins/jenkins:lts", "bitnami/pgbouncer:1.24.1", "x:stable"],
)
def test_image_check_rejects_unpinned_images(image):
    assert checks.image_problems(image)


def test_no_docker_socket_host_path_or_privileged_container(manifests):
    assert checks.host_access_problems(manifests) == []


def test_every_container_has_requests_and_a_memory_limit(manifests):
    assert checks.resources_problems(manifests) == []


def test_every_container_is_non_root_read_only_and_unprivileged(manifests):
    assert checks.hardening_problems(manifests) == []


def test_no_secret_values_in_the_manifests(manifests):
    assert checks.inline_secret_problems(manifests) == []


def test_property_checks_catch_a_bad_pod():
    bad = {
        "kind": "Deployment",
        "metadata": {"name": "bad"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "docker",
                            "image": "docker:latest",
                            "securityContext": {"privileged": True},
                            "env": [{"name": "DB_PASSWORD", "value": "hunter2"}],
                            "volumeMounts": [{"name": "s", "mountPath": "/var/run/docker.sock"}],
                        }
                    ],
                    "volumes": [{"name": "s", "hostPath": {"path": "/var/run/docker.sock"}}],
                }
            }
        },
    }
    assert checks.images_problems([bad])
    assert checks.host_access_problems([bad])
    assert checks.resources_problems([bad])
    assert checks.hardening_problems([bad])
    assert checks.inline_secret_problems([bad])


def test_external_secrets_read_only_this_environments_prefix(manifests, overlay):
    for external in of_kind(manifests, "ExternalSecret"):
        keys = [item["remoteRef"]["key"] for item in external["spec"].get("data", [])]
        keys += [item["extract"]["key"] for item in external["spec"].get("dataFrom", [])]
        assert keys
        assert all(key.startswith(f"eren/{overlay}/") for key in keys), keys
    # Only templated keys reach the pods' environment, not the raw RDS fields.
    template = one(manifests, "ExternalSecret", "eren-app")["spec"]["target"]["template"]
    assert template.get("mergePolicy", "Replace") == "Replace"
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(template["data"])
    store = one(manifests, "SecretStore", "aws-secrets-manager")
    auth = store["spec"]["provider"]["aws"]["auth"]
    assert auth == {"jwt": {"serviceAccountRef": {"name": "eren-external-secrets"}}}


def test_service_accounts_use_irsa_roles_of_their_environment(manifests, overlay):
    for account in of_kind(manifests, "ServiceAccount"):
        arn = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert arn.startswith("arn:aws:iam::"), arn
        assert f":role/eren-{overlay}-" in arn, arn
        assert account.get("automountServiceAccountToken") is False


# --- Web Rollout ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "steps",
    [
        [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}, {"setWeight": 100}],
        [{"setWeight": 20}, {"analysis": {}}, {"setWeight": 50}, {"setWeight": 100}],
        [{"setWeight": 10}, {"pause": {}}, {"analysis": {}}, {"setWeight": 100}],
        # Nothing checked 50% -> 100%:
        [{"setWeight": 20}, {"pause": {}}, {"analysis": {}}, {"setWeight": 50}, {"pause": {}},
         {"setWeight": 100}],
        [{"setWeight": 20}, {"analysis": {}}, {"pause": {}}, {"setWeight": 50}, {"pause": {}},
         {"analysis": {}}, {"setWeight": 100}],
    ],
)  # fmt: skip
def test_canary_check_rejects_other_step_orders(steps):
    assert checks.canary_problems({"spec": {"strategy": {"canary": {"steps": steps}}}})


def test_alb_routing_uses_root_stable_and_canary_services(manifests):
    canary = one(manifests, "Rollout", "eren-web")["spec"]["strategy"]["canary"]
    alb = canary["trafficRouting"]["alb"]
    ingress = one(manifests, "Ingress", alb["ingress"])
    for name in (canary["stableService"], canary["canaryService"], alb["rootService"]):
        service = one(manifests, "Service", name)
        assert alb["servicePort"] in [port["port"] for port in service["spec"]["ports"]]
    (rule,) = ingress["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": alb["rootService"], "port": {"name": "use-annotation"}}


@pytest.mark.parametrize(("kind", "name"), [("Rollout", "eren-web"), ("Deployment", "eren-worker")])
def test_database_pods_have_a_pgbouncer_native_sidecar_in_transaction_mode(manifests, kind, name):
    spec = one(manifests, kind, name)["spec"]["template"]["spec"]
    (sidecar,) = spec["initContainers"]
    assert sidecar["name"] == "pgbouncer"
    assert sidecar["restartPolicy"] == "Always"
    assert "readinessProbe" in sidecar
    assert "bitnami" not in sidecar["image"]
    config = one(manifests, "ConfigMap", spec_config_name(spec, "eren-pgbouncer"))["data"]
    ini = config["pgbouncer.ini"]
    assert "pool_mode = transaction" in ini
    assert "listen_port = 6432" in ini
    # The kubelet's TCP probes connect to the pod IP, not to loopback.
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert sidecar[probe]["tcpSocket"]["port"] == 6432, probe
    assert "listen_addr = 0.0.0.0" in ini
    # ... but only the pod's own containers may log in.
    assert "auth_type = hba" in ini
    rules = [line.split() for line in config["pg_hba.conf"].splitlines()]
    assert [rule for rule in rules if rule and not rule[0].startswith("#")] == [
        ["host", "all", "all", "127.0.0.1/32", "trust"]
    ]
    # The mounted Secret is reloaded when the kubelet updates it (password rotation).
    assert sidecar["command"] == ["sh", "/etc/pgbouncer/pgbouncer-run.sh"]
    assert "kill -HUP" in config["pgbouncer-run.sh"]
    app_config = one(manifests, "ConfigMap", spec_config_name(spec, "eren-config"))["data"]
    assert app_config["DISABLE_SERVER_SIDE_CURSORS"] == "true"
    assert app_config["GUNICORN_WORKERS"] == "5"  # architecture: 5 workers a pod


def test_only_pgbouncer_and_the_migration_hold_the_rds_password(manifests):
    """RDS rotates its master password every 7 days: nothing long-running may keep it in
    an environment variable, which a running container never sees change."""
    app_secret = one(manifests, "ExternalSecret", "eren-app")
    template = app_secret["spec"]["target"]["template"]["data"]
    assert template["DATABASE_URL"].endswith("@127.0.0.1:6432/eren")
    assert ":" not in template["DATABASE_URL"].split("//")[1].split("@")[0]
    assert "db_password" in template["DIRECT_DATABASE_URL"]
    direct_users = [
        name
        for name, spec in pod_specs(manifests)
        for container in containers(spec)
        for variable in container.get("env", [])
        if variable.get("valueFrom", {}).get("secretKeyRef", {}).get("key") == "DIRECT_DATABASE_URL"
    ]
    assert direct_users == ["Job/eren-migrate"]
    pgbouncer = one(manifests, "ExternalSecret", "eren-pgbouncer")
    assert "db_password" in pgbouncer["spec"]["target"]["template"]["data"]["userlist.txt"]
    # The RDS-managed secret holds only username and password.
    for external in of_kind(manifests, "ExternalSecret"):
        for item in external["spec"].get("data", []):
            if item["remoteRef"]["key"].endswith("/rds"):
                assert item["remoteRef"]["property"] in {"username", "password"}, item
        assert all(not item["extract"]["key"].endswith("/rds")
                   for item in external["spec"].get("dataFrom", []))  # fmt: skip
        if external["metadata"]["name"] != "eren-datadog-analysis":
            assert external["spec"]["refreshInterval"] == "1m"


def spec_config_name(spec: dict, prefix: str) -> str:
    names = {
        source["configMap"]["name"]
        for volume in spec.get("volumes", [])
        for source in volume.get("projected", {}).get("sources", [])
        if "configMap" in source
    }
    names |= {
        ref["configMapRef"]["name"]
        for container in containers(spec)
        for ref in container.get("envFrom", [])
        if "configMapRef" in ref
    }
    (name,) = [n for n in names if n.startswith(prefix + "-")]
    return name


def test_web_probes_and_graceful_shutdown(manifests):
    spec = one(manifests, "Rollout", "eren-web")["spec"]["template"]["spec"]
    web = next(c for c in spec["containers"] if c["name"] == "web")
    assert web["livenessProbe"]["httpGet"]["path"] == "/health"
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert web["startupProbe"]["httpGet"]["path"] == "/health"
    assert web["command"][:2] == ["ddtrace-run", "gunicorn"]
    pre_stop = web["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    sleep_seconds = int(pre_stop[1])
    assert spec["terminationGracePeriodSeconds"] > sleep_seconds + GUNICORN_GRACEFUL_TIMEOUT


def test_ingress_is_https_only_alb_for_the_site_host(manifests, overlay):
    ingress = one(manifests, "Ingress", "eren")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/health"
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [
        {"HTTP": 80},
        {"HTTPS": 443},
    ]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    assert annotations["alb.ingress.kubernetes.io/ssl-policy"].startswith("ELBSecurityPolicy-TLS")
    host = "eren.washu.edu" if overlay == "production" else "staging.eren.washu.edu"
    assert ingress["spec"]["rules"][0]["host"] == host
    assert ingress["spec"]["tls"][0]["hosts"] == [host]


def test_hpa_scales_the_rollout_and_pdb_keeps_pods(manifests, overlay):
    hpa = one(manifests, "HorizontalPodAutoscaler", "eren-web")
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Rollout"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "eren-web"
    if overlay == "production":
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 6)
    # The HPA owns the count: a release's server-side apply must not reset it.
    assert "replicas" not in one(manifests, "Rollout", "eren-web")["spec"]
    assert one(manifests, "PodDisruptionBudget", "eren-web")["spec"]["maxUnavailable"] == 1


# --- Celery, migrations, network, RBAC ---------------------------------------------------


def test_exactly_one_beat_replaced_with_recreate(manifests):
    beats = [
        d
        for d in of_kind(manifests, "Deployment")
        if any("beat" in c.get("command", []) for c in containers(d["spec"]["template"]["spec"]))
    ]
    assert [b["metadata"]["name"] for b in beats] == ["eren-beat"]
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"] == {"type": "Recreate"}
    assert not [h for h in of_kind(manifests, "HorizontalPodAutoscaler")
                if h["spec"]["scaleTargetRef"]["name"] == "eren-beat"]  # fmt: skip


def test_worker_grace_period_outlasts_the_task_time_limit(manifests):
    """SIGTERM starts Celery's warm shutdown, which waits for the running task; the kubelet
    kills the pod at the end of the grace period, whatever the task is doing."""
    worker = one(manifests, "Deployment", "eren-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > settings.CELERY_TASK_TIME_LIMIT


def test_beat_has_a_liveness_probe_on_its_heartbeat_file(manifests):
    (beat,) = one(manifests, "Deployment", "eren-beat")["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable.get("value") for variable in beat["env"]}
    probe = beat["livenessProbe"]
    assert env["BEAT_HEARTBEAT_FILE"] in " ".join(probe["exec"]["command"])
    # The heartbeat is sent every minute; the probe allows three missed ones.
    assert settings.CELERY_BEAT_SCHEDULE["beat-heartbeat"]["schedule"] == 60
    assert "-mmin -3" in probe["exec"]["command"][-1]


def test_static_files_are_served_by_the_pods(manifests):
    """No CDN host is defined anywhere in the bundle, so asset URLs stay on the site's own."""
    rollout = one(manifests, "Rollout", "eren-web")["spec"]["template"]["spec"]
    config = one(manifests, "ConfigMap", spec_config_name(rollout, "eren-config"))["data"]
    assert config.get("STATIC_URL", "/static/").startswith("/")


def test_migration_job_is_bounded(manifests):
    job = one(manifests, "Job", "eren-migrate")
    spec = job["spec"]
    assert 0 <= spec["backoffLimit"] <= 2
    assert 0 < spec["activeDeadlineSeconds"] <= 1800
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    (container,) = spec["template"]["spec"]["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_default_deny_network_policy_with_the_needed_allows(manifests):
    deny = one(manifests, "NetworkPolicy", "default-deny")
    assert deny["spec"]["podSelector"] == {}
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    ports = {
        port["port"]
        for policy in of_kind(manifests, "NetworkPolicy")
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }
    assert {53, 5432, 6379, 443} <= ports
    web_in = one(manifests, "NetworkPolicy", "allow-alb-to-web")["spec"]["ingress"]
    assert [p["port"] for p in web_in[0]["ports"]] == [8000]


# kind -> (API group, resource) of what deploy.sh applies.
RESOURCES = {
    "ConfigMap": ("", "configmaps"), "Service": ("", "services"),
    "ServiceAccount": ("", "serviceaccounts"), "Ingress": ("networking.k8s.io", "ingresses"),
    "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
    "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
    "ExternalSecret": ("external-secrets.io", "externalsecrets"),
    "SecretStore": ("external-secrets.io", "secretstores"),
    "Rollout": ("argoproj.io", "rollouts"),
    "AnalysisTemplate": ("argoproj.io", "analysistemplates"),
    "Deployment": ("apps", "deployments"), "Job": ("batch", "jobs"),
}  # fmt: skip


def test_jenkins_may_apply_the_release_and_nothing_more(manifests):
    role = one(manifests, "Role", "eren-deployer")
    grants = {
        (group, resource, verb, tuple(rule.get("resourceNames", [])))
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    # Server-side apply creates or patches every kind the release applies ...
    for doc in manifests:
        if doc["kind"] in {"Namespace", "Role", "RoleBinding"}:
            continue  # applied by an operator: a deployer must not widen its own rights
        group, resource = RESOURCES[doc["kind"]]
        verbs = {"create"} if doc["kind"] == "Job" else {"create", "patch"}
        for verb in verbs:
            assert (group, resource, verb, ()) in grants, (doc["kind"], verb)
    # ... and may delete nothing but the migration Job, read no Secret, touch no RBAC.
    deletes = {
        (g, r, names) for g, r, verb, names in grants if verb in {"delete", "deletecollection"}
    }
    assert deletes == {("batch", "jobs", ("eren-migrate",))}
    resources = {resource for _, resource, _, _ in grants}
    assert not resources & {"secrets", "roles", "rolebindings", "namespaces", "pods/exec", "*"}
    assert all("*" not in verb for _, _, verb, _ in grants)
    binding = one(manifests, "RoleBinding", "eren-deployer")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "jenkins-deployer", "namespace": "ci-build"}
    ]


def test_workloads_run_on_the_app_node_group(manifests):
    for name, spec in pod_specs(manifests):
        assert spec.get("nodeSelector") == {"workload": "app"}, name


def test_database_connections_stay_under_the_critical_alert(manifests):
    """(HPA max + 1 canary) x PgBouncer's cap + Celery + beat + a migration <= 20, the
    warning level of the DB-connections alert (db.t3.micro allows about 30)."""
    rollout = one(manifests, "Rollout", "eren-web")
    ini = one(
        manifests,
        "ConfigMap",
        spec_config_name(rollout["spec"]["template"]["spec"], "eren-pgbouncer"),
    )
    per_pod = int(next(line.split("=")[1] for line in ini["data"]["pgbouncer.ini"].splitlines()
                       if line.startswith("max_db_connections")))  # fmt: skip
    assert rollout["spec"]["strategy"]["canary"]["dynamicStableScale"] is True
    web_pods = one(manifests, "HorizontalPodAutoscaler", "eren-web")["spec"]["maxReplicas"] + 1
    worker = one(manifests, "Deployment", "eren-worker")
    command = worker["spec"]["template"]["spec"]["containers"][0]["command"]
    concurrency = int(command[command.index("--concurrency") + 1])
    # During a worker rollout maxSurge adds one pod; its PgBouncer caps it like a web pod's.
    workers = worker["spec"]["replicas"] + worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    total = web_pods * per_pod + workers * min(concurrency, per_pod) + 1 + 1
    assert total <= 20, f"up to {total} connections"
