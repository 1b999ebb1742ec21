"""Operators over HTTP: an account's collection state, disputes and city moratoriums; audited; bad input."""

from __future__ import annotations

import json
from typing import Any

from treatfirst.services.pauses import aging_bucket
from treatfirst.services.ports import ACCOUNTS, AUDIT

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def _set(value: Any) -> Any:
    """A record without its absent (null) fields."""
    return {k: v for k, v in value.items() if v is not None}


def _bill(api: Api, hospital: Key, account_id: str) -> dict[str, Any]:
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account_id}))["visit_id"]
    assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(2500)).status_code == 201
    return dict(body(api.post(hospital, f"/v1/visits/{visit}/close"))["bill"])


def test_aging_bands_follow_the_central_banks_30_day_steps() -> None:
    assert [aging_bucket(d) for d in (-3, 0, 1, 30, 31, 60, 61, 150, 151, 180, 181, 999)] == [
        "N",
        "N",
        "1",
        "1",
        "2",
        "2",
        "3",
        "5",
        "6",
        "6",
        "7",
        "7",
    ]


def test_state_dispute_and_moratorium(
    api: Api, platform: Any, operator: Key, hospital: Key, enrolled: dict[str, Any]
) -> None:
    account = enrolled["account_id"]
    bill = _bill(api, hospital, account)

    # Given an account with one unpaid bill not yet due
    state = body(api.get(operator, f"/v1/accounts/{account}/collection"))
    assert state["unpaid_fen"] == 2500 and state["step"] is None and state["pauses"] == []
    assert [(b["bill_id"], b["aging"], b["overdue"]) for b in state["unpaid"]] == [(bill["bill_id"], "N", False)]
    assert state["strikes"] == {"in_window": 0, "total": 0, "rule_applied": False}

    # When an operator opens a dispute on the bill
    opened = api.post(operator, f"/v1/accounts/{account}/disputes", {"bill_id": bill["bill_id"], "reason": "金额有误"})
    assert opened.status_code == 201, opened.body
    pause = body(opened)
    # Then the account shows an open pause for that bill, and a second dispute of it is refused
    state = body(api.get(operator, f"/v1/accounts/{account}/collection"))
    assert [_set(p) for p in state["pauses"]] == [_set(pause)] and pause["bill_id"] == bill["bill_id"]
    assert pause["end"] is None
    assert [(b["bill_id"], b["disputed"]) for b in state["unpaid"]] == [(bill["bill_id"], True)]
    again = api.post(operator, f"/v1/accounts/{account}/disputes", {"bill_id": bill["bill_id"], "reason": "x"})
    assert (again.status_code, body(again)["error"]["code"]) == (409, "ALREADY_DISPUTED")

    # When it is closed, the pause keeps its days (append-only) and cannot be closed twice
    path = f"/v1/accounts/{account}/disputes/{pause['pause_id']}/close"
    closed = api.post(operator, path, {"reason": "核实无误"})
    assert closed.status_code == 200 and body(closed)["end"] == pause["start"], closed.body
    assert body(api.post(operator, path, {"reason": "x"}))["error"]["code"] == "PAUSE_NOT_FOUND"

    # And a city moratorium opens, lists, shows on the account and closes
    moratorium = body(api.post(operator, "/v1/moratoriums", {"reason": "台风停工"}))
    assert [_set(m) for m in body(api.get(operator, "/v1/moratoriums"))["items"]] == [_set(moratorium)]
    listed = body(api.get(operator, f"/v1/accounts/{account}/collection"))["moratoriums"]
    assert [_set(m) for m in listed] == [_set(moratorium)]
    ended = api.post(operator, f"/v1/moratoriums/{moratorium['pause_id']}/close", {"reason": "恢复"})
    assert ended.status_code == 200 and body(ended)["end"]

    # Then every change is audited with who and why
    events = platform.store.query(AUDIT, f"account#{account}", limit=20).items
    mine = [(e["action"], e["actor_id"], e["details"]["reason"]) for e in events if "dispute" in e["action"]]
    assert mine == [
        ("collection.dispute.opened", "city-operator", "金额有误"),
        ("collection.dispute.closed", "city-operator", "核实无误"),
    ]
    city = platform.store.query(AUDIT, "moratoriums", limit=20).items
    assert [(e["action"], e["details"]["reason"]) for e in city] == [
        ("collection.moratorium.opened", "台风停工"),
        ("collection.moratorium.closed", "恢复"),
    ]


