"""Reconciliation against the ledger's business days (services.reconciliation), over the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treatfirst.domain.errors import (
    BusinessDateOpen,
    Forbidden,
    IdempotencyKeyReused,
    StatementConflict,
    StatementMalformed,
    SuspenseAlreadyResolved,
)
from treatfirst.domain.policy import example_policy
from treatfirst.messages import reconciliation as msg
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest, RefundRequest, VisitRequest
from treatfirst.services import charges, closing, reconciliation, refunds, visits
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.paging import PageQuery
from treatfirst.services.ports import AUDIT, EVENTS, RECONCILIATION, Write

from tests.factories import charge, command
from tests.unit.conftest import World

DAY = "2026-11-24"  # the World's clock starts at 09:00 local on this business date
OPERATOR = Caller("key_op", "operator", "ops-1", SCOPES["operator"])


def next_day(world: World) -> None:
    """Past the city's cut-off: the business date DAY is closed."""
    world.clock.current = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def post(world: World, visit_id: str, self_pay: int, caller: Caller | None = None) -> dict[str, Any]:
    body = charge(self_pay)
    charges.post_charge(world.ctx(), caller or world.hospital, visit_id, command(ChargeRequest, body), None)
    return body


def refund(world: World, visit_id: str, fee_line_id: str, amount: int) -> str:
    done = refunds.refund_charge(
        world.ctx(), world.hospital, visit_id, fee_line_id, command(RefundRequest, {"self_pay_fen": amount}), None
    )
    return str(done.body["refunds"][-1]["refund_id"])


def hospital_day(world: World, amounts: list[int]) -> tuple[str, list[tuple[str, str, int]]]:
    """Charges of the given self-pay amounts at hospital-a, one refunded in part; the lines the HIS would hold."""
    account_id = world.enroll()["account_id"]
    visit_id = world.open_visit(account_id)["visit_id"]
    lines = []
    for amount in amounts:
        fee_line = post(world, visit_id, amount)["fee_line_id"]
        lines.append(("self_pay_posted", f"{visit_id}/{fee_line}", amount))
    if amounts and amounts[0] > 1:
        refund_id = refund(world, visit_id, lines[0][1].split("/")[1], 1)
        lines.append(("self_pay_refunded", refund_id, 1))
    return visit_id, lines


def lines_request(lines: list[tuple[str, str, int]]) -> msg.LinesRequest:
    body = {"business_date": DAY, "lines": [{"kind": k, "ref": r, "amount_fen": a} for k, r, a in lines]}
    return command(msg.LinesRequest, body)


def totals_request(posted: tuple[int, int], refunded: tuple[int, int]) -> msg.TotalsRequest:
    totals = [
        {"kind": "self_pay_posted", "count": posted[0], "amount_fen": posted[1]},
        {"kind": "self_pay_refunded", "count": refunded[0], "amount_fen": refunded[1]},
    ]
    return command(msg.TotalsRequest, {"business_date": DAY, "totals": totals})


# ---- hospitals ------------------------------------------------------------------------------------------------


def test_totals_balanced_and_the_differences_by_kind(world: World):
    # Given a day of three charges and one partial refund at hospital-a
    hospital_day(world, [1000, 2000, 500])
    next_day(world)
    # When the hospital sends the right totals
    right = reconciliation.reconcile_totals(world.ctx(), world.hospital, totals_request((3, 3500), (1, 1)), None)
    # Then the day is balanced
    assert right.body["result"] == "balanced"
    assert [k["status"] for k in right.body["kinds"]] == ["balanced", "balanced"]
    # When it sends a posted total 100 fen short and no refunds
    wrong = reconciliation.reconcile_totals(world.ctx(), world.hospital, totals_request((3, 3400), (0, 0)), None)
    # Then each kind shows both sides and the difference (counterparty - platform)
    assert wrong.body["result"] == "unbalanced"
    assert [(k["kind"], k["status"], k["difference_fen"]) for k in wrong.body["kinds"]] == [
        ("self_pay_posted", "different", -100),
        ("self_pay_refunded", "different", -1),
    ]
    assert wrong.body["kinds"][0]["platform_amount_fen"] == 3500


def test_a_day_not_closed_yet_is_refused_and_writes_nothing(world: World):
    # Given charges today, before the cut-off
    hospital_day(world, [1000])
    commits = world.store.commits
    # When the hospital reconciles today / Then BUSINESS_DATE_OPEN, and nothing is written
    with pytest.raises(BusinessDateOpen):
        reconciliation.reconcile_totals(world.ctx(), world.hospital, totals_request((1, 1000), (0, 0)), None)
    assert world.store.commits == commits


