"""End to end over HTTP with the test clock: a bill walks Lianyungang's ladder to the blacklist (after its warning SMS
was delivered), the patient pays within the objection period, the cooling days pass, and the record leaves the list
without ever having been published (the export files themselves are the export's)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from treatfirst.config import runtime
from treatfirst.services import blacklist
from treatfirst.services.testclock import OffsetClock
from treatfirst.services.unit_of_work import Context

from tests.factories import charge
from tests.functional.conftest import Api, Key

ADVANCE = "/v1/test-clock/advance"


def body(response: Any) -> Any:
    return json.loads(response.body)


@pytest.fixture
def clock_on(platform: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TF_TEST_CLOCK", "1")
    runtime.cache_clear()
    rt = runtime()
    assert isinstance(rt.clock, OffsetClock)
    return rt


def test_a_bill_walks_to_the_list_is_repaid_and_leaves_after_the_cooling_days(
    api: Api, clock_on: Any, operator: Key, hospital: Key, channel: Key, enrolled: dict[str, Any]
) -> None:
    account = enrolled["account_id"]

    def advance(days: int, why: str) -> dict[str, Any]:
        moved = api.post(operator, ADVANCE, {"days": days, "reason": why})
        assert moved.status_code == 200, moved.body
        return dict(body(moved)["ran"])

    def status() -> dict[str, Any]:
        answer = api.get(channel, f"/v1/accounts/{account}/blacklist")
        assert answer.status_code == 200, answer.body
        return dict(body(answer))

    # Given a 120-yuan bill due in 7 days
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account}))["visit_id"]
    assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(12_000)).status_code == 201
    bill = body(api.post(hospital, f"/v1/visits/{visit}/close"))["bill"]
    # When the clock reaches 85 days overdue: the SMS announcing the listing goes out (and is delivered)
    advance(7 + 85, "逾期 85 天")
    assert status() == {"account_id": account, "listed": False, "waiting_for_notice": False, "records": []}
    # and 91 days overdue: the ladder's report step lists the account, with that SMS as proof of notice
    ran = advance(6, "逾期 91 天")
    assert ran["collect"]["blacklist"] == 1
    (record,) = status()["records"]
    assert (record["state"], record["exported"], record["amount_fen"]) == ("listed", False, 12_000)
    assert [b["bill_id"] for b in record["bills"]] == [bill["bill_id"]]
    # (the patient pays within the objection period: the record is never published; the publication and the removal
    # the export then learns are in tests/unit/test_blacklist_ladder.py, the export files in the export's tests)
    # When the patient pays everything
    now = clock_on.clock.now()
    paid = api.post(
        channel,
        "/v1/payments",
        {
            "channel_txn_id": "WX-E2E-1",
            "amount_fen": 12_000,
            "paid_at": now.isoformat(),
            "allocations": [{"bill_id": bill["bill_id"], "amount_fen": 12_000}],
        },
    )
    assert paid.status_code == 201, paid.body
    # Then the next daily sweep starts the 30 cooling days; the record stays listed meanwhile
    advance(1, "还清后次日")
    listed = status()["records"][0]
    assert listed["state"] == "listed" and listed["repaid_on"] and listed["repair_on"]
    # When the cooling days have passed
    advance(30, "冷静期届满")
    # Then the record left the list as repaid; never published, it never reached the export's change log
    after = status()
    assert after["listed"] is False
    assert (after["records"][0]["state"], after["records"][0]["removal_reason"]) == ("removed", "repaid")
    assert after["records"][0]["exported"] is False
    ctx = Context(store=clock_on.store, cipher=clock_on.cipher, clock=clock_on.clock, policy=clock_on.policy)
    today = clock_on.clock.now().date()
    window = {"city_code": "320700", "from_date": today - timedelta(days=200), "to_date": today + timedelta(days=2)}
    assert list(blacklist.changes(ctx, **window)) == []
