"""Daily clearing: pure netting against an independent oracle, random days of activity through the services
reconciled to the ledger and to the charges and payments tables, reruns, and a crash after every file written."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treatfirst.adapters.objects import MemoryObjects
from treatfirst.domain import clearing as c
from treatfirst.domain.errors import ChargeNotRefundable, CreditLimitExceeded, RefundExceedsOutstanding
from treatfirst.domain.ledger import SETTLEMENT
from treatfirst.domain.policy import example_policy
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest, RefundRequest
from treatfirst.services import charges, closing, refunds
from treatfirst.services import clearing as service
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import ACCOUNTS, CHARGES, EVENTS, LEDGER, PAYMENTS, ObjectWriter

from tests.factories import charge, command
from tests.unit.conftest import World

DAY = "2026-11-24"  # the worlds' clock starts at 09:00 local on this date
AFTER_DAY = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # 00:30 local on the 25th: the 24th closed 30 minutes ago


# ---- pure: netting against an oracle ---------------------------------------------------------------------------
KINDS = sorted({k for table in SETTLEMENT.values() for k in table} | {"issue", "write_off", "recovery"})


@st.composite
def entries(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for n in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(KINDS))
        entry: dict[str, Any] = {
            "entry_id": f"led_{n:04d}",
            "business_date": DAY,
            "kind": kind,
            "amount_fen": draw(st.integers(1, 10**7)),
            "hospital_id": draw(st.sampled_from(["h1", "h2", "h3"])),
        }
        if draw(st.booleans()):
            entry["financier_id"] = draw(st.sampled_from(["f1", "f2"]))
        if kind in ("payment", "emergency_payment", "recovery", "backstop_recovery"):
            entry["channel_id"] = draw(st.sampled_from(["wechat", "alipay"]))
        if kind.startswith("backstop_"):
            entry["fund_id"] = draw(st.sampled_from(["municipal_fund", "credit_insurance", "hospital", "financier"]))
        out.append(entry)
    return out


def _oracle_nets(listed: list[dict[str, Any]]) -> dict[str, int]:
    """Each party's net (received minus paid) straight from the movement table, entry by entry."""
    nets: dict[str, int] = {}
    for e in listed:
        model = "financier_advance" if e.get("financier_id") else "hospital_receivable"
        roles = SETTLEMENT[model].get(e["kind"])
        if not roles:
            continue
        ends = []
        for role in roles:
            if role == "fund":
                fund = e["fund_id"]
                if fund == "hospital":
                    ends.append(f"hospital:{e['hospital_id']}")
                    continue
                if fund == "financier" and e.get("financier_id"):
                    ends.append(f"financier:{e['financier_id']}")
                    continue
                ends.append(f"fund:{fund}")
            else:
                ends.append(f"{role}:{e[f'{role}_id']}")
        if ends[0] != ends[1]:
            nets[ends[0]] = nets.get(ends[0], 0) - e["amount_fen"]
            nets[ends[1]] = nets.get(ends[1], 0) + e["amount_fen"]
    return nets


@settings(max_examples=50, deadline=None)
@given(entries(), st.randoms(use_true_random=False))
def test_clearing_nets_exactly_what_the_movement_table_says(listed: list[dict[str, Any]], rnd: random.Random) -> None:
    # When a day of entries is cleared
    day = c.clear_day("350200", DAY, listed)
    # Then it reconciles: totals by kind, every moving entry in exactly one instruction, signed sums, nets sum to 0
    assert c.reconciliation_problems(day, listed) == []
    assert sum(t["amount_fen"] for t in day.totals.values()) == sum(e["amount_fen"] for e in listed)
    # And each party's net equals the oracle's, entry by entry from the movement table
    oracle = {p: n for p, n in _oracle_nets(listed).items()}
    assert {p: pd.net_fen for p, pd in day.parties.items() if pd.positions} == {
        p: n for p, n in oracle.items() if p in {q for i in day.instructions for q in (i["payer"], i["payee"])}
    }
    # And each hospital's figures are the sums of its own entries of the figure's kinds
    for party, pd in day.parties.items():
        if party.startswith("hospital:"):
            mine = [e for e in listed if f"hospital:{e['hospital_id']}" == party]
            assert pd.figures["self_pay_posted_fen"] == sum(
                e["amount_fen"] for e in mine if e["kind"] in ("hold", "emergency_hold")
            )
    # And the order of the input changes no byte of any file
    shuffled = list(listed)
    rnd.shuffle(shuffled)
    again = c.clear_day("350200", DAY, shuffled)
    for party in day.parties:
        assert c.party_files(day, party) == c.party_files(again, party)


