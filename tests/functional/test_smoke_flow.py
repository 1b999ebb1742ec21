"""The whole first path through HTTP: enroll -> visit -> charges -> close -> bill -> payment."""

from __future__ import annotations

import json
from typing import Any

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_enroll_visit_charge_close_pay(
    api: Api, hospital: Key, channel: Key, enrolled: dict[str, Any], visit: dict[str, Any]
) -> None:
    # Given an enrolled patient with an open visit
    account_id, visit_id = enrolled["account_id"], visit["visit_id"]
    limit = enrolled["credit_line"]["limit_fen"]

    # When the hospital posts two charges and closes the visit
    first = api.post(hospital, f"/v1/visits/{visit_id}/charges", charge(1234, insurance_fen=5000))
    second = api.post(hospital, f"/v1/visits/{visit_id}/charges", charge(766))
    closed = api.post(hospital, f"/v1/visits/{visit_id}/close")

    # Then the bill holds the self-pay and the line owes it
    assert first.status_code == 201, first.body
    assert second.status_code == 201
    assert closed.status_code == 201, closed.body
    bill = body(closed)["bill"]
    assert bill["amount_fen"] == 2000 and bill["outstanding_fen"] == 2000 and bill["status"] == "issued"
    line = body(api.get(channel, f"/v1/accounts/{account_id}"))["credit_line"]  # the patient's app
    assert body(api.get(hospital, f"/v1/accounts/{account_id}"))["available_fen"] == limit - 2000
    assert line == {
        "limit_fen": limit,
        "available_fen": limit - 2000,
        "held_fen": 0,
        "owed_fen": 2000,
        "emergency_held_fen": 0,
        "emergency_owed_fen": 0,
    }

    # When the channel notifies the payment
    paid = api.post(
        channel,
        "/v1/payments",
        {
            "channel_txn_id": "wx-1",
            "amount_fen": 2000,
            "paid_at": "2026-11-24T10:00:00+08:00",
            "allocations": [{"bill_id": bill["bill_id"], "amount_fen": 2000}],
        },
    )

    # Then the bill is paid and the credit is restored
    assert paid.status_code == 201, paid.body
    assert body(api.get(channel, f"/v1/bills/{bill['bill_id']}"))["status"] == "paid"
    line = body(api.get(channel, f"/v1/accounts/{account_id}"))["credit_line"]
    assert line["available_fen"] == limit and line["owed_fen"] == 0
