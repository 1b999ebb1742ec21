"""The state tables the docs draw (domain.states) hold what the services do: every status change observed in the
scenarios below is a row of its table, and the tables name exactly the statuses the API answers with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args, get_type_hints

from treatfirst.adapters.memory import MemoryStore
from treatfirst.adapters.sns import LocalPublisher
from treatfirst.domain import states
from treatfirst.messages.collection import OutboxMessage
from treatfirst.messages.payments import Bill
from treatfirst.services.dispatch import LEASE_SECONDS, dispatch
from treatfirst.services.ports import BILLS, OUTBOX, Write

from tests.unit.conftest import World


class Recording(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.moves: dict[str, set[tuple[str, str]]] = {BILLS: set(), OUTBOX: set()}

    def commit(self, writes: Sequence[Write]) -> None:
        def statuses() -> dict[tuple[str, Any], tuple[str, Any]]:
            return {
                (t, k): (i["status"], i.get("lease_id"))
                for t in self.moves
                for k, i in self.tables[t].items()
                if "status" in i
            }

        before = statuses()
        super().commit(writes)
        for (table, key), after in statuses().items():
            if (table, key) in before and before[(table, key)] != after:  # a status (or a claim's lease) changed
                self.moves[table].add((before[(table, key)][0], after[0]))


def _moves(table: tuple[states.Transition, ...]) -> set[tuple[str, str]]:
    return {(a, b) for a, b, _ in table}


def test_the_tables_name_the_statuses_the_api_answers_with() -> None:
    assert states.states(states.BILL_TRANSITIONS) == set(get_args(get_type_hints(Bill)["status"]))
    outbox = set(get_args(get_type_hints(OutboxMessage)["status"]))
    assert states.states(states.SMS_TRANSITIONS) | states.states(states.TASK_TRANSITIONS) == outbox


def test_bills_move_only_along_the_table(world: World) -> None:
    world.store = Recording()
    from treatfirst.messages.common import Empty
    from treatfirst.messages.visits import ChargeRequest
    from treatfirst.services import charges, closing, collection

    from tests.factories import charge, command

    account = world.enroll()["account_id"]
    collection.sweep(world.ctx())  # the platform's first sweep
    bills = []
    for _ in range(3):
        visit = world.open_visit(account)["visit_id"]
        charges.post_charge(world.ctx(), world.hospital, visit, command(ChargeRequest, charge(1000)), None)
        bills.append(closing.close_visit(world.ctx(), world.hospital, visit, Empty(), None).body["bill"])
    world.pay("t1", (bills[0]["bill_id"], 1000))  # issued -> paid
    world.clock.advance(days=9)
    collection.sweep(world.ctx())  # issued -> overdue
    world.pay("t2", (bills[1]["bill_id"], 1000))  # overdue -> paid
    world.clock.advance(days=400)
    collection.sweep(world.ctx())  # overdue -> written_off (the ladder's last step)
    assert world.store.moves[BILLS] == {
        ("issued", "paid"),
        ("issued", "overdue"),
        ("overdue", "paid"),
        ("overdue", "written_off"),
    }
    assert world.store.moves[BILLS] <= _moves(states.BILL_TRANSITIONS)


def test_sms_rows_and_phone_tasks_move_only_along_their_tables(world: World) -> None:
    from tests.unit.test_dispatch import BrokenPublisher, _message

    world.store = Recording()
    account = world.enroll()["account_id"]
    _message(world, account, "a#1")
    dispatch(world.ctx(), BrokenPublisher())  # pending -> sending -> pending
    dispatch(world.ctx(), LocalPublisher())  # pending -> sending -> sent
    stuck = _message(world, account, "a#2")
    world.store.tables[OUTBOX][(stuck,)].update(status="sending", lease_id="l", lease_until="2000-01-01T00:00:00.000Z")
    dispatch(world.ctx(), LocalPublisher())  # sending -> sending (taken over) -> sent
    _message(world, "acc_gone", "a#3")
    world.clock.advance(seconds=LEASE_SECONDS)
    dispatch(world.ctx(), LocalPublisher())  # -> undeliverable
    sms = {m for m in world.store.moves[OUTBOX]}
    assert sms == _moves(states.SMS_TRANSITIONS)


def test_phone_tasks_move_only_along_their_table(world: World) -> None:
    from treatfirst.messages.collection import ClaimRequest, OutcomeRequest
    from treatfirst.services import tasks
    from treatfirst.services.identity import SCOPES, Caller

    from tests.unit.test_dispatch import _message

    world.store = Recording()
    operator = Caller("key_op", "operator", "op-1", SCOPES["operator"])
    task = _message(world, world.enroll()["account_id"], "a#1", kind="phone_task")
    tasks.claim_task(world.ctx(), operator, task, ClaimRequest(reason="call"))
    tasks.claim_task(world.ctx(), operator, task, ClaimRequest(reason="again"))
    tasks.record_outcome(world.ctx(), operator, task, OutcomeRequest(outcome="not_reached", note="no answer"))
    assert world.store.moves[OUTBOX] <= _moves(states.TASK_TRANSITIONS)
    assert ("claimed", "done") in world.store.moves[OUTBOX] and ("open", "claimed") in world.store.moves[OUTBOX]