def test_a_refund_nets_against_the_advance_and_names_its_entries() -> None:
    # Given a financier_advance day: 1 000 posted at h1, 300 refunded, a patient paying 500 by wechat
    listed = [
        {"entry_id": "led_1", "kind": "hold", "amount_fen": 1000, "hospital_id": "h1", "financier_id": "f1"},
        {"entry_id": "led_2", "kind": "release_hold", "amount_fen": 300, "hospital_id": "h1", "financier_id": "f1"},
        {
            "entry_id": "led_3",
            "kind": "payment",
            "amount_fen": 500,
            "hospital_id": "h1",
            "financier_id": "f1",
            "channel_id": "wechat",
        },
        {"entry_id": "led_4", "kind": "issue", "amount_fen": 700, "hospital_id": "h1", "financier_id": "f1"},
    ]
    day = c.clear_day("350200", DAY, listed)
    # Then the financier pays the hospital 700 net (1 000 - 300) listing both entries, and wechat pays it 500
    pairs = {(i["payer"], i["payee"]): (i["amount_fen"], i["entry_ids"]) for i in day.instructions}
    assert pairs == {
        ("financier:f1", "hospital:h1"): (700, ["led_1", "led_2"]),
        ("channel:wechat", "financier:f1"): (500, ["led_3"]),
    }
    assert day.parties["hospital:h1"].figures == {
        "self_pay_posted_fen": 1000,
        "refunds_fen": 300,
        "payments_collected_fen": 500,
        "write_offs_fen": 0,
        "recoveries_fen": 0,
        "backstop_reimbursements_fen": 0,
    }
    assert (day.parties["hospital:h1"].net_fen, day.parties["financier:f1"].net_fen) == (700, -200)
    assert day.parties["channel:wechat"].net_fen == -500


# ---- random days of activity through the services ----------------------------------------------------------------
HOSPITALS = ("hospital-a", "hospital-b", "hospital-c")
CHANNELS = ("wechat-pay", "alipay")


def _hospital(name: str) -> Caller:
    return Caller(f"key_{name}", "hospital", name, SCOPES["hospital"])


def _channel(name: str) -> Caller:
    return Caller(f"key_{name}", "channel", name, SCOPES["channel"])


def _activity(world: World, rng: random.Random, steps: int) -> None:
    """Charges, refunds, closings and (partial) payments at three hospitals through two channels, all on DAY."""
    accounts = [world.enroll()["account_id"] for _ in range(3)]
    open_visits: list[tuple[str, str, list[dict[str, Any]]]] = []
    bills: list[tuple[str, int]] = []
    for n in range(steps):
        roll = rng.random()
        if roll < 0.2 or not open_visits:
            world.hospital = _hospital(rng.choice(HOSPITALS))
            open_visits.append((world.open_visit(rng.choice(accounts))["visit_id"], world.hospital.principal_id, []))
        elif roll < 0.55:
            visit_id, hospital, posted = rng.choice(open_visits)
            body = charge(rng.randint(1, 5000))
            with suppress(CreditLimitExceeded):  # refused at the limit: changes nothing
                charges.post_charge(world.ctx(), _hospital(hospital), visit_id, command(ChargeRequest, body), None)
                posted.append(body)
        elif roll < 0.65:
            visit_id, hospital, posted = rng.choice(open_visits)
            if posted:
                line = rng.choice(posted)
                amount = rng.randint(1, line["self_pay_fen"])
                with suppress(ChargeNotRefundable, RefundExceedsOutstanding):  # more than is left: refused
                    refunds.refund_charge(
                        world.ctx(),
                        _hospital(hospital),
                        visit_id,
                        line["fee_line_id"],
                        command(RefundRequest, {"self_pay_fen": amount}),
                        None,
                    )
        elif roll < 0.8:
            visit_id, hospital, _ = open_visits.pop(rng.randrange(len(open_visits)))
            bill = closing.close_visit(world.ctx(), _hospital(hospital), visit_id, Empty(), None).body["bill"]
            if bill["outstanding_fen"]:
                bills.append((bill["bill_id"], bill["outstanding_fen"]))
        elif bills:
            i = rng.randrange(len(bills))
            bill_id, left = bills[i]
            amount = rng.randint(1, left)
            world.channel = _channel(rng.choice(CHANNELS))
            world.pay(f"t{n}", (bill_id, amount))
            bills[i] = (bill_id, left - amount)
            if amount == left:
                bills.pop(i)
        world.clock.advance(minutes=1)


def _cleared(world: World, objects: MemoryObjects) -> c.Day:
    world.clock.current = AFTER_DAY
    service.run(world.ctx(), objects, through=date(2026, 11, 23))  # the first run sets the watermark
    service.run(world.ctx(), objects)
    summary = objects.read(f"clearing/{world.policy.city_code}/{DAY}/summary.json")
    assert summary
    return c.clear_day(world.policy.city_code, DAY, _ledger_of_day(world))


