"""An operator's write-off over HTTP: hardship to the civil-affairs fund, balanced ledger entries, the line
shrinks, audited with who and why; a later payment is a recovery; bad input and other callers change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from treatfirst.services.ports import AUDIT, LEDGER

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def _bill(api: Api, hospital: Key, account_id: str, fen: int) -> dict[str, Any]:
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account_id}))["visit_id"]
    assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(fen)).status_code == 201
    return dict(body(api.post(hospital, f"/v1/visits/{visit}/close"))["bill"])


def test_a_hardship_write_off_moves_the_debt_to_civil_affairs_aid(
    api: Api, platform: Any, operator: Key, hospital: Key, channel: Key, enrolled: dict[str, Any]
) -> None:
    # Given an account with two unpaid bills
    account = enrolled["account_id"]
    first, second = _bill(api, hospital, account, 2500), _bill(api, hospital, account, 1000)
    limit = body(api.get(channel, f"/v1/accounts/{account}"))["credit_line"]["limit_fen"]

    # When an operator writes off the first for hardship, with a note
    path = f"/v1/bills/{first['bill_id']}/write-off"
    done = api.post(operator, path, {"reason": "hardship", "note": "民政认定特困人员"})

    # Then the bill is written off to the policy's hardship fund, terminal
    assert done.status_code == 200, done.body
    record = body(done)["write_off"]
    assert body(done)["status"] == "written_off" and body(done)["outstanding_fen"] == 0
    assert (record["reason"], record["credit_fen"], record["credit_fund"]) == ("hardship", 2500, "civil_affairs_aid")
    assert body(api.get(operator, f"/v1/bills/{first['bill_id']}"))["write_off"] == record
    # and the line shrinks by it; only the other bill is still owed, and only it is in collection
    line = body(api.get(channel, f"/v1/accounts/{account}"))["credit_line"]
    assert (line["limit_fen"], line["owed_fen"]) == (limit - 2500, 1000)
    state = body(api.get(operator, f"/v1/accounts/{account}/collection"))
    assert [b["bill_id"] for b in state["unpaid"]] == [second["bill_id"]]
    # and the fund's ledger partition holds the balancing entry; the audit log keeps who and why
    kinds = [e["kind"] for e in platform.store.query(LEDGER, account, limit=50).items]
    assert kinds.count("write_off") == 1
    fund = [
        e
        for shard in range(64)
        for e in platform.store.query(LEDGER, f"fund#civil_affairs_aid#{shard}", limit=10).items
    ]
    assert [(e["kind"], e["amount_fen"]) for e in fund] == [("backstop_write_off", 2500)]
    events = platform.store.query(AUDIT, f"bill#{first['bill_id']}", limit=10).items
    assert [(e["action"], e["details"]["reason"], e["details"]["note"]) for e in events] == [
        ("bill.written_off", "hardship", "民政认定特困人员")
    ]

    # When it is written off again
    again = api.post(operator, path, {"reason": "operator_decision", "note": "x"})
    # Then the second write-off is refused and changes nothing
    assert (again.status_code, body(again)["error"]["code"]) == (422, "BILL_NOT_PAYABLE")


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"reason": "hardship"}, 400, "VALIDATION_FAILED", "note"),
        ({"reason": "ladder_exhausted", "note": "x"}, 400, "VALIDATION_FAILED", "reason"),
        ({"reason": "hardship", "note": " "}, 400, "VALIDATION_FAILED", "note"),
        ({"reason": "hardship", "note": "x" * 201}, 400, "VALIDATION_FAILED", "note"),
    ],
)
def test_bad_write_off_requests_change_nothing(
    api: Api, operator: Key, hospital: Key, enrolled: dict[str, Any], payload: Any, status: int, code: str, field: str
) -> None:
    bill = _bill(api, hospital, enrolled["account_id"], 800)
    answer = api.post(operator, f"/v1/bills/{bill['bill_id']}/write-off", payload)
    assert (answer.status_code, body(answer)["error"]["code"], body(answer)["error"]["field"]) == (status, code, field)
    assert body(api.get(operator, f"/v1/bills/{bill['bill_id']}"))["status"] == "issued"


def test_only_operators_write_off_and_unknown_bills_are_404(
    api: Api, operator: Key, hospital: Key, channel: Key, enrolled: dict[str, Any]
) -> None:
    bill = _bill(api, hospital, enrolled["account_id"], 800)
    for key in (hospital, channel):
        answer = api.post(key, f"/v1/bills/{bill['bill_id']}/write-off", {"reason": "hardship", "note": "x"})
        assert (answer.status_code, body(answer)["error"]["code"]) == (403, "FORBIDDEN")
    missing = api.post(operator, f"/v1/bills/bil_{'0' * 26}/write-off", {"reason": "hardship", "note": "x"})
    assert (missing.status_code, body(missing)["error"]["code"]) == (404, "BILL_NOT_FOUND")
    assert body(api.get(operator, f"/v1/bills/{bill['bill_id']}"))["status"] == "issued"
