"""On DynamoDB Local: a payment racing the sweep's step for the same account ends consistent in both orders — no
suspension of a fully paid account, no lost payment, no duplicate message."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from treatfirst.domain.clock import FixedClock
from treatfirst.messages.common import Empty
from treatfirst.messages.payments import PaymentRequest
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import charges, closing, collection, payments
from treatfirst.services.ports import ACCOUNTS, BILLS, OUTBOX, PAYMENTS, Update, Write
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, command
from tests.integration.conftest import Platform, line_of


class Interleaving:
    """The real store, with one hook run just before the first commit that writes the account (after the reads
    that commit was planned from)."""

    def __init__(self, inner: Any, account_id: str, hook: Callable[[], None]) -> None:
        self.inner, self.account_id, self.hook = inner, account_id, hook

    def get(self, *a: Any, **k: Any) -> Any:
        return self.inner.get(*a, **k)

    def query(self, *a: Any, **k: Any) -> Any:
        return self.inner.query(*a, **k)

    def commit(self, writes: Sequence[Write]) -> None:
        if any(
            isinstance(w, Update) and w.table == ACCOUNTS and w.key.get("account_id") == self.account_id for w in writes
        ):
            hook, self.hook = self.hook, lambda: None
            hook()
        self.inner.commit(writes)


def _owing_account(platform: Platform) -> tuple[str, str, int]:
    account_id, visit_id, _ = platform.enrolled_visit()
    charges.post_charge(platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, charge(700)), None)
    bill = closing.close_visit(platform.ctx(), platform.hospital, visit_id, Empty(), None).body["bill"]
    return account_id, bill["bill_id"], bill["outstanding_fen"]


def _sweep_ctx(platform: Platform, store: Any) -> Context:
    """40 days later: the Lianyungang ladder's suspend step (30 days) is due."""
    later = FixedClock(datetime.now(UTC) + timedelta(days=40))
    return Context(store=store, cipher=platform.cipher, clock=later, policy=platform.policy)


def _pay(platform: Platform, store: Any, bill_id: str, amount: int) -> None:
    body = {
        "channel_txn_id": "race-1",
        "amount_fen": amount,
        "paid_at": datetime.now(UTC).isoformat(),
        "allocations": [{"bill_id": bill_id, "amount_fen": amount}],
    }
    ctx = Context(store=store, cipher=platform.cipher, clock=platform.ctx().clock, policy=platform.policy)
    payments.notify_payment(ctx, platform.channel, command(PaymentRequest, body), None)


def _messages(platform: Platform, account_id: str) -> list[dict[str, Any]]:
    import boto3

    table = boto3.resource("dynamodb").Table(f"{platform.prefix}{OUTBOX}")
    return [i for i in table.scan()["Items"] if i["account_id"] == account_id]


def _assert_paid_and_free(platform: Platform, account_id: str, bill_id: str) -> None:
    account = platform.store.get(ACCOUNTS, {"account_id": account_id})
    assert account is not None
    assert account["unpaid"] == {} and "blocks" not in account and "step" not in account
    bill = platform.store.get(BILLS, {"bill_id": bill_id})
    assert bill is not None and bill["status"] == "paid"
    assert platform.store.get(PAYMENTS, {"payment_key": "wechat-pay#race-1"}) is not None
    line = line_of(platform, account_id)
    assert line["owed_fen"] == 0 and line["available_fen"] == line["limit_fen"]
    keys = [m["dedupe_key"] for m in _messages(platform, account_id)]
    assert len(keys) == len(set(keys))


def test_payment_lands_between_the_sweeps_read_and_its_write(platform: Platform) -> None:
    # Given an account 40 days overdue whose sweep has read it from the index
    account_id, bill_id, amount = _owing_account(platform)
    racing = Interleaving(platform.store, account_id, lambda: _pay(platform, platform.store, bill_id, amount))
    # When the payment of everything commits before the sweep's step
    result = collection.sweep(_sweep_ctx(platform, racing))
    # Then the step's guard refused the stale plan, the account was planned again: nothing to do
    assert result.reread == 1 and result.failed == 0
    _assert_paid_and_free(platform, account_id, bill_id)
    assert not [m for m in _messages(platform, account_id) if m["kind"] in ("step", "phone_task")]


def test_sweep_lands_between_the_payments_read_and_its_write(platform: Platform) -> None:
    # Given an account 40 days overdue and a payment of everything that has read the bill and the account
    account_id, bill_id, amount = _owing_account(platform)
    swept: list[collection.SweepResult] = []
    racing = Interleaving(
        platform.store, account_id, lambda: swept.append(collection.sweep(_sweep_ctx(platform, platform.store)))
    )
    # When the sweep suspends the account before the payment commits
    _pay(platform, racing, bill_id, amount)
    # Then the sweep did act, and the payment (read again) still went through and lifted the suspension itself
    assert swept[0].acted == 1
    _assert_paid_and_free(platform, account_id, bill_id)
    kinds = sorted(m["kind"] for m in _messages(platform, account_id))
    assert kinds.count("cleared") == 1 and kinds.count("step") == 1  # the suspension notice, once; then cleared