def _ledger_of_day(world: World) -> list[dict[str, Any]]:
    """The ledger table itself (not the index): every entry whose business date is DAY."""
    return [dict(e) for e in world.store.tables[LEDGER].values() if e["business_date"] == DAY and "day_shard" in e]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["xiamen", "lianyungang"]), st.integers(0, 2**32), st.integers(5, 40))
def test_random_days_of_activity_clear_to_the_fen(city: str, seed: int, steps: int) -> None:
    # Given a random day of activity at three hospitals through two channels
    world = World(example_policy(city))
    _activity(world, random.Random(seed), steps)
    # When the day is cleared by the service (the per-day index, the files)
    objects = MemoryObjects()
    day = _cleared(world, objects)
    ledger = _ledger_of_day(world)
    # Then the files' summary equals the day computed from the ledger table itself, and it reconciles to the fen
    summary = objects.read(f"clearing/{world.policy.city_code}/{DAY}/summary.json")
    assert summary == c.summary_bytes(day, {p: _manifest(objects, world, p) for p in day.parties})
    assert c.reconciliation_problems(day, ledger) == []
    # And each hospital's self-pay posted minus refunds equals its charges' self-pay minus refunded self-pay
    posted = {h: 0 for h in HOSPITALS}
    for item in world.store.tables[CHARGES].values():
        posted[item["hospital_id"]] += item["self_pay_fen"] - item["refunded_self_pay_fen"]
    for hospital, amount in posted.items():
        party = day.parties.get(f"hospital:{hospital}")
        figures = party.figures if party else {"self_pay_posted_fen": 0, "refunds_fen": 0}
        assert figures["self_pay_posted_fen"] - figures["refunds_fen"] == amount
    # And each channel's payments collected equal the payments it notified
    for channel in CHANNELS:
        notified = sum(p["amount_fen"] for p in world.store.tables[PAYMENTS].values() if p["channel_id"] == channel)
        party = day.parties.get(f"channel:{channel}")
        assert (party.figures["payments_collected_fen"] if party else 0) == notified
    # And under financier_advance each hospital is owed exactly its net posted self-pay by its own financier
    if city == "xiamen":
        for hospital, amount in posted.items():
            financier = world.policy.financier_for(hospital)
            party = day.parties.get(f"hospital:{hospital}")
            positions = {p["counterparty"]: p["net_fen"] for p in party.positions} if party else {}
            assert positions.get(f"financier:{financier}", 0) == amount


def _manifest(objects: MemoryObjects, world: World, party: str) -> bytes:
    return objects.read(service.party_key(world.policy.city_code, DAY, party, "manifest.json"))


# ---- reruns and crashes --------------------------------------------------------------------------------------------
def _busy_world(city: str = "xiamen") -> World:
    world = World(example_policy(city))
    _activity(world, random.Random(7), 40)
    world.clock.current = AFTER_DAY
    return world


def test_each_party_gets_csv_json_and_a_manifest_with_their_sha256() -> None:
    # Given a cleared day
    world = _busy_world()
    objects = MemoryObjects()
    service.run(world.ctx(), objects, through=date(2026, 11, 24))
    # Then each party has its three files, and the manifest names the other two with their SHA-256 and size
    import hashlib
    import json

    parties = {k.rsplit("/", 1)[0] for k in objects.keys(f"clearing/350200/{DAY}/") if not k.endswith("summary.json")}
    assert {p.split("/")[-2] for p in parties} >= {"hospital", "financier", "channel"}
    for prefix in parties:
        manifest = json.loads(objects.read(f"{prefix}/manifest.json"))
        for f in manifest["files"]:
            data = objects.read(f"{prefix}/{f['name']}")
            assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data)
        header = objects.read(f"{prefix}/clearing.csv").decode().splitlines()[0]
        assert header.split(",") == [name for name, _, _ in c.LINE_FIELDS]


def test_a_rerun_of_a_day_writes_the_same_bytes_and_the_watermark_skips_it() -> None:
    world = _busy_world()
    first, second = MemoryObjects(), MemoryObjects()
    # When the day is cleared, then cleared again from scratch into another bucket
    service.run(world.ctx(), first, through=date(2026, 11, 24))
    service.clear_date(world.ctx(), second, date(2026, 11, 24))
    # Then both buckets hold identical files
    assert _contents(first) == _contents(second)
    # And a later run with the watermark past the day reads nothing
    assert service.run(world.ctx(), first).dates == []
    stored = world.store.get(ACCOUNTS, {"account_id": "sys#clearing#350200"})
    assert stored is not None and stored["cleared_through"] == DAY


