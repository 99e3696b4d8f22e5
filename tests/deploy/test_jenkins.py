"""Jenkins: the pipeline parses and follows the rules; agent pods and the controller
values match the architecture without its unsafe parts."""

import re

import pytest
import yaml

from tests.deploy import checks
from tests.deploy.conftest import (
    DEPLOY,
    INSTALL_HINT,
    REPO,
    groovy_lint_process,
    load_yaml,
    pod_specs,
)
from tests.deploy.test_kubernetes import validate_core

JENKINSFILE = (REPO / "Jenkinsfile").read_text()
AGENTS = sorted((DEPLOY / "jenkins" / "agents").glob("*.yaml"))
VALUES = load_yaml(DEPLOY / "jenkins" / "values.yaml")


def test_jenkinsfile_parses():
    process = groovy_lint_process()
    if process is None:
        pytest.fail(f"npm-groovy-lint is not installed: {INSTALL_HINT}")
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output


def test_pipeline_tests_builds_migrates_rolls_out_and_reports():
    stages = re.findall(r"stage\('([^']+)'\)", JENKINSFILE)
    assert stages == [
        "Test",
        "Pod check",
        "Build and push image",
        "Deploy to staging",
        "Approve production",
        "Deploy to production",
    ]
    assert "sh 'make test'" in JENKINSFILE
    assert "sh 'make pod-check'" in JENKINSFILE.split("stage('Build and push image')")[0]
    assert "yamlFile 'deploy/jenkins/agents/test-pod.yaml'" in JENKINSFILE
    assert "buildctl-daemonless.sh build" in JENKINSFILE
    assert 'IMAGE = "${ECR_REGISTRY}/eren:${GIT_COMMIT}"' in JENKINSFILE
    assert "api/v1/events" in JENKINSFILE  # Datadog deployment event
    assert "failure {" in JENKINSFILE
    assert "aws rds create-db-snapshot" in JENKINSFILE
    deploy_script = (DEPLOY / "jenkins" / "deploy.sh").read_text()
    assert deploy_script.index("eren-migrate") < deploy_script.index("argo rollouts")
    assert 'kubectl argo rollouts -n "$namespace" set image eren-web' in deploy_script
    assert 'kubectl argo rollouts -n "$namespace" status eren-web' in deploy_script


def test_main_only_stages_are_guarded():
    for stage in ("Build and push image", "Deploy to staging", "Deploy to production"):
        body = JENKINSFILE.split(f"stage('{stage}')", 1)[1][:200]
        assert "when { branch 'main' }" in body, stage


@pytest.mark.parametrize("path", [REPO / "Jenkinsfile", *AGENTS], ids=lambda p: p.name)
def test_no_docker_socket_kaniko_or_latest(path):
    text = path.read_text()
    assert "docker.sock" not in text
    assert "kaniko" not in text.lower()
    assert not re.search(r":latest\b", text)
    assert "privileged: true" not in text


@pytest.mark.parametrize("path", AGENTS, ids=lambda p: p.name)
def test_agent_pods_are_valid_pinned_and_sized(path):
    pod = load_yaml(path)
    validate_core(pod)
    assert checks.images_problems([pod]) == []
    assert checks.host_access_problems([pod]) == []
    assert checks.resources_problems([pod]) == []
    spec = pod["spec"]
    assert spec["nodeSelector"] == {"workload": "jenkins"}
    assert {"key": "workload", "operator": "Equal", "value": "jenkins", "effect": "NoSchedule"} in (
        spec["tolerations"]
    )


def test_test_agent_has_postgres_and_redis_sidecars():
    pod = load_yaml(DEPLOY / "jenkins" / "agents" / "test-pod.yaml")
    images = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
    assert images["postgres"].startswith("postgres:16.")
    assert images["redis"].startswith("redis:7.")


def test_pod_check_agent_may_make_namespaces_and_nothing_more():
    """make pod-check needs NET_ADMIN and SYS_ADMIN; baseline Pod Security (ci-cd) forbids
    them, so its agent runs in ci-build, not privileged."""
    pod = load_yaml(DEPLOY / "jenkins" / "agents" / "podcheck-pod.yaml")
    contexts = {c["name"]: c.get("securityContext", {}) for c in pod["spec"]["containers"]}
    assert contexts["python"]["capabilities"] == {"add": ["NET_ADMIN", "SYS_ADMIN"]}
    assert all("capabilities" not in c for name, c in contexts.items() if name != "python")
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    stage = JENKINSFILE.split("stage('Pod check')")[1].split("stage(")[0]
    assert "namespace 'ci-build'" in stage
    assert "podcheck-pod.yaml" in stage


def test_controller_values_follow_the_architecture():
    controller = VALUES["controller"]
    assert controller["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    assert controller["nodeSelector"] == {"workload": "jenkins"}
    assert VALUES["persistence"]["size"] == "20Gi"
    assert VALUES["persistence"]["storageClass"] == "gp3"
    assert checks.image_problems(f"jenkins/jenkins:{controller['image']['tag']}") == []
    assert controller["installLatestPlugins"] is False
    for plugin in controller["installPlugins"]:
        name, _, version = plugin.partition(":")
        assert version, f"{name} is not pinned"
        assert version != "latest"
    assert {p.split(":")[0] for p in controller["installPlugins"]} >= {
        "kubernetes", "workflow-aggregator", "git", "configuration-as-code", "datadog",
    }  # fmt: skip
    agent = VALUES["agent"]
    assert agent["namespace"] == "ci-cd"
    assert checks.image_problems(f"{agent['image']['repository']}:{agent['image']['tag']}") == []
    for template in agent["podTemplates"].values():
        (pod_template,) = yaml.safe_load(template)
        assert "workload: jenkins" in pod_template["yaml"]
    # JCasC snippets must be YAML (a broken one stops the controller from starting).
    for script in controller["JCasC"]["configScripts"].values():
        assert isinstance(yaml.safe_load(script), dict)


def test_jenkins_cluster_resources_are_valid():
    docs = list(yaml.safe_load_all((DEPLOY / "jenkins" / "cluster-resources.yaml").read_text()))
    for doc in docs:
        validate_core(doc)
    namespaces = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Namespace"}
    assert namespaces["ci-cd"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "baseline"
    )
    assert "namespace 'ci-build'" in JENKINSFILE.split("stage('Build and push image')")[1][:400]
    storage = next(d for d in docs if d["kind"] == "StorageClass")
    assert storage["parameters"]["type"] == "gp3"
    assert storage["reclaimPolicy"] == "Retain"
    assert not pod_specs(docs)
