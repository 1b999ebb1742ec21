"""Defects the fuzzing tier (tests/fuzz) found, each pinned by a test that failed before its fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from treatfirst.domain.clock import rfc3339

from tests.factories import charge
from tests.functional.conftest import Api, Key
from tests.functional.test_bad_input import State, error_of


@pytest.fixture
def charged(api: Api, hospital: Key, operator: Key, enrolled: dict[str, Any], visit: dict[str, Any]) -> State:
    """A visit with one charge, and a way to read back everything a charge could change."""
    assert api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(500)).status_code == 201
    return State(api, hospital, operator, enrolled["account_id"], visit["visit_id"])


def test_a_time_before_the_year_1000_comes_back_as_rfc_3339() -> None:
    # Given an instant in the year 28 (strftime wrote "28-06-08T…", which is not RFC 3339)
    moment = datetime(28, 6, 8, 16, 25, 33, 500_000, tzinfo=UTC)
    # Then its text has four year digits and still sorts as text in time order
    assert rfc3339(moment) == "0028-06-08T16:25:33.500Z"
    assert rfc3339(datetime(2026, 11, 26, 15, tzinfo=timezone(timedelta(hours=8)))) == "2026-11-26T07:00:00.000Z"
    assert sorted([rfc3339(moment), rfc3339(datetime(999, 1, 1, tzinfo=UTC))]) == [
        "0028-06-08T16:25:33.500Z",
        "0999-01-01T00:00:00.000Z",
    ]


def test_an_early_charge_time_is_echoed_in_the_documented_format(api: Api, hospital: Key, charged: State) -> None:
    # When a charge says it occurred in the year 28
    sent = charge(100, occurred_at="0028-06-08T16:25:33Z")
    response = api.post(hospital, f"/v1/visits/{charged.visit_id}/charges", sent)
    # Then the answer gives the time as RFC 3339 (the document's date-time)
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["occurred_at"] == "0028-06-08T16:25:33.000Z"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_with_no_utc_equivalent_is_a_400_and_changes_nothing(
    api: Api, hospital: Key, charged: State, moment: str
) -> None:
    # Given valid RFC 3339 text whose instant falls outside the years 1-9999 in UTC (it was a 500)
    before = charged.read()
    # When a charge carries it
    response = api.post(hospital, f"/v1/visits/{charged.visit_id}/charges", charge(100, occurred_at=moment))
    # Then it is refused, naming the field, and nothing changed
    assert response.status_code == 400, response.body
    error = error_of(response)
    assert (error["code"], error["field"]) == ("VALIDATION_FAILED", "occurred_at")
    assert charged.read() == before
