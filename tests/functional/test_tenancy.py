"""Who may do what to an account (treatfirst.access): minimum-necessary views, and withdrawal only by a channel
with fresh real-name evidence, never while a visit is open or anything is owed. Each refusal changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.factories import charge
from tests.functional.conftest import Api, Key

IDENTITY = ("name", "id_number", "phone")


def body(response: Any) -> Any:
    return json.loads(response.body)


def evidence(minutes_ago: float = 1) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {"verification": {"method": "face", "check_id": "face-wd-1", "verified_at": at.isoformat()}}


def snapshot(api: Api, operator: Key, account_id: str) -> Any:
    return body(api.get(operator, f"/v1/accounts/{account_id}"))


def test_a_hospital_sees_credit_not_identity(
    api: Api, hospital: Key, other_hospital: Key, channel: Key, operator: Key, platform: Any
) -> None:
    # Given an account enrolled at the first hospital
    from tests.factories import enrollment

    person = enrollment(platform.policy)
    account = body(api.post(hospital, "/v1/enrollments", person))
    account_id = account["account_id"]
    # When any hospital looks it up or reads it
    for key in (hospital, other_hospital):
        for seen in (
            body(api.post(key, "/v1/accounts/lookup", {"id_number": person["id_number"]})),
            body(api.get(key, f"/v1/accounts/{account_id}")),
        ):
            # Then it gets the id, status and available credit only: no name, ID number or phone, even masked
            assert seen == {
                "account_id": account_id,
                "status": "active",
                "available_fen": account["credit_line"]["available_fen"],
                "emergency_only": False,
            }
    # a channel gets what a payer needs (masked identity, amounts) but no phone; an operator every field, masked
    payer = body(api.get(channel, f"/v1/accounts/{account_id}"))
    assert payer["name"] == account["name"] and payer["id_number"] == account["id_number"]
    assert "phone" not in payer and "decision" not in payer
    full = snapshot(api, operator, account_id)
    assert full["phone"] == account["phone"] and "*" in full["phone"]
    assert person["phone"] not in json.dumps([payer, full])


def test_hospitals_and_operators_cannot_withdraw_an_account(
    api: Api, hospital: Key, other_hospital: Key, operator: Key, enrolled: dict[str, Any]
) -> None:
    account_id = enrolled["account_id"]
    before = snapshot(api, operator, account_id)
    for key in (other_hospital, hospital, operator):
        response = api.post(key, f"/v1/accounts/{account_id}/withdrawal", evidence())
        assert response.status_code == 403 and body(response)["error"]["code"] == "FORBIDDEN", response.body
    assert snapshot(api, operator, account_id) == before


@pytest.mark.parametrize(
    ("sent", "status", "code", "field"),
    [
        (None, 400, "VALIDATION_FAILED", None),
        ({}, 400, "VALIDATION_FAILED", "verification"),
        (11, 422, "VERIFICATION_STALE", "verification.verified_at"),
        (-6, 422, "VERIFICATION_STALE", "verification.verified_at"),
        ({"verification": {"method": "face", "check_id": "c1"}}, 400, "VALIDATION_FAILED", "verification.verified_at"),
    ],
    ids=["no body", "no verification", "11 minutes old", "6 minutes ahead", "no time"],
)
def test_withdrawal_without_fresh_evidence_is_refused_and_changes_nothing(
    api: Api,
    channel: Key,
    operator: Key,
    enrolled: dict[str, Any],
    sent: Any,
    status: int,
    code: str,
    field: str | None,
) -> None:
    account_id = enrolled["account_id"]
    before = snapshot(api, operator, account_id)
    if isinstance(sent, int):  # minutes ago, computed now (not when the tests were collected)
        sent = evidence(minutes_ago=sent)
    response = api.post(channel, f"/v1/accounts/{account_id}/withdrawal", sent)
    assert response.status_code == status, response.body
    assert (body(response)["error"]["code"], body(response)["error"]["field"]) == (code, field)
    assert snapshot(api, operator, account_id) == before


def test_withdrawal_waits_for_every_visit_to_close(
    api: Api, hospital: Key, channel: Key, operator: Key, enrolled: dict[str, Any], visit: dict[str, Any]
) -> None:
    # Given an open visit with nothing charged on it
    account_id, path = enrolled["account_id"], f"/v1/accounts/{enrolled['account_id']}/withdrawal"
    before = snapshot(api, operator, account_id)
    # When the channel asks to withdraw, it is refused: a visit is open
    refused = api.post(channel, path, evidence())
    assert refused.status_code == 409 and body(refused)["error"]["code"] == "VISIT_OPEN", refused.body
    assert snapshot(api, operator, account_id) == before
    # When a charge is billed at the close, it is refused: an amount is owed
    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(100))
    bill = body(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close"))["bill"]
    owed = api.post(channel, path, evidence())
    assert owed.status_code == 409 and body(owed)["error"]["code"] == "AMOUNT_OWED"
    # When the bill is paid, the channel withdraws with fresh evidence, and the account is gone from look-ups
    paid = api.post(
        channel,
        "/v1/payments",
        {
            "channel_txn_id": "wd-pay",
            "amount_fen": 100,
            "paid_at": datetime.now(UTC).isoformat(),
            "allocations": [{"bill_id": bill["bill_id"], "amount_fen": 100}],
        },
    )
    assert paid.status_code == 201, paid.body
    done = api.post(channel, path, evidence(), idempotency_key="wd-1")
    assert done.status_code == 200 and body(done)["status"] == "withdrawn", done.body
    assert "phone" not in body(done)
    opened = api.post(hospital, "/v1/visits", {"account_id": account_id})
    assert body(opened)["error"]["code"] == "ACCOUNT_NOT_ACTIVE"
