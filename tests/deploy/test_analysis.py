"""The canary analysis: its real conditions, run as Argo Rollouts runs them, on Datadog
answers for a healthy, failing, slow, empty, quiet and broken canary."""

import json

import pytest
from django.urls import resolve

from tests.deploy import checks
from tests.deploy.argo_analysis import (
    ERROR,
    FAILED,
    INCONCLUSIVE,
    SUCCESSFUL,
    ExprError,
    Parser,
    eval_condition,
    evaluate_result,
    run_metric,
    run_phase,
)
from tests.deploy.conftest import DEPLOY, load_yaml, one, rendered

ANSWERS = DEPLOY.parent / "tests" / "deploy" / "datadog"
MONITORS = {m["name"]: m for m in load_yaml(DEPLOY / "monitors" / "monitors.yaml")["monitors"]}
ERROR_RATE_CRITICAL = MONITORS["[eren] Error rate"]["options"]["thresholds"]["critical"]
P95_THRESHOLDS = MONITORS["[eren] Response time p95"]["options"]["thresholds"]


def template(overlay: str = "production") -> dict:
    return one(rendered(overlay), "AnalysisTemplate", "eren-canary")


def metrics(overlay: str = "production") -> dict[str, dict]:
    return {metric["name"]: metric for metric in template(overlay)["spec"]["metrics"]}


# --- The evaluator against Argo's own expectations -------------------------------------

# Cases of Argo Rollouts' metricproviders/datadog tests: (success, failure, result, phase).
ARGO_CASES = [
    ("result < 0.001", "result >= 0.001", 0.0003332881882246533, SUCCESSFUL),
    ("result < 0.001", "result >= 0.001", 0.006121378742186943, FAILED),
    ("default(result, 0) < 0.05", "", 0.006121378742186943, SUCCESSFUL),
    ("result < 0.05", "", None, ERROR),  # "mismatched types <nil> and float64"
    ("default(result, 0) < 0.05", "", None, SUCCESSFUL),
    ("default(result, 1) < 0.05", "", None, FAILED),
    ("default(result, 1) < 0.05", "", 0.006121378742186943, SUCCESSFUL),
    ("", "", 0.5, SUCCESSFUL),
    ("", "result > 0.5", 0.4, SUCCESSFUL),
    ("asFloat(result) >= 0.5", "", 0.5, SUCCESSFUL),
    ("isNil(result)", "", None, SUCCESSFUL),
]


@pytest.mark.parametrize(("success", "failure", "result", "phase"), ARGO_CASES)
def test_evaluator_agrees_with_argo_rollouts_own_cases(success, failure, result, phase):
    metric = {"successCondition": success, "failureCondition": failure}
    assert evaluate_result(metric, result) == phase


def test_evaluator_follows_expr_precedence_and_short_circuit():
    assert eval_condition("true || false && false", None) is True  # && binds tighter
    assert eval_condition("(true || false) && false", None) is False
    assert eval_condition("not isNil(result) and result > 1", 2.0) is True
    # The right side is never run when the left decides: no run-time error on nil.
    assert eval_condition("isNil(result) || default(result, 0) > 1", None) is True
    tree = Parser("!isNil(result) && default(result, 0) <= 0.05").parse()
    assert tree[:2] == ("binary", "&&")
    assert tree[2][:2] == ("unary", "!")


@pytest.mark.parametrize(
    "condition",
    ["result in [1, 2]", "len(result) > 0", "result + 1 > 2", "foo > 1", "result >", "isNil()"],
)
def test_evaluator_refuses_what_it_does_not_implement(condition):
    with pytest.raises(ExprError):
        eval_condition(condition, 1.0)


def test_a_nil_result_compared_as_a_number_is_an_error_not_a_pass():
    with pytest.raises(ExprError, match=r"mismatched types <nil> and float64"):
        eval_condition("result <= 0.05", None)
    with pytest.raises(ExprError, match="expected bool"):
        eval_condition("default(result, 0)", None)


# --- The template's conditions on recorded answers -------------------------------------


def answers(name: str) -> dict:
    return json.loads((ANSWERS / f"{name}.json").read_text())["answers"]


def analyse(name: str, overlay: str = "production") -> dict[str, str]:
    recorded = answers(name)
    phases = {}
    for metric_name, metric in metrics(overlay).items():
        answer = recorded[metric_name]
        phases[metric_name], _ = run_metric(metric, answer["status"], answer["body"])
    return phases


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        ("normal", {"requests": SUCCESSFUL, "error-rate": SUCCESSFUL, "latency-p95": SUCCESSFUL}),
        ("failing", {"requests": SUCCESSFUL, "error-rate": FAILED, "latency-p95": SUCCESSFUL}),
        ("slow", {"requests": SUCCESSFUL, "error-rate": SUCCESSFUL, "latency-p95": FAILED}),
        (
            "warning-latency",
            {"requests": SUCCESSFUL, "error-rate": SUCCESSFUL, "latency-p95": INCONCLUSIVE},
        ),
        (
            "empty",
            {"requests": INCONCLUSIVE, "error-rate": INCONCLUSIVE, "latency-p95": INCONCLUSIVE},
        ),
        (
            "low-traffic",
            {"requests": INCONCLUSIVE, "error-rate": SUCCESSFUL, "latency-p95": SUCCESSFUL},
        ),
        # Argo decodes null as 0: the error rate and p95 pass, the traffic check does not.
        (
            "null-values",
            {"requests": INCONCLUSIVE, "error-rate": SUCCESSFUL, "latency-p95": SUCCESSFUL},
        ),
        ("datadog-error", {"requests": ERROR, "error-rate": ERROR, "latency-p95": ERROR}),
    ],
)
def test_each_metric_judges_the_recorded_answers(situation, expected, overlay):
    assert analyse(situation, overlay) == expected


