"""The collection ladder, pure (treatfirst.domain.collection): every transition on a fixed calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from treatfirst.domain import collection as c
from treatfirst.domain.policy import example_policy

LYG, XM = example_policy("lianyungang"), example_policy("xiamen")
D = date(2026, 3, 10)  # the due date of the first bill in these tests


def _bill(bill_id: str = "bil_a", due: date = D, fen: int = 10_000, efen: int = 0) -> c.UnpaidBill:
    return c.UnpaidBill(bill_id, due, fen, efen)


def _walk(policy, state: c.State, start: date, end: date, account: str = "acc_1"):  # type: ignore[no-untyped-def]
    """Plan every business date from start to end like the daily sweep; yields (date, plan)."""
    day = start
    while day <= end:
        p = c.plan(policy, account, state, day)
        state = p.state
        yield day, p
        day += timedelta(days=1)


def test_business_date_closes_at_the_policy_cutoff_in_the_city_zone() -> None:
    # Given Xiamen's cut-off 23:59:59 in Asia/Shanghai
    zone, cutoff = XM.timezone, XM.due_at
    # Then 2026-03-10 is closed from 23:59:59 local (15:59:59 UTC) on, not a second before
    assert c.closed_through(datetime(2026, 3, 10, 15, 59, 58, tzinfo=UTC), zone=zone, cutoff=cutoff) == date(2026, 3, 9)
    assert c.closed_through(datetime(2026, 3, 10, 15, 59, 59, tzinfo=UTC), zone=zone, cutoff=cutoff) == D
    # and a UTC midnight is already the next local day, still open
    assert c.closed_through(datetime(2026, 3, 11, 0, 0, tzinfo=UTC), zone=zone, cutoff=time(23, 0)) == D


def test_xiamen_ladder_walks_every_step_once_with_reminders_before_each() -> None:
    # Given one unpaid Xiamen bill due on D
    state = c.State(unpaid=(_bill(),))
    kinds: dict[date, list[tuple[str, str]]] = {}
    # When every business date from 3 days before the due date to 200 days after is planned
    for day, p in _walk(XM, state, D - timedelta(days=3), D + timedelta(days=200)):
        if p.messages:
            kinds[day] = [(m.kind, m.params.get("step") or m.params.get("bill_id")) for m in p.messages]
        state = p.state
    # Then the reminder the day before, the step on each day offset, one reminder before each step, nothing twice
    assert kinds == {
        D - timedelta(days=1): [("due_reminder", "bil_a")],
        D: [("step", "sms_reminder")],
        D + timedelta(days=2): [("step_reminder", "restrict")],
        D + timedelta(days=3): [("step", "restrict"), ("phone_task", "restrict")],
        D + timedelta(days=12): [("step_reminder", "suspend")],
        D + timedelta(days=15): [("step", "suspend")],
        D + timedelta(days=150): [("step_reminder", "write_off")],
        D + timedelta(days=180): [("step", "write_off")],
    }


def test_a_step_whose_amount_condition_fails_is_neither_reminded_nor_reached() -> None:
    # Given one 15-yuan Lianyungang bill (reporting needs 50 yuan or more owed)
    state = c.State(unpaid=(_bill(fen=1_500),))
    # When every date up to 120 days overdue is planned
    sent = [
        (m.kind, m.params.get("step")) for _, p in _walk(LYG, state, D, D + timedelta(days=120)) for m in p.messages
    ]
    # Then no reminder announces the report, and it never comes; the steps below it do
    assert ("step_reminder", "report_to_credit_platform") not in sent
    assert ("step", "report_to_credit_platform") not in sent
    assert ("step_reminder", "suspend") in sent and ("step", "suspend") in sent
    # And with 50 yuan owed both come (the boundary amount included: "at least")
    bigger = c.State(unpaid=(_bill(fen=5_000),))
    sent = [
        (m.kind, m.params.get("step")) for _, p in _walk(LYG, bigger, D, D + timedelta(days=120)) for m in p.messages
    ]
    assert ("step_reminder", "report_to_credit_platform") in sent and ("step", "report_to_credit_platform") in sent


def test_a_bill_goes_overdue_at_its_due_dates_close_and_counts_one_strike() -> None:
    # The business date closes at the due time: on the due date's close the bill is past due
    state = c.State(unpaid=(_bill(),))
    before = c.plan(XM, "acc_1", state, D - timedelta(days=1))
    assert before.marked_overdue == () and before.state.strikes == ()
    on_due = c.plan(XM, "acc_1", before.state, D)
    assert on_due.marked_overdue == ("bil_a",) and on_due.state.strikes == (c.Strike("bil_a", D),)
    again = c.plan(XM, "acc_1", on_due.state, D)
    assert not again.changed and again.state == on_due.state  # a rerun of the date changes nothing


def test_steps_block_what_the_policy_says_and_suspension_blocks_everything() -> None:
    state = c.State(unpaid=(_bill(),))
    at = {day: p for day, p in _walk(XM, state, D, D + timedelta(days=16))}
    assert at[D + timedelta(days=2)].blocks == ()
    assert at[D + timedelta(days=3)].blocks == ("limit_increase",) and not at[D + timedelta(days=3)].suspended
    assert at[D + timedelta(days=15)].blocks == ("new_charges", "new_visits", "limit_increase")
    assert at[D + timedelta(days=15)].suspended


def test_partial_payment_of_the_oldest_bill_neither_skips_nor_repeats_a_step() -> None:
    # Given two bills (D and D+5) and the account at the restrict step on D+3
    state = c.State(unpaid=(_bill("bil_a", D), _bill("bil_b", D + timedelta(days=5))))
    for _, p in _walk(XM, state, D, D + timedelta(days=4)):
        state = p.state
    assert state.step == "restrict"
    # When part of the oldest bill is paid (it stays unpaid: same anchor)
    state = replace(state, unpaid=(replace(state.unpaid[0], outstanding_fen=1), state.unpaid[1]))
    # Then no step is repeated, none skipped: suspend comes on D+15 as before
    sent = [
        (day, m.params.get("step"))
        for day, p in _walk(XM, state, D + timedelta(days=5), D + timedelta(days=16))
        for m in p.messages
        if m.kind == "step"
    ]
    assert sent == [(D + timedelta(days=15), "suspend")]


def test_paying_the_oldest_bill_in_full_re_anchors_on_the_next_due_date() -> None:
    # Given two bills and the account suspended on D+15 for the older one
    state = c.State(unpaid=(_bill("bil_a", D), _bill("bil_b", D + timedelta(days=10))))
    for _, p in _walk(XM, state, D, D + timedelta(days=15)):
        state = p.state
    assert state.step == "suspend" and state.anchor == D
    # When the older bill is paid in full (the unpaid map loses it)
    state = replace(state, unpaid=(state.unpaid[1],))
    # Then the next plan eases to what the newer bill's 6 days call for (restrict), sending nothing
    eased = c.plan(XM, "acc_1", state, D + timedelta(days=16))
    assert eased.state.anchor == D + timedelta(days=10) and eased.state.step == "restrict"
    assert eased.blocks == ("limit_increase",) and "collection.step.eased" in eased.events
    assert [m.kind for m in eased.messages] == []  # restrict for the new anchor is reached: nothing repeats today
    # And suspension comes back 15 days after the newer due date, not before
    later = [
        (day, m.params.get("step"))
        for day, p in _walk(XM, eased.state, D + timedelta(days=17), D + timedelta(days=26))
        for m in p.messages
        if m.kind == "step"
    ]
    assert later == [(D + timedelta(days=25), "suspend")]


def test_pauses_do_not_age_the_debt() -> None:
    # Given a dispute pausing the account from D+1 to D+11 (10 days)
    pause = c.Pause("pau_1", D + timedelta(days=1), D + timedelta(days=11), "dispute", "bil_a")
    assert c.days_overdue(D, D + timedelta(days=20), [pause]) == 10
    assert c.paused_days([pause, pause], D, D + timedelta(days=30)) == 10  # overlapping pauses count once
    # Then Xiamen's restrict step (3 days) comes on D+13 instead of D+3
    state = c.State(unpaid=(_bill(),), pauses=(pause,))
    steps = [(day, p.state.step) for day, p in _walk(XM, state, D, D + timedelta(days=14))]
    assert dict(steps)[D + timedelta(days=12)] == "sms_reminder"
    assert dict(steps)[D + timedelta(days=13)] == "restrict"


def test_a_dispute_pauses_only_its_own_bill() -> None:
    # Given two Xiamen bills due D and D+2, and the older one disputed from D+1 to D+11 (10 days)
    dispute = c.Pause("pau_1", D + timedelta(days=1), D + timedelta(days=11), "金额有误", "bil_a")
    a, b = _bill("bil_a", D), _bill("bil_b", D + timedelta(days=2), fen=3_000)
    # Then the disputed days age only bil_a: on D+20 it is 10 days overdue, bil_b 18
    assert c.bill_days(a, D + timedelta(days=20), [dispute]) == 10
    assert c.bill_days(b, D + timedelta(days=20), [dispute]) == 18
    # And while it is open the ladder counts only bil_b (its days, its count, its amount)
    state = c.State(unpaid=(a, b), pauses=(dispute,))
    at = {day: p for day, p in _walk(XM, state, D, D + timedelta(days=20))}
    assert at[D + timedelta(days=4)].days == 2 and at[D + timedelta(days=4)].state.step == "sms_reminder"
    assert at[D + timedelta(days=5)].state.step == "restrict"  # bil_b reaches 3 days: restrict, on bil_b alone
    step = next(m for m in at[D + timedelta(days=5)].messages if m.kind == "step")
    assert (step.params["amount_fen"], step.params["bills"], step.params["due_date"]) == (3_000, 1, "2026-03-12")
    # And after the dispute closes the account's days are those of its most overdue bill again
    assert at[D + timedelta(days=20)].days == 18


def test_disputing_every_unpaid_bill_eases_the_step_and_closing_restores_it_silently() -> None:
    # Given one Xiamen bill at the restrict step on D+4
    state = c.State(unpaid=(_bill(),))
    for _, p in _walk(XM, state, D, D + timedelta(days=4)):
        state = p.state
    assert state.step == "restrict"
    # When it is disputed from D+5: the ladder eases, blocks go, nothing is sent
    opened = replace(state, pauses=(c.Pause("pau_1", D + timedelta(days=5), None, "金额有误", "bil_a"),))
    eased = c.plan(XM, "acc_1", opened, D + timedelta(days=5))
    assert eased.state.step is None and eased.blocks == () and eased.messages == ()
    assert "collection.step.eased" in eased.events and eased.next_on == D + timedelta(days=6)
    # When the dispute is closed on D+30 (25 paused days): restrict comes back without a second message
    closed = replace(
        eased.state, pauses=(c.Pause("pau_1", D + timedelta(days=5), D + timedelta(days=30), "x", "bil_a"),)
    )
    back = c.plan(XM, "acc_1", closed, D + timedelta(days=30))
    assert back.days == 5 and back.state.step == "restrict" and back.messages == ()
    # and suspension comes 15 days overdue, i.e. on D+40
    sent = [
        (d, m.params["step"])
        for d, p in _walk(XM, back.state, D + timedelta(days=31), D + timedelta(days=41))
        for m in p.messages
        if m.kind == "step"
    ]
    assert sent == [(D + timedelta(days=40), "suspend")]


def test_a_city_moratorium_pauses_every_account() -> None:
    moratorium = c.Pause("mor_1", D - timedelta(days=5), D + timedelta(days=20), "spring_festival")
    state = c.State(unpaid=(_bill(),))
    p = c.plan(XM, "acc_1", state, D + timedelta(days=10), [moratorium])
    assert p.days == 0 and p.state.step == "sms_reminder"
    # the moratorium ends on D+20: 2 days overdue (restrict's reminder) falls on D+21
    assert p.next_on == D + timedelta(days=21)


def test_open_pause_is_looked_at_daily() -> None:
    pause = c.Pause("pau_1", D + timedelta(days=1), None, "inpatient_stay")
    state = c.State(
        unpaid=(replace(_bill(), overdue=True),),
        pauses=(pause,),
        step="sms_reminder",
        anchor=D,
        applied=("sms_reminder",),
    )
    p = c.plan(XM, "acc_1", state, D + timedelta(days=30))
    assert p.days == 0 and not p.changed and p.next_on == D + timedelta(days=31)


@pytest.mark.parametrize(
    ("strike_dates", "on", "met"),
    [
        # Lianyungang: more than 3 ('>') within 12 months
        ([date(2026, 1, 15)] * 3, date(2026, 6, 1), False),  # 3 is not more than 3
        ([date(2026, 1, 15)] * 4, date(2027, 1, 14), True),  # the last day of the window still counts
        ([date(2026, 1, 15)] * 4, date(2027, 1, 15), False),  # 12 months later the strikes have left the window
    ],
)
def test_strike_window_boundaries(strike_dates: list[date], on: date, met: bool) -> None:
    strikes = [c.Strike(f"bil_{i}", d) for i, d in enumerate(strike_dates)]
    count = c.strikes_in_window(strikes, on, LYG.strike_window_months)
    assert c.strike_rule_met(count, LYG.strike_comparison, LYG.strike_count) is met


def test_comparisons_are_explicit() -> None:
    assert c.strike_rule_met(3, ">=", 3) and not c.strike_rule_met(3, ">", 3)
    with pytest.raises(ValueError):
        c.strike_rule_met(3, "=>", 3)


def test_xiamen_third_overdue_bill_suspends_and_only_an_operator_lifts_it() -> None:
    # Given two earlier strikes (cumulative in Xiamen) and a third bill going overdue
    strikes = (c.Strike("bil_x", date(2025, 1, 2)), c.Strike("bil_y", date(2025, 6, 2)))
    state = c.State(unpaid=(_bill(),), strikes=strikes)
    p = c.plan(XM, "acc_1", state, D + timedelta(days=1))
    assert p.state.strike_blocked and p.suspended and "collection.strikes.applied" in p.events
    assert any(m.params.get("step") == "strikes" for m in p.messages)
    # When everything is paid, the ladder clears, but the strike suspension stays (operator_only)
    paid = c.plan(XM, "acc_1", replace(p.state, unpaid=()), D + timedelta(days=2))
    assert paid.state.step is None and paid.state.strike_blocked and paid.blocks == c.SUSPEND_BLOCKS


def test_lianyungang_strike_suspension_lifts_when_the_window_passes_and_all_is_paid() -> None:
    strikes = tuple(c.Strike(f"bil_{i}", date(2026, 1, 15)) for i in range(4))
    state = c.State(strikes=strikes, strike_blocked=True)
    assert c.next_date(LYG, state, date(2026, 6, 1)) == date(2027, 1, 15)
    still = c.plan(LYG, "acc_1", state, date(2027, 1, 14))
    assert still.state.strike_blocked
    lifted = c.plan(LYG, "acc_1", state, date(2027, 1, 15))
    assert not lifted.state.strike_blocked and lifted.blocks == () and "collection.strikes.lifted" in lifted.events


def test_write_off_takes_every_bill_old_enough_and_splits_emergency_debt() -> None:
    # Given an old bill with an emergency part and a newer bill
    old, new = _bill("bil_a", D, 10_000, 4_000), _bill("bil_b", D + timedelta(days=100), 5_000)
    state = c.State(unpaid=(old, new), step="suspend", anchor=D, applied=("suspend",))
    p = c.plan(XM, "acc_1", state, D + timedelta(days=180))
    assert p.write_offs == (c.WriteOff("bil_a", 6_000, 4_000, "ladder_exhausted"),)
    # Then the ladder restarts on what is left, anchored on the newer bill
    assert p.state.unpaid == (replace(new, overdue=True),) and p.state.anchor == D + timedelta(days=100)
    assert p.state.applied == ("sms_reminder", "restrict", "suspend") and p.state.step == "suspend"


def test_write_off_of_the_last_bill_takes_the_account_out_of_collection() -> None:
    state = c.State(unpaid=(replace(_bill(), overdue=True),), step="suspend", anchor=D, applied=("suspend",))
    p = c.plan(XM, "acc_1", state, D + timedelta(days=180))
    assert [w.bill_id for w in p.write_offs] == ["bil_a"]
    assert p.state.unpaid == () and p.state.step is None and p.next_on is None and p.blocks == ()


def test_amount_condition_holds_back_a_step() -> None:
    # Lianyungang reports only 50 yuan or more: a 40-yuan debt 90 days late stays at suspend
    state = c.State(unpaid=(_bill(fen=4_000),))
    steps = {day: p.state.step for day, p in _walk(LYG, state, D, D + timedelta(days=91))}
    assert steps[D + timedelta(days=91)] == "suspend"
    state = c.State(unpaid=(_bill(fen=5_000),))
    steps = {day: p.state.step for day, p in _walk(LYG, state, D, D + timedelta(days=91))}
    assert steps[D + timedelta(days=90)] == "report_to_credit_platform"


def test_next_date_is_the_first_date_anything_happens() -> None:
    state = c.State(unpaid=(_bill(),))
    assert c.next_date(XM, state, D - timedelta(days=10)) == D - timedelta(days=1)  # the due reminder
    p = c.plan(XM, "acc_1", state, D)
    assert p.marked_overdue == ("bil_a",) and p.next_on == D + timedelta(days=2)  # restrict's reminder
    # and every date between two events plans nothing
    state = p.state
    for day, q in _walk(XM, state, D + timedelta(days=1), D + timedelta(days=40)):
        assert q.changed == (day in {D + timedelta(days=n) for n in (2, 3, 12, 15)}), day
        if q.next_on is not None:
            assert q.next_on > day


def test_message_keys_are_stable_per_account_step_and_anchor() -> None:
    p1 = c.plan(XM, "acc_1", c.State(unpaid=(_bill(),)), D)
    p2 = c.plan(XM, "acc_1", c.State(unpaid=(_bill(),)), D)
    assert [m.key for m in p1.messages] == [m.key for m in p2.messages] == ["acc_1#step#sms_reminder#2026-03-10"]


def test_state_round_trips_through_the_account_item() -> None:
    state = c.State(
        unpaid=(_bill("bil_a", D, 100, 40), replace(_bill("bil_b", D + timedelta(days=3)), overdue=True)),
        step="restrict",
        anchor=D,
        applied=("sms_reminder", "restrict"),
        reminded=("bil_a",),
        strikes=(c.Strike("bil_a", D),),
        strike_blocked=True,
    )
    fields = c.state_fields(state)
    item = {k: v for k, v in fields.items() if v is not None}
    assert c.state_from_item(item) == state
