"""Jenkins: the pipeline parses and follows the rules; agent pods and the controller
values match the architecture without its unsafe parts."""

import json
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
    run,
    tool,
)
from tests.deploy.test_kubernetes import CUSTOM_KINDS, validate_core

JENKINSFILE = (REPO / "Jenkinsfile").read_text()
AGENTS = sorted((DEPLOY / "jenkins" / "agents").glob("*.yaml"))
VALUES = load_yaml(DEPLOY / "jenkins" / "values.yaml")
JCASC = {
    name: yaml.safe_load(script)
    for name, script in VALUES["controller"]["JCasC"]["configScripts"].items()
}
CLUSTER = {g["name"]: g for g in load_yaml(DEPLOY / "eksctl" / "cluster.yaml")["managedNodeGroups"]}


def stage(name: str) -> str:
    """The text of one stage of the Jenkinsfile."""
    body = JENKINSFILE.split(f"stage('{name}')", 1)[1]
    return body.split("\n        stage(", 1)[0].split("\n    post {", 1)[0]


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
    # The release itself (deploy.sh) is run dry in test_release.py.


def test_main_only_stages_are_guarded():
    for name in ("Pod check", "Build and push image", "Deploy to staging", "Deploy to production"):
        body = stage(name)
        assert "when { branch 'main' }" in body, name
        # ... and run in ci-build through the cloud only main's release job may use.
        assert "cloud 'release'" in body, name
        assert "namespace 'ci-build'" in body, name
    assert "cloud 'release'" not in stage("Test")


def test_the_approval_waits_24_hours_without_a_pod_or_a_shorter_timeout():
    options = JENKINSFILE.split("options {", 1)[1].split("}", 1)[0]
    assert "timeout" not in options, "a pipeline-wide timeout cuts the approval short"
    approval = stage("Approve production")
    assert "agent" not in approval
    assert "timeout(time: 24, unit: 'HOURS')" in approval
    assert "input message:" in approval
    for name in (
        "Test",
        "Pod check",
        "Build and push image",
        "Deploy to staging",
        "Deploy to production",
    ):
        assert re.search(
            r"options \{ timeout\(time: \d+, unit: '(MINUTES|HOURS)'\) \}", stage(name)
        )
    # The deploy stages outlast the canary's wait for a person.
    assert "ROLLOUT_TIMEOUT = '2h'" in JENKINSFILE
    assert "timeout(time: 3, unit: 'HOURS')" in stage("Deploy to production")


def test_a_failed_main_build_pages_from_a_pod_of_its_own():
    post = JENKINSFILE.rsplit("    post {", 1)[1]
    assert "failure {" in post
    assert "env.BRANCH_NAME == 'main'" in post
    assert "pageOnCall(" in post
    page = JENKINSFILE.split("def pageOnCall(", 1)[1].split("\npipeline {", 1)[0]
    assert "podTemplate(yaml: readTrusted('deploy/jenkins/agents/notify-pod.yaml'))" in page
    assert "node(POD_LABEL)" in page
    assert page.index("node(POD_LABEL)") < page.index("sh ")
    assert "events.pagerduty.com/v2/enqueue" in page


def test_releases_use_the_image_digest_buildkit_pushed():
    build = stage("Build and push image")
    assert "--metadata-file build-metadata.json" in build
    assert "containerimage.digest" in build
    assert 'env.RELEASE_IMAGE = "${env.IMAGE_REPOSITORY}@${env.IMAGE_DIGEST}"' in build
    for name, env in (("Deploy to staging", "staging"), ("Deploy to production", "production")):
        assert f'deploy/jenkins/deploy.sh {env} "$RELEASE_IMAGE"' in stage(name)


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
    assert spec["nodeSelector"] == {"workload": "ci-agents"}
    assert {
        "key": "workload", "operator": "Equal", "value": "ci-agents", "effect": "NoSchedule"
    } in spec["tolerations"]  # fmt: skip


# Allocatable of an EKS node (AL2023 AMI): memory less kube-reserved (255 MiB + 11 MiB a pod,
# 17 pods on a t3.medium) and the 100 MiB eviction threshold, of the ~3.8 GiB the kernel
# sees; CPU less 6% of the first core and 1% of the second.
ALLOCATABLE = {"t3.medium": (1930, 3350)}  # millicores, MiB
# DaemonSets on every node besides the Datadog agent's: kube-proxy, aws-node (VPC CNI
# with its network-policy agent), ebs-csi-node, eks-pod-identity (EKS add-on defaults).
SYSTEM_DAEMONSETS = (100 + 25 + 25 + 30 + 25, 60 + 40)


def quantity(value: str | int | float, unit: str) -> int:
    value = str(value)
    if unit == "cpu":
        return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)
    factors = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    suffix = value[-2:]
    return int(float(value[:-2]) * factors[suffix]) if suffix in factors else int(value) // 2**20


