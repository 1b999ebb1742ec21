"""The operator report over HTTP (moto): JSON and CSV, operators only, bad ranges refused in the one error shape."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from treatfirst.config import runtime
from treatfirst.services.ports import REPORTS
from treatfirst.services.testclock import OffsetClock

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


@pytest.fixture
def clock_on(platform: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TF_TEST_CLOCK", "1")
    runtime.cache_clear()
    rt = runtime()
    assert isinstance(rt.clock, OffsetClock)
    return rt


def _bill(api: Api, hospital: Key, account_id: str, self_pay: int) -> dict[str, Any]:
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account_id}))["visit_id"]
    assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(self_pay)).status_code == 201
    return dict(body(api.post(hospital, f"/v1/visits/{visit}/close"))["bill"])


def test_the_report_in_json_and_csv_after_a_bill_walks_past_due(
    api: Api, clock_on: Any, operator: Key, hospital: Key, channel: Key, enrolled: dict[str, Any]
) -> None:
    # Given a platform whose reports began when it started (the hourly schedule's roll-up, as on AWS)
    from treatfirst.services import reports
    from treatfirst.services.unit_of_work import Context

    rt = clock_on
    reports.roll_up(Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy))
    # and two bills of 1 500 and 2 500 fen, the first paid on time, then 40 days pass and the second is paid in part
    first = _bill(api, hospital, enrolled["account_id"], 1_500)
    second = _bill(api, hospital, enrolled["account_id"], 2_500)
    start = first["issued_at"][:10]
    paid = {
        "channel_txn_id": "wx-1",
        "amount_fen": 1_500,
        "paid_at": "2026-11-24T12:00:00+08:00",
        "allocations": [{"bill_id": first["bill_id"], "amount_fen": 1_500}],
    }
    assert api.post(channel, "/v1/payments", paid).status_code == 201
    assert api.post(operator, "/v1/test-clock/advance", {"days": 40, "reason": "报表演示"}).status_code == 200
    late = {**paid, "channel_txn_id": "wx-2", "amount_fen": 500}
    late["allocations"] = [{"bill_id": second["bill_id"], "amount_fen": 500}]
    assert api.post(channel, "/v1/payments", late).status_code == 201
    assert api.post(operator, "/v1/test-clock/advance", {"days": 1, "reason": "日切"}).status_code == 200

    # When an operator asks for the report of the whole period (JSON)
    today = body(api.get(operator, "/v1/aging"))["on"]
    query = {"from": start, "to": _day_before(today)}
    answer = api.get(operator, "/v1/reports", query=query)

    # Then lent is 4 000; 2 000 is past due in band 2 (more than 30 days); M counts the late money (the bill is
    # not settled); C the bill paid on time
    assert answer.status_code == 200, answer.body
    report = body(answer)
    assert report["lent"] == {"bills": 2, "fen": 4_000}
    bands = {b["band"]: (b["bills"], b["fen"]) for b in report["aging"]}
    assert bands["2"] == (1, 2_000) and bands["C"] == (1, 1_500) and bands["M"] == (0, 500)
    assert report["arrears_rate_ppm"] == 500_000
    assert report["repaid"] == {"on_time_fen": 1_500, "late_fen": 500, "fen": 2_000}
    assert report["blacklist"] == {"listed": 0, "removed": 0}

    # When the last days are asked as CSV (the format parameter, then the Accept header)
    tail = {"from": _day_before(_day_before(query["to"])), "to": query["to"]}
    for extra in ({"query": {**tail, "format": "csv"}}, {"query": tail, "headers": {"Accept": "text/csv"}}):
        as_csv = api.get(operator, "/v1/reports", **extra)
        # Then it is UTF-8 CSV with a byte order mark, one row per figure and dimension, the same numbers
        assert as_csv.status_code == 200
        assert as_csv.headers["Content-Type"].startswith("text/csv")
        text = as_csv.body.decode("utf-8") if isinstance(as_csv.body, bytes) else as_csv.body
        assert text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        by = {(row["figure"], row["dimension"]): row for row in rows}
        assert by[("lent", "since_start")]["fen"] == "4000" and by[("lent", "range")]["fen"] == "0"
        assert by[("aging", "2")]["fen"] == "2000" and by[("aging", "2")]["figure_zh"].startswith("账龄")
        assert by[("arrears_rate", "at_close")]["ppm"] == "500000"
        assert by[("blacklist", "listed")]["n"] == "0"


def _day_before(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-24", "to": "2026-11-20"}, "to"),
        ({"from": "2026-11-24", "to": "2030-01-01"}, "to"),
        ({"from": "2026-13-01", "to": "2026-11-20"}, None),  # not the form of a date: the struct refuses it
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ],
)
def test_a_bad_range_is_refused_in_the_one_error_shape_and_writes_nothing(
    api: Api, operator: Key, platform: Any, query: dict[str, str], field: str | None
) -> None:
    answer = api.get(operator, "/v1/reports", query=query)
    error = body(answer)["error"]
    assert answer.status_code == 400
    assert error["code"] in ("INVALID_DATE_RANGE", "VALIDATION_FAILED") and error["request_id"]
    if field:
        assert (error["code"], error["field"]) == ("INVALID_DATE_RANGE", field)
    assert platform.store.query(REPORTS, "closing").items == []


def test_only_operators_read_the_report(api: Api, hospital: Key, channel: Key) -> None:
    for key in (hospital, channel):
        answer = api.get(key, "/v1/reports", query={"from": "2026-11-01", "to": "2026-11-02"})
        assert (answer.status_code, body(answer)["error"]["code"]) == (403, "FORBIDDEN")
