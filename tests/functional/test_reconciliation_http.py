"""Reconciliation over HTTP (signed, moto): hospitals' two levels, channels' statements, operators' suspense list;
tenancy and bad input in the one error shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from treatfirst.messages.reconciliation import MAX_BODY_BYTES, MAX_DETAIL_LINES

from tests.factories import charge
from tests.functional.conftest import Api, Key

SAMPLES = Path(__file__).resolve().parents[2] / "site" / "examples" / "reconciliation"


class ShiftedClock:
    """Real time moved by `days` for the platform's business dates; request signatures follow the wall clock."""

    def __init__(self) -> None:
        self.days = 0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.days)

    def wall(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def clock(platform: Any) -> ShiftedClock:
    shifted = ShiftedClock()
    platform.clock = shifted
    return shifted


def body(response: Any) -> Any:
    return json.loads(response.body)


def today(platform: Any) -> str:
    """The business date entries committed now fall into (the city's zone; the cut-off is at the day's end)."""
    return platform.clock.now().astimezone(ZoneInfo(platform.policy.timezone)).date().isoformat()


def day_with_charges(api: Api, hospital: Key, visit: dict[str, Any], amounts: list[int]) -> list[dict[str, Any]]:
    lines = []
    for amount in amounts:
        posted = api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(amount))
        assert posted.status_code == 201, posted.body
        fee_line = body(posted)["fee_line_id"]
        lines.append({"kind": "self_pay_posted", "ref": f"{visit['visit_id']}/{fee_line}", "amount_fen": amount})
    return lines


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.body
    error = body(response)["error"]
    assert error["code"] == code and set(error) >= {"code", "message", "field", "request_id"}
    return dict(error)


def test_a_hospital_reconciles_its_day_in_two_levels(
    api: Api, hospital: Key, visit: dict[str, Any], platform: Any, clock: ShiftedClock
) -> None:
    # Given two charges posted today, then the day closes
    lines = day_with_charges(api, hospital, visit, [1200, 800])
    day = today(platform)
    clock.days = 1
    # When the hospital sends totals that are 100 fen short
    totals = {"business_date": day, "totals": [{"kind": "self_pay_posted", "count": 2, "amount_fen": 1900}]}
    level1 = api.post(hospital, "/v1/reconciliations/totals", totals, idempotency_key="t-1")
    # Then the answer is unbalanced with the difference by kind
    assert level1.status_code == 200, level1.body
    assert body(level1)["result"] == "unbalanced"
    assert [(k["kind"], k["difference_fen"]) for k in body(level1)["kinds"]] == [
        ("self_pay_posted", -100),
        ("self_pay_refunded", 0),
    ]
    # When it uploads its detail lines (one amount wrong)
    sent = [lines[0], {**lines[1], "amount_fen": 700}]
    level2 = api.post(hospital, "/v1/reconciliations/lines", {"business_date": day, "lines": sent})
    # Then each line has its verdict, the wrong one with both sides' amounts
    assert level2.status_code == 200, level2.body
    results = [(r["result"], r["platform_amount_fen"], r["counterparty_amount_fen"]) for r in body(level2)["lines"]]
    assert results == [("matched", 1200, 1200), ("amount_mismatch", 800, 700)]
    # And a retry with the same Idempotency-Key is the same answer, marked replayed
    again = api.post(hospital, "/v1/reconciliations/totals", totals, idempotency_key="t-1")
    assert body(again) == body(level1) and again.headers.get("Idempotent-Replayed") == "true"


def test_another_hospital_sees_only_its_own_day_and_other_kinds_are_forbidden(
    api: Api,
    hospital: Key,
    other_hospital: Key,
    channel: Key,
    visit: dict[str, Any],
    platform: Any,
    clock: ShiftedClock,
) -> None:
    # Given hospital-a's charge today
    lines = day_with_charges(api, hospital, visit, [1500])
    day = today(platform)
    clock.days = 1
    # When hospital-b reconciles the same day with hospital-a's line
    other = api.post(other_hospital, "/v1/reconciliations/lines", {"business_date": day, "lines": lines})
    # Then for hospital-b that line exists only at its side: it never sees hospital-a's entries
    assert other.status_code == 200, other.body
    assert [r["result"] for r in body(other)["lines"]] == ["counterparty_only"]
    empty = {"business_date": day, "totals": [{"kind": "self_pay_posted", "count": 0, "amount_fen": 0}]}
    assert body(api.post(other_hospital, "/v1/reconciliations/totals", empty))["result"] == "balanced"
    # And a channel key may not reconcile a hospital's day, nor a hospital upload a channel statement
    assert_error(api.post(channel, "/v1/reconciliations/totals", empty), 403, "FORBIDDEN")
    statement = {"business_date": day, "format": "generic_csv", "content": "kind\n"}
    assert_error(api.post(hospital, "/v1/statements", statement), 403, "FORBIDDEN")
    assert_error(api.get(hospital, "/v1/suspense"), 403, "FORBIDDEN")


