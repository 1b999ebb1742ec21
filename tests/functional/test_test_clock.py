"""The test clock over HTTP: off unless the runtime enables it; moves time forward, audited, and runs the schedules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from treatfirst.config import runtime
from treatfirst.services.ports import ACCOUNTS, AUDIT
from treatfirst.services.testclock import CLOCK_KEY, OffsetClock

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


ADVANCE = "/v1/test-clock/advance"


def test_without_the_setting_the_routes_refuse_and_nothing_is_written(api: Api, platform: Any, operator: Key) -> None:
    # Given a runtime started without TF_TEST_CLOCK (as the packaged template starts every function)
    assert not isinstance(runtime().clock, OffsetClock)
    # When an operator asks for or moves the test clock
    for answer in (api.get(operator, "/v1/test-clock"), api.post(operator, ADVANCE, {"days": 8, "reason": "x"})):
        # Then it is not there
        assert (answer.status_code, body(answer)["error"]["code"]) == (404, "TEST_CLOCK_DISABLED")
    assert platform.store.get(ACCOUNTS, CLOCK_KEY) is None


@pytest.fixture
def clock_on(platform: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TF_TEST_CLOCK", "1")
    runtime.cache_clear()
    rt = runtime()
    assert isinstance(rt.clock, OffsetClock)
    return rt


def test_advancing_moves_time_runs_the_schedules_and_is_audited(
    api: Api, clock_on: Any, operator: Key, hospital: Key, enrolled: dict[str, Any]
) -> None:
    # Given a bill due in 7 days
    visit = body(api.post(hospital, "/v1/visits", {"account_id": enrolled["account_id"]}))["visit_id"]
    assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(1500)).status_code == 201
    bill = body(api.post(hospital, f"/v1/visits/{visit}/close"))["bill"]
    before = body(api.get(operator, "/v1/test-clock"))
    assert before["offset_seconds"] == 0

    # When an operator moves the clock 8 days and 1 hour forward
    moved = api.post(operator, ADVANCE, {"days": 8, "hours": 1, "reason": "演示逾期"})

    # Then the platform's time is 8 days 1 hour later, the schedules ran at that time, and the move is audited
    assert moved.status_code == 200, moved.body
    answer = body(moved)
    assert answer["offset_seconds"] == 8 * 86400 + 3600
    assert answer["ran"]["collect"]["acted"] == 1
    assert "dispatch_outbox" in answer["ran"]
    assert body(api.get(operator, f"/v1/bills/{bill['bill_id']}"))["status"] == "overdue"
    assert body(api.get(operator, "/v1/test-clock"))["offset_seconds"] == 8 * 86400 + 3600
    events = clock_on.store.query(AUDIT, "test_clock", limit=10).items
    assert [(e["action"], e["actor_id"], e["details"]["reason"]) for e in events] == [
        ("test_clock.advance", "city-operator", "演示逾期")
    ]


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"days": -1, "reason": "x"}, "days"),
        ({"days": 3651, "reason": "x"}, "days"),
        ({"hours": 24, "reason": "x"}, "hours"),
        ({"days": "8", "reason": "x"}, "days"),
        ({"days": 1.5, "reason": "x"}, "days"),
        ({"days": 1}, "reason"),
        ({"days": 1, "reason": " "}, "reason"),
        ({"days": 1, "reason": "x", "seconds": 5}, "seconds"),
    ],
)
def test_bad_input_moves_nothing(api: Api, clock_on: Any, operator: Key, sent: dict[str, Any], field: str) -> None:
    answer = api.post(operator, ADVANCE, sent)
    assert (answer.status_code, body(answer)["error"]["code"], body(answer)["error"]["field"]) == (
        400,
        "VALIDATION_FAILED",
        field,
    )
    assert clock_on.store.get(ACCOUNTS, CLOCK_KEY) is None


def test_a_hospital_may_not_move_the_clock(api: Api, clock_on: Any, hospital: Key) -> None:
    answer = api.post(hospital, ADVANCE, {"days": 1, "reason": "x"})
    assert (answer.status_code, body(answer)["error"]["code"]) == (403, "FORBIDDEN")
    assert clock_on.store.get(ACCOUNTS, CLOCK_KEY) is None
