"""The scheduled records purge: each category the inventory says is deleted automatically is gone once its
retention ends (records: n years after leaving; accounting records: n years from the end of the year), not a day
before; it reads only the due index entries, survives a crash, changes nothing on a rerun and audits counts only."""

from __future__ import annotations

import dataclasses
import importlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from treatfirst.inventory import CATEGORIES, Category
from treatfirst.messages.privacy import PrivacyRequest
from treatfirst.services import rights
from treatfirst.services.ports import (
    ACCOUNTS,
    AUDIT,
    BILLS,
    CHARGES,
    CONSENTS,
    LEDGER,
    OUTBOX,
    PAYMENTS,
    REVIEWS,
    RIGHTS,
    VISITS,
)
from treatfirst.services.purge import (
    ACCOUNTING,
    PURGED_TABLES,
    RECORDS,
    accounting_due,
    purge_daily,
    purge_records,
    record_fields_on_account,
    records_due,
)
from treatfirst.services.records import audit

from tests.factories import charge, command
from tests.unit.conftest import World
from tests.unit.test_charges_and_payments import close, post
from tests.unit.test_dispatch import _message
from tests.unit.test_purge import CountingStore

PURGED = "treatfirst.services.purge.purge_records"


def _verification(world: World) -> dict[str, Any]:
    return {"method": "face", "check_id": "face-purge-1", "verified_at": (world.clock.now() - timedelta(minutes=1))}


def _lived_and_erased(world: World, txn: str) -> str:
    """A person with a visit, an emergency visit with a reviewed charge, bills paid, an SMS, then erased."""
    account_id = world.enroll()["account_id"]
    bills = []
    visit_id = world.open_visit(account_id)["visit_id"]
    post(world, visit_id, charge(1200))
    bills.append(close(world, visit_id))
    emergency = {"triage_level": 1, "reason_code": "I21"}
    visit_id = world.open_visit(account_id, emergency=emergency)["visit_id"]
    post(world, visit_id, charge(world.policy.emergency_review_above_fen + 1, emergency=True))
    bills.append(close(world, visit_id))
    world.pay(txn, *((b["bill_id"], b["outstanding_fen"]) for b in bills))
    _message(world, account_id, f"reminder#{txn}")
    body = {"kind": "erasure", "verification": _verification(world)}
    rights.open_request(world.ctx(), world.channel, account_id, command(PrivacyRequest, body), None)
    return account_id


