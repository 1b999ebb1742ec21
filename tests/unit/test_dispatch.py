"""The dispatcher delivers each pending SMS row at least once, with its stable id, and never twice per row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from treatfirst.adapters.sns import LocalPublisher
from treatfirst.services.dispatch import LEASE_SECONDS, dispatch
from treatfirst.services.identity_data import identity_of
from treatfirst.services.outbox import outbox_put
from treatfirst.services.ports import OUTBOX

from tests.unit.conftest import World


class BrokenPublisher(LocalPublisher):
    def publish(self, message: Mapping[str, Any]) -> None:
        raise ConnectionError("gateway down")


def _message(world: World, account_id: str, key: str, kind: str = "step") -> str:
    put = outbox_put(
        world.ctx(),
        account_id=account_id,
        kind=kind,
        dedupe_key=key,
        params={
            "name_masked": "张*",
            "amount_fen": 5000,
            "due_date": "2026-11-30",
            "days_overdue": 1,
            "step": "sms_reminder",
            "actions": ["sms_reminder"],
        },
    )
    world.ctx().commit([put])
    return str(put.item["message_id"])


def test_pending_rows_are_sent_once_with_the_phone_and_leave_the_queue(world: World) -> None:
    # Given an enrolled patient with two messages and a phone task
    account = world.enroll()
    first = _message(world, account["account_id"], "a#1")
    second = _message(world, account["account_id"], "a#2")
    _message(world, account["account_id"], "a#3", kind="phone_task")
    publisher = LocalPublisher()
    # When the dispatcher runs twice
    assert dispatch(world.ctx(), publisher).sent == 2
    assert dispatch(world.ctx(), publisher).sent == 0
    # Then each SMS went out once, with its id, the full phone number and the rendered text; the task stays open
    assert sorted(m["message_id"] for m in publisher.sent) == sorted([first, second])
    stored = world.store.get("accounts", {"account_id": account["account_id"]})
    assert stored is not None
    phone = identity_of(world.ctx(), stored)["phone"]
    assert {m["phone"] for m in publisher.sent} == {phone} and phone.startswith("138")
    assert all(m["text"].startswith("【连云港市先医后付】张*您好") for m in publisher.sent)
    rows = {r["message_id"]: r for r in world.store.tables[OUTBOX].values()}
    assert rows[first]["status"] == rows[second]["status"] == "sent"
    assert "queue" not in rows[first] and rows[first]["sent_via"] == "local"
    assert [r["status"] for r in rows.values() if r["channel"] == "phone"] == ["open"]


def test_a_failed_publish_is_retried_on_the_next_run(world: World) -> None:
    account = world.enroll()
    mid = _message(world, account["account_id"], "a#1")
    # Given the gateway refuses a message
    failed = dispatch(world.ctx(), BrokenPublisher())
    assert (failed.sent, failed.failed) == (0, 1)
    assert world.store.tables[OUTBOX][(mid,)]["status"] == "pending"
    # When it works again
    publisher = LocalPublisher()
    dispatch(world.ctx(), publisher)
    # Then the message goes out, once
    assert [m["message_id"] for m in publisher.sent] == [mid]


def test_a_dispatcher_that_died_after_claiming_is_taken_over_after_the_lease_with_the_same_id(world: World) -> None:
    account = world.enroll()
    mid = _message(world, account["account_id"], "a#1")
    # Given a dispatcher claimed the row, published and died before marking it sent
    row = world.store.tables[OUTBOX][(mid,)]
    row.update(status="sending", lease_id="lse_dead", lease_until="2026-11-24T01:05:00.000Z")
    publisher = LocalPublisher()
    # When another run comes while the lease holds, it leaves the row alone
    assert dispatch(world.ctx(), publisher).skipped == 1
    assert publisher.sent == []
    # And after the lease it delivers the same message id again (at least once)
    world.clock.advance(seconds=LEASE_SECONDS + 1)
    assert dispatch(world.ctx(), publisher).sent == 1
    assert [m["message_id"] for m in publisher.sent] == [mid]
    assert world.store.tables[OUTBOX][(mid,)]["status"] == "sent"


def test_a_row_claimed_by_another_dispatcher_is_not_published(world: World) -> None:
    account = world.enroll()
    mid = _message(world, account["account_id"], "a#1")
    publisher = LocalPublisher()

    # Given another dispatcher claims the row between this one's read and its claim
    real_query = world.store.query

    def racing_query(*args: Any, **kwargs: Any) -> Any:
        page = real_query(*args, **kwargs)
        if page.items:
            world.store.tables[OUTBOX][(mid,)].update(
                status="sending", lease_id="lse_other", lease_until="2026-11-24T01:05:00.000Z"
            )
        return page

    world.store.query = racing_query  # type: ignore[method-assign]
    # When this dispatcher runs
    result = dispatch(world.ctx(), publisher)
    # Then its conditional claim fails and it publishes nothing
    assert (result.sent, result.skipped, publisher.sent) == (0, 1, [])


def test_a_message_not_yet_due_by_the_clock_waits(world: World) -> None:
    account = world.enroll()
    world.clock.advance(hours=1)
    _message(world, account["account_id"], "a#1")
    world.clock.advance(hours=-1)  # the dispatcher's clock is behind the row's time
    assert dispatch(world.ctx(), LocalPublisher()).sent == 0