@pytest.mark.parametrize(
    ("situation", "rollout"),
    [
        ("normal", SUCCESSFUL),  # next step
        ("failing", FAILED),  # abort: all traffic back to stable
        ("slow", FAILED),
        ("warning-latency", INCONCLUSIVE),  # paused for a person
        ("empty", INCONCLUSIVE),
        ("low-traffic", INCONCLUSIVE),
        ("null-values", INCONCLUSIVE),
        ("datadog-error", ERROR),  # abort
    ],
)
def test_only_a_healthy_busy_canary_passes(situation, rollout):
    assert run_phase(list(analyse(situation).values())) == rollout


def test_no_answer_without_data_is_ever_a_pass_or_an_error():
    """The old template's `default(result, 0) <= 0.05` passed on no data; these must not."""
    assert evaluate_result({"successCondition": "default(result, 0) <= 0.05"}, None) == SUCCESSFUL
    for name, metric in metrics().items():
        assert evaluate_result(metric, None) == INCONCLUSIVE, name


def test_thresholds_are_the_seeds_alert_levels():
    by_name = metrics()
    error_rate, latency = by_name["error-rate"], by_name["latency-p95"]
    requests = by_name["requests"]
    assert evaluate_result(error_rate, ERROR_RATE_CRITICAL) == SUCCESSFUL
    assert evaluate_result(error_rate, ERROR_RATE_CRITICAL + 0.0001) == FAILED
    assert evaluate_result(latency, P95_THRESHOLDS["warning"]) == SUCCESSFUL
    assert evaluate_result(latency, P95_THRESHOLDS["warning"] + 0.001) == INCONCLUSIVE
    assert evaluate_result(latency, P95_THRESHOLDS["critical"]) == INCONCLUSIVE
    assert evaluate_result(latency, P95_THRESHOLDS["critical"] + 0.001) == FAILED
    assert evaluate_result(requests, 99.0) == INCONCLUSIVE
    assert evaluate_result(requests, 100.0) == SUCCESSFUL
    for metric in by_name.values():
        # One bad or inconclusive measurement is enough to stop the canary.
        assert int(metric.get("failureLimit", 0)) == 0
        assert int(metric.get("inconclusiveLimit", 0)) == 0
        assert int(metric["count"]) >= 3


# --- Queries ----------------------------------------------------------------------------


def test_queries_select_the_canarys_own_requests_without_health_checks():
    # ddtrace names a Django resource "<METHOD> <route>"; Datadog tags it lower-cased with
    # spaces as underscores.
    health = {f"get_{resolve(path).route}" for path in ("/health", "/health/ready")}
    for name, metric in metrics().items():
        datadog = metric["provider"]["datadog"]
        assert datadog["apiVersion"] == "v2"
        assert datadog["secretRef"] == {"name": "eren-datadog-analysis", "namespaced": True}
        for query in datadog["queries"].values():
            scope = query[query.index("{") + 1 : query.rindex("}")]
            tags = set(scope.split(","))
            assert {"env:{{args.env}}", "service:eren-web", "version:{{args.canary-hash}}"} <= tags
            assert {tag[len("!resource_name:") :] for tag in tags if tag.startswith("!")} == (
                health
            ), name
        # Counts are summed over the window; the p95 is the window's percentile.
        expected = "percentile" if name == "latency-p95" else "sum"
        assert datadog["aggregator"] == expected, name
    assert metrics()["error-rate"]["provider"]["datadog"]["formula"] == (
        "default_zero(errors) / hits"
    )


def test_every_weight_below_100_is_followed_by_the_analysis(overlay):
    rollout = one(rendered(overlay), "Rollout", "eren-web")
    assert checks.canary_problems(rollout) == []
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    analyses = [step["analysis"] for step in steps if "analysis" in step]
    assert len(analyses) == 2
    for analysis in analyses:
        assert analysis["templates"] == [{"templateName": "eren-canary"}]
        args = {arg["name"]: arg for arg in analysis["args"]}
        assert args["canary-hash"]["valueFrom"] == {"podTemplateHashValue": "Latest"}
        assert args["env"]["value"] == overlay
    assert {arg["name"] for arg in template(overlay)["spec"]["args"]} == {"canary-hash", "env"}
    # The web pods tag their traces with the revision the analysis selects.
    spec = rollout["spec"]["template"]["spec"]
    web = next(c for c in spec["containers"] if c["name"] == "web")
    version = next(e for e in web["env"] if e["name"] == "DD_VERSION")
    assert version["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['rollouts-pod-template-hash']"
    )