def pod_requests(spec: dict) -> tuple[int, int]:
    """What the scheduler reserves: the containers' sum, or the largest init container."""

    def total(items):
        return [
            sum(quantity(c["resources"]["requests"][r], r) for c in items)
            for r in ("cpu", "memory")
        ]

    main = total(spec.get("containers", []))
    inits = [
        total([c]) for c in spec.get("initContainers", []) if c.get("restartPolicy") != "Always"
    ]
    return tuple(max([main[i], *[init[i] for init in inits]]) for i in range(2))


def daemonsets() -> tuple[int, int]:
    agent = load_yaml(DEPLOY / "datadog" / "values.yaml")["agents"]["containers"]
    cpu = sum(quantity(c["resources"]["requests"]["cpu"], "cpu") for c in agent.values())
    memory = sum(quantity(c["resources"]["requests"]["memory"], "memory") for c in agent.values())
    return cpu + SYSTEM_DAEMONSETS[0], memory + SYSTEM_DAEMONSETS[1]


def free_on(group: str) -> tuple[int, int]:
    allocatable = ALLOCATABLE[CLUSTER[group]["instanceType"]]
    used = daemonsets()
    return allocatable[0] - used[0], allocatable[1] - used[1]


def test_agents_fit_their_node_group_and_the_controller_fits_its_own():
    pods = {path.stem: pod_requests(load_yaml(path)["spec"]) for path in AGENTS}
    cpu, memory = free_on("ci-agents")
    # A test pod (a pull request) beside main's build, deploy or pager pod, on one node.
    for other in ("build-pod", "deploy-pod", "notify-pod", "podcheck-pod"):
        assert pods["test-pod"][0] + pods[other][0] <= cpu, other
        assert pods["test-pod"][1] + pods[other][1] <= memory, other
    # The Jenkins node holds the controller (1 CPU, 2 GiB: the architecture) and DaemonSets.
    requests = VALUES["controller"]["resources"]["requests"]
    cpu, memory = free_on("jenkins")
    assert quantity(requests["cpu"], "cpu") <= cpu
    assert quantity(requests["memory"], "memory") <= memory
    # Agents go to the autoscaled group that costs nothing while no build runs.
    assert CLUSTER["ci-agents"]["minSize"] == 0
    assert CLUSTER["ci-agents"]["propagateASGTags"] is True
    assert CLUSTER["ci-agents"]["taints"] == [
        {"key": "workload", "value": "ci-agents", "effect": "NoSchedule"}
    ]
    assert CLUSTER["jenkins"]["maxSize"] == 1


def test_test_agent_has_postgres_and_redis_sidecars():
    pod = load_yaml(DEPLOY / "jenkins" / "agents" / "test-pod.yaml")
    images = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
    assert images["postgres"].startswith("postgres:16.")
    assert images["redis"].startswith("redis:7.")


def test_pod_check_agent_may_make_namespaces_and_nothing_more():
    """make pod-check needs NET_ADMIN and SYS_ADMIN; baseline Pod Security (ci-cd) forbids
    them, so its agent runs in ci-build, through the release cloud, not privileged."""
    pod = load_yaml(DEPLOY / "jenkins" / "agents" / "podcheck-pod.yaml")
    contexts = {c["name"]: c.get("securityContext", {}) for c in pod["spec"]["containers"]}
    assert contexts["python"]["capabilities"] == {"add": ["NET_ADMIN", "SYS_ADMIN"]}
    assert all("capabilities" not in c for name, c in contexts.items() if name != "python")
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "serviceAccountName" not in pod["spec"]
    body = stage("Pod check")
    assert "podcheck-pod.yaml" in body
    assert "sh 'make pod-check'" in body


