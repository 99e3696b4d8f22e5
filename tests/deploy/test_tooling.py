"""Dockerfile, compose file, YAML style, monitors, Datadog agent and the EKS cluster."""

import json
import re

import yaml

from tests.deploy import checks
from tests.deploy.conftest import DEPLOY, REPO, load_yaml, run, tool

DOCKERFILE = (REPO / "Dockerfile").read_text()
COMPOSE = load_yaml(REPO / "docker-compose.yml")


def test_yaml_files_pass_yamllint():
    result = run(
        [tool("yamllint"), "-c", str(DEPLOY / "yamllint.yaml"), "-f", "parsable",
         str(DEPLOY), str(REPO / "docker-compose.yml")],
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_dockerfiles_pass_hadolint():
    files = [REPO / "Dockerfile", DEPLOY / "jenkins" / "deploy-tools.Dockerfile"]
    result = run([tool("hadolint"), *map(str, files)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_parse():
    scripts = [DEPLOY / "image-check.sh", DEPLOY / "jenkins" / "deploy.sh"]
    for script in [*scripts, DEPLOY / "k8s" / "base" / "pgbouncer-run.sh"]:
        result = run(["sh", "-n", str(script)])
        assert result.returncode == 0, f"{script.name}: {result.stderr}"


def test_hadolint_flags_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y curl\n")
    assert run([tool("hadolint"), str(bad)]).returncode != 0


def test_image_is_pinned_non_root_and_runs_gunicorn_under_ddtrace():
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M).group(1)
    assert checks.image_problems(base) == []
    assert re.match(r"python:3\.12\.\d+-slim", base)
    assert DOCKERFILE.count("FROM ${PYTHON_IMAGE}") == 2  # multi-stage
    # Installed as make venv installs: the bundled pip takes only the pinned uv, uv the lock.
    assert "--require-hashes" in DOCKERFILE
    assert "-r /tmp/requirements/bootstrap.txt" in DOCKERFILE
    assert "uv pip sync" in DOCKERFILE
    assert "requirements/base.txt" in DOCKERFILE
    assert "collectstatic --noinput" in DOCKERFILE
    assert "USER 10001:10001" in DOCKERFILE
    assert 'CMD ["ddtrace-run", "gunicorn", "-c", "gunicorn.conf.py", "eren.wsgi"]' in DOCKERFILE
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".tools", "tests", "staticfiles"} <= set(ignored)


def test_compose_file_matches_the_compose_spec():
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(REPO / "docker-compose.yml")],
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_stack_reuses_one_image_behind_pgbouncer():
    services = COMPOSE["services"]
    assert set(services) >= {"web", "worker", "beat", "postgres", "redis", "pgbouncer", "mailpit"}
    app = ["web", "worker", "beat", "migrate"]
    assert {services[name]["image"] for name in app} == {"eren:dev"}
    assert "pgbouncer:6432" in services["web"]["environment"]["DATABASE_URL"]
    assert services["web"]["environment"]["DISABLE_SERVER_SIDE_CURSORS"] == "true"
    assert services["postgres"]["image"].startswith("postgres:16.")
    assert services["redis"]["image"].startswith("redis:7.")
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--maxmemory-policy") + 1] == "volatile-lru"
    assert "POOL_MODE: transaction" in yaml.safe_dump(services["pgbouncer"]["environment"])
    for name, service in services.items():
        assert checks.image_problems(service["image"] if name not in app else "eren:1") == []
        assert "healthcheck" in service or name in {"beat", "migrate"}, name
    for name in ("web", "worker", "beat"):
        conditions = {dep: c["condition"] for dep, c in services[name]["depends_on"].items()}
        assert conditions["pgbouncer"] == "service_healthy"
        assert conditions["redis"] == "service_healthy"
        assert conditions["migrate"] == "service_completed_successfully"
        assert services[name]["read_only"] is True


