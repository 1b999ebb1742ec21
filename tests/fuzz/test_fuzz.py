"""Fuzzing tier: schemathesis against the OpenAPI document the running app serves, every request signed.

One bounded, seeded campaign (tests/fuzz/campaign.py) runs once for this module; each test asserts one figure.
The full report (cases, statuses per operation, every distinct finding with its request) is written to
build/fuzz/report.txt and shown in a failing test's message.

    make fuzz        # or: pytest -q tests/fuzz
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from treatfirst.domain import ledger
from treatfirst.services.ports import ACCOUNTS, LEDGER

from tests.fuzz.campaign import (
    ERROR_SHAPE,
    SCHEMA_MISMATCH,
    SERVER_ERROR,
    UNDOCUMENTED_STATUS,
    Campaign,
    Report,
    load_served_schema,
)
from tests.fuzz.conftest import PREFIX, Served

REPORT = Path(__file__).resolve().parents[2] / "build" / "fuzz" / "report.txt"

# The campaign runs inside the first test; under load on two cores it may take several minutes.
pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def report(served: Served) -> Iterator[Report]:
    # Given the document as served and a key of each caller kind
    schema = load_served_schema(served)
    # When the campaign runs every phase
    result = Campaign(served, schema, served.runtime.policy).run()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(result.summary() + "\n", encoding="utf-8")
    yield result


def _findings(report: Report, category: str) -> str:
    distinct = report.distinct(category)
    listed = "\n".join(f"  - {f}" for f in distinct[:25])
    return f"{report.count(category)} cases ({len(distinct)} distinct) — full report in {REPORT}:\n{listed}"


def test_the_campaign_covers_every_operation_and_a_patients_whole_story(report: Report, served: Served) -> None:
    # Then every documented operation was called, and the links carried scenarios from an enrollment
    # through a visit, its charges and its close to the bill
    called = {operation for operation, _ in report.operations_answered}
    schema = load_served_schema(served)
    documented = {result.ok().label for result in schema.get_all_operations()}
    assert documented <= called, f"never called: {sorted(documented - called)}"
    succeeded = {operation for (operation, status), _ in report.operations_answered.items() if 200 <= status < 300}
    for deep in (
        "POST /v1/enrollments",
        "POST /v1/visits",
        "POST /v1/visits/{visit_id}/charges",
        "POST /v1/visits/{visit_id}/close",
        "GET /v1/bills/{bill_id}",
    ):
        assert deep in succeeded, f"{deep} never succeeded:\n{report.summary()}"
    assert sum(report.cases.values()) >= 1000


def test_no_server_errors(report: Report) -> None:
    assert report.count(SERVER_ERROR) == 0, _findings(report, SERVER_ERROR)


def test_every_response_matches_the_documented_schema(report: Report) -> None:
    assert report.count(SCHEMA_MISMATCH) == 0, _findings(report, SCHEMA_MISMATCH)


def test_every_status_code_is_documented(report: Report) -> None:
    assert report.count(UNDOCUMENTED_STATUS) == 0, _findings(report, UNDOCUMENTED_STATUS)


def test_every_error_is_in_the_one_error_shape(report: Report) -> None:
    assert report.count(ERROR_SHAPE) == 0, _findings(report, ERROR_SHAPE)


def test_after_the_campaign_every_credit_line_is_sound(report: Report, served: Served) -> None:
    # Then each credit line keeps limit == available + held + owed and equals its ledger replayed
    store = served.runtime.store
    accounts = boto3.resource("dynamodb").Table(f"{PREFIX}{ACCOUNTS}").scan()["Items"]
    checked = 0
    for account in (a for a in accounts if str(a["account_id"]).startswith("acc_")):
        line = store.get(ACCOUNTS, {"account_id": account["account_id"]})
        balances = {k: line[k] for k in ("limit_fen", *ledger.BUCKETS)}
        assert ledger.invariant_violations(balances) == [], account["account_id"]
        entries = store.query(LEDGER, account["account_id"], limit=1000).items
        assert ledger.recompute(entries) == balances, account["account_id"]
        checked += 1
    assert checked > 0