BAD_TOTALS = [
    ({"business_date": "2026-13-01", "totals": []}, 400, "VALIDATION_FAILED", "business_date"),
    (
        {"business_date": "2026-02-30", "totals": [{"kind": "self_pay_posted", "count": 0, "amount_fen": 0}]},
        400,
        "VALIDATION_FAILED",
        "business_date",
    ),
    (
        {"business_date": "2026-11-01", "totals": [{"kind": "fees", "count": 0, "amount_fen": 0}]},
        400,
        "VALIDATION_FAILED",
        "totals[0].kind",
    ),
    (
        {"business_date": "2026-11-01", "totals": [{"kind": "self_pay_posted", "count": 1, "amount_fen": 1.5}]},
        400,
        "INVALID_AMOUNT",
        "totals[0].amount_fen",
    ),
    (
        {"business_date": "2026-11-01", "totals": [{"kind": "self_pay_posted", "count": 1, "amount_fen": 1}] * 2},
        400,
        "VALIDATION_FAILED",
        "totals",
    ),
    (
        {"business_date": "2099-01-01", "totals": [{"kind": "self_pay_posted", "count": 0, "amount_fen": 0}]},
        422,
        "BUSINESS_DATE_OPEN",
        "business_date",
    ),
]


def test_bad_totals_are_refused_in_the_one_error_shape(api: Api, hospital: Key) -> None:
    for payload, status, code, field in BAD_TOTALS:
        # Given a malformed or premature request / When sent / Then its 4xx, code and field
        error = assert_error(api.post(hospital, "/v1/reconciliations/totals", payload), status, code)
        assert error["field"] == field, payload


def test_bad_detail_uploads_are_refused_and_bounded(api: Api, hospital: Key) -> None:
    line = {"kind": "self_pay_posted", "ref": "vis_X/F1", "amount_fen": 100}
    # Given a line listed twice / When sent / Then VALIDATION_FAILED naming the second
    twice = api.post(hospital, "/v1/reconciliations/lines", {"business_date": "2026-11-01", "lines": [line, line]})
    assert assert_error(twice, 400, "VALIDATION_FAILED")["field"] == "lines[1].ref"
    # Given a reference with a space, a zero amount / Then the field is named
    spaced = {"business_date": "2026-11-01", "lines": [{**line, "ref": "vis X"}]}
    assert assert_error(api.post(hospital, "/v1/reconciliations/lines", spaced), 400, "VALIDATION_FAILED")["field"] == (
        "lines[0].ref"
    )
    zero = {"business_date": "2026-11-01", "lines": [{**line, "amount_fen": 0}]}
    assert_error(api.post(hospital, "/v1/reconciliations/lines", zero), 400, "INVALID_AMOUNT")
    # Given more lines than allowed, and a body over the upload limit / Then 400 and 413
    many = [{**line, "ref": f"vis_X/F{i}"} for i in range(MAX_DETAIL_LINES + 1)]
    too_many = api.post(hospital, "/v1/reconciliations/lines", {"business_date": "2026-11-01", "lines": many})
    assert assert_error(too_many, 400, "VALIDATION_FAILED")["field"] == "lines"
    huge = b'{"business_date": "2026-11-01", "lines": [' + b" " * MAX_BODY_BYTES + b"]}"
    assert_error(api.call(hospital, "POST", "/v1/reconciliations/lines", raw=huge), 413, "PAYLOAD_TOO_LARGE")
    # And a body that is not JSON
    assert_error(api.call(hospital, "POST", "/v1/reconciliations/lines", raw=b"{lines"), 400, "MALFORMED_JSON")


