"""One bounded, seeded schemathesis campaign against the served OpenAPI document, every request signed.

Phases: for each operation, the examples and coverage cases schemathesis derives from the document (boundary
and invalid values) and generated cases in positive and negative modes; then the stateful phase, which follows
the links the document declares (enrollment -> visit -> charges -> close -> bill -> payment).

Nothing raises while the campaign runs: every response is classified and counted, so the tests can assert each
figure separately and print every finding with an example.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.stateful.control import TransitionController
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from treatfirst.access import SCOPES
from treatfirst.client import signed_headers
from treatfirst.domain.ids import ric_check_digit
from treatfirst.domain.policy import Policy

from tests.factories import consents_for
from tests.fuzz.conftest import Key, Served

SEED = 20261126
# Bounds: the whole tier runs in a few minutes on two cores (about 4.5 with 75 operations); the coverage phase
# (every boundary of every parameter) is not bounded by these and is most of the cases.
MAX_EXAMPLES_PER_OPERATION = 15
STATEFUL_RUNS = 4
STATEFUL_SCENARIOS_PER_RUN = 10
STATEFUL_STEPS = 12
STATEFUL_ROOTS = frozenset({"POST /v1/enrollments", "GET /v1/visits"})

SERVER_ERROR = "server error (5xx)"
SCHEMA_MISMATCH = "response outside the documented schema"
UNDOCUMENTED_STATUS = "undocumented status code"
ERROR_SHAPE = "error body outside the one error shape"
CATEGORIES = (SERVER_ERROR, SCHEMA_MISMATCH, UNDOCUMENTED_STATUS, ERROR_SHAPE)
ERROR_KEYS = {"code", "message", "field", "request_id"}


class Signer(requests.auth.AuthBase):
    """Signs the final request, as sent: method, path, query, timestamp, nonce and the SHA-256 of the body."""

    def __init__(self, key: Key) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        query = dict(parse_qsl(url.query, keep_blank_values=True)) or None
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        method = request.method or "GET"
        request.headers.update(signed_headers(self.key.key_id, self.key.secret, method, url.path, query, raw))
        return request


@dataclass(frozen=True)
class Finding:
    category: str
    operation: str
    status: int
    code: str | None
    detail: str
    request: str

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"{self.category}: {self.operation} -> {self.status}{code}: {self.detail}\n    {self.request}"


@dataclass
class Report:
    cases: Counter[str] = field(default_factory=Counter)  # by phase
    statuses: Counter[int] = field(default_factory=Counter)
    operations_answered: Counter[tuple[str, int]] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    spec_looser: Counter[tuple[str, str]] = field(default_factory=Counter)  # valid per spec, refused as invalid
    spec_looser_examples: dict[tuple[str, str], str] = field(default_factory=dict)
    refusals: Counter[tuple[str, int, str | None, str | None, bool]] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    engine: str = ""
    diverged_runs: int = 0

    def of(self, category: str) -> list[Finding]:
        return [f for f in self.findings if f.category == category]

    def count(self, category: str) -> int:
        """Cases with at least one finding of the category."""
        return len(self.of(category))

    def distinct(self, category: str) -> list[Finding]:
        """One example per (operation, status, code, first line of the detail)."""
        seen: dict[tuple[str, int, str | None, str], Finding] = {}
        for f in self.of(category):
            seen.setdefault((f.operation, f.status, f.code, f.detail.split("\n")[0][:120]), f)
        return list(seen.values())

    def summary(self) -> str:
        lines = [
            f"cases: {sum(self.cases.values())} ({', '.join(f'{k} {v}' for k, v in sorted(self.cases.items()))}) "
            "in " + ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items()) + f", on {self.engine}",
            f"stateful runs cut short by diverging replays: {self.diverged_runs}",
            "statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())),
        ]
        answered: dict[str, list[str]] = {}
        for (operation, status), n in sorted(self.operations_answered.items()):
            answered.setdefault(operation, []).append(f"{status} x{n}")
        lines += [f"  {operation}: {', '.join(counts)}" for operation, counts in answered.items()]
        for category in CATEGORIES:
            distinct = self.distinct(category)
            lines.append(f"{category}: {self.count(category)} cases, {len(distinct)} distinct")
            lines += [f"  - {f}" for f in distinct[:40]]
        lines.append("most frequent refusals (operation, status, code, field, steered):")
        lines += [f"  {key}: {n}" for key, n in self.refusals.most_common(40)]
        if self.spec_looser:
            lines.append(
                "refused as invalid although the document calls them valid (operation, field): "
                + ", ".join(f"{op} {fld} x{n}" for (op, fld), n in sorted(self.spec_looser.items()))
            )
            lines += [f"  - {op} {fld}: {example}" for (op, fld), example in sorted(self.spec_looser_examples.items())]
        return "\n".join(lines)


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def error_shape_problem(status: int, headers: dict[str, Any], text: str) -> str | None:
    """Why an error answer is not {"error": {code, message, field, request_id}} with X-Request-Id; else None."""
    if status < 400:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return f"not JSON: {text[:80]!r}"
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return f"not {{'error': {{...}}}}: {text[:120]}"
    error = body["error"]
    if not set(error) >= ERROR_KEYS or set(error) - ERROR_KEYS - {"details"}:
        return f"keys {sorted(error)}"
    if not all(isinstance(error[k], str) for k in ("code", "message", "request_id")):
        return "code, message and request_id must be strings"
    if error["field"] is not None and not isinstance(error["field"], str):
        return "field must be a string or null"
    request_id = {k.lower(): v for k, v in headers.items()}.get("x-request-id")
    if isinstance(request_id, list):  # schemathesis keeps every value of a header
        request_id = request_id[0] if len(request_id) == 1 else request_id
    if request_id != error["request_id"]:
        return f"X-Request-Id {request_id!r} differs from the body's request_id"
    return None


def _short_request(case: Case) -> str:
    body = "" if case.body is None or type(case.body).__name__ == "NotSet" else json.dumps(case.body, default=repr)
    body = body if len(body) <= 200 else body[:200] + "…"
    query = f"?{case.query}" if case.query else ""
    return f"{case.method.upper()} {case.formatted_path}{query} {body}".strip()


class RootsOnly(TransitionController):
    """Lets only STATEFUL_ROOTS start a scenario."""

    __slots__ = ()

    def allow_root_transition(self, source: str, bundles: dict[str, Any]) -> bool:
        return source in STATEFUL_ROOTS and super().allow_root_transition(source, bundles)


class Campaign:
    """Runs the phases against one served platform and fills a Report."""

    def __init__(self, served: Served, schema: Any, policy: Policy) -> None:
        self.served = served
        self.schema = schema
        self.policy = policy
        self.report = Report(engine=served.engine)
        self.session = requests.Session()
        self._turns: dict[str, Iterator[str]] = {}
        self._serial = itertools.count(1)
        self._steering = random.Random(SEED)

    # ---- callers ----
    def key_for(self, case: Case) -> Key | None:
        """The key that signs this case: a caller kind holding the operation's scope, in turn."""
        scope = case.operation.definition.raw.get("x-treatfirst-scope")
        if scope is None:
            return None
        if scope not in self._turns:
            kinds = [kind for kind in self.served.keys if scope in SCOPES.get(kind, ())]
            self._turns[scope] = itertools.cycle(kinds or list(self.served.keys))
        return self.served.keys[next(self._turns[scope])]

    def call_kwargs(self, case: Case) -> dict[str, Any]:
        key = self.key_for(case)
        kwargs: dict[str, Any] = {"session": self.session, "timeout": 30}
        if key is not None:
            kwargs["auth"] = Signer(key)
        return kwargs

    # ---- steering: half the bodies of the operations that start a chain are made valid for the server ----
    def steer(self, case: Case) -> bool:
        """Make half of the bodies pass the server's rules that the document cannot express (checksums, sums,
        consent hashes), with a fresh Idempotency-Key, so chains reach deep operations; returns True when the
        case was changed. The other half goes out as generated."""
        op = case.operation.definition.raw.get("operationId")
        if not isinstance(case.body, dict) or op not in STEERED:
            return False
        rng = self._steering
        if rng.random() < 0.5:
            return False
        if case.headers is not None and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = f"fuzz-{next(self._serial)}"
        STEERED[op](self, case.body, rng)
        return True

    def _enrollment(self, body: dict[str, Any], rng: random.Random) -> None:
        first17 = f"320703{rng.randrange(1950, 2005)}0101{rng.randrange(1000):03d}"
        body.update(
            name="张三",
            id_number=first17 + ric_check_digit(first17),
            phone=f"138{rng.randrange(10**8):08d}",
            insurance_status="normal",
            verification={
                "method": "face",
                "check_id": f"face-{next(self._serial)}",
                "verified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            consents=consents_for(self.policy),
        )
        if self.policy.eligibility_model == "score_banded":
            body["credit_score"] = {"source": self.policy.score_sources[0], "value": 720}
        else:
            body.pop("credit_score", None)

    def _visit(self, body: dict[str, Any], rng: random.Random) -> None:
        if "department" in body:
            body["department"] = "内科"

    def _charge(self, body: dict[str, Any], rng: random.Random) -> None:
        body.update(item_name="血常规", quantity=1 + rng.randrange(9), fee_line_id=f"FL{next(self._serial):08d}")
        body.pop("emergency", None)  # emergency charges belong to emergency visits
        _small_amounts(body)
        body["self_pay_fen"] += 1  # something to bill, so that the bill can be paid
        body["total_fen"] = sum(body.get(n, 0) for n in FEN_PARTS)

    def _refund(self, body: dict[str, Any], rng: random.Random) -> None:
        _small_amounts(body)
        if "reason" in body:
            body["reason"] = "退费"

    def _payment(self, body: dict[str, Any], rng: random.Random) -> None:
        allocations = body.get("allocations")
        if isinstance(allocations, list) and all(
            isinstance(a, dict) and type(a.get("amount_fen")) is int for a in allocations
        ):
            body["amount_fen"] = sum(a["amount_fen"] for a in allocations)

    # ---- one case ----
    def run_case(self, case: Case, phase: str) -> None:
        steered = self.steer(case)
        response = case.call(**self.call_kwargs(case))
        self.record(case, response, phase, steered)

    def record(self, case: Case, response: Any, phase: str, steered: bool = False) -> None:
        report = self.report
        report.cases[phase] += 1
        report.statuses[response.status_code] += 1
        report.operations_answered[(case.operation.label, response.status_code)] += 1
        try:
            body = json.loads(response.text)
        except ValueError:
            body = None
        code = _error_code(body)
        checks: tuple[tuple[str, Callable[..., Any]], ...] = (
            (SERVER_ERROR, not_a_server_error),
            (UNDOCUMENTED_STATUS, status_code_conformance),
            (SCHEMA_MISMATCH, response_schema_conformance),
            (SCHEMA_MISMATCH, content_type_conformance),
        )
        request_id = (response.headers.get("x-request-id") or [""])[0]
        flagged: set[str] = set()
        for category, check in checks:
            if category in flagged:
                continue
            try:
                case.validate_response(response, checks=[check])
            except FailureGroup as group:
                flagged.add(category)
                detail = "; ".join(f"{f.title}: {f.message}".replace("\n", " ")[:300] for f in group.exceptions)
                if category == SERVER_ERROR and request_id in self.served.errors.by_request:
                    detail = f"{self.served.errors.by_request[request_id]}; {detail}"
                report.findings.append(
                    Finding(category, case.operation.label, response.status_code, code, detail, _short_request(case))
                )
        problem = error_shape_problem(response.status_code, dict(response.headers), response.text)
        if problem:
            report.findings.append(
                Finding(ERROR_SHAPE, case.operation.label, response.status_code, code, problem, _short_request(case))
            )
        if response.status_code >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
            field_name = body["error"].get("field")
            report.refusals[(case.operation.label, response.status_code, code, field_name, steered)] += 1
        meta = case.meta
        positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
        if positive and not steered and response.status_code == 400 and code == "VALIDATION_FAILED":
            key = (case.operation.label, str(body["error"].get("field")))
            report.spec_looser[key] += 1
            report.spec_looser_examples.setdefault(key, f"{body['error'].get('message')}\n      {_short_request(case)}")

    # ---- phases ----
    def run_operations(self) -> None:
        settings = hypothesis.settings(
            max_examples=MAX_EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
        )
        config = HypothesisTestConfig(
            project=self.schema.config,
            modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING],
            settings=settings,
            seed=SEED,
        )
        for result in self.schema.get_all_operations():
            operation = result.ok()

            def each(case: Case) -> None:
                phase = case.meta.phase.name.value if case.meta is not None else "generate"
                self.run_case(case, phase)

            create_test(operation=operation, test_func=each, config=config)()

    def run_stateful(self) -> None:
        campaign = self

        class Machine(self.schema.as_state_machine()):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__()
                # Scenarios start where a patient's story starts (or from the visits a hospital already has);
                # every other operation is reached through the links. Random calls are the first phase's job.
                self.control = RootsOnly(self._transitions, self._root_labels & STATEFUL_ROOTS)

            def before_call(self, case: Case) -> None:
                self._steered = campaign.steer(case)

            def get_call_kwargs(self, case: Case) -> dict[str, Any]:
                return campaign.call_kwargs(case)

            def validate_response(self, response: Any, case: Case, *args: Any, **kwargs: Any) -> None:
                campaign.record(case, response, "stateful", getattr(self, "_steered", False))

        # The server's state decides which links can be followed, so one long Hypothesis run would see its own
        # replays diverge (FlakyStrategyDefinition); short runs with their own seeds stay independent.
        settings = hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS_PER_RUN,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
        )
        for run in range(STATEFUL_RUNS):
            Machine._hypothesis_internal_use_seed = SEED + run
            try:
                Machine.run(settings=settings)
            except hypothesis.errors.Flaky:
                self.report.diverged_runs += 1

    def run(self) -> Report:
        for name, phase in (("operations", self.run_operations), ("stateful", self.run_stateful)):
            started = time.perf_counter()
            phase()
            self.report.seconds[name] = time.perf_counter() - started
        return self.report


FEN_PARTS = ("insurance_fen", "personal_account_fen", "self_pay_fen")


def _small_amounts(body: dict[str, Any]) -> None:
    for name in FEN_PARTS:
        body[name] = body[name] % 3000 if type(body.get(name)) is int else 0


STEERED: dict[str, Callable[[Campaign, dict[str, Any], random.Random], None]] = {
    "enroll": Campaign._enrollment,
    "openVisit": Campaign._visit,
    "postCharge": Campaign._charge,
    "refundCharge": Campaign._refund,
    "cancelCharge": Campaign._refund,
    "notifyPayment": Campaign._payment,
}


def load_served_schema(served: Served) -> Any:
    """The document as the running app serves it (GET /v1/openapi.json), not the in-process dict."""
    schema = schemathesis.openapi.from_url(f"{served.base_url}/v1/openapi.json")
    schema.config.update(base_url=served.base_url)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True)
    return schema