def test_a_hospital_reconciles_only_its_own_entries(world: World):
    # Given hospital-a's day and one charge of hospital-b on the same day
    _, lines = hospital_day(world, [1000])
    account_id = world.enroll()["account_id"]
    opened = visits.open_visit(
        world.ctx(), world.other_hospital, command(VisitRequest, {"account_id": account_id}), None
    )
    other_visit = str(opened.body["visit_id"])
    other_line = post(world, other_visit, 700, world.other_hospital)
    next_day(world)
    # When hospital-a sends its lines, and hospital-b its one line
    mine = reconciliation.reconcile_lines(world.ctx(), world.hospital, lines_request(lines), None)
    theirs = reconciliation.reconcile_lines(
        world.ctx(),
        world.other_hospital,
        lines_request([("self_pay_posted", f"{other_visit}/{other_line['fee_line_id']}", 700)]),
        None,
    )
    # Then each matches exactly its own lines; neither sees the other's as "only at the platform"
    assert mine.body["result"] == theirs.body["result"] == "balanced"
    assert mine.body["counts"]["matched"] == len(lines) and theirs.body["counts"]["matched"] == 1
    assert other_visit not in str(mine.body) and lines[0][1] not in str(theirs.body)


def test_a_channel_or_an_operator_key_cannot_reconcile_a_hospital_day(world: World):
    next_day(world)
    for caller in (world.channel, OPERATOR):
        with pytest.raises(Forbidden):
            reconciliation.reconcile_totals(world.ctx(), caller, totals_request((0, 0), (0, 0)), None)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amounts=st.lists(st.integers(min_value=2, max_value=50_000), min_size=1, max_size=8),
    actions=st.lists(st.sampled_from(("keep", "drop", "change")), min_size=10, max_size=10),
    extra=st.integers(min_value=0, max_value=2),
)
def test_detail_lines_find_exactly_the_injected_breaks(amounts: list[int], actions: list[str], extra: int):
    # Given a real day at the platform (charges and a refund through the services) and the HIS's copy of it with
    # lines dropped, amounts changed and lines the platform never saw
    world = World(example_policy("lianyungang"))
    _, lines = hospital_day(world, amounts)
    next_day(world)
    copy, injected = [], {}
    for (kind, ref, amount), action in zip(lines, actions, strict=False):
        if action == "drop":
            injected[(kind, ref)] = ("platform_only", -amount)
        elif action == "change":
            copy.append((kind, ref, amount + 7))
            injected[(kind, ref)] = ("amount_mismatch", 7)
        else:
            copy.append((kind, ref, amount))
    for i in range(extra):
        copy.append(("self_pay_posted", f"vis_NOTATTHEPLATFORM/{i}", 100))
        injected[("self_pay_posted", f"vis_NOTATTHEPLATFORM/{i}")] = ("counterparty_only", 100)
    # When the hospital uploads its lines
    answer = reconciliation.reconcile_lines(world.ctx(), world.hospital, lines_request(copy), None).body
    # Then the breaks are exactly the injected ones, with their differences, and every other line matched
    found = {
        (r["kind"], r["ref"]): (r["result"], r["difference_fen"]) for r in answer["lines"] if r["result"] != "matched"
    }
    assert found == injected
    assert answer["counts"]["matched"] == len(lines) - sum(1 for k in injected if not k[1].startswith("vis_NOT"))
    assert answer["result"] == ("unbalanced" if injected else "balanced")


def test_the_same_request_gets_the_same_answer_and_one_event(world: World):
    # Given a closed day
    _, lines = hospital_day(world, [1000, 300])
    next_day(world)
    # When the hospital sends its lines twice with one Idempotency-Key, then once more with another body
    first = reconciliation.reconcile_lines(world.ctx(), world.hospital, lines_request(lines), "k1")
    again = reconciliation.reconcile_lines(world.ctx(), world.hospital, lines_request(lines), "k1")
    # Then the retry is the same answer, replayed, and the result was recorded and announced once
    assert again.body == first.body and again.replayed and not first.replayed
    events = [e for e in world.store.tables[EVENTS].values() if e["kind"] == "reconciliation.result"]
    assert len(events) == 1
    assert events[0]["audience"] == "hospital:hospital-a"
    # And the same key with another body is refused
    with pytest.raises(IdempotencyKeyReused):
        reconciliation.reconcile_lines(world.ctx(), world.hospital, lines_request(lines[:1]), "k1")


