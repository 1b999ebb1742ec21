"""Operator reports: each figure's definition at its boundaries (pure, fixed values), the counters the events keep,
and the reconciliation of every figure with the ledger to the fen over random activity (hypothesis)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treatfirst.domain import reports as r
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import InvalidDateRange, TreatFirstError
from treatfirst.domain.policy import example_policy
from treatfirst.messages.collection import WriteOffRequest
from treatfirst.messages.common import Empty
from treatfirst.messages.reports import ReportQuery
from treatfirst.messages.visits import ChargeRequest, RefundRequest
from treatfirst.services import charges, closing, collection, refunds, reports, writeoffs
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import LEDGER, OUTBOX, REPORTS

from tests.factories import charge, command
from tests.unit.conftest import World

D = date(2026, 12, 1)


# ---- definitions (pure) ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "band"),
    [
        (D - timedelta(days=1), "N"),  # the day before the due date closes: not past due
        (D, "1"),  # at the due date's own close: 1 day past due
        (D + timedelta(days=29), "1"),  # 30 days
        (D + timedelta(days=30), "2"),  # 31 days
        (D + timedelta(days=59), "2"),  # 60 days
        (D + timedelta(days=60), "3"),
        (D + timedelta(days=179), "6"),  # 180 days
        (D + timedelta(days=180), "7"),  # 181 days: over 180
        (D + timedelta(days=900), "7"),
    ],
)
def test_band_at_close_follows_the_central_banks_30_day_bands(day: date, band: str) -> None:
    # Given a bill due on D, unpaid; When the close of `day` is banded; Then it falls in the central bank's band
    assert r.band_at_close(D, day) == band


def test_a_ratio_is_parts_per_million_rounded_half_up_and_null_for_nothing() -> None:
    # Given numerators and denominators; When turned into ratios; Then fixed, independently known values
    assert r.ppm(1, 3) == 333_333
    assert r.ppm(2, 3) == 666_667
    assert r.ppm(1, 2_000_000) == 1  # 0.5 ppm rounds up
    assert r.ppm(0, 5) == 0
    assert r.ppm(0, 0) is None
    assert r.ppm(3, 3) == 1_000_000


def test_a_write_off_to_the_lender_is_bad_debt_and_to_any_other_fund_repaid_by_a_backstop() -> None:
    assert [r.closed_band_of_write_off(f) for f in ("hospital", "financier")] == ["B", "B"]
    assert {r.closed_band_of_write_off(f) for f in ("credit_insurance", "municipal_fund", "emergency_aid_fund")} == {
        "D"
    }


def _report(per_day: dict[date, dict[str, list[int]]], start: date, end: date) -> dict[str, Any]:
    """The pure report over hand-made counters, the reports beginning the day before the earliest day given."""
    first = min([start, *per_day]) - timedelta(days=1)
    closing = {first: r.ClosingBalances(first)}
    day = first
    while day < end:
        day += timedelta(days=1)
        closing[day] = closing[day - timedelta(days=1)].after(day, per_day.get(day, {}))
    base_day = end - timedelta(days=r.ROLL_DAYS)
    return r.build_report(
        start=start,
        end=end,
        per_day=per_day,
        closing=closing,
        roll_base=closing.get(base_day),
        blacklist={"listed": 0, "removed": 0},
    )


def test_every_figure_from_hand_made_counters() -> None:
    # Given: on 11-24 two bills due 12-01 (10 000 and 5 000 fen) and an emergency visit of 3 000 at hospital h1;
    # 12-01 the first is paid 4 000 on time; 12-02 the second is paid in full late; 12-03 a 1 000 refund settles
    # nothing; 12-20 the emergency bill (due 12-01) is written off to the emergency-aid fund, 500 recovered on 12-21
    due = "2026-12-01"
    per_day = {
        date(2026, 11, 24): {
            f"issued|{due}": [3, 18_000],
            "emergency|h1": [1, 3_000],
        },
        date(2026, 12, 1): {f"paid|{due}|on_time": [0, 4_000], "message|due_reminder": [2, 0]},
        date(2026, 12, 2): {f"paid|{due}|late": [1, 5_000]},
        date(2026, 12, 3): {f"refunded|{due}": [0, 1_000]},
        date(2026, 12, 20): {
            f"written_off|{due}|ladder_exhausted|D": [1, 3_000],
            "drawn|emergency_aid_fund": [1, 3_000],
        },
        date(2026, 12, 21): {"recovered|emergency_aid_fund": [1, 500]},
    }
    # When the report of 11-24..12-31 is built
    out = _report(per_day, date(2026, 11, 24), date(2026, 12, 31))
    # Then: lent 18 000; what is still owed is 18 000 - 4 000 - 5 000 - 1 000 - 3 000 = 5 000, 30 days past due at
    # the close of 12-30, 31 at 12-31 (band 2)
    assert out["lent"] == {"bills": 3, "fen": 18_000}
    assert out["past_due"] == {"bills": 1, "fen": 5_000}
    assert out["arrears_rate_ppm"] == 277_778  # 5 000 / 18 000
    bands = {b["band"]: (b["bills"], b["fen"]) for b in out["aging"]}
    assert bands["2"] == (1, 5_000) and bands["1"] == (0, 0) and bands["N"] == (0, 0)
    assert bands["C"] == (0, 5_000) and bands["M"] == (1, 5_000) and bands["D"] == (1, 3_000) and bands["B"] == (0, 0)
    # N->1: 18 000 fell due on 12-01 (nothing was issued that day); 14 000 was unpaid at its close
    assert out["roll_rates"][0] == {
        "from": "N",
        "to": "1",
        "base_fen": 18_000,
        "rolled_fen": 14_000,
        "rate_ppm": 777_778,
    }
    # 1->2 over the 30 days ending 12-31: at the close of 12-01 band 1 held 14 000; 5 000 of it is still unpaid
    assert out["roll_rates"][1]["base_fen"] == 14_000 and out["roll_rates"][1]["rolled_fen"] == 5_000
    assert out["cure"] == {"base_fen": 0, "cured_fen": 0, "rate_ppm": None}  # nothing was past due before 11-24
    assert out["repaid"] == {"on_time_fen": 4_000, "late_fen": 5_000, "fen": 9_000}
    assert out["write_offs"] == [{"reason": "ladder_exhausted", "n": 1, "fen": 3_000}]
    assert out["backstop"] == [{"fund": "emergency_aid_fund", "draws": 1, "drawn_fen": 3_000, "recovered_fen": 500}]
    assert out["emergency"] == [{"hospital_id": "h1", "visits": 1, "fen": 3_000}]
    assert out["messages"] == [{"kind": "due_reminder", "n": 2}]
    assert out["blacklist"] == {"listed": 0, "removed": 0}


def test_cure_rate_counts_payments_on_what_was_past_due_before_the_range_only() -> None:
    # Given 10 000 due 12-01, past due at the close of 12-09; 12-10 a late payment of 2 500 on it, and a bill due
    # 12-15 issued 12-08 paid 1 000 late on 12-20 (it was not past due before the range)
    per_day = {
        date(2026, 11, 24): {"issued|2026-12-01": [1, 10_000]},
        date(2026, 12, 8): {"issued|2026-12-15": [1, 7_000]},
        date(2026, 12, 10): {"paid|2026-12-01|late": [0, 2_500]},
        date(2026, 12, 20): {"paid|2026-12-15|late": [0, 1_000]},
    }
    # When the range starts 12-10
    out = _report(per_day, date(2026, 12, 10), date(2026, 12, 31))
    # Then the base is the 10 000 past due at the close of 12-09, cured 2 500 = 25 %
    assert out["cure"] == {"base_fen": 10_000, "cured_fen": 2_500, "rate_ppm": 250_000}
    # and the arrears rate divides by everything lent since the reports began (17 000), not by the range's lending
    assert out["lent"]["fen"] == 0 and out["lent_since_start_fen"] == 17_000
    assert out["arrears_rate_ppm"] == r.ppm(10_000 - 2_500 + 7_000 - 1_000, 17_000)


def test_roll_rates_are_null_when_the_reports_had_not_begun_30_days_before() -> None:
    out = _report({date(2026, 12, 1): {"issued|2026-12-18": [1, 100]}}, date(2026, 12, 1), date(2026, 12, 10))
    assert all(row["base_fen"] is None and row["rate_ppm"] is None for row in out["roll_rates"][1:])
    assert out["roll_rates"][0]["base_fen"] == 0  # nothing fell due in the range


def test_a_tally_merges_what_one_transaction_adds_to_the_same_counter() -> None:
    tally = r.Tally()
    tally.add("paid|2026-12-01|late", 1, 100)
    tally.add("paid|2026-12-01|late", 0, 50)
    tally.add("message|step", 0, 0)  # nothing: no counter
    assert tally.counts == {"paid|2026-12-01|late": [1, 150]}
    with pytest.raises(ValueError):
        r.counter("emergency", "h|1")


# ---- the counters kept by the events (memory store) ------------------------------------------------------------
OPERATOR = Caller("key_op", "operator", "ops", SCOPES["operator"])


def _bill(world: World, account_id: str, self_pay: int, emergency: bool = False) -> dict[str, Any]:
    extra = {"emergency": {"triage_level": 2, "reason_code": "I21"}} if emergency else {}
    visit_id = world.open_visit(account_id, **extra)["visit_id"]
    body = charge(self_pay, emergency=emergency) if emergency else charge(self_pay)
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, body), None)
    bill: dict[str, Any] = closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]
    return bill


def test_a_payment_on_the_due_date_before_the_cut_off_is_on_time_and_one_after_it_late(world: World) -> None:
    # Given two bills due 12-01 23:59:59 (Lianyungang's cut-off is the due time)
    account = world.enroll()["account_id"]
    first, second = _bill(world, account, 3_000), _bill(world, account, 2_000)
    # When the first is paid at 23:59:58 on 12-01 and the second one second after the cut-off
    world.clock.current = datetime(2026, 12, 1, 15, 59, 58, tzinfo=UTC)
    world.pay("t1", (first["bill_id"], 3_000))
    world.clock.current = datetime(2026, 12, 1, 16, 0, 0, tzinfo=UTC)
    world.pay("t2", (second["bill_id"], 2_000))
    world.clock.advance(days=1, minutes=10)  # past the next close and its grace
    # Then the first counts as on time on 12-01, the second late on 12-02
    assert reports.day_counts(world.ctx(), date(2026, 12, 1))["paid|2026-12-01|on_time"] == [1, 3_000]
    assert reports.day_counts(world.ctx(), date(2026, 12, 2))["paid|2026-12-01|late"] == [1, 2_000]
    out = reports.report(world.ctx(), date(2026, 11, 24), date(2026, 12, 2))
    bands = {b["band"]: (b["bills"], b["fen"]) for b in out["aging"]}
    assert bands["C"] == (1, 3_000) and bands["M"] == (1, 2_000)


def test_a_charge_post_writes_no_counter_and_a_close_writes_them_in_its_own_transaction(world: World) -> None:
    # Given an account and an open visit
    account = world.enroll()["account_id"]
    visit_id = world.open_visit(account)["visit_id"]
    # When a charge is posted: Then no report item is written (the post stays one request, as before)
    commits = world.store.commits
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(1_000)), None)
    assert world.store.commits == commits + 1 and world.store.tables[REPORTS] == {}
    # When the visit closes: Then its counter is written by the closing's one commit
    closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None)
    assert world.store.commits == commits + 2
    assert [i["counter"] for i in world.store.tables[REPORTS].values()] == ["issued|2026-12-01"]


def test_a_refund_on_a_bill_counts_and_closes_the_bill_when_nothing_is_left(world: World) -> None:
    account = world.enroll()["account_id"]
    visit_id = world.open_visit(account)["visit_id"]
    body = charge(1_500)
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, body), None)
    closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None)
    refunds.refund_charge(
        world.ctx(),
        world.hospital,
        visit_id,
        body["fee_line_id"],
        command(RefundRequest, {"self_pay_fen": 1_500}),
        None,
    )
    assert reports.day_counts(world.ctx(), date(2026, 11, 24))["refunded|2026-12-01"] == [1, 1_500]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-11-24", "2026-11-23", "to"),  # to before from
        ("2026-11-24", "2026-11-30", "to"),  # not closed yet
        ("2025-11-01", "2026-11-25", "from"),  # over 366 days
        ("2026-02-30", "2026-11-25", "from"),  # not a calendar date
    ],
)
def test_a_bad_range_is_refused_with_one_code_and_changes_nothing(
    world: World, start: str, end: str, field: str
) -> None:
    # Given a city whose last closed business date is 11-25
    world.clock.current = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    before = repr(world.store.tables)
    # When a report of a bad range is asked; Then INVALID_DATE_RANGE names the field, and nothing is written
    with pytest.raises(InvalidDateRange) as refused:
        reports.operator_report(world.ctx(), OPERATOR, command(ReportQuery, {"from": start, "to": end}))
    assert refused.value.field == field
    assert repr(world.store.tables) == before


def test_a_range_before_the_reports_began_is_refused(world: World) -> None:
    world.clock.current = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    reports.report(world.ctx(), date(2026, 12, 1), date(2026, 12, 5))  # the reports begin after 11-30
    with pytest.raises(InvalidDateRange, match="begin after 2026-11-30"):
        reports.report(world.ctx(), date(2026, 11, 30), date(2026, 12, 5))


# ---- reconciliation with the ledger (hypothesis) ---------------------------------------------------------------
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["bill", "emergency_bill", "pay", "refund", "advance", "sweep", "write_off"]),
        st.integers(1, 60_000),
        st.integers(0, 10**6),
    ),
    min_size=1,
    max_size=14,
)


def _business_date(world: World, at: str) -> date:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return closed_through(moment, zone=world.policy.timezone, cutoff=world.policy.due_at) + timedelta(days=1)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(city=st.sampled_from(["lianyungang", "xiamen"]), actions=ACTIONS, tail=st.booleans())
def test_the_report_reconciles_to_the_ledger_to_the_fen(
    city: str, actions: list[tuple[str, int, int]], tail: bool
) -> None:
    # Given random activity: bills (credit and emergency), partial and full payments (late ones and recoveries after
    # a write-off too), refunds on bills, days passing and the collection sweep (write-offs to the backstop funds)
    world = World(example_policy(city))
    start = reports.business_date(world.ctx())
    account = world.enroll()["account_id"]
    bills: list[tuple[str, str]] = []  # (bill_id, visit's fee line)
    for n, (action, amount, pick) in enumerate(actions):
        try:
            if action in ("bill", "emergency_bill"):
                extra = {"emergency": {"triage_level": 2, "reason_code": "I21"}} if action == "emergency_bill" else {}
                visit_id = world.open_visit(account, **extra)["visit_id"]
                body = charge(amount, emergency=action == "emergency_bill") if extra else charge(amount)
                charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, body), None)
                bill = closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]
                bills.append((bill["bill_id"], visit_id + "/" + body["fee_line_id"]))
            elif action == "pay" and bills:
                bill_id = bills[pick % len(bills)][0]
                world.pay(f"t{n}", (bill_id, 1 + amount % 40_000))
            elif action == "refund" and bills:
                visit_id, fee_line = bills[pick % len(bills)][1].split("/")
                refunds.refund_charge(
                    world.ctx(),
                    world.hospital,
                    visit_id,
                    fee_line,
                    command(RefundRequest, {"self_pay_fen": 1 + amount % 20_000}),
                    None,
                )
            elif action == "advance":
                world.clock.advance(days=1 + pick % 70, hours=pick % 24)
            elif action == "sweep":
                collection.sweep(world.ctx())
            elif action == "write_off" and bills:  # an operator's write-off (hardship or another reason)
                reason = ("hardship", "deceased", "emergency_unidentified", "operator_decision")[pick % 4]
                request = command(WriteOffRequest, {"reason": reason, "note": "民政认定"})
                writeoffs.write_off_bill(world.ctx(), OPERATOR, bills[pick % len(bills)][0], request, None)
        except TreatFirstError:
            pass  # a refusal (overpayment, nothing left to refund, ...) changes nothing
    if tail:  # past every ladder's write-off, then money for each bill (a recovery where it was written off)
        world.clock.advance(days=220)
        collection.sweep(world.ctx())
        for n, (bill_id, _) in enumerate(bills):
            with contextlib.suppress(TreatFirstError):  # a bill paid or refunded already
                world.pay(f"tail{n}", (bill_id, 100))
    world.clock.advance(days=1, minutes=10)  # past the next close and its grace
    end = reports.last_closed(world.ctx())
    # When the report of everything so far is built (in two ranges if it is longer than a report may be)
    ranges, first = [], start
    while first <= end:
        last = min(end, first + timedelta(days=r.MAX_RANGE_DAYS - 1))
        ranges.append(reports.report(world.ctx(), first, last))
        first = last + timedelta(days=1)
    # Then every figure equals what the ledger's entries say, to the fen
    entries = [e for e in world.store.tables[LEDGER].values()]
    assert all(_business_date(world, e["at"]) <= end for e in entries)

    def ledger_sum(*kinds: str, fund: str | None = None) -> int:
        return sum(
            e["amount_fen"]
            for e in entries
            if e["kind"] in kinds and (fund is None or e["account_id"].startswith(f"fund#{fund}#"))
        )

    final = ranges[-1]
    owed = ledger_sum("issue", "emergency_issue") - ledger_sum(
        "payment", "emergency_payment", "release_owed", "emergency_release_owed", "write_off", "emergency_write_off"
    )
    assert sum(b["fen"] for b in final["aging"] if b["band"] in r.OPEN_BANDS) == owed
    line = world.line(account)
    assert owed == line["owed_fen"] + line["emergency_owed_fen"]
    assert final["lent_since_start_fen"] == ledger_sum("issue", "emergency_issue")
    assert sum(x["repaid"]["fen"] for x in ranges) == ledger_sum("payment", "emergency_payment")
    assert sum(x["refunded"]["fen"] for x in ranges) == ledger_sum("release_owed", "emergency_release_owed")
    assert sum(w["fen"] for x in ranges for w in x["write_offs"]) == ledger_sum("write_off", "emergency_write_off")
    for fund in ("credit_insurance", "municipal_fund", "emergency_aid_fund", "financier", "hospital"):
        assert sum(f["drawn_fen"] for x in ranges for f in x["backstop"] if f["fund"] == fund) == ledger_sum(
            "backstop_write_off", fund=fund
        )
        assert sum(f["recovered_fen"] for x in ranges for f in x["backstop"] if f["fund"] == fund) == ledger_sum(
            "backstop_recovery", fund=fund
        )
    # and day by day, what was lent is what the ledger issued on that business date
    for x in ranges:
        for row in x["daily"]:
            on = date.fromisoformat(row["day"])
            assert row["lent_fen"] == sum(
                e["amount_fen"]
                for e in entries
                if e["kind"] in ("issue", "emergency_issue") and _business_date(world, e["at"]) == on
            )
    # and the emergency self-pay billed per hospital, the messages of the outbox
    emergency = sum(e["fen"] for x in ranges for e in x["emergency"])
    assert emergency == ledger_sum("emergency_issue")
    assert sum(m["n"] for x in ranges for m in x["messages"]) == len(world.store.tables[OUTBOX])
    # and the bills: the open bands count exactly the bills still owed
    open_bills = [b for b in world.store.tables["bills"].values() if b["outstanding_fen"] > 0]
    assert sum(b["bills"] for b in final["aging"] if b["band"] in r.OPEN_BANDS) == len(open_bills)
    written_off = [b for b in world.store.tables["bills"].values() if b["status"] == "written_off"]
    assert sum(b["bills"] for x in ranges for b in x["aging"] if b["band"] in ("D", "B")) == len(written_off)


def test_listed_and_removed_persons_come_from_the_blacklist_change_log_each_person_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the blacklist's read API yielding, for the window asked, two additions of one person, one of another,
    # and a removal (a fake of services.blacklist.changes, whose window is [from, to))
    from treatfirst.services import blacklist

    asked: list[tuple[date, date]] = []

    def changes(ctx: Any, *, city_code: str, from_date: date, to_date: date) -> Any:
        asked.append((from_date, to_date))
        assert city_code == world.policy.city_code
        yield from (
            {"kind": "added", "account_id": "acc_a"},
            {"kind": "added", "account_id": "acc_a"},
            {"kind": "added", "account_id": "acc_b"},
            {"kind": "removed", "account_id": "acc_c"},
        )

    monkeypatch.setattr(blacklist, "changes", changes)
    world.clock.current = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    # When the report of 12-01..12-05 is built
    out = reports.report(world.ctx(), date(2026, 12, 1), date(2026, 12, 5))
    # Then two persons were listed, one removed, and the log was read for [12-01, 12-06)
    assert out["blacklist"] == {"listed": 2, "removed": 1}
    assert asked == [(date(2026, 12, 1), date(2026, 12, 6))]


def test_the_hourly_roll_up_records_each_closed_date_once_and_the_reports_begin_with_it(world: World) -> None:
    # Given a platform started on 11-24 (09:00 in the city): the hourly schedule's first roll-up
    first = reports.roll_up(world.ctx())
    assert first == {"closed_through": "2026-11-23"}
    # When a bill is issued that day and three days later the schedule runs again, twice
    account = world.enroll()["account_id"]
    _bill(world, account, 2_000)
    world.clock.advance(days=3)
    assert reports.roll_up(world.ctx()) == {"closed_through": "2026-11-26"}
    before = repr(world.store.tables)
    reports.roll_up(world.ctx())
    # Then each closed date is recorded once (a rerun changes nothing), the first being the day before the start
    assert repr(world.store.tables) == before
    recorded = [k[1] for k in world.store.tables[REPORTS] if k[0] == reports.CLOSING]
    assert sorted(recorded) == ["2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"]
    # And a report of the days since reads them; a day before the reports began is refused
    assert reports.report(world.ctx(), date(2026, 11, 23), date(2026, 11, 26))["lent_since_start_fen"] == 2_000
    with pytest.raises(InvalidDateRange):
        reports.report(world.ctx(), date(2026, 11, 22), date(2026, 11, 26))


def test_a_date_is_reported_only_once_it_closed_five_minutes_ago(world: World) -> None:
    # Given Lianyungang's cut-off 23:59:59 (15:59:59 UTC)
    world.clock.current = datetime(2026, 11, 24, 16, 3, 0, tzinfo=UTC)  # 00:03:00 on 11-25 in the city
    # Then 11-24 closed only 3 minutes ago: not reportable yet; at 00:05 it is
    assert reports.last_closed(world.ctx()) == date(2026, 11, 23)
    world.clock.current = datetime(2026, 11, 24, 16, 4, 59, tzinfo=UTC)
    assert reports.last_closed(world.ctx()) == date(2026, 11, 24)


def test_the_report_ages_in_calendar_days_and_every_page_says_so_where_the_ladder_takes_pauses_off(
    world: World,
) -> None:
    from treatfirst import report_html
    from treatfirst.messages.collection import DisputeRequest
    from treatfirst.openapi import OPERATIONS
    from treatfirst.services import pauses

    from tools import mkdocs_reports

    # Given a bill due 12-01, disputed from the day it was issued (the ladder leaves it out; it does not age there)
    account = world.enroll()["account_id"]
    bill = _bill(world, account, 4_000)
    body = command(DisputeRequest, {"bill_id": bill["bill_id"], "reason": "对收费有异议"})
    pauses.open_dispute(world.ctx(), OPERATOR, account, body)
    # When 45 days have passed since its due date closed
    world.clock.current = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)  # 10:00 on 01-15 in the city; 01-14 closed
    out = reports.report(world.ctx(), date(2026, 11, 24), date(2027, 1, 14))
    live = pauses.aging_report(world.ctx(), OPERATOR)
    # Then the report has it in band 2 (31-60 calendar days) and past due, while the live aging has it not overdue
    report_bands = {b["band"]: (b["bills"], b["fen"]) for b in out["aging"] if b["bills"]}
    live_bands = {b["band"]: (b["bills"], b["outstanding_fen"]) for b in live["bands"] if b["bills"]}
    assert report_bands == {"2": (1, 4_000)} and out["past_due"]["fen"] == 4_000
    assert live_bands == {"N": (1, 4_000)}
    # And every place that defines the report's aging says calendar days, paused days not taken off
    aging = next(f for f in r.FIGURES if f.key == "aging")
    assert "按日历天，不扣除争议、住院、全市暂停等暂停天数" in aging.definition_zh
    assert "calendar days: days paused by a dispute, a stay or a moratorium are not taken off" in aging.definition_en
    assert r.CALENDAR_DAYS_ZH in mkdocs_reports._zh() and r.CALENDAR_DAYS_EN in mkdocs_reports._en()
    html = report_html.render(out, city="连云港")
    assert "按日历天" in html and "in calendar days" in html
    (operation,) = [o for o in OPERATIONS if o.operation_id == "operatorReport"]
    assert "calendar days past due (paused days are not taken off" in (operation.description or "")
