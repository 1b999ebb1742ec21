"""The blacklist over HTTP: the patient's status (PIPL art. 24), appeals through a channel (fresh real-name check) or
by an operator, the operator's decision, correction, strike annulment; who may do what; one error shape."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from treatfirst.services import blacklist
from treatfirst.services.ports import ACCOUNTS, AUDIT, BLACKLIST, Update
from treatfirst.services.unit_of_work import Context

from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def _ctx(platform: Any) -> Context:
    return Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)


def _verification(platform: Any, minutes_ago: int = 1) -> dict[str, str]:
    at = platform.clock.now() - timedelta(minutes=minutes_ago)
    return {"method": "face", "check_id": "FACE-0001", "verified_at": at.isoformat()}


@pytest.fixture
def listed(platform: Any, enrolled: dict[str, Any]) -> dict[str, Any]:
    """A record the ladder made for the enrolled account (published already), and four strikes that hold the
    Lianyungang strike rule (more than 3 in 12 months)."""
    ctx = _ctx(platform)
    account_id = enrolled["account_id"]
    on = platform.clock.now().date() - timedelta(days=10)
    strikes = [{"bill_id": f"bil_{i:026d}", "on": (on - timedelta(days=i)).isoformat()} for i in range(1, 5)]
    record = blacklist.record_item(
        ctx,
        account_id=account_id,
        cause={"source": "ladder", "step": "report_to_credit_platform", "anchor": "2026-08-01", "days_overdue": 90},
        bills=[{"bill_id": strikes[0]["bill_id"], "amount_fen": 12_000, "due_at": "2026-08-01T15:59:59.000Z"}],
        notice=[{"message_id": "msg_" + "a" * 32, "sent_at": "2026-10-20T02:00:00.000Z"}],
        strike_bills=[strikes[0]["bill_id"]],
        on=on,
    )
    ctx.commit(
        [
            *blacklist.record_writes_for_listing(ctx, record),
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                set={
                    "blacklist_open": {"record_id": record["record_id"]},
                    "strikes": strikes,
                    "strike_blocked": True,
                    "blocks": ["new_charges", "new_visits", "limit_increase"],
                },
            ),
        ]
    )
    # published after the objection period (the daily sweep of its shard)
    assert blacklist.sweep_due(ctx, blacklist.due_shard(account_id), on + timedelta(days=7)) == 1
    return {**record, "strikes": strikes}


def test_the_patient_learns_status_reason_and_the_way_off(
    api: Api, channel: Key, hospital: Key, operator: Key, listed: dict[str, Any]
) -> None:
    # When the patient's channel asks for the account's blacklist status
    answer = api.get(channel, f"/v1/accounts/{listed['account_id']}/blacklist")
    # Then it names the record, the reason, the bills, the legal basis, that it was reported, and the way off it
    assert answer.status_code == 200, answer.body
    status = body(answer)
    assert status["listed"] is True and status["waiting_for_notice"] is False
    (record,) = status["records"]
    assert record["record_id"] == listed["record_id"] and record["state"] == "listed" and record["exported"]
    assert "逾期 90 天" in record["reason_text"] and record["amount_fen"] == 12_000
    assert "国办发〔2020〕49号" in record["legal_basis"]
    assert "30 天冷静期" in record["how_to_leave"] and "异议" in record["how_to_leave"]
    # and an operator sees the same; a hospital may not
    assert api.get(operator, f"/v1/accounts/{listed['account_id']}/blacklist").status_code == 200
    refused = api.get(hospital, f"/v1/accounts/{listed['account_id']}/blacklist")
    assert (refused.status_code, body(refused)["error"]["code"]) == (403, "FORBIDDEN")


def test_a_channel_appeal_needs_a_fresh_real_name_check_and_pauses_export(
    api: Api, platform: Any, channel: Key, operator: Key, hospital: Key, listed: dict[str, Any]
) -> None:
    path = f"/v1/blacklist/{listed['record_id']}/appeals"
    # Given a channel appeal without a verification, and one with a stale one
    missing = api.post(channel, path, {"statement": "已于到期前还款"}, idempotency_key="a-1")
    stale = api.post(
        channel, path, {"statement": "已还款", "verification": _verification(platform, 30)}, idempotency_key="a-2"
    )
    # Then both are refused in the one error shape, and nothing changes
    assert (missing.status_code, body(missing)["error"]["code"], body(missing)["error"]["field"]) == (
        400,
        "VALIDATION_FAILED",
        "verification",
    )
    assert (stale.status_code, body(stale)["error"]["code"]) == (422, "VERIFICATION_STALE")
    assert platform.store.get(BLACKLIST, {"item_id": listed["record_id"]})["state"] == "listed"
    # When the channel appeals with a fresh check
    filed = api.post(
        channel, path, {"statement": "已还款", "verification": _verification(platform)}, idempotency_key="a-3"
    )
    # Then the appeal is pending, the record is under appeal, and a second appeal is refused
    assert filed.status_code == 201, filed.body
    appeal = body(filed)
    assert (appeal["status"], appeal["filed_by_kind"], appeal["verification_method"]) == ("pending", "channel", "face")
    assert platform.store.get(BLACKLIST, {"item_id": listed["record_id"]})["state"] == "appealing"
    again = api.post(channel, path, {"statement": "x", "verification": _verification(platform)}, idempotency_key="a-4")
    assert (again.status_code, body(again)["error"]["code"]) == (409, "APPEAL_PENDING")
    # and an operator lists it; a hospital cannot appeal
    assert [a["appeal_id"] for a in body(api.get(operator, "/v1/appeals"))["items"]] == [appeal["appeal_id"]]
    assert api.post(hospital, path, {"statement": "x"}, idempotency_key="a-5").status_code == 403


def test_an_accepted_appeal_removes_the_record_tells_the_export_and_annuls_its_strikes(
    api: Api, platform: Any, operator: Key, listed: dict[str, Any]
) -> None:
    # Given an appeal an operator filed on the patient's behalf
    path = f"/v1/blacklist/{listed['record_id']}/appeals"
    appeal = body(api.post(operator, path, {"statement": "书面异议：账单重复"}, idempotency_key="o-1"))
    # When the operator accepts it with a reason, annulling the strikes it rested on
    decided = api.post(
        operator,
        f"/v1/appeals/{appeal['appeal_id']}/decision",
        {"outcome": "accepted", "reason": "核实为重复账单", "annul_strikes": True},
        idempotency_key="d-1",
    )
    # Then the appeal is accepted and the record removed as appeal_accepted
    assert decided.status_code == 200, decided.body
    assert body(decided)["status"] == "accepted"
    seen = body(api.get(operator, f"/v1/blacklist/{listed['record_id']}"))
    assert seen["record"]["state"] == "removed" and seen["record"]["removal"]["reason"] == "appeal_accepted"
    assert [a["status"] for a in seen["appeals"]] == ["accepted"]
    # and the export's next delta removes it
    ctx = _ctx(platform)
    today = platform.clock.now().date()  # changes carry the business date open when written: today's or tomorrow's
    window = {"city_code": "320700", "from_date": today - timedelta(days=1), "to_date": today + timedelta(days=3)}
    assert [(c["kind"], c["reason"]) for c in blacklist.changes(ctx, **window)] == [
        ("added", "overdue_unpaid"),
        ("removed", "appeal_accepted"),
    ]
    # and the strike it rested on is annulled (a new row in the strike log): 3 strikes left, not "more than 3",
    # so the strike rule's suspension is lifted (nothing is unpaid)
    account = platform.store.get(ACCOUNTS, {"account_id": listed["account_id"]})
    assert [s.get("annulled", False) for s in account["strikes"]] == [True, False, False, False]
    assert "strike_blocked" not in account and "blacklist_open" not in account
    log = platform.store.query(AUDIT, f"strike#{listed['account_id']}", limit=10).items
    assert [(e["action"], e["details"]["reason"]) for e in log] == [("strike.annulled", "核实为重复账单")]
    # and a second decision is refused
    twice = api.post(
        operator,
        f"/v1/appeals/{appeal['appeal_id']}/decision",
        {"outcome": "rejected", "reason": "x"},
        idempotency_key="d-2",
    )
    assert (twice.status_code, body(twice)["error"]["code"]) == (409, "APPEAL_ALREADY_DECIDED")


def test_a_rejected_appeal_lists_the_record_again(
    api: Api, platform: Any, operator: Key, listed: dict[str, Any]
) -> None:
    path = f"/v1/blacklist/{listed['record_id']}/appeals"
    appeal = body(api.post(operator, path, {"statement": "异议"}, idempotency_key="o-1"))
    decided = api.post(
        operator, f"/v1/appeals/{appeal['appeal_id']}/decision", {"outcome": "rejected", "reason": "欠款属实"}
    )
    assert decided.status_code == 200, decided.body
    assert platform.store.get(BLACKLIST, {"item_id": listed["record_id"]})["state"] == "listed"
    assert body(api.get(operator, "/v1/appeals"))["items"] == []
    assert [r["record_id"] for r in body(api.get(operator, "/v1/blacklist"))["items"]] == [listed["record_id"]]


def test_correction_and_strike_annulment_by_an_operator(
    api: Api, platform: Any, operator: Key, channel: Key, listed: dict[str, Any]
) -> None:
    account = listed["account_id"]
    # When an operator corrects the record, with a reason
    corrected = api.post(operator, f"/v1/blacklist/{listed['record_id']}/correction", {"reason": "身份错配"})
    # Then it is removed as corrected; correcting it again is refused
    assert corrected.status_code == 200, corrected.body
    assert body(corrected)["state"] == "removed" and body(corrected)["removal"]["reason"] == "corrected"
    again = api.post(operator, f"/v1/blacklist/{listed['record_id']}/correction", {"reason": "x"})
    assert (again.status_code, body(again)["error"]["code"]) == (409, "RECORD_NOT_LISTED")
    # When an operator annuls one strike
    bill = listed["strikes"][1]["bill_id"]
    path = f"/v1/accounts/{account}/strikes/{bill}/annulment"
    annulled = api.post(operator, path, {"reason": "系统故障导致逾期"})
    # Then 3 strikes count, the rule (more than 3) no longer holds and its suspension is lifted
    assert annulled.status_code == 200, annulled.body
    assert (body(annulled)["strikes_counted"], body(annulled)["strike_rule_applied"]) == (3, False)
    assert "blocks" not in platform.store.get(ACCOUNTS, {"account_id": account})
    # and annulling it again, or a strike the account does not have, is refused; a channel may not annul
    twice = api.post(operator, path, {"reason": "x"})
    assert (twice.status_code, body(twice)["error"]["code"]) == (409, "STRIKE_ALREADY_ANNULLED")
    unknown = api.post(operator, f"/v1/accounts/{account}/strikes/bil_{'9' * 26}/annulment", {"reason": "x"})
    assert (unknown.status_code, body(unknown)["error"]["code"]) == (404, "STRIKE_NOT_FOUND")
    assert api.post(channel, path, {"reason": "x"}).status_code == 403
    # and malformed or unknown ids are 404 in the one error shape (a malformed one before any read)
    for bad in ("/v1/blacklist/blr_nope", f"/v1/blacklist/blr_{'0' * 26}"):
        answer = api.get(operator, bad)
        assert (answer.status_code, body(answer)["error"]["code"]) == (404, "BLACKLIST_RECORD_NOT_FOUND")
    answer = api.post(operator, "/v1/appeals/bla_x/decision", {"outcome": "accepted", "reason": "x"})
    assert (answer.status_code, body(answer)["error"]["code"]) == (404, "APPEAL_NOT_FOUND")