def test_a_channel_statement_its_breaks_and_an_operator_resolving_one(
    api: Api,
    hospital: Key,
    channel: Key,
    operator: Key,
    visit: dict[str, Any],
    platform: Any,
    clock: ShiftedClock,
) -> None:
    # Given a bill paid through the channel today (transaction 4200001 in the published WeChat-style sample)
    day_with_charges(api, hospital, visit, [12345])
    closed = api.post(hospital, f"/v1/visits/{visit['visit_id']}/close", {})
    assert closed.status_code == 201, closed.body
    bill_id = body(closed)["bill"]["bill_id"]
    paid = {
        "channel_txn_id": "4200001",
        "amount_fen": 12345,
        "paid_at": datetime.now(UTC).isoformat(),
        "allocations": [{"bill_id": bill_id, "amount_fen": 12345}],
    }
    assert api.post(channel, "/v1/payments", paid).status_code == 201
    day = today(platform)
    clock.days = 1
    # When the channel uploads the sample bill (BOM, backticks, summary): 4200001 matches, 4200002 and the refund
    # are unknown to the platform
    content = (SAMPLES / "wechat_bill.csv").read_bytes().decode("utf-8")
    uploaded = api.post(channel, "/v1/statements", {"business_date": day, "format": "wechat_bill", "content": content})
    # Then the statement is unbalanced and its two breaks wait in the suspense list
    assert uploaded.status_code == 201, uploaded.body
    result = body(uploaded)
    assert (result["result"], result["counts"]["matched"], result["counts"]["open_suspense"]) == ("unbalanced", 1, 2)
    assert {(b["ref"], b["result"]) for b in result["breaks"]} == {
        ("4200002", "counterparty_only"),
        ("wxr7700001", "counterparty_only"),
    }
    listed = body(api.get(operator, "/v1/suspense"))["items"]
    assert {i["ref"] for i in listed} == {"4200002", "wxr7700001"} and all(i["owner"] == "operator" for i in listed)
    # When an operator resolves one with a reason
    item_id = listed[0]["suspense_id"]
    done = api.post(operator, f"/v1/suspense/{item_id}/resolve", {"reason": "refund confirmed with the channel"})
    # Then it is resolved and leaves the open list; a second resolution is a 409; an unknown id a 404
    assert done.status_code == 200 and body(done)["status"] == "resolved"
    assert len(body(api.get(operator, "/v1/suspense"))["items"]) == 1
    again = api.post(operator, f"/v1/suspense/{item_id}/resolve", {"reason": "again"})
    assert_error(again, 409, "SUSPENSE_ALREADY_RESOLVED")
    assert_error(api.get(operator, "/v1/suspense/sus_" + "0" * 32), 404, "SUSPENSE_NOT_FOUND")
    assert_error(api.get(operator, "/v1/suspense/not-an-id"), 404, "SUSPENSE_NOT_FOUND")
    # And the same file again is the first answer; another file for the date is a conflict
    same = api.post(channel, "/v1/statements", {"business_date": day, "format": "wechat_bill", "content": content})
    assert same.status_code == 201 and body(same) == result
    other = api.post(channel, "/v1/statements", {"business_date": day, "format": "generic_csv", "content": "x"})
    assert_error(other, 409, "STATEMENT_CONFLICT")


BAD_STATEMENTS = [
    ("generic_csv", "kind,channel_txn_id,refund_id,amount_fen,occurred_at\npayment,T1,,12.30,\n", "line 2"),
    ("wechat_bill", "\ufeff交易时间\n", "line 1"),
    ("generic_csv", "", "empty"),
]


def test_a_malformed_statement_is_refused_whole(api: Api, channel: Key, platform: Any, clock: ShiftedClock) -> None:
    # Given a closed day and a malformed file
    day = today(platform)
    clock.days = 1
    for fmt, content, message in BAD_STATEMENTS:
        # When uploaded / Then STATEMENT_MALFORMED naming the line, and nothing is reconciled
        refused = api.post(channel, "/v1/statements", {"business_date": day, "format": fmt, "content": content})
        error = assert_error(refused, 400, "STATEMENT_MALFORMED")
        assert message in error["message"] and error["field"] == "content"
    fine = api.post(
        channel,
        "/v1/statements",
        {
            "business_date": day,
            "format": "generic_csv",
            "content": "kind,channel_txn_id,refund_id,amount_fen,occurred_at\n",
        },
    )
    assert fine.status_code == 201 and body(fine)["result"] == "balanced"