def test_controller_values_follow_the_architecture():
    controller = VALUES["controller"]
    assert controller["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    assert controller["nodeSelector"] == {"workload": "jenkins"}
    assert VALUES["persistence"]["size"] == "20Gi"
    assert VALUES["persistence"]["storageClass"] == "gp3"
    assert checks.image_problems(f"jenkins/jenkins:{controller['image']['tag']}") == []
    assert "@sha256:" in controller["image"]["tag"]
    assert controller["installLatestPlugins"] is False
    for plugin in controller["installPlugins"]:
        name, _, version = plugin.partition(":")
        assert version, f"{name} is not pinned"
        assert version != "latest"
    assert {p.split(":")[0] for p in controller["installPlugins"]} >= {
        "kubernetes", "workflow-aggregator", "git", "configuration-as-code", "datadog",
        "job-dsl", "github-branch-source",
    }  # fmt: skip
    # JCasC snippets must be YAML (a broken one stops the controller from starting).
    assert all(isinstance(config, dict) for config in JCASC.values())
    assert controller["JCasC"]["defaultConfig"] is False  # one place for the clouds


def test_jcasc_defines_two_clouds_and_only_main_may_use_the_release_one():
    clouds = {
        c["kubernetes"]["name"]: c["kubernetes"] for c in JCASC["jenkins"]["jenkins"]["clouds"]
    }
    assert set(clouds) == {"kubernetes", "release"}
    assert clouds["kubernetes"]["namespace"] == "ci-cd"
    assert "credentialsId" not in clouds["kubernetes"]  # the controller's own ServiceAccount
    assert clouds["kubernetes"].get("usageRestricted", False) is False
    release = clouds["release"]
    assert release["namespace"] == "ci-build"
    assert release["usageRestricted"] is True
    for cloud in clouds.values():
        assert cloud["jenkinsTunnel"].endswith(":50000")
    # The launcher token is a SYSTEM credential: the cloud may use it, no build can read it.
    credentials = {
        next(iter(c.values()))["id"]: c
        for c in JCASC["credentials"]["credentials"]["system"]["domainCredentials"][0][
            "credentials"
        ]
    }
    assert set(credentials) == {
        "github-app", "datadog-api-key", "pagerduty-routing-key", release["credentialsId"],
    }  # fmt: skip
    assert credentials[release["credentialsId"]]["string"]["scope"] == "SYSTEM"
    # Every ${secret-key} JCasC reads is mounted from a Kubernetes Secret.
    mounted = {
        f"{s['name']}-{s['keyName']}" for s in VALUES["controller"]["additionalExistingSecrets"]
    }
    used = set(re.findall(r"\$\{([a-z0-9-]+)\}", yaml.safe_dump(JCASC["credentials"])))
    assert used <= mounted, used - mounted
    # The controller's ServiceAccount has no rights in ci-build; the launcher's has.
    docs = list(yaml.safe_load_all((DEPLOY / "jenkins" / "cluster-resources.yaml").read_text()))
    bindings = [
        d for d in docs if d["kind"] == "RoleBinding" and d["metadata"]["namespace"] == "ci-build"
    ]
    subjects = [s["name"] for b in bindings for s in b["subjects"]]
    assert subjects == ["jenkins-release-launcher"]


def test_jobs_are_defined_in_jcasc_and_poll_the_repository():
    (job,) = JCASC["jobs"]["jobs"]
    script = job["script"]
    assert "multibranchPipelineJob('ci/eren')" in script
    assert "multibranchPipelineJob('release/eren')" in script
    # Branches and pull requests test in ci/; main releases from release/, the only folder
    # permitted the release cloud.
    assert "branchSources(github('eren-ci', '*', 'main'))" in script
    assert "branchSources(github('eren-release', 'main', ''))" in script
    release_folder = script.split("folder('release')", 1)[1].split("multibranchPipelineJob", 1)[0]
    assert "permittedClouds(['release'])" in release_folder
    # Internal-only controller: no webhook can reach it, so both jobs scan every 5 minutes.
    assert script.count("periodicFolderTrigger { interval('5m') }") == 2
    assert "credentialsId('github-app')" in script


def test_jenkins_cluster_resources_are_valid(tmp_path):
    docs = list(yaml.safe_load_all((DEPLOY / "jenkins" / "cluster-resources.yaml").read_text()))
    for index, doc in enumerate(docs):
        if doc["kind"] in CUSTOM_KINDS:
            path = tmp_path / f"{index}.json"
            path.write_text(json.dumps(doc))
            schema = str(CUSTOM_KINDS[doc["kind"]])
            result = run([tool("check-jsonschema"), "--schemafile", schema, str(path)])
            assert result.returncode == 0, result.stdout
        else:
            validate_core(doc)
    namespaces = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Namespace"}
    assert namespaces["ci-cd"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "baseline"
    )
    storage = next(d for d in docs if d["kind"] == "StorageClass")
    assert storage["parameters"]["type"] == "gp3"
    assert storage["reclaimPolicy"] == "Retain"
    assert not pod_specs(docs)
    # Deploy pods run as jenkins-deployer, which lives in ci-build like the build pods.
    deployer = next(d for d in docs if d["metadata"]["name"] == "jenkins-deployer")
    assert deployer["metadata"]["namespace"] == "ci-build"
    for name in ("build-pod", "deploy-pod"):
        account = load_yaml(DEPLOY / "jenkins" / "agents" / f"{name}.yaml")["spec"][
            "serviceAccountName"
        ]
        assert any(
            d["kind"] == "ServiceAccount" and d["metadata"]["name"] == account
            and d["metadata"]["namespace"] == "ci-build" for d in docs
        ), name  # fmt: skip


def test_agents_in_both_namespaces_may_reach_the_controller():
    docs = list(yaml.safe_load_all((DEPLOY / "jenkins" / "cluster-resources.yaml").read_text()))
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert policy["metadata"]["namespace"] == "ci-cd"
    # The labels the Jenkins chart puts on the controller pod.
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/component": "jenkins-controller",
        "app.kubernetes.io/instance": VALUES["fullnameOverride"],
    }
    agent_rule = next(
        rule for rule in policy["spec"]["ingress"]
        if {"protocol": "TCP", "port": 50000} in rule["ports"]
    )  # fmt: skip
    (source,) = agent_rule["from"]
    (expression,) = source["namespaceSelector"]["matchExpressions"]
    assert expression["key"] == "kubernetes.io/metadata.name"
    assert set(expression["values"]) == {"ci-cd", "ci-build"}
    assert VALUES["networkPolicy"]["enabled"] is False  # the chart's admits ci-cd only