# ---- channels and the suspense list ----------------------------------------------------------------------------


def closed_bills(world: World, amounts: list[int]) -> list[str]:
    """One closed visit (one bill) per amount."""
    bills = []
    account_id = world.enroll()["account_id"]
    for amount in amounts:
        visit_id = world.open_visit(account_id)["visit_id"]
        post(world, visit_id, amount)
        bill = closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]
        bills.append(str(bill["bill_id"]))
    return bills


def generic(*rows: tuple[str, str, str, int]) -> str:
    body = "".join(f"{kind},{txn},{refund_id},{amount},\r\n" for kind, txn, refund_id, amount in rows)
    return "\ufeffkind,channel_txn_id,refund_id,amount_fen,occurred_at\r\n" + body


def upload(world: World, day: str, content: str, key: str | None = None, fmt: str = "generic_csv") -> dict[str, Any]:
    request = command(msg.StatementRequest, {"business_date": day, "format": fmt, "content": content})
    return reconciliation.reconcile_statement(world.ctx(), world.channel, request, key).body


def by_ref(answer: dict[str, Any]) -> dict[str, tuple[str, int, str]]:
    return {b["ref"]: (b["result"], b["difference_fen"], b["suspense_status"]) for b in answer["breaks"]}


def test_statement_breaks_go_to_suspense_with_an_owner_and_an_age(world: World):
    # Given three payments through the channel on DAY
    b1, b2, b3 = closed_bills(world, [1000, 2000, 3000])
    world.pay("T1", (b1, 1000))
    world.pay("T2", (b2, 2000))
    world.pay("T3", (b3, 3000))
    next_day(world)
    # When the channel's statement lists T1 right, T2 short by 1 fen, omits T3, and lists T9 and a refund
    answer = upload(
        world,
        DAY,
        generic(
            ("payment", "T1", "", 1000),
            ("payment", "T2", "", 1999),
            ("payment", "T9", "", 500),
            ("refund", "T1", "R1", 10),
        ),
    )
    # Then the day is unbalanced with exactly these breaks, each in the suspense list
    assert answer["result"] == "unbalanced"
    assert answer["counts"] == {"matched": 1, "breaks": 4, "settled_from_suspense": 0, "open_suspense": 4}
    assert by_ref(answer) == {
        "T2": ("amount_mismatch", -1, "open"),
        "T9": ("counterparty_only", 500, "open"),
        "R1": ("counterparty_only", 10, "open"),
        "T3": ("platform_only", -3000, "open"),
    }
    # And the operators' list holds them, oldest first, with the party that must act and their age in days
    world.clock.current = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    listed = reconciliation.list_open_suspense(world.ctx(), OPERATOR, PageQuery(limit=10))
    owners = {i["ref"]: (i["owner"], i["age_days"]) for i in listed["items"]}
    assert owners == {
        "T2": ("channel:wechat-pay", 3),
        "T9": ("operator", 3),
        "R1": ("operator", 3),
        "T3": ("channel:wechat-pay", 3),
    }


def test_the_next_days_file_settles_what_waited_in_suspense(world: World):
    # Given DAY: T1 paid but not in the channel's file; T2 in the file but notified to the platform only after
    # the cut-off (so it is in the next business date)
    b1, b2 = closed_bills(world, [1000, 2000])
    world.pay("T1", (b1, 1000))
    next_day(world)
    first = upload(world, DAY, generic(("payment", "T2", "", 2000)))
    assert by_ref(first) == {"T2": ("counterparty_only", 2000, "open"), "T1": ("platform_only", -1000, "open")}
    world.pay("T2", (b2, 2000))  # on 2026-11-25
    # When the next day's file lists T1 (a day late) and not T2 (already listed)
    world.clock.current = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    second = upload(world, "2026-11-25", generic(("payment", "T1", "", 1000)))
    # Then both breaks settle against their suspense items, the day is balanced, nothing is left open
    assert by_ref(second) == {"T1": ("matched", 0, "matched"), "T2": ("matched", 0, "matched")}
    assert second["result"] == "balanced"
    assert second["counts"]["settled_from_suspense"] == 2
    assert reconciliation.list_open_suspense(world.ctx(), OPERATOR, PageQuery())["items"] == []


