"""Reconciliation matching (domain.reconciliation): injected breaks are found, exactly, and nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from treatfirst.domain.reconciliation import (
    AMOUNT_MISMATCH,
    COUNTERPARTY_ONLY,
    HOSPITAL_KIND_NAMES,
    MATCHED,
    PLATFORM_ONLY,
    Balance,
    Line,
    Totals,
    compare_totals,
    match,
    totals,
)

KINDS = HOSPITAL_KIND_NAMES


@st.composite
def day_with_breaks(draw: st.DrawFn) -> tuple[list[Line], list[Line], dict[tuple[str, str], str]]:
    """A platform day, the counterparty's copy of it, and the breaks injected into the copy (key -> result)."""
    refs = draw(st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=25, unique=True))
    platform = [
        Line(draw(st.sampled_from(KINDS)), ref, draw(st.integers(min_value=1, max_value=10**9))) for ref in refs
    ]
    copy: list[Line] = []
    injected: dict[tuple[str, str], str] = {}
    for line in platform:
        action = draw(st.sampled_from(("keep", "keep", "drop", "change")))
        if action == "keep":
            copy.append(line)
        elif action == "drop":  # missing at the counterparty
            injected[(line.kind, line.ref)] = PLATFORM_ONLY
        else:
            delta = draw(st.integers(min_value=-line.amount_fen + 1, max_value=10**6).filter(lambda d: d != 0))
            copy.append(Line(line.kind, line.ref, line.amount_fen + delta))
            injected[(line.kind, line.ref)] = AMOUNT_MISMATCH
    extra = draw(st.lists(st.from_regex(r"X[a-z0-9]{1,8}", fullmatch=True), max_size=5, unique=True))
    for ref in extra:  # missing at the platform
        line = Line(draw(st.sampled_from(KINDS)), ref, draw(st.integers(min_value=1, max_value=10**9)))
        copy.insert(draw(st.integers(min_value=0, max_value=len(copy))), line)
        injected[(line.kind, line.ref)] = COUNTERPARTY_ONLY
    return platform, copy, injected


@settings(max_examples=50, deadline=None)
@given(day_with_breaks())
def test_matching_finds_exactly_the_injected_breaks(day: tuple[list[Line], list[Line], dict[tuple[str, str], str]]):
    # Given a platform day and a counterparty copy with lines dropped, added and changed
    platform, counterparty, injected = day
    # When the two are matched line by line
    verdicts = match(platform, counterparty)
    # Then the breaks are exactly the injected ones, each with its result, and every other line matched
    found = {(v.kind, v.ref): v.result for v in verdicts if v.result != MATCHED}
    assert found == injected
    assert len(verdicts) == len({(line.kind, line.ref) for line in [*platform, *counterparty]})
    by_key = {(line.kind, line.ref): line.amount_fen for line in platform}
    for v in verdicts:
        if v.result == AMOUNT_MISMATCH:
            assert v.difference_fen == v.counterparty_amount_fen - by_key[(v.kind, v.ref)] != 0  # type: ignore[operator]
    # And the totals by kind differ exactly by what the breaks add up to
    compared = compare_totals(KINDS, totals(platform), totals(counterparty))
    for c in compared:
        breaks = [v for v in verdicts if v.kind == c.kind and v.result != MATCHED]
        assert c.difference_fen == sum(v.difference_fen for v in breaks)
        if not breaks:
            assert c.balanced


def test_verdicts_come_in_the_counterpartys_order_then_the_platforms():
    # Given lines on both sides
    platform = [Line("self_pay_posted", "v/1", 100), Line("self_pay_posted", "v/2", 200)]
    counterparty = [Line("self_pay_refunded", "rfd_1", 50), Line("self_pay_posted", "v/2", 250)]
    # When matched
    verdicts = match(platform, counterparty)
    # Then the counterparty's lines come first, in its order, then what only the platform has
    assert [(v.ref, v.result, v.difference_fen) for v in verdicts] == [
        ("rfd_1", COUNTERPARTY_ONLY, 50),
        ("v/2", AMOUNT_MISMATCH, 50),  # 长款: the counterparty's amount is higher
        ("v/1", PLATFORM_ONLY, -100),
    ]


def test_totals_count_distinct_references_and_absent_kinds_as_zero():
    # Given two refunds of one reference and nothing of the other kind
    lines = [Line("self_pay_refunded", "rfd_1", 30), Line("self_pay_refunded", "rfd_1", 20)]
    # When totalled and compared with an empty side
    compared = compare_totals(KINDS, totals(lines), {})
    # Then each kind is listed, counted by reference, with the difference counterparty - platform
    assert [(c.kind, c.platform, c.counterparty, c.balanced) for c in compared] == [
        ("self_pay_posted", Totals(0, 0), Totals(0, 0), True),
        ("self_pay_refunded", Totals(1, 50), Totals(0, 0), False),
    ]
    assert compared[1].difference_fen == -50


def test_a_suspense_balance_settles_when_the_late_side_arrives():
    # Given money listed by the channel on day 1 that the platform had no record of
    balance = Balance(None, 1200)
    assert balance.verdict(("payment", "t1")).result == COUNTERPARTY_ONLY and not balance.settled
    # When the platform's entry arrives on day 2 (committed after the cut-off)
    later = balance.plus(1200, None)
    # Then the reference is settled; a partial arrival would not have been
    assert later.settled and later.verdict(("payment", "t1")).result == MATCHED
    assert not balance.plus(1000, None).settled
