"""How Argo Rollouts (v1.9) judges one measurement of a Datadog metric, for the offline tests.

Argo compiles each successCondition/failureCondition with expr-lang, in an environment of
`result` (the measurement, or nil when Datadog returned no value) and a few functions, then
turns the two booleans into a phase (utils/evaluate/evaluate.go); the Datadog provider
reads the value from the v2 scalar answer (metricproviders/datadog/datadog.go).

No expr-lang implementation runs here (it is Go, and no maintained Python port exists), so
this is an evaluator for the part of the language the AnalysisTemplate may use: numbers,
true/false/nil, `result`, isNil/default/asFloat, `!`/not, &&/and, ||/or and the six
comparisons, with expr-lang's precedence, its type checker's rules and its short-circuit
evaluation. Anything else is refused, so the template cannot drift into syntax the tests do
not understand. The checker rule that matters most: a nil `result` has the type nil, and
comparing it with a number is a compile error, so the measurement is an Error, not
inconclusive (Argo's own tests expect exactly this: "mismatched types <nil> and float64").
"""

import re
from dataclasses import dataclass

SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR = "Successful", "Failed", "Inconclusive", "Error"


class ExprError(Exception):
    """A compile or run-time error of expr-lang: Argo marks the measurement as Error."""


# --- Tokens and syntax ------------------------------------------------------------------

TOKEN_RE = re.compile(
    r"\s*(?:(?P<number>\d+\.\d*|\.\d+|\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||<=|>=|==|!=|[<>!(),]))"
)
# expr-lang's parser/operator table, for the operators of the subset.
BINARY = {"||": 10, "or": 10, "&&": 15, "and": 15, "==": 20, "!=": 20, "<": 20, ">": 20,
          "<=": 20, ">=": 20}  # fmt: skip
UNARY = {"!": 50, "not": 50}
CANONICAL = {"or": "||", "and": "&&", "not": "!"}
# Name -> (number of arguments, return type) of the functions Argo puts in the environment.
FUNCTIONS = {"isNil": (1, "bool"), "default": (2, "any"), "asFloat": (1, "float")}