def _held(world: World, account_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every stored row of the account, per table (the memory store's tables, read directly)."""
    tables = world.store.tables
    visits = [v for v in tables[VISITS].values() if v["account_id"] == account_id]
    ids = {v["visit_id"] for v in visits}
    bills = [b for b in tables[BILLS].values() if b["account_id"] == account_id]
    bill_ids = {b["bill_id"] for b in bills}
    return {
        ACCOUNTS: [a for a in tables[ACCOUNTS].values() if a.get("account_id") == account_id],
        VISITS: visits,
        CHARGES: [c for c in tables[CHARGES].values() if c["visit_id"] in ids],
        REVIEWS: [r for r in tables[REVIEWS].values() if r["account_id"] == account_id],
        CONSENTS: [c for c in tables[CONSENTS].values() if c["account_id"] == account_id],
        OUTBOX: [m for m in tables[OUTBOX].values() if m.get("account_id") == account_id],
        RIGHTS: [r for r in tables[RIGHTS].values() if r["account_id"] == account_id],
        BILLS: bills,
        PAYMENTS: [p for p in tables[PAYMENTS].values() if {a["bill_id"] for a in p["allocations"]} & bill_ids],
        LEDGER: [e for e in tables[LEDGER].values() if e["account_id"] == account_id],
    }


def _stored(world: World, account_id: str, category: Category) -> list[str]:
    """The fields of a category still stored for the account."""
    held = _held(world, account_id)
    found = []
    for field in category.fields:
        if field in category.not_automatic:
            continue
        table, attribute = field.split(".", 1)
        if table in held and any(attribute in row for row in held[table]):
            found.append(field)
    return found


def _purged(retention: str) -> list[Category]:
    return [c for c in CATEGORIES if c.deleted_by == PURGED and c.retention == retention]


def test_each_category_goes_when_its_retention_ends_and_not_a_day_before(world: World) -> None:
    # Given a person who lived a little on the platform and was erased, and a person who stays
    account_id = _lived_and_erased(world, txn="p1")
    stays = world.enroll()["account_id"]
    stayer = _held(world, stays)
    left = world.clock.now().date()
    due = records_due(world.policy, left)
    assert due == date(left.year + 10, left.month, left.day)  # Lianyungang keeps records 10 years after leaving
    held = _held(world, account_id)
    assert all(held[t] for t in (VISITS, CHARGES, REVIEWS, CONSENTS, OUTBOX, RIGHTS, BILLS, PAYMENTS, LEDGER))
    # When the daily purge runs the day before, Then nothing goes and nothing is audited
    world.clock.current = datetime.combine(due - timedelta(days=1), datetime.min.time(), UTC)
    assert purge_daily(world.ctx())["records"] == {}
    assert _held(world, account_id) == held
    # When it runs on the day the records' retention ends
    world.clock.current = datetime.combine(due, datetime.min.time(), UTC)
    counting = CountingStore(world.store)
    ctx = world.ctx()
    ctx.store = counting
    counts = purge_records(ctx)["purged"]
    # Then every category the inventory keeps for `records` and deletes here is gone
    for category in _purged(RECORDS):
        assert _stored(world, account_id, category) == [], category.code
    assert counts["visits"] == 2 and counts["charges"] == 2 and counts["reviews"] >= 1
    assert counts["consents"] == 3 and counts["messages"] == 1 and counts["privacy_requests"] == 1
    # while the accounting records stay, and the account waits for its accounting stage
    after = _held(world, account_id)
    assert after[BILLS] == held[BILLS] and after[LEDGER] == held[LEDGER] and after[PAYMENTS] == held[PAYMENTS]
    account = after[ACCOUNTS][0]
    assert account["purge_stage"] == ACCOUNTING and account["limit_fen"] == held[ACCOUNTS][0]["limit_fen"]
    assert account["purge_on"] == accounting_due(world.policy, left.year).isoformat() == f"{left.year + 31}-01-01"
    # And the person who stays is untouched; the run read the due index entry and the account's own rows only
    assert _held(world, stays) == stayer
    assert counting.queried < 20
    # And the run is audited with counts, never an identifier
    (event,) = [e for e in world.store.tables[AUDIT].values() if e["action"] == "privacy.records_purged"]
    assert account_id not in str(event) and event["details"]["accounts_records_stage"] == 1
    # When it runs again the same day, Then nothing changes
    snapshot = {t: dict(rows) for t, rows in world.store.tables.items()}
    assert purge_records(world.ctx())["purged"] == {}
    assert {t: dict(rows) for t, rows in world.store.tables.items()} == snapshot
    # When the accounting period ends (a day early: nothing; on the day: the rest)
    world.clock.current = datetime(left.year + 31, 1, 1, tzinfo=UTC) - timedelta(days=1)
    assert purge_records(world.ctx())["purged"] == {}
    world.clock.current = datetime(left.year + 31, 1, 1, tzinfo=UTC)
    counts = purge_records(world.ctx())["purged"]
    assert counts["bills"] == 2 and counts["payments"] == 1 and counts["accounts_deleted"] == 1
    assert counts["ledger_entries"] == len(held[LEDGER])
    for category in _purged(ACCOUNTING):
        assert _stored(world, account_id, category) == [], category.code
    assert all(rows == [] for rows in _held(world, account_id).values())
    assert _held(world, stays) == stayer
    assert purge_records(world.ctx())["purged"] == {}


def test_a_crash_part_way_is_finished_by_the_next_run(world: World) -> None:
    # Given two erased people whose records are due
    people = [_lived_and_erased(world, txn=f"c{i}") for i in range(2)]
    world.clock.current = datetime.combine(
        records_due(world.policy, world.clock.now().date()), datetime.min.time(), UTC
    )
    commit, calls = world.store.commit, []

    def crashing(writes: Any) -> None:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("the function was stopped")
        commit(writes)

    # When the run stops after a few transactions
    world.store.commit = crashing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        purge_records(world.ctx())
    world.store.commit = commit  # type: ignore[method-assign]
    # Then the next run finishes both, and the one after finds nothing
    purge_records(world.ctx())
    for account_id in people:
        for category in _purged(RECORDS):
            assert _stored(world, account_id, category) == [], category.code
        assert _held(world, account_id)[ACCOUNTS][0]["purge_stage"] == ACCOUNTING
    assert purge_records(world.ctx())["purged"] == {}


def test_a_shorter_retention_of_the_city_applies_and_an_active_account_is_never_purged(world: World) -> None:
    # Given a city keeping records one year (a policy override), an erased person and an active one
    privacy = dataclasses.replace(world.policy.privacy, records_years_after_close=1)
    world.policy = dataclasses.replace(world.policy, privacy=privacy)
    erased = _lived_and_erased(world, txn="s1")
    active = world.enroll()["account_id"]
    world.open_visit(active)
    before = _held(world, active)
    # When a year has passed, Then the erased person's records go and the active account is untouched
    world.clock.advance(days=366)
    assert purge_records(world.ctx())["purged"]["visits"] == 2
    assert _held(world, erased)[VISITS] == [] and _held(world, active) == before


def test_the_account_attributes_deleted_first_are_the_inventorys_record_categories() -> None:
    # Given the inventory: Then the records stage removes the account attributes of the record categories, keeps
    # those the accounting records need, and every category says what deletes it (or nothing, shown on the page)
    removed = set(record_fields_on_account())
    assert {"decision", "verification", "consent_scopes", "unpaid", "stays", "insurance_status"} <= removed
    assert not removed & {"account_id", "status", "limit_fen", "owed_fen", "purge_on", "purge_stage"}
    for category in CATEGORIES:
        if category.deleted_by:
            module, _, name = category.deleted_by.rpartition(".")
            assert hasattr(importlib.import_module(module), name), category.deleted_by
    assert [c.code for c in CATEGORIES if not c.deleted_by] == ["events"]
    # and the purge deletes from every table of the categories it deletes, but the fields listed as not automatic
    for category in CATEGORIES:
        if category.deleted_by == PURGED:
            tables = {f.split(".")[0] for f in category.fields if f not in category.not_automatic}
            assert tables <= set(PURGED_TABLES), category.code


def test_audit_events_expire_after_the_citys_audit_retention(world: World) -> None:
    # Given a city keeping its audit log 200 days (a policy override)
    privacy = dataclasses.replace(world.policy.privacy, audit_days=200)
    world.policy = dataclasses.replace(world.policy, privacy=privacy)
    # When an event is written, Then the table's time to live removes it 200 days later
    event = audit(world.ctx(), None, "account#acc_x", "test.event").item
    assert event["expires_at"] == int((world.clock.now() + timedelta(days=200)).timestamp())


def test_an_accounting_entry_later_than_leaving_postpones_the_accounting_stage(world: World) -> None:
    # Given an erased person whose records stage is done, and a ledger entry of a later year (a recovery)
    account_id = _lived_and_erased(world, txn="l1")
    left = world.clock.now().date()
    world.clock.current = datetime.combine(records_due(world.policy, left), datetime.min.time(), UTC)
    purge_records(world.ctx())
    entry = next(e for e in world.store.tables[LEDGER].values() if e["account_id"] == account_id)
    later = dict(entry, entry_id="led_later", at=f"{left.year + 2}-03-01T00:00:00.000Z")
    world.store.tables[LEDGER][(account_id, "led_later")] = later
    # When the accounting period of the year of leaving ends, Then nothing goes: the later year's period counts
    world.clock.current = datetime(left.year + 31, 1, 1, tzinfo=UTC)
    assert purge_records(world.ctx())["purged"] == {"postponed": 1}
    assert _held(world, account_id)[ACCOUNTS][0]["purge_on"] == f"{left.year + 33}-01-01"
    assert _held(world, account_id)[BILLS]
    # And on that later date everything goes
    world.clock.current = datetime(left.year + 33, 1, 1, tzinfo=UTC)
    assert purge_records(world.ctx())["purged"]["accounts_deleted"] == 1
