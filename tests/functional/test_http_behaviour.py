"""HTTP behaviour: idempotent replays, cursor lists, public documents, the second city, the schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from treatfirst.consents import render_all
from treatfirst.services.ports import BILLS

from tests.factories import charge, enrollment
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def test_idempotency_key_replays_the_first_response(api: Api, hospital: Key, visit: dict[str, Any]) -> None:
    path = f"/v1/visits/{visit['visit_id']}/charges"
    first = api.post(hospital, path, charge(300, fee_line_id="A1"), idempotency_key="post-A1")
    again = api.post(hospital, path, charge(300, fee_line_id="A1"), idempotency_key="post-A1")
    assert first.status_code == again.status_code == 201
    assert body(first) == body(again) and again.headers.get("Idempotent-Replayed") == "true"
    changed = api.post(hospital, path, charge(301, fee_line_id="A1"), idempotency_key="post-A1")
    assert changed.status_code == 409 and body(changed)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert body(api.get(hospital, f"/v1/visits/{visit['visit_id']}"))["held_fen"] == 300


def test_cursor_lists_walk_every_item_once(api: Api, hospital: Key, visit: dict[str, Any]) -> None:
    path = f"/v1/visits/{visit['visit_id']}/charges"
    posted = {api_body["fee_line_id"] for api_body in (body(api.post(hospital, path, charge(1))) for _ in range(7))}
    seen: list[str] = []
    query = {"limit": "3"}
    while True:
        page = body(api.get(hospital, path, query=query))
        seen += [c["fee_line_id"] for c in page["items"]]
        if not page["has_more"]:
            break
        query = {"limit": "3", "cursor": page["cursor"]}
    assert sorted(seen) == sorted(posted)


def test_public_consents_match_the_rendered_texts(api: Api, platform: Any) -> None:
    served = body(api.get(None, "/v1/consents"))
    assert [(c["kind"], c["text_sha256"]) for c in served["items"]] == [
        (c.kind, c.sha256) for c in render_all(platform.policy)
    ]
    assert served["policy_sha256"] == platform.policy.sha256
    assert body(api.get(None, "/v1/health"))["status"] == "ok"


@pytest.mark.parametrize("city", ["xiamen"], indirect=True)
def test_score_banded_city_end_to_end(api: Api, hospital: Key, platform: Any) -> None:
    low = api.post(
        hospital, "/v1/enrollments", enrollment(platform.policy, credit_score={"source": "bailu", "value": 500})
    )
    assert low.status_code == 422 and body(low)["error"]["code"] == "NOT_ELIGIBLE"
    account = body(
        api.post(
            hospital, "/v1/enrollments", enrollment(platform.policy, credit_score={"source": "bailu", "value": 610})
        )
    )
    assert account["credit_line"]["limit_fen"] == 100000 and account["tier"] == "silver"
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account["account_id"]}))
    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(100))
    bill = body(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close"))["bill"]
    assert bill["due_at"].endswith("T23:59:59+08:00")


def test_operator_registers_a_hospital_whose_key_then_works(api: Api, operator: Key) -> None:
    made = api.post(operator, "/v1/callers", {"kind": "hospital", "id": "county-hospital", "name": "县医院"})
    assert made.status_code == 201
    key = body(made)
    new = Key(key["key_id"], key["secret"], key["id"])
    assert api.get(new, "/v1/visits").status_code == 200


def test_schedule_sweeps_collection_in_process_when_no_queue_is_set(
    api: Api, hospital: Key, visit: dict[str, Any], platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import app

    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(100))
    bill = body(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close"))["bill"]

    class Later:
        def now(self) -> datetime:
            return datetime.now(UTC) + timedelta(days=9)

    monkeypatch.setattr(platform, "clock", Later())
    with Client(app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        first = client.lambda_.invoke("collect", event)
        second = client.lambda_.invoke("collect", event)
        # and a shard's queue message (as SQS delivers it on AWS) for a date already swept changes nothing
        through = first.payload["dates"][-1]
        sqs = client.events.generate_sqs_event(
            message_bodies=[json.dumps({"shard": str(s), "through": through}) for s in range(16)],
            queue_name="treatfirst-collection",
        )
        third = client.lambda_.invoke("collect_shard", sqs)
    assert first.payload["acted"] == 1 and first.payload["read"] == 1
    assert second.payload["read"] == 0 and third.payload["read"] == 0
    stored = platform.store.get(BILLS, {"bill_id": bill["bill_id"]})
    assert stored["status"] == "overdue" and "due_shard" in stored