def test_bad_input_changes_nothing(
    api: Api, platform: Any, operator: Key, hospital: Key, enrolled: dict[str, Any]
) -> None:
    account = enrolled["account_id"]
    bill = _bill(api, hospital, account)
    before = platform.store.get(ACCOUNTS, {"account_id": account})
    other = "bil_" + "0" * 26
    cases = [
        (f"/v1/accounts/{account}/disputes", {"bill_id": bill["bill_id"]}, 400, "VALIDATION_FAILED", "reason"),
        (f"/v1/accounts/{account}/disputes", {"bill_id": "头孢", "reason": "x"}, 400, "VALIDATION_FAILED", "bill_id"),
        (f"/v1/accounts/{account}/disputes", {"bill_id": other, "reason": "x"}, 404, "BILL_NOT_FOUND", "bill_id"),
        (
            f"/v1/accounts/{account}/disputes",
            {"bill_id": bill["bill_id"], "reason": "x", "diagnosis": "y"},
            400,
            "VALIDATION_FAILED",
            "diagnosis",
        ),
        (f"/v1/accounts/acc_{'0' * 26}/disputes", {"bill_id": other, "reason": "x"}, 404, "ACCOUNT_NOT_FOUND", None),
        (f"/v1/accounts/{account}/disputes/pau_nope/close", {"reason": "x"}, 404, "PAUSE_NOT_FOUND", None),
        (f"/v1/accounts/{account}/disputes/pau_{'0' * 26}/close", {"reason": "x"}, 404, "PAUSE_NOT_FOUND", None),
        ("/v1/moratoriums", {}, 400, "VALIDATION_FAILED", "reason"),
        ("/v1/moratoriums", {"reason": ""}, 400, "VALIDATION_FAILED", "reason"),
        (f"/v1/moratoriums/pau_{'0' * 26}/close", {"reason": "x"}, 404, "PAUSE_NOT_FOUND", None),
    ]
    for path, sent, status, code, field in cases:
        answer = api.post(operator, path, sent)
        error = body(answer)["error"]
        assert (answer.status_code, error["code"], error["field"]) == (status, code, field), (path, sent)
    assert platform.store.get(ACCOUNTS, {"account_id": account}) == before
    assert platform.store.get(ACCOUNTS, {"account_id": "sys#moratoriums"}) is None
    # And hospitals may not see or change any of it
    for method, path, sent in (
        ("GET", f"/v1/accounts/{account}/collection", None),
        ("POST", f"/v1/accounts/{account}/disputes", {"bill_id": bill["bill_id"], "reason": "x"}),
        ("POST", "/v1/moratoriums", {"reason": "x"}),
    ):
        refused = api.call(hospital, method, path, sent)
        assert (refused.status_code, body(refused)["error"]["code"]) == (403, "FORBIDDEN"), path


def test_aging_counts_unpaid_bills_by_band(
    api: Api, platform: Any, operator: Key, hospital: Key, enrolled: dict[str, Any]
) -> None:
    # Given two unpaid bills of one account (in collection: the close put it in the sweep's index)
    account = enrolled["account_id"]
    _bill(api, hospital, account)
    _bill(api, hospital, account)
    # When an operator asks for the aging report
    answer = api.get(operator, "/v1/aging")
    # Then both bills are in band N (not yet due), with their amounts; other bands are empty
    assert answer.status_code == 200, answer.body
    bands = {b["band"]: (b["bills"], b["outstanding_fen"]) for b in body(answer)["bands"]}
    assert bands == {"N": (2, 5000), **{str(n): (0, 0) for n in range(1, 8)}}
    # And a hospital may not read it
    assert api.get(hospital, "/v1/aging").status_code == 403


def test_an_inpatient_visit_shows_as_a_stay_pause_until_it_closes(
    api: Api, operator: Key, hospital: Key, enrolled: dict[str, Any]
) -> None:
    # Given an account with an unpaid bill
    account = enrolled["account_id"]
    _bill(api, hospital, account)
    # When the hospital admits the patient (an inpatient visit), twice in a row
    stays = [body(api.post(hospital, "/v1/visits", {"account_id": account, "kind": "inpatient"})) for _ in range(2)]
    # Then each stay is a pause of the whole account, open until discharge (written by path, no read)
    state = body(api.get(operator, f"/v1/accounts/{account}/collection"))
    ids = sorted(f"stay:{v['visit_id']}" for v in stays)
    assert sorted(p["pause_id"] for p in state["pauses"]) == ids
    assert {(p["reason"], p.get("end"), p.get("bill_id")) for p in state["pauses"]} == {("inpatient_stay", None, None)}
    # When one is discharged, its pause ends (its days stay paused); the other stays open
    assert api.post(hospital, f"/v1/visits/{stays[0]['visit_id']}/close").status_code == 201
    pauses = {p["pause_id"]: p for p in body(api.get(operator, f"/v1/accounts/{account}/collection"))["pauses"]}
    assert pauses[f"stay:{stays[0]['visit_id']}"]["end"] == pauses[f"stay:{stays[0]['visit_id']}"]["start"]
    assert pauses[f"stay:{stays[1]['visit_id']}"].get("end") is None