def tokenize(source: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = TOKEN_RE.match(source, position)
        if not match:
            raise ExprError(f"unexpected character {source[position:].strip()[0]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class Parser:
    """Precedence climbing, as expr-lang's parser does it (all operators left-associative)."""

    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExprError("unexpected end of expression")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise ExprError(f"expected {value!r}, found {token[1]!r}")

    def parse(self) -> tuple:
        node = self.expression(0)
        if self.peek() is not None:
            raise ExprError(f"unexpected token {self.peek()[1]!r}")
        return node

    def expression(self, minimum: int) -> tuple:
        node = self.primary()
        while (token := self.peek()) and token[1] in BINARY and BINARY[token[1]] >= minimum:
            self.take()
            right = self.expression(BINARY[token[1]] + 1)
            node = ("binary", CANONICAL.get(token[1], token[1]), node, right)
        return node

    def primary(self) -> tuple:
        kind, value = self.take()
        if value in UNARY:
            return ("unary", "!", self.expression(UNARY[value]))
        if value == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if kind == "number":
            return ("literal", float(value) if "." in value else int(value))
        if kind == "name":
            if value in {"true", "false"}:
                return ("literal", value == "true")
            if value == "nil":
                return ("literal", None)
            if (token := self.peek()) and token[1] == "(":
                self.take()
                arguments = []
                while (token := self.peek()) and token[1] != ")":
                    arguments.append(self.expression(0))
                    if (token := self.peek()) and token[1] == ",":
                        self.take()
                self.expect(")")
                return ("call", value, arguments)
            return ("name", value)
        raise ExprError(f"unexpected token {value!r}")


# --- expr-lang's type checker (checker/checker.go), for the subset -----------------------


def type_of(value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    return "int" if isinstance(value, int) else "float"


GO_TYPES = {"nil": "<nil>", "bool": "bool", "int": "int", "float": "float64", "any": "interface {}"}


def check(node: tuple, result_type: str) -> str:
    kind = node[0]
    if kind == "literal":
        return type_of(node[1])
    if kind == "name":
        if node[1] != "result":
            raise ExprError(f"unknown name {node[1]}")
        return result_type
    if kind == "call":
        name, arguments = node[1], node[2]
        if name not in FUNCTIONS:
            raise ExprError(f"unknown name {name}")
        arity, returns = FUNCTIONS[name]
        if len(arguments) != arity:
            raise ExprError(f"not enough arguments to call {name}")
        for argument in arguments:
            check(argument, result_type)
        return returns
    if kind == "unary":
        operand = check(node[2], result_type)
        if operand not in {"bool", "any"}:
            raise ExprError(f"invalid operation: ! (mismatched type {GO_TYPES[operand]})")
        return "bool"
    operator, left, right = node[1], check(node[2], result_type), check(node[3], result_type)
    numbers = {"int", "float"}
    if operator in {"&&", "||"}:
        allowed = {"bool", "any"}
        ok = left in allowed and right in allowed
    elif operator in {"==", "!="}:
        ok = "any" in {left, right} or "nil" in {left, right} or left == right
        ok = ok or (left in numbers and right in numbers)
    else:  # < > <= >=: numbers, or a number and an interface value checked at run time
        ok = (left in numbers or left == "any") and (right in numbers or right == "any")
    if not ok:
        raise ExprError(
            f"invalid operation: {operator} (mismatched types {GO_TYPES[left]} and "
            f"{GO_TYPES[right]})"
        )
    return "bool"


# --- Evaluation (vm/runtime), with Argo's functions -------------------------------------


def evaluate(node: tuple, result):
    kind = node[0]
    if kind == "literal":
        return node[1]
    if kind == "name":
        return result
    if kind == "call":
        name = node[1]
        arguments = [evaluate(argument, result) for argument in node[2]]
        if name == "isNil":  # Argo's isNil ignores its argument and asks about the result
            return result is None
        if name == "default":
            return arguments[1] if result is None else result
        if isinstance(arguments[0], bool) or not isinstance(arguments[0], int | float):
            raise ExprError(f"asFloat() not supported on {arguments[0]!r}")
        return float(arguments[0])
    if kind == "unary":
        operand = evaluate(node[2], result)
        if not isinstance(operand, bool):
            raise ExprError(f"invalid operation: !{type_of(operand)}")
        return not operand
    operator = node[1]
    left = evaluate(node[2], result)
    if operator in {"&&", "||"}:
        if not isinstance(left, bool):
            raise ExprError(f"invalid operation: {operator} on {type_of(left)}")
        if (operator == "&&" and not left) or (operator == "||" and left):
            return left  # short circuit: the right side is never run
        right = evaluate(node[3], result)
        if not isinstance(right, bool):
            raise ExprError(f"invalid operation: {operator} on {type_of(right)}")
        return right
    right = evaluate(node[3], result)
    if operator in {"==", "!="}:
        equal = left == right and isinstance(left, bool) == isinstance(right, bool)
        return equal if operator == "==" else not equal
    numeric = (int, float)
    if (
        isinstance(left, bool)
        or isinstance(right, bool)
        or not (isinstance(left, numeric) and isinstance(right, numeric))
    ):
        raise ExprError(f"invalid operation: {type_of(left)} {operator} {type_of(right)}")
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[
        operator
    ]


def eval_condition(condition: str, result: float | None) -> bool:
    """evaluate.EvalCondition: compile against the result's type, run, demand a bool."""
    tree = Parser(condition).parse()
    check(tree, type_of(result))
    output = evaluate(tree, result)
    if not isinstance(output, bool):
        raise ExprError(f"expected bool, but got {type(output).__name__}")
    return output


def evaluate_result(metric: dict, result: float | None) -> str:
    """evaluate.EvaluateResult: the phase of one measurement."""
    success_condition = metric.get("successCondition", "")
    failure_condition = metric.get("failureCondition", "")
    try:
        success = bool(success_condition) and eval_condition(success_condition, result)
        failure = bool(failure_condition) and eval_condition(failure_condition, result)
    except ExprError:
        return ERROR
    if not success_condition and not failure_condition:
        return SUCCESSFUL
    if success_condition and not failure_condition:
        failure = not success
    elif failure_condition and not success_condition:
        success = not failure
    if failure:
        return FAILED
    return SUCCESSFUL if success else INCONCLUSIVE


# --- The Datadog provider's reading of a v2 scalar answer -------------------------------


def datadog_v2_result(status: int, body: dict) -> float | None:
    """parseResponseV2: the first value of the first column; None when there is none.

    Go decodes the column's values into []float64, so a JSON null becomes 0, not nil.
    """
    if status != 200:
        raise ExprError(f"received non 2xx response code: {status}")
    data = body.get("data") or {}
    if data.get("errors"):
        raise ExprError(f"There were errors in your query: {data['errors']}")
    columns = (data.get("attributes") or {}).get("columns") or []
    if not columns or not columns[0].get("values"):
        return None
    value = columns[0]["values"][0]
    return 0.0 if value is None else float(value)


@dataclass(frozen=True)
class Measurement:
    value: float | None
    phase: str


def measure(metric: dict, status: int, body: dict) -> Measurement:
    try:
        value = datadog_v2_result(status, body)
    except ExprError:
        return Measurement(None, ERROR)
    return Measurement(value, evaluate_result(metric, value))


def run_metric(metric: dict, status: int, body: dict) -> tuple[str, list[Measurement]]:
    """Measure until the metric completes, Datadog answering the same each time.

    As analysis/analysis.go assesses a metric after each measurement: more failed than
    failureLimit fails it, more inconclusive than inconclusiveLimit makes it inconclusive,
    more consecutive errors than consecutiveErrorLimit (default 4) errors it; `count`
    measurements that are not errors complete it.
    """
    measurements: list[Measurement] = []
    counted = consecutive_errors = 0
    while True:
        measurement = measure(metric, status, body)
        measurements.append(measurement)
        phases = [m.phase for m in measurements]
        if measurement.phase == ERROR:
            consecutive_errors += 1
        else:
            consecutive_errors, counted = 0, counted + 1
        if phases.count(FAILED) > int(metric.get("failureLimit", 0)):
            return FAILED, measurements
        if phases.count(INCONCLUSIVE) > int(metric.get("inconclusiveLimit", 0)):
            return INCONCLUSIVE, measurements
        if consecutive_errors > int(metric.get("consecutiveErrorLimit", 4)):
            return ERROR, measurements
        if counted >= int(metric.get("count", 1)):
            return SUCCESSFUL, measurements


def run_phase(metric_phases: list[str]) -> str:
    """The AnalysisRun's phase: the worst of its metrics'."""
    for phase in (FAILED, ERROR, INCONCLUSIVE):
        if phase in metric_phases:
            return phase
    return SUCCESSFUL