def test_an_entry_after_the_cut_off_falls_into_the_next_day_and_a_cleared_day_keeps_its_files() -> None:
    # Given a cleared 24th
    world = _busy_world()
    objects = MemoryObjects()
    service.run(world.ctx(), objects, through=date(2026, 11, 24))
    before = _contents(objects)
    # When a charge is posted at 00:30 local on the 25th and the 25th is cleared after its cut-off
    world.hospital = _hospital("hospital-a")
    account_id = world.enroll()["account_id"]
    visit_id = world.open_visit(account_id)["visit_id"]
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(777)), None)
    world.clock.current += timedelta(days=1)
    result = service.run(world.ctx(), objects)
    # Then the 24th's files are unchanged and the charge is in the 25th's
    assert result.dates == ["2026-11-25"]
    assert {k: v for k, v in _contents(objects).items() if f"/{DAY}/" in k} == before
    day25 = objects.read("clearing/350200/2026-11-25/hospital/hospital-a/clearing.csv").decode()
    assert ",hold,self_pay_posted_fen,777," in day25


class CrashingObjects(MemoryObjects):
    """Fails the k-th file write as a crash would: that object is not written and the run stops there."""

    def __init__(self, crash_at: int | None = None) -> None:
        super().__init__()
        self.crash_at = crash_at
        self.seen = 0

    @contextmanager
    def writer(self, key: str, *, content_type: str) -> Iterator[ObjectWriter]:
        self.seen += 1
        if self.crash_at is not None and self.seen == self.crash_at:
            raise SystemExit(f"crash at file {self.seen}")
        with super().writer(key, content_type=content_type) as w:
            yield w


def _contents(objects: MemoryObjects) -> dict[str, bytes]:
    return {k: objects.read(k) for k in objects.keys("clearing/")}


def test_clearing_killed_after_any_file_and_rerun_equals_one_clean_run() -> None:
    # Given a clean run over a busy day
    world = _busy_world()
    start, start_events = dict(world.store.tables[ACCOUNTS]), dict(world.store.tables[EVENTS])
    clean = CrashingObjects()
    service.run(world.ctx(), clean, through=date(2026, 11, 23))
    base = clean.seen
    service.run(world.ctx(), clean)
    writes, expected = clean.seen - base, _contents(clean)
    watermark = world.store.get(ACCOUNTS, {"account_id": "sys#clearing#350200"})
    events = _events(world)
    ready = [e for e in events if e["kind"] == "clearing.ready"]
    assert {e["audience"].split(":")[0] for e in ready} == {"hospital", "financier", "channel"}
    assert writes > 10
    # When the same run crashes at its k-th file, for every k, and runs again
    for k in range(1, writes + 1):
        world.store.tables[ACCOUNTS] = dict(start)
        world.store.tables[EVENTS] = dict(start_events)
        crashing = CrashingObjects()
        service.run(world.ctx(), crashing, through=date(2026, 11, 23))
        crashing.crash_at = crashing.seen + k
        with pytest.raises(SystemExit):
            service.run(world.ctx(), crashing)
        # Then the day is not marked cleared, and the rerun leaves exactly the clean run's files and watermark
        assert world.store.get(ACCOUNTS, {"account_id": "sys#clearing#350200"})["cleared_through"] != DAY  # type: ignore[index]
        crashing.crash_at = None
        service.run(world.ctx(), crashing)
        assert _contents(crashing) == expected, f"crash at file {k}"
        assert world.store.get(ACCOUNTS, {"account_id": "sys#clearing#350200"}) == watermark
        # And each party was told once
        assert _events(world) == events


def _events(world: World) -> list[dict[str, Any]]:
    drop = {"created_at", "seq", "request_id", "due_at"}
    rows = [{k: v for k, v in e.items() if k not in drop} for e in world.store.tables[EVENTS].values()]
    return sorted(rows, key=lambda r: r["event_id"])


def test_each_party_hears_of_its_day_once_with_its_net_position() -> None:
    # Given a cleared day in a financier_advance city
    world = _busy_world()
    objects = MemoryObjects()
    service.run(world.ctx(), objects, through=date(2026, 11, 24))
    day = service.clear_date(world.ctx(), MemoryObjects(), date(2026, 11, 24))  # a rerun: no second event
    # Then each hospital, financier and channel has one clearing.ready event with its net and its own id only
    ready = [e for e in world.store.tables[EVENTS].values() if e["kind"] == "clearing.ready"]
    events = {e["audience"]: e["data"] for e in ready}
    expected = {p: pd.net_fen for p, pd in day.parties.items() if not p.startswith("fund:")}
    assert {a: d["net_fen"] for a, d in events.items()} == expected
    assert all(d["party"] == a.split(":")[1] and d["business_date"] == DAY for a, d in events.items())
    assert len(ready) == len(expected)
