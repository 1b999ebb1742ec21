"""Property test: random sequences of post, cancel, refund, close, pay, an operator's write-off, advancing the clock
and sweeping the collection ladder keep every ledger invariant (write-offs and recoveries included)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from treatfirst.domain.errors import TreatFirstError
from treatfirst.domain.policy import example_policy
from treatfirst.messages.collection import WriteOffRequest
from treatfirst.messages.common import Empty
from treatfirst.messages.payments import PaymentRequest
from treatfirst.messages.visits import CancelRequest, ChargeRequest, RefundRequest
from treatfirst.services import charges, closing, collection, payments, refunds, writeoffs
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import ACCOUNTS, BILLS, CHARGES, VISITS

from tests.factories import charge, command
from tests.unit.conftest import World

OPERATOR = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
DECLARED = {"triage_level": 2, "reason_code": "I21"}  # emergency charges need a declared visit

EXPECTED_REFUSALS = {
    "CREDIT_LIMIT_EXCEEDED",
    "CHARGE_NOT_REFUNDABLE",
    "REFUND_EXCEEDS_OUTSTANDING",
    "OVERPAYMENT",
    "BILL_NOT_PAYABLE",
    "VISIT_CLOSED",
    "ACCOUNT_RESTRICTED",  # the ladder or the strike rule blocks new charges (never an emergency)
}


class LedgerMachine(RuleBasedStateMachine):
    @initialize(city=st.sampled_from(["lianyungang", "xiamen"]))
    def start(self, city: str) -> None:
        self.world = World(example_policy(city))
        self.account_id = self.world.enroll()["account_id"]
        self.visit_id = self.world.open_visit(self.account_id, emergency=DECLARED)["visit_id"]
        self.fee_lines: list[tuple[str, str]] = []
        self.bills: list[str] = []
        self.txn = 0

    def attempt(self, action: Any) -> None:
        """Run one operation; a refusal must be an expected domain error and must change nothing."""
        before = repr(self.world.store.tables)
        try:
            action()
        except TreatFirstError as refused:
            assert refused.code in EXPECTED_REFUSALS, refused.code
            assert repr(self.world.store.tables) == before

    @rule(amount=st.integers(0, 120_000), insurance=st.integers(0, 5000), emergency=st.booleans())
    def post(self, amount: int, insurance: int, emergency: bool) -> None:
        body = charge(amount, insurance_fen=insurance, emergency=emergency)
        ctx = self.world.ctx()

        def run() -> None:
            charges.post_charge(ctx, self.world.hospital, self.visit_id, command(ChargeRequest, body), None)
            self.fee_lines.append((self.visit_id, body["fee_line_id"]))

        self.attempt(run)

    @precondition(lambda self: self.fee_lines)
    @rule(pick=st.integers(0, 10**6))
    def cancel(self, pick: int) -> None:
        visit_id, fee_line = self.fee_lines[pick % len(self.fee_lines)]
        self.attempt(
            lambda: refunds.cancel_charge(
                self.world.ctx(), self.world.hospital, visit_id, fee_line, command(CancelRequest), None
            )
        )

    @precondition(lambda self: self.fee_lines)
    @rule(pick=st.integers(0, 10**6), amount=st.integers(1, 60_000))
    def refund(self, pick: int, amount: int) -> None:
        visit_id, fee_line = self.fee_lines[pick % len(self.fee_lines)]
        self.attempt(
            lambda: refunds.refund_charge(
                self.world.ctx(),
                self.world.hospital,
                visit_id,
                fee_line,
                command(RefundRequest, {"self_pay_fen": amount}),
                None,
            )
        )

    @rule()
    def close(self) -> None:
        outcome = closing.close_visit(self.world.ctx(), self.world.hospital, self.visit_id, Empty(), None)
        self.bills.append(outcome.body["bill"]["bill_id"])
        self.visit_id = self.world.open_visit(self.account_id, emergency=DECLARED)["visit_id"]

    @precondition(lambda self: self.bills)
    @rule(pick=st.integers(0, 10**6), amount=st.integers(1, 150_000))
    def pay(self, pick: int, amount: int) -> None:
        bill_id = self.bills[pick % len(self.bills)]
        self.txn += 1
        body = {
            "channel_txn_id": f"t{self.txn}",
            "amount_fen": amount,
            "paid_at": "2026-11-24T12:00:00+08:00",
            "allocations": [{"bill_id": bill_id, "amount_fen": amount}],
        }
        self.attempt(
            lambda: payments.notify_payment(self.world.ctx(), self.world.channel, command(PaymentRequest, body), None)
        )

    @precondition(lambda self: self.bills)
    @rule(pick=st.integers(0, 10**6), reason=st.sampled_from(["hardship", "deceased", "operator_decision"]))
    def write_off(self, pick: int, reason: str) -> None:
        bill_id = self.bills[pick % len(self.bills)]
        body = command(WriteOffRequest, {"reason": reason, "note": "核实"})
        self.attempt(lambda: writeoffs.write_off_bill(self.world.ctx(), OPERATOR, bill_id, body, None))

    @rule(days=st.integers(1, 120), hours=st.integers(0, 23))
    def advance_the_clock(self, days: int, hours: int) -> None:
        self.world.clock.advance(days=days, hours=hours)

    @rule()
    def sweep(self) -> None:
        collection.sweep(self.world.ctx())
        # a rerun right away changes nothing
        before = repr(self.world.store.tables)
        assert collection.sweep(self.world.ctx()).read == 0
        assert repr(self.world.store.tables) == before

    @invariant()
    def balances_match_the_ledger_and_the_documents(self) -> None:
        if not hasattr(self, "world"):
            return
        self.world.assert_sound(self.account_id)
        line = self.world.line(self.account_id)
        tables = self.world.store.tables
        open_visits = [v for v in tables[VISITS].values() if v["status"] == "open"]
        stored = self.world.store.get(ACCOUNTS, {"account_id": self.account_id})
        assert stored is not None and stored["open_visits"] == len(open_visits)
        assert line["held_fen"] == sum(v["held_fen"] for v in open_visits)
        assert line["emergency_held_fen"] == sum(v["emergency_held_fen"] for v in open_visits)
        bills = list(tables[BILLS].values())
        assert line["owed_fen"] == sum(b["credit_outstanding_fen"] for b in bills)
        assert line["emergency_owed_fen"] == sum(b["emergency_outstanding_fen"] for b in bills)
        for bill in bills:
            assert bill["outstanding_fen"] == bill["credit_outstanding_fen"] + bill["emergency_outstanding_fen"]
            written_off = bill.get("written_off_fen", 0)
            assert bill["amount_fen"] + bill["emergency_amount_fen"] == (
                bill["outstanding_fen"] + bill["paid_fen"] + bill["refunded_fen"] + written_off
            )
            assert (bill["status"] in ("paid", "written_off")) == (bill["outstanding_fen"] == 0)
            assert ("due_shard" in bill) == (bill["status"] in ("issued", "overdue"))
            assert 0 <= bill.get("recovered_fen", 0) <= written_off
        # the account's unpaid map is exactly the bills still owed (what the ladder anchors on)
        unpaid = {b["bill_id"]: b for b in bills if b["outstanding_fen"] > 0}
        assert set(stored["unpaid"]) == set(unpaid)
        for bill_id, entry in stored["unpaid"].items():
            assert entry["fen"] == unpaid[bill_id]["outstanding_fen"]
            assert entry["efen"] == unpaid[bill_id]["emergency_outstanding_fen"]
        # nothing owed and no strike rule in force: nothing is blocked
        if not unpaid and not stored.get("strike_blocked"):
            assert not stored.get("blocks") and not stored.get("step")
        for charge_item in tables[CHARGES].values():
            for part in ("insurance_fen", "personal_account_fen", "self_pay_fen"):
                assert 0 <= charge_item[f"refunded_{part}"] <= charge_item[part]


LedgerMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLedgerProperties = LedgerMachine.TestCase
