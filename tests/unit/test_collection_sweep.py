"""The collection sweep over the in-memory store: every transition of the ladder through the services, blocks
where visits open and charges post, payments that re-anchor or lift, write-off and recovery, catch-up after an
outage, reruns, and a crash after every write of a sweep."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from treatfirst.adapters.memory import MemoryStore
from treatfirst.domain import ledger
from treatfirst.domain.errors import AccountRestricted
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import charges, closing, collection
from treatfirst.services.ports import ACCOUNTS, AUDIT, BILLS, LEDGER, OUTBOX, Write

from tests.factories import charge, command
from tests.unit.conftest import World

DUE = date(2026, 12, 1)  # bills closed on 2026-11-24 (Beijing) are due 7 days later at 23:59:59


def _bill(world: World, account_id: str, amount: int, *, emergency: int = 0) -> str:
    extra = {"emergency": {"triage_level": 1, "reason_code": "chest_pain"}} if emergency else {}
    visit_id = world.open_visit(account_id, **extra)["visit_id"]
    if amount:
        charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(amount)), None)
    if emergency:
        body = charge(emergency, emergency=True)
        charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, body), None)
    return str(closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]["bill_id"])


def _close_of(day: date) -> datetime:
    """Just after the business date `day` closes in Beijing (23:59:59 local = 15:59:59 UTC)."""
    return datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)


def _sweep_on(world: World, day: date) -> collection.SweepResult:
    world.clock.current = _close_of(day)
    return collection.sweep(world.ctx())


def _start(world: World) -> None:
    """The platform's first sweep (sets every shard's watermark to the day before the bills)."""
    _sweep_on(world, date(2026, 11, 23))


def _outbox(world: World, account_id: str | None = None) -> list[dict[str, Any]]:
    # in the order written (a dict keeps insertion order)
    return [r for r in world.store.tables[OUTBOX].values() if account_id is None or r["account_id"] == account_id]


def _account(world: World, account_id: str) -> dict[str, Any]:
    item = world.store.get(ACCOUNTS, {"account_id": account_id})
    assert item is not None
    return item


def test_xiamen_bill_walks_the_ladder_with_one_message_per_step(xiamen: World) -> None:
    # Given an account with one unpaid 300-fen bill due on DUE
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    bill = _bill(xiamen, account_id, 300)
    # When the sweep runs at the close of every day up to 20 days after the due date
    sent: dict[date, list[tuple[str, str]]] = {}
    day = date(2026, 11, 24)
    while day <= DUE + timedelta(days=20):
        before = len(_outbox(xiamen))
        _sweep_on(xiamen, day)
        new = _outbox(xiamen)[before:]
        if new:
            sent[day] = [(r["kind"], r["params"].get("step", "")) for r in new]
        day += timedelta(days=1)
    # Then one message per event on its day (reminders before the due date and before each step)
    assert sent == {
        DUE - timedelta(days=1): [("due_reminder", "")],
        DUE: [("step", "sms_reminder")],
        DUE + timedelta(days=2): [("step_reminder", "restrict")],
        DUE + timedelta(days=3): [("step", "restrict"), ("phone_task", "restrict")],
        DUE + timedelta(days=12): [("step_reminder", "suspend")],
        DUE + timedelta(days=15): [("step", "suspend")],
    }
    account = _account(xiamen, account_id)
    assert account["step"] == "suspend" and account["blocks"] == ["new_charges", "new_visits", "limit_increase"]
    assert xiamen.store.get(BILLS, {"bill_id": bill})["status"] == "overdue"  # type: ignore[index]
    texts = [r["text"] for r in _outbox(xiamen) if r["channel"] == "sms"]
    assert all("张*" in t and "3.00元" in t for t in texts), texts  # masked name and yuan, nothing else personal
    xiamen.assert_sound(account_id)


def test_suspension_blocks_visits_and_charges_but_never_an_emergency(xiamen: World) -> None:
    # Given an account suspended by the ladder, with a visit it opened before
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    _bill(xiamen, account_id, 300)
    earlier = xiamen.open_visit(account_id)["visit_id"]
    for n in range(-7, 16):
        _sweep_on(xiamen, DUE + timedelta(days=n))
    assert _account(xiamen, account_id)["step"] == "suspend"
    # Then a new visit and a new charge are refused, changing nothing
    with pytest.raises(AccountRestricted):
        xiamen.open_visit(account_id)
    line = xiamen.line(account_id)
    with pytest.raises(AccountRestricted):
        charges.post_charge(xiamen.ctx(), xiamen.hospital, earlier, command(ChargeRequest, charge(100)), None)
    assert xiamen.line(account_id) == line
    # And an emergency visit opens and takes emergency charges
    emergency = xiamen.open_visit(account_id, emergency={"triage_level": 1, "reason_code": "chest_pain"})
    body = charge(500, emergency=True)
    charges.post_charge(xiamen.ctx(), xiamen.hospital, emergency["visit_id"], command(ChargeRequest, body), None)
    assert _account(xiamen, account_id)["emergency_held_fen"] == 500


def test_a_charge_checks_the_blocks_in_its_one_account_write(xiamen: World) -> None:
    # Given a visit opened before the account was restricted (the post reads nothing about the account)
    account_id = xiamen.enroll()["account_id"]
    visit_id = xiamen.open_visit(account_id)["visit_id"]
    xiamen.store.commit([collection_block(account_id, ["new_charges"])])
    # When a charge posts, Then it is refused by the condition of the write that holds the credit
    commits = xiamen.store.commits
    with pytest.raises(AccountRestricted):
        charges.post_charge(xiamen.ctx(), xiamen.hospital, visit_id, command(ChargeRequest, charge(100)), None)
    assert xiamen.store.commits == commits


def collection_block(account_id: str, blocks: list[str]) -> Write:
    from treatfirst.services.ports import Update

    return Update(ACCOUNTS, {"account_id": account_id}, set={"blocks": blocks})


def test_paying_everything_lifts_the_restrictions_in_the_payment_itself(xiamen: World) -> None:
    # Given a suspended account with two unpaid bills
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    first, second = _bill(xiamen, account_id, 300), _bill(xiamen, account_id, 200)
    for n in range(-7, 16):
        _sweep_on(xiamen, DUE + timedelta(days=n))
    assert _account(xiamen, account_id)["step"] == "suspend"
    # When one bill is paid, the suspension stays; when the other is paid too, it is lifted by that payment
    xiamen.pay("t1", (first, 300))
    assert _account(xiamen, account_id)["blocks"]
    xiamen.pay("t2", (second, 200))
    account = _account(xiamen, account_id)
    assert "blocks" not in account and "step" not in account and account["unpaid"] == {}
    assert _outbox(xiamen, account_id)[-1]["kind"] == "cleared"
    xiamen.open_visit(account_id)  # no longer refused
    # And the next sweep takes the account out of the index, sending nothing
    before = len(_outbox(xiamen))
    _sweep_on(xiamen, DUE + timedelta(days=16))
    assert "next_step_at" not in _account(xiamen, account_id) and len(_outbox(xiamen)) == before
    xiamen.assert_sound(account_id)


def test_a_partial_payment_of_the_oldest_bill_neither_skips_nor_repeats_a_step(xiamen: World) -> None:
    # Given two bills and the account restricted (3 days)
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    first, _ = _bill(xiamen, account_id, 300), _bill(xiamen, account_id, 200)
    for n in range(-7, 4):
        _sweep_on(xiamen, DUE + timedelta(days=n))
    kinds_before = [r["kind"] for r in _outbox(xiamen, account_id)]
    # When part of the oldest bill is paid
    xiamen.pay("t1", (first, 100))
    for n in range(4, 16):
        _sweep_on(xiamen, DUE + timedelta(days=n))
    # Then nothing was sent twice and suspend still came on day 15 (with its reminder on day 12)
    kinds = [r["kind"] for r in _outbox(xiamen, account_id)]
    assert kinds[len(kinds_before) :] == ["step_reminder", "step"]
    assert _account(xiamen, account_id)["unpaid"][first]["fen"] == 200


def test_a_rerun_of_a_swept_date_changes_nothing(xiamen: World) -> None:
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    _bill(xiamen, account_id, 300)
    _sweep_on(xiamen, DUE + timedelta(days=3))
    snapshot = copy.deepcopy(xiamen.store.tables)
    again = collection.sweep(xiamen.ctx())
    assert again.read == 0 and again.dates == [] and xiamen.store.tables == snapshot
    # even a forced sweep of the same date for every shard acts on nothing: the accounts moved their date on
    for shard in range(collection.COLLECT_SHARDS):
        result = collection.sweep_date(xiamen.ctx(), str(shard), DUE + timedelta(days=3))
        assert result.acted == 0
    assert xiamen.store.tables == snapshot


def _comparable(store: MemoryStore) -> dict[str, Any]:
    """State, outbox and audit without the ids and times that differ between two runs."""
    drop = {"at", "created_at", "request_id", "event_id", "entry_id", "updated_at", "paid_at", "expires_at"}

    def clean(item: dict[str, Any]) -> Any:
        return {k: v for k, v in sorted(item.items()) if k not in drop}

    out: dict[str, Any] = {}
    for table in (ACCOUNTS, BILLS, OUTBOX, AUDIT, LEDGER):
        rows = [clean(i) for i in store.tables[table].values()]
        out[table] = sorted(rows, key=repr)
    return out


def _population(world: World, accounts: int = 4) -> list[str]:
    """Accounts with bills on different days, one with an emergency part."""
    ids = []
    for n in range(accounts):
        account_id = world.enroll()["account_id"]
        ids.append(account_id)
        _bill(world, account_id, 100 * (n + 1), emergency=200 if n == 0 else 0)
        if n % 2:
            world.clock.advance(days=1)
    return ids


def _seeded(policy: Any) -> dict[str, Any]:
    """A populated store (bills from 2026-11-24), swept once before the bills: copied into every world below so
    the ids are the same in every run."""
    w = World(policy)
    _start(w)
    w.clock.current = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    _population(w)
    return copy.deepcopy(w.store.tables)


def _world_from(policy: Any, tables: dict[str, Any], store: MemoryStore | None = None) -> World:
    w = World(policy)
    if store is not None:
        w.store = store
    w.store.tables = copy.deepcopy(tables)
    return w


def test_an_outage_is_caught_up_date_by_date_like_daily_runs(xiamen: World) -> None:
    # Given the same accounts in two worlds
    seeded = _seeded(xiamen.policy)
    daily, late = _world_from(xiamen.policy, seeded), _world_from(xiamen.policy, seeded)
    # When one world sweeps every day and the other only once, 40 days later
    for n in range(-7, 41):
        _sweep_on(daily, DUE + timedelta(days=n))
    result = _sweep_on(late, DUE + timedelta(days=40))
    # Then the late run swept every date in order and both worlds hold the same state, messages and audit
    assert len(result.dates) == (DUE + timedelta(days=40) - date(2026, 11, 23)).days
    assert result.acted > 0
    assert _comparable(late.store) == _comparable(daily.store)


class CrashingStore(MemoryStore):
    """Fails the k-th commit as a crash would: nothing of it is written and the sweep stops there."""

    def __init__(self, crash_at: int | None = None) -> None:
        super().__init__()
        self.crash_at = crash_at
        self.seen = 0

    def commit(self, writes: Sequence[Write]) -> None:
        self.seen += 1
        if self.crash_at is not None and self.seen == self.crash_at:
            raise SystemExit(f"crash at write {self.seen}")
        super().commit(writes)


def test_a_crash_at_any_write_and_a_rerun_equal_one_clean_run(xiamen: World) -> None:
    # Given a clean 200-day catch-up run over a few accounts (every step, strikes, a write-off)
    seeded = _seeded(xiamen.policy)
    clean = _world_from(xiamen.policy, seeded, CrashingStore())
    _sweep_on(clean, DUE + timedelta(days=185))
    writes = clean.store.seen  # type: ignore[attr-defined]
    assert writes > 20
    expected = _comparable(clean.store)
    # When the same run crashes at its k-th write, for every k, and is run again
    for k in range(1, writes + 1):
        w = _world_from(xiamen.policy, seeded, CrashingStore(crash_at=k))
        with pytest.raises(SystemExit):
            _sweep_on(w, DUE + timedelta(days=185))
        w.store.crash_at = None  # type: ignore[attr-defined]
        _sweep_on(w, DUE + timedelta(days=185))
        # Then state, outbox and audit equal the clean run's
        assert _comparable(w.store) == expected, f"crash at write {k}"


def test_write_off_moves_the_debt_to_the_backstop_funds_and_recoveries_are_capped(xiamen: World) -> None:
    # Given a bill of 300 fen on credit and 200 fen of emergency care, unpaid for 180 days
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    bill = _bill(xiamen, account_id, 300, emergency=200)
    limit = xiamen.line(account_id)["limit_fen"]
    result = _sweep_on(xiamen, DUE + timedelta(days=180))
    assert result.written_off == 1
    # Then the bill is written off with its reason, the credit part to the first fund of the backstop order and
    # the emergency part to the emergency-aid fund, as balanced entries; the line shrinks by the credit written off
    stored = xiamen.store.get(BILLS, {"bill_id": bill})
    assert stored is not None and stored["status"] == "written_off" and stored["written_off_fen"] == 500
    assert stored["write_off"]["reason"] == "ladder_exhausted"
    assert stored["write_off"]["credit_fund"] == "credit_insurance"
    assert stored["write_off"]["emergency_fund"] == "emergency_aid_fund"
    line = xiamen.line(account_id)
    assert line["limit_fen"] == limit - 300 and line["owed_fen"] == 0 and line["emergency_owed_fen"] == 0
    xiamen.assert_sound(account_id)
    funds = [e for e in xiamen.store.tables[LEDGER].values() if e["account_id"].startswith("fund#")]
    assert sorted((e["account_id"].split("#")[1], e["amount_fen"]) for e in funds) == [
        ("credit_insurance", 300),
        ("emergency_aid_fund", 200),
    ]
    assert "step" not in _account(xiamen, account_id) and "next_step_at" not in _account(xiamen, account_id)
    # When money comes for it later, it is a recovery capped at what was written off
    xiamen.pay("r1", (bill, 400))
    with pytest.raises(Exception, match="still written off"):
        xiamen.pay("r2", (bill, 101))
    xiamen.pay("r3", (bill, 100))
    stored = xiamen.store.get(BILLS, {"bill_id": bill})
    assert stored is not None and stored["recovered_fen"] == 500 and stored["status"] == "written_off"
    recoveries = [e for e in xiamen.store.tables[LEDGER].values() if e["kind"] == "backstop_recovery"]
    assert sum(e["amount_fen"] for e in recoveries) == 500
    assert xiamen.line(account_id) == line  # a recovery does not touch the line
    xiamen.assert_sound(account_id)


def test_the_third_overdue_bill_suspends_a_xiamen_account_for_good(xiamen: World) -> None:
    # Given three bills that each went overdue and were paid late
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    for n in range(3):
        bill = _bill(xiamen, account_id, 100)
        due = local_due(xiamen, bill)
        _sweep_on(xiamen, due + timedelta(days=1))
        xiamen.pay(f"t{n}", (bill, 100))
        xiamen.clock.current = _close_of(due + timedelta(days=1)) + timedelta(hours=1)
    # Then three strikes are logged and the strike rule suspends the account although nothing is owed
    _sweep_on(xiamen, xiamen_last_date(xiamen) + timedelta(days=1))
    strikes = [e for e in xiamen.store.tables[AUDIT].values() if e["subject"] == f"strike#{account_id}"]
    assert len(strikes) == 3
    account = _account(xiamen, account_id)
    assert account["strike_blocked"] is True and account["unpaid"] == {}
    assert account["blocks"] == ["new_charges", "new_visits", "limit_increase"]
    with pytest.raises(AccountRestricted):
        xiamen.open_visit(account_id)


def local_due(world: World, bill_id: str) -> date:
    stored = world.store.get(BILLS, {"bill_id": bill_id})
    assert stored is not None
    return date.fromisoformat(stored["due_local"][:10])


def xiamen_last_date(world: World) -> date:
    return collection.closed_date(world.ctx())


def test_items_read_per_acted_item_stay_near_one(world: World) -> None:
    # Given 200 accounts with an unpaid bill, of which 2 fall due on the swept date (others far ahead)
    _start(world)
    ids = [world.enroll()["account_id"] for _ in range(200)]
    for account_id in ids:
        _bill(world, account_id, 100)
    for account_id in ids[2:]:  # move the others' next date a year ahead
        world.store.commit([_next(account_id, "2027-12-01")])
    # When the date is swept
    result = _sweep_on(world, date(2026, 11, 24))
    # Then only the due accounts were read
    assert result.read == 2 and result.acted + result.moved == 2
    assert (result.read + result.reread) / max(1, result.acted + result.moved) <= 1.05


def _next(account_id: str, day: str) -> Write:
    from treatfirst.services.ports import Update

    return Update(ACCOUNTS, {"account_id": account_id}, set={"next_step_at": day})


def test_ledger_sound_after_a_full_run(world: World) -> None:
    ids = _population(world)
    _start(world)
    _sweep_on(world, DUE + timedelta(days=400))
    for account_id in ids:
        world.assert_sound(account_id)
    assert all(ledger.invariant_violations(world.line(a)) == [] for a in ids)


def test_an_inpatient_stay_pauses_the_debt_from_admission_to_discharge(xiamen: World) -> None:
    # Given an account with one unpaid Xiamen bill due on DUE, at the sms_reminder step on DUE+1
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    _bill(xiamen, account_id, 300)
    for day in (date(2026, 11, 24), DUE, DUE + timedelta(days=1)):
        _sweep_on(xiamen, day)
    assert _account(xiamen, account_id)["step"] == "sms_reminder"
    # When the patient is admitted on DUE+2 (Beijing) and discharged on DUE+12
    xiamen.clock.current = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    stay = xiamen.open_visit(account_id, kind="inpatient")["visit_id"]
    for day in range(2, 12):
        _sweep_on(xiamen, DUE + timedelta(days=day))
    # Then no day of the stay ages the debt: still 1 day overdue, no restrict step (Xiamen's is at 3 days)
    assert _account(xiamen, account_id)["step"] == "sms_reminder"
    assert _account(xiamen, account_id)["stays"] == {stay: {"start": "2026-12-03"}}
    xiamen.clock.current = datetime(2026, 12, 13, 2, 0, tzinfo=UTC)
    closing.close_visit(xiamen.ctx(), xiamen.hospital, stay, Empty(), None)
    assert _account(xiamen, account_id)["stays"] == {stay: {"start": "2026-12-03", "end": "2026-12-13"}}
    # And after discharge the ladder goes on where it stopped: restrict when 3 days overdue, on DUE+13
    steps = {}
    for day in range(12, 16):
        _sweep_on(xiamen, DUE + timedelta(days=day))
        steps[day] = _account(xiamen, account_id)["step"]
    assert steps == {12: "sms_reminder", 13: "restrict", 14: "restrict", 15: "restrict"}


def test_writing_off_the_last_unpaid_bill_lifts_the_ladders_blocks_at_once(xiamen: World) -> None:
    from treatfirst.messages.collection import WriteOffRequest
    from treatfirst.services import writeoffs
    from treatfirst.services.identity import SCOPES, Caller

    # Given a Xiamen account suspended 15 days after its only bill's due date
    account_id = xiamen.enroll()["account_id"]
    _start(xiamen)
    bill = _bill(xiamen, account_id, 300)
    day = date(2026, 11, 24)
    while day <= DUE + timedelta(days=15):
        _sweep_on(xiamen, day)
        day += timedelta(days=1)
    assert _account(xiamen, account_id)["step"] == "suspend" and _account(xiamen, account_id)["blocks"]
    # When an operator writes the bill off for hardship
    operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
    body = command(WriteOffRequest, {"reason": "hardship", "note": "民政认定低保"})
    written = writeoffs.write_off_bill(xiamen.ctx(), operator, bill, body, None).body
    # Then nothing is owed and, in the same transaction, the ladder's step and blocks are gone (as a payment does)
    account = _account(xiamen, account_id)
    assert written["status"] == "written_off" and account["unpaid"] == {}
    assert "step" not in account and "blocks" not in account
    xiamen.assert_sound(account_id)
