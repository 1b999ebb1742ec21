"""Operators over HTTP: an account's messages, the phone task queue (list, claim, outcome), audited; bad input."""

from __future__ import annotations

import json
from typing import Any

from treatfirst.services.outbox import message_id, outbox_put
from treatfirst.services.ports import AUDIT
from treatfirst.services.unit_of_work import Context

from tests.functional.conftest import Api, Key, _register


def body(response: Any) -> Any:
    return json.loads(response.body)


def _write(platform: Any, account_id: str, kind: str, key: str) -> str:
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)
    params = {
        "name_masked": "张*",
        "amount_fen": 2000,
        "due_date": "2026-12-01",
        "days_overdue": 7,
        "step": "phone_follow_up",
        "actions": ["phone_task"],
    }
    ctx.commit([outbox_put(ctx, account_id=account_id, kind=kind, dedupe_key=key, params=params)])
    return message_id(key)


def test_an_operator_claims_calls_and_closes_a_phone_task(
    api: Api, platform: Any, operator: Key, hospital: Key, enrolled: dict[str, Any]
) -> None:
    # Given a ladder step wrote a phone task and an SMS for an account
    account = enrolled["account_id"]
    task = _write(platform, account, "phone_task", f"{account}#phone_follow_up#2026-12-01")
    sms = _write(platform, account, "step", f"{account}#step#sms_reminder#2026-12-01")
    other = _register(platform, "operator", "second-operator")

    # When an operator lists the account's messages and the open tasks
    messages = body(api.get(operator, f"/v1/accounts/{account}/messages"))
    listed = body(api.get(operator, "/v1/tasks"))
    # Then both rows show, the SMS with its exact text; the task queue shows the task, masked
    assert {m["message_id"] for m in messages["items"]} == {task, sms}
    assert next(m for m in messages["items"] if m["message_id"] == sms)["text"].startswith("【连云港市先医后付】张*")
    assert [(t["task_id"], t["status"], t["name_masked"]) for t in listed["items"]] == [(task, "open", "张*")]
    assert "phone" not in listed["items"][0]

    # When one operator claims it, the answer has the number to call; a second operator cannot take it
    claimed = api.post(operator, f"/v1/tasks/{task}/claim", {"reason": "今日回访"})
    assert claimed.status_code == 200, claimed.body
    assert body(claimed)["phone"].startswith("138") and body(claimed)["claimed_by"] == "operator:city-operator"
    taken = api.post(other, f"/v1/tasks/{task}/claim", {"reason": "今日回访"})
    assert (taken.status_code, body(taken)["error"]["code"]) == (409, "TASK_NOT_CLAIMABLE")
    not_mine = api.post(other, f"/v1/tasks/{task}/outcome", {"outcome": "promised_to_pay", "note": "x"})
    assert (not_mine.status_code, body(not_mine)["error"]["code"]) == (409, "TASK_NOT_CLAIMABLE")

    # When the claimer records the outcome
    done = api.post(operator, f"/v1/tasks/{task}/outcome", {"outcome": "promised_to_pay", "note": "承诺周五还款"})
    # Then the task is done and leaves the queue, and both moves are audited with who and why
    assert (done.status_code, body(done)["status"], body(done)["outcome"]) == (200, "done", "promised_to_pay")
    assert body(api.get(operator, "/v1/tasks"))["items"] == []
    events = [e for e in platform.store.query(AUDIT, f"account#{account}", limit=10).items if "task" in e["action"]]
    assert [(e["action"], e["actor_id"]) for e in events] == [
        ("phone_task.claim", "city-operator"),
        ("phone_task.outcome", "city-operator"),
    ]
    assert events[0]["details"]["reason"] == "今日回访" and events[1]["details"]["note"] == "承诺周五还款"

    # And a hospital may do none of it
    for method, path, sent in (
        ("GET", "/v1/tasks", None),
        ("GET", f"/v1/accounts/{account}/messages", None),
        ("POST", f"/v1/tasks/{task}/claim", {"reason": "x"}),
    ):
        refused = api.call(hospital, method, path, sent)
        assert (refused.status_code, body(refused)["error"]["code"]) == (403, "FORBIDDEN"), path


def test_bad_input_to_the_task_routes_changes_nothing(
    api: Api, platform: Any, operator: Key, enrolled: dict[str, Any]
) -> None:
    account = enrolled["account_id"]
    task = _write(platform, account, "phone_task", f"{account}#phone_follow_up#2026-12-01")
    cases = [
        (f"/v1/tasks/{task}/claim", {}, 400, "VALIDATION_FAILED", "reason"),
        (f"/v1/tasks/{task}/claim", {"reason": "  "}, 400, "VALIDATION_FAILED", "reason"),
        (f"/v1/tasks/{task}/claim", {"reason": "x", "extra": 1}, 400, "VALIDATION_FAILED", "extra"),
        (f"/v1/tasks/{task}/outcome", {"outcome": "gone_fishing", "note": "x"}, 400, "VALIDATION_FAILED", "outcome"),
        (f"/v1/tasks/{task}/outcome", {"outcome": "paid_already"}, 400, "VALIDATION_FAILED", "note"),
        ("/v1/tasks/msg_nope/claim", {"reason": "x"}, 404, "TASK_NOT_FOUND", None),
        (f"/v1/tasks/msg_{'0' * 32}/claim", {"reason": "x"}, 404, "TASK_NOT_FOUND", None),
        (f"/v1/tasks/{task}/outcome", {"outcome": "paid_already", "note": "x"}, 409, "TASK_NOT_CLAIMABLE", None),
    ]
    for path, sent, status, code, field in cases:
        answer = api.post(operator, path, sent)
        error = body(answer)["error"]
        assert (answer.status_code, error["code"], error["field"]) == (status, code, field), (path, sent)
    # Then the task is still open and nothing was audited
    assert [t["status"] for t in body(api.get(operator, "/v1/tasks"))["items"]] == ["open"]
    assert [e for e in platform.store.query(AUDIT, f"account#{account}", limit=10).items if "task" in e["action"]] == []
    # And an SMS row is not a task
    sms = _write(platform, account, "step", f"{account}#step#sms_reminder#2026-12-01")
    assert body(api.post(operator, f"/v1/tasks/{sms}/claim", {"reason": "x"}))["error"]["code"] == "TASK_NOT_FOUND"
    # And a list refuses unknown query parameters and a foreign account
    assert api.get(operator, "/v1/tasks", query={"status": "open"}).status_code == 400
    missing = api.get(operator, f"/v1/accounts/acc_{'0' * 26}/messages")
    assert (missing.status_code, body(missing)["error"]["code"]) == (404, "ACCOUNT_NOT_FOUND")