def test_monitors_cover_every_alert_threshold_of_the_architecture():
    monitors = {m["name"]: m for m in load_yaml(DEPLOY / "monitors" / "monitors.yaml")["monitors"]}
    expected = {
        "[eren] Error rate": (0.01, 0.05),
        "[eren] Response time p95": (0.5, 1),
        "[eren] DB connections": (20, 25),
        "[eren] Pod restarts": (3, 10),
        "[eren] Jenkins main build failures": (None, 3),
        # Issue 15: e-mails and points waiting in the outbox.
        "[eren] Outbox oldest pending": (180, 600),
        "[eren] Outbox dead letters": (None, 0),
    }
    assert set(monitors) == set(expected)
    for name, (warning, critical) in expected.items():
        monitor = monitors[name]
        thresholds = monitor["options"]["thresholds"]
        assert thresholds.get("warning") == warning, name
        assert thresholds["critical"] == critical, name
        assert monitor["query"].rstrip().endswith(f"> {critical}"), name
        assert "@pagerduty-" in monitor["message"], name
        assert monitor["runbook"].startswith("docs/runbook.md#"), name
        anchor = monitor["runbook"].split("#")[1]
        assert anchor in runbook_anchors(), f"{name}: no runbook section {anchor}"


def runbook_anchors() -> set[str]:
    headings = re.findall(r"^## (.+)$", (REPO / "docs" / "runbook.md").read_text(), re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_runbook_has_a_section_for_every_risk_of_the_architecture():
    assert runbook_anchors() >= {
        "database-overload", "pod-crashes-oom", "slow-queries", "cache-miss-storm",
        "failed-deployment", "data-loss-restore-from-an-rds-snapshot", "security-incident",
        "cost-overrun", "jenkins-controller-crash",
    }  # fmt: skip


def test_cost_alerts_at_200_400_and_550_dollars():
    budget = json.loads((DEPLOY / "monitors" / "aws-budget.json").read_text())
    thresholds = [n["Notification"]["Threshold"] for n in budget["NotificationsWithSubscribers"]]
    assert thresholds == [200, 400, 550]


def test_datadog_agent_runs_everywhere_with_apm_and_logs():
    values = load_yaml(DEPLOY / "datadog" / "values.yaml")
    assert values["datadog"]["apm"]["portEnabled"] is True
    assert values["datadog"]["logs"]["enabled"] is True
    assert values["datadog"]["apiKeyExistingSecret"]
    assert "apiKey" not in values["datadog"]
    assert {"key": "workload", "operator": "Exists", "effect": "NoSchedule"} in (
        values["agents"]["tolerations"]
    )
    assert checks.image_problems(f"datadog/agent:{values['agents']['image']['tag']}") == []


def test_eks_cluster_has_app_tainted_jenkins_and_system_node_groups():
    cluster = load_yaml(DEPLOY / "eksctl" / "cluster.yaml")
    groups = {g["name"]: g for g in cluster["managedNodeGroups"]}
    assert set(groups) == {"app", "jenkins", "system", "ci-agents"}
    assert groups["app"]["instanceType"] == "t3.medium"
    assert groups["app"]["desiredCapacity"] == 2
    assert groups["jenkins"]["instanceType"] == "t3.medium"
    assert groups["jenkins"]["taints"] == [
        {"key": "workload", "value": "jenkins", "effect": "NoSchedule"}
    ]
    for name, group in groups.items():
        assert group["labels"] == {"workload": name}
        assert group["privateNetworking"] is True
        # No node role may resize Auto Scaling groups: the autoscaler has its own.
        assert "autoScaler" not in group.get("iam", {}).get("withAddonPolicies", {}), name
    assert cluster["iam"]["withOIDC"] is True


def test_hpa_has_metrics_and_the_node_groups_an_autoscaler():
    cluster = load_yaml(DEPLOY / "eksctl" / "cluster.yaml")
    assert "metrics-server" in {addon["name"] for addon in cluster["addons"]}
    (account,) = [
        a
        for a in cluster["iam"]["serviceAccounts"]
        if a["metadata"]["name"] == "cluster-autoscaler"
    ]
    assert account["metadata"]["namespace"] == "kube-system"
    assert account["wellKnownPolicies"] == {"autoScaler": True}
    values = load_yaml(DEPLOY / "autoscaling" / "cluster-autoscaler-values.yaml")
    assert values["autoDiscovery"]["clusterName"] == cluster["metadata"]["name"]
    assert values["rbac"]["serviceAccount"] == {"create": False, "name": "cluster-autoscaler"}
    # The autoscaler's minor version follows the cluster's.
    assert values["image"]["tag"].startswith(f"v{cluster['metadata']['version']}.")
    groups = {g["name"]: g for g in cluster["managedNodeGroups"]}
    # Room to grow: web pods past two app nodes (HPA max 6), agents from zero.
    assert groups["app"]["maxSize"] > groups["app"]["desiredCapacity"]
    assert groups["ci-agents"]["minSize"] == 0 < groups["ci-agents"]["maxSize"]
