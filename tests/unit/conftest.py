"""Unit tier: services over the in-memory store, a fixed clock and a local cipher. No network, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.memory import MemoryStore
from treatfirst.domain import ledger
from treatfirst.domain.clock import FixedClock
from treatfirst.domain.policy import Policy, example_policy
from treatfirst.messages.accounts import EnrollmentRequest
from treatfirst.messages.payments import PaymentRequest
from treatfirst.messages.visits import VisitRequest
from treatfirst.services import enrollment as enrollment_service
from treatfirst.services import payments, visits
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import ACCOUNTS, LEDGER
from treatfirst.services.unit_of_work import Context

from tests.factories import command, enrollment


class World:
    """Everything a unit test needs, with helpers that act as the HIS and the payment channel would."""

    def __init__(self, policy: Policy) -> None:
        self.store = MemoryStore()
        self.clock = FixedClock(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
        self.cipher = LocalCipher(b"k" * 32)
        self.policy = policy
        self.hospital = Caller("key_h", "hospital", "hospital-a", SCOPES["hospital"])
        self.other_hospital = Caller("key_o", "hospital", "hospital-b", SCOPES["hospital"])
        self.channel = Caller("key_c", "channel", "wechat-pay", SCOPES["channel"])

    def ctx(self) -> Context:
        return Context(store=self.store, cipher=self.cipher, clock=self.clock, policy=self.policy, sleep=lambda _: None)

    def enroll(self, **overrides: Any) -> dict[str, Any]:
        return enrollment_service.enroll(
            self.ctx(), self.channel, command(EnrollmentRequest, enrollment(self.policy, **overrides)), None
        ).body

    def open_visit(self, account_id: str, **extra: Any) -> dict[str, Any]:
        return visits.open_visit(
            self.ctx(), self.hospital, command(VisitRequest, {"account_id": account_id, **extra}), None
        ).body

    def pay(self, txn: str, *allocations: tuple[str, int], paid_at: str = "2026-11-24T12:00:00+08:00") -> Any:
        """The channel pays one or more bills: (bill_id, amount_fen) pairs."""
        body = {
            "channel_txn_id": txn,
            "amount_fen": sum(a for _, a in allocations),
            "paid_at": paid_at,
            "allocations": [{"bill_id": b, "amount_fen": a} for b, a in allocations],
        }
        return payments.notify_payment(self.ctx(), self.channel, command(PaymentRequest, body), None)

    def line(self, account_id: str) -> dict[str, int]:
        item = self.store.get(ACCOUNTS, {"account_id": account_id})
        assert item is not None
        return {k: item[k] for k in ("limit_fen", *ledger.BUCKETS)}

    def recomputed(self, account_id: str) -> dict[str, int]:
        return ledger.recompute(self.store.query(LEDGER, account_id, limit=10_000).items)

    def assert_sound(self, account_id: str) -> None:
        line = self.line(account_id)
        assert ledger.invariant_violations(line) == []
        assert self.recomputed(account_id) == line


@pytest.fixture
def world() -> World:
    return World(example_policy("lianyungang"))


@pytest.fixture
def xiamen() -> World:
    return World(example_policy("xiamen"))
