"""Business dates on ledger entries and the sparse, sharded per-day index (services/ledger_days.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from treatfirst.domain.days import DAY_SHARDS, business_date, day_keys
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest, RefundRequest
from treatfirst.services import charges, closing, migrations, refunds
from treatfirst.services.ledger_days import entries_for_day
from treatfirst.services.ports import LEDGER, Update

from tests.factories import charge, command
from tests.unit.conftest import World


def _post(world: World, visit_id: str, amount: int) -> dict[str, Any]:
    return dict(
        charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(amount)), None).body
    )


def _ledger(world: World) -> list[dict[str, Any]]:
    return [dict(i) for i in world.store.tables[LEDGER].values()]


@pytest.mark.parametrize(
    ("utc", "cutoff", "expected"),
    [
        # Given Asia/Shanghai (UTC+8): 10:00 local on the 25th belongs to the 25th
        (datetime(2026, 11, 25, 2, 0, tzinfo=UTC), time(23, 59, 59), date(2026, 11, 25)),
        # 23:59:59 local is the cut-off itself: the 25th is closed, the event falls into the 26th
        (datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC), time(23, 59, 59), date(2026, 11, 26)),
        # a 23:00 cut-off (日切): 23:30 local on the 25th is already the 26th's window
        (datetime(2026, 11, 25, 15, 30, tzinfo=UTC), time(23, 0), date(2026, 11, 26)),
        (datetime(2026, 11, 25, 14, 59, tzinfo=UTC), time(23, 0), date(2026, 11, 25)),
        # 00:30 local on the 26th is the 26th, although the UTC day is still the 25th
        (datetime(2026, 11, 25, 16, 30, tzinfo=UTC), time(23, 0), date(2026, 11, 26)),
    ],
)
def test_business_date_follows_the_city_zone_and_cut_off(utc: datetime, cutoff: time, expected: date) -> None:
    assert business_date(utc, zone="Asia/Shanghai", cutoff=cutoff) == expected


def test_every_entry_gets_its_business_date_at_commit_and_keeps_it(world: World) -> None:
    # Given a visit with a charge posted at 09:00 local on the 24th (the world's clock is 01:00 UTC)
    account_id = world.enroll()["account_id"]
    visit_id = world.open_visit(account_id)["visit_id"]
    posted = _post(world, visit_id, 1200)
    # When the clock passes the city's cut-off and the charge is refunded and the visit closed
    world.clock.advance(hours=23)  # 08:00 local on the 25th
    refunds.refund_charge(
        world.ctx(),
        world.hospital,
        visit_id,
        posted["fee_line_id"],
        command(RefundRequest, {"self_pay_fen": 200}),
        None,
    )
    closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None)
    # Then each entry carries the business date of its own commit, with its hospital, and the charge's is unchanged
    by_kind = {e["kind"]: e for e in _ledger(world)}
    assert by_kind["hold"]["business_date"] == "2026-11-24"
    assert by_kind["release_hold"]["business_date"] == "2026-11-25"
    assert by_kind["issue"]["business_date"] == "2026-11-25"
    assert {by_kind[k]["hospital_id"] for k in ("hold", "release_hold", "issue")} == {"hospital-a"}
    # And opening the line is outside the per-day index (sparse), though it has its date too
    assert "day_shard" not in by_kind["open_line"] and by_kind["open_line"]["business_date"] == "2026-11-24"
    assert by_kind["hold"]["day_shard"].startswith(f"{world.policy.city_code}#2026-11-24#")


def test_entries_for_day_reads_the_index_only_that_day_and_the_party_asked(xiamen: World) -> None:
    # Given charges at two hospitals on the 24th and one on the 25th, in a financier_advance city
    world = xiamen
    account_id = world.enroll()["account_id"]
    visit_a = world.open_visit(account_id)["visit_id"]
    for amount in (100, 200, 300):
        _post(world, visit_a, amount)
    world.hospital, saved = world.other_hospital, world.hospital
    visit_b = world.open_visit(account_id)["visit_id"]
    _post(world, visit_b, 400)
    world.clock.advance(days=1)
    _post(world, visit_b, 500)
    world.hospital = saved
    # When the 24th is read, whole and for one hospital
    day = list(entries_for_day(world.ctx(), city_code=world.policy.city_code, business_date="2026-11-24", page_size=2))
    only_b = list(
        entries_for_day(world.ctx(), city_code="350200", business_date=date(2026, 11, 24), party="hospital:hospital-b")
    )
    # Then the 24th's four holds come back (not the 25th's), each once, in a stable order
    assert sorted(e["amount_fen"] for e in day if e["kind"] == "hold") == [100, 200, 300, 400]
    assert len({e["entry_id"] for e in day}) == len(day)
    assert day == list(entries_for_day(world.ctx(), city_code="350200", business_date="2026-11-24"))
    assert [e["amount_fen"] for e in only_b] == [400]
    # And the policy's financier for each hospital is on the entry (xm-bank-a for hospital-a, xm-bank-b for -b)
    assert {(e["hospital_id"], e["financier_id"]) for e in day if e["kind"] == "hold"} == {
        ("hospital-a", "xm-bank-a"),
        ("hospital-b", "xm-bank-b"),
    }
    # And only the projected attributes come back (one read per entry, nothing else needed)
    assert "delta" not in day[0] and "request_id" not in day[0]
    # And an unknown party kind is refused
    with pytest.raises(ValueError):
        list(entries_for_day(world.ctx(), city_code="350200", business_date="2026-11-24", party="patient:x"))


def test_one_days_entries_spread_over_the_shards(world: World) -> None:
    # Given 200 charges on one day
    account_id = world.enroll()["account_id"]
    visit_id = world.open_visit(account_id)["visit_id"]
    world.store.commit(
        [Update("accounts", {"account_id": account_id}, add={"available_fen": 10**9, "limit_fen": 10**9})]
    )
    for _ in range(200):
        _post(world, visit_id, 1)
    # Then every shard of the day takes some and none takes more than a quarter (no hot partition)
    shards = Counter(e["day_shard"] for e in _ledger(world) if e["kind"] == "hold")
    assert set(shards) == set(day_keys(world.policy.city_code, "2026-11-24"))
    assert len(shards) == DAY_SHARDS and max(shards.values()) < 50


def test_the_migration_gives_old_entries_their_business_date_index_key_and_parties(xiamen: World) -> None:
    # Given a day of entries as this version writes them (a charge, its bill, a payment through the channel)
    world = xiamen
    account_id = world.enroll()["account_id"]
    visit_id = world.open_visit(account_id)["visit_id"]
    _post(world, visit_id, 1500)
    bill = closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]
    world.pay("t-1", (bill["bill_id"], 500))
    written = {(e["account_id"], e["entry_id"]): e for e in _ledger(world)}
    # And the same entries as an older version wrote them: no business date, index key or parties
    added = ("business_date", "day_shard", "hospital_id", "financier_id", "channel_id", "channel_txn_id")
    for key, e in written.items():
        world.store.tables[LEDGER][key] = {k: v for k, v in e.items() if k not in added}
    # When the migration runs, twice
    first = migrations.ledger_days(world.ctx(), world.store)
    second = migrations.ledger_days(world.ctx(), world.store)
    # Then each entry has its business date and index key back, and the parties who made it says
    assert first.migrated == len(written) and second.already == len(written) and not first.failed
    for key, e in written.items():
        now = world.store.tables[LEDGER][key]
        assert now.get("business_date") == e["business_date"] and now.get("day_shard") == e.get("day_shard")
        if e["kind"] in ("hold", "issue"):
            assert (now["hospital_id"], now["financier_id"]) == ("hospital-a", "xm-bank-a")
        if e["kind"] == "payment":
            assert now["channel_id"] == "wechat-pay"
    # And the day reads through the index as before
    assert len(list(entries_for_day(world.ctx(), city_code="350200", business_date="2026-11-24"))) == 3
