"""The overdue marking reads the sparse due index only, and is idempotent."""

from __future__ import annotations

from datetime import timedelta

from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import charges, closing, overdue
from treatfirst.services.ports import BILLS

from tests.factories import charge, command
from tests.unit.conftest import World


def _bill(world: World, account_id: str, amount: int) -> str:
    visit_id = world.open_visit(account_id)["visit_id"]
    if amount:
        charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(amount)), None)
    return str(closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]["bill_id"])


def test_only_unpaid_bills_past_due_become_overdue_once(world: World) -> None:
    # Given three bills: unpaid, paid, and a zero bill (born paid, never in the due index)
    account_id = world.enroll()["account_id"]
    unpaid, paid, zero = _bill(world, account_id, 300), _bill(world, account_id, 200), _bill(world, account_id, 0)
    world.pay("t1", (paid, 200))
    assert "due_shard" not in world.store.get(BILLS, {"bill_id": zero})  # type: ignore[operator]

    # When the sweep runs before the due time, nothing moves
    assert overdue.mark_overdue(world.ctx()).marked == 0

    # When it runs after the due time (Lianyungang: 7 days), the unpaid bill alone becomes overdue
    world.clock.advance(days=8)
    first = overdue.mark_overdue(world.ctx())
    again = overdue.mark_overdue(world.ctx())
    assert (first.examined, first.marked) == (1, 1)
    assert (again.examined, again.marked) == (1, 0)
    statuses = {b: world.store.get(BILLS, {"bill_id": b})["status"] for b in (unpaid, paid, zero)}  # type: ignore[index]
    assert statuses == {unpaid: "overdue", paid: "paid", zero: "paid"}

    # And an overdue bill can still be paid, which takes it out of the index
    world.pay("t2", (unpaid, 300), paid_at="2026-12-03T10:00:00+08:00")
    assert "due_shard" not in world.store.get(BILLS, {"bill_id": unpaid})  # type: ignore[operator]
    world.assert_sound(account_id)


def test_a_long_outage_is_caught_up_with_a_longer_lookback(world: World) -> None:
    account_id = world.enroll()["account_id"]
    bill = _bill(world, account_id, 100)
    world.clock.current += timedelta(days=30)
    assert overdue.mark_overdue(world.ctx()).marked == 0  # due 22 days ago: outside the default window
    assert overdue.mark_overdue(world.ctx(), lookback_days=30).marked == 1
    assert world.store.get(BILLS, {"bill_id": bill})["status"] == "overdue"  # type: ignore[index]