def test_a_statement_is_taken_once_per_channel_and_date(world: World):
    # Given a reconciled statement
    (b1,) = closed_bills(world, [1000])
    world.pay("T1", (b1, 1000))
    next_day(world)
    first = upload(world, DAY, generic(("payment", "T1", "", 900)))
    commits = world.store.commits
    # When the same file comes again (no key) / Then the first result, and nothing written
    assert upload(world, DAY, generic(("payment", "T1", "", 900))) == first
    assert world.store.commits == commits
    # When another file for that date comes / Then STATEMENT_CONFLICT
    with pytest.raises(StatementConflict):
        upload(world, DAY, generic(("payment", "T1", "", 1000)))
    # When a malformed file comes for another date / Then STATEMENT_MALFORMED and nothing written
    with pytest.raises(StatementMalformed):
        upload(world, "2026-11-23", "kind,amount\n")
    assert world.store.commits == commits


def test_an_operator_resolves_a_break_with_a_reason_once(world: World):
    # Given an open suspense item
    (b1,) = closed_bills(world, [1000])
    world.pay("T1", (b1, 1000))
    next_day(world)
    item_id = upload(world, DAY, generic())["breaks"][0]["suspense_id"]
    # When an operator resolves it with a reason
    done = reconciliation.resolve_suspense(
        world.ctx(), OPERATOR, item_id, command(msg.Resolution, {"reason": "channel confirmed T1 on 11-25"}), None
    )
    # Then it is resolved, audited with the reason, and off the open list; a second resolution is refused
    assert (done.body["status"], done.body["resolved_by"]) == ("resolved", "operator:ops-1")
    audits = world.store.query(AUDIT, f"suspense#{item_id}").items
    assert [(a["action"], a["details"]["reason"]) for a in audits] == [
        ("suspense.resolved", "channel confirmed T1 on 11-25")
    ]
    assert reconciliation.list_open_suspense(world.ctx(), OPERATOR, PageQuery())["items"] == []
    with pytest.raises(SuspenseAlreadyResolved):
        reconciliation.resolve_suspense(world.ctx(), OPERATOR, item_id, command(msg.Resolution, {"reason": "x"}), None)


class FailingStore:
    """The in-memory store, failing its k-th commit (a crash between two transactions)."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        self.inner, self.fail_at, self.seen = inner, fail_at, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self, writes: list[Write]) -> None:
        self.seen += 1
        if self.seen == self.fail_at:
            raise RuntimeError("crash")
        self.inner.commit(writes)


def test_a_statement_interrupted_between_transactions_and_rerun_equals_one_clean_run(world: World):
    # Given a statement whose breaks take several transactions (more than one chunk of suspense writes)
    bills = closed_bills(world, [100 + i for i in range(3)])
    for i, bill in enumerate(bills):
        world.pay(f"T{i}", (bill, 100 + i))
    next_day(world)
    content = generic(*[("payment", f"X{i}", "", 5) for i in range(reconciliation.CHUNK + 5)])
    clean = World(world.policy)
    clean.store.tables = {name: dict(rows) for name, rows in world.store.tables.items()}
    clean.clock = world.clock
    expected = upload(clean, DAY, content)
    for fail_at in (1, 2, 3):
        # When the run crashes at its k-th transaction and runs again
        crashed = World(world.policy)
        crashed.store.tables = {name: dict(rows) for name, rows in world.store.tables.items()}
        crashed.clock = world.clock
        real = crashed.store
        crashed.store = FailingStore(real, fail_at)  # type: ignore[assignment]
        with pytest.raises(RuntimeError):
            upload(crashed, DAY, content)
        crashed.store = real
        rerun = upload(crashed, DAY, content)
        # Then the answer and the suspense list equal one clean run's
        assert {k: v for k, v in rerun.items() if k != "received_at"} == {
            k: v for k, v in expected.items() if k != "received_at"
        }
        suspense = {k: v for k, v in real.tables[RECONCILIATION].items() if str(k[0]).startswith("sus_")}
        clean_suspense = {k: v for k, v in clean.store.tables[RECONCILIATION].items() if str(k[0]).startswith("sus_")}
        assert {k: (v["status"], v.get("counterparty_fen"), v.get("platform_fen")) for k, v in suspense.items()} == {
            k: (v["status"], v.get("counterparty_fen"), v.get("platform_fen")) for k, v in clean_suspense.items()
        }
