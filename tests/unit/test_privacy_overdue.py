"""Privacy requests past their documented deadline: flagged in the operator queue, counted on the page and in the
daily step's log line (which the template's alarm reads), and no longer once answered."""

from __future__ import annotations

from datetime import timedelta

from treatfirst.messages.privacy import PrivacyAnswer, PrivacyRequest
from treatfirst.services import rights
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.paging import PageQuery
from treatfirst.services.purge import OVERDUE_FIELD, purge_daily

from tests.factories import command
from tests.unit.conftest import World

OPERATOR = Caller("key_op", "operator", "city-operator", SCOPES["operator"])


def _review(world: World, account_id: str) -> str:
    at = world.clock.now() - timedelta(minutes=1)
    body = {
        "kind": "human_review",
        "reason": "请人工复核",
        "verification": {"method": "face", "check_id": "face-od", "verified_at": at.isoformat()},
    }
    opened = rights.open_request(world.ctx(), world.channel, account_id, command(PrivacyRequest, body), None).body
    return str(opened["request_id"])


def test_a_request_past_its_deadline_is_flagged_counted_and_alarmed_until_answered(world: World) -> None:
    # Given two human reviews waiting for an operator, opened five days apart
    days = world.policy.privacy.rights_answer_days
    first = _review(world, world.enroll()["account_id"])
    world.clock.advance(days=5)
    second = _review(world, world.enroll()["account_id"])
    # When the first one's deadline has just passed (at the deadline itself it is not late yet)
    world.clock.advance(days=days - 5)
    assert rights.list_open(world.ctx(), OPERATOR, PageQuery(limit=10))["overdue"] == 0
    world.clock.advance(seconds=1)
    page = rights.list_open(world.ctx(), OPERATOR, PageQuery(limit=1))
    # Then the queue flags it, the page counts the whole queue, and the daily step's log line carries the count
    assert [(i["request_id"], i["overdue"]) for i in page["items"]] == [(first, True)] and page["overdue"] == 1
    assert purge_daily(world.ctx())[OVERDUE_FIELD] == 1
    later = rights.list_open(world.ctx(), OPERATOR, PageQuery(limit=10))
    assert [(i["request_id"], i["overdue"]) for i in later["items"]] == [(first, True), (second, False)]
    # When the operator answers it, Then nothing is overdue any more
    answer = command(PrivacyAnswer, {"outcome": "upheld", "reason": "已人工复核"})
    rights.answer_request(world.ctx(), OPERATOR, first, answer, None)
    assert purge_daily(world.ctx())[OVERDUE_FIELD] == 0
    assert rights.list_open(world.ctx(), OPERATOR, PageQuery(limit=10))["overdue"] == 0
