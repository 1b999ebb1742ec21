"""Payments (还款) from channels, idempotent by the channel's transaction id; bills (账单) to read."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.errors import (
    AccountNotFound,
    BillNotFound,
    BillNotPayable,
    ConcurrentUpdate,
    Forbidden,
    Overpayment,
    TransactionIdConflict,
    TreatFirstError,
    ValidationFailed,
)
from treatfirst.domain.ids import new_id
from treatfirst.domain.inputs import Body
from treatfirst.services.context import Caller, Context, Idempotency, NaturalKeyTaken, Outcome, request_hash, run_once
from treatfirst.services.paging import page_params, page_view
from treatfirst.services.ports import ACCOUNTS, BILLS, PAYMENTS, Item, Put, Update, Write
from treatfirst.services.views import bill_view, payment_view

PAYABLE = ("issued", "overdue")
MAX_BILLS_PER_PAYMENT = 20


def notify_payment(ctx: Context, caller: Caller, body: Any, idempotency_key: str | None) -> Outcome:
    """Apply a channel's payment to one or more bills (full or partial, any payer); credit is restored."""
    caller.require("payments:write")
    b = Body(body)
    txn = b.token("channel_txn_id")
    amount = b.amount("amount_fen", allow_zero=False)
    paid_at = b.moment("paid_at")
    payer_body = b.obj("payer", required=False)
    payer = {"kind": "self"}
    if payer_body is not None:
        payer = {"kind": payer_body.choice("kind", ("self", "family", "proxy"))}
        payer_body.done()
    allocations = []
    for a in b.objs("allocations", max_items=MAX_BILLS_PER_PAYMENT):
        allocations.append({"bill_id": a.token("bill_id"), "amount_fen": a.amount("amount_fen", allow_zero=False)})
        a.done()
    b.done()
    assert paid_at is not None
    if len({a["bill_id"] for a in allocations}) != len(allocations):
        raise ValidationFailed("each bill may appear once in allocations", field="allocations")
    if sum(a["amount_fen"] for a in allocations) != amount:
        raise ValidationFailed("allocations must add up to amount_fen", field="allocations")
    fingerprint = request_hash(body)
    payment_key = {"payment_key": f"{caller.principal_id}#{txn}"}
    idem = Idempotency(ctx, caller, idempotency_key, "payment", body)

    def build() -> tuple[list[Write], Outcome]:
        payment = {
            **payment_key,
            "payment_id": new_id("pay"),
            "channel_id": caller.principal_id,
            "channel_txn_id": txn,
            "amount_fen": amount,
            "paid_at": paid_at.isoformat(),
            "received_at": ctx.now_text(),
            "payer": payer,
            "allocations": allocations,
            "request_hash": fingerprint,
        }
        writes: list[Write] = [Put(PAYMENTS, payment, fail=NaturalKeyTaken)]
        per_account: dict[str, list[dict[str, int]]] = {}
        for i, alloc in enumerate(allocations):
            field = f"allocations[{i}]"
            bill = ctx.store.get(BILLS, {"bill_id": alloc["bill_id"]}) if alloc["bill_id"].startswith("bil_") else None
            if bill is None:
                raise BillNotFound(field=f"{field}.bill_id")
            if bill["status"] not in PAYABLE:
                raise BillNotPayable(f"bill {bill['bill_id']} is {bill['status']}", field=f"{field}.bill_id")
            if alloc["amount_fen"] > bill["outstanding_fen"]:
                raise Overpayment(
                    f"{field}.amount_fen {alloc['amount_fen']} is more than the outstanding {bill['outstanding_fen']}",
                    field=f"{field}.amount_fen",
                    outstanding_fen=bill["outstanding_fen"],
                )
            credit = min(alloc["amount_fen"], bill["credit_outstanding_fen"])
            emergency = alloc["amount_fen"] - credit
            settled = alloc["amount_fen"] == bill["outstanding_fen"]
            writes.append(
                Update(
                    BILLS,
                    {"bill_id": bill["bill_id"]},
                    add={
                        k: v
                        for k, v in (
                            ("paid_fen", alloc["amount_fen"]),
                            ("outstanding_fen", -alloc["amount_fen"]),
                            ("credit_outstanding_fen", -credit),
                            ("emergency_outstanding_fen", -emergency),
                        )
                        if v
                    },
                    set={"status": "paid", "paid_at": ctx.now_text()} if settled else {},
                    remove=("due_shard",) if settled else (),
                    expect={"outstanding_fen": bill["outstanding_fen"], "status": bill["status"]},
                    fail=ConcurrentUpdate,
                )
            )
            moves = [(k, a) for k, a in (("payment", credit), ("emergency_payment", emergency)) if a]
            per_account.setdefault(bill["account_id"], []).extend(ledger.delta(k, a) for k, a in moves)
            writes += [
                ctx.entry(bill["account_id"], k, a, "payment", payment["payment_id"], caller.actor) for k, a in moves
            ]
        for account_id, deltas in per_account.items():
            writes.append(
                Update(
                    ACCOUNTS,
                    {"account_id": account_id},
                    add=ledger.combine(*deltas),
                    fail=functools.partial(_account_failure, ctx, account_id),
                )
            )
        writes.append(
            ctx.audit(
                caller,
                f"payment#{payment['payment_id']}",
                "payment.received",
                amount_fen=amount,
                channel_txn_id=txn,
                bills=[a["bill_id"] for a in allocations],
                payer=payer["kind"],
            )
        )
        return writes, Outcome(201, payment_view(payment))

    return run_once(
        ctx,
        idem,
        build,
        table=PAYMENTS,
        key=payment_key,
        fingerprint=fingerprint,
        conflict=lambda: TransactionIdConflict(field="channel_txn_id"),
        view=payment_view,
    )


def _account_failure(ctx: Context, account_id: str) -> TreatFirstError:
    return AccountNotFound() if ctx.store.get(ACCOUNTS, {"account_id": account_id}) is None else ConcurrentUpdate()


def _readable(caller: Caller, bill: Item) -> bool:
    return caller.kind != "hospital" or bill["hospital_id"] == caller.principal_id


def get_bill(ctx: Context, caller: Caller, bill_id: str) -> dict[str, Any]:
    caller.require("bills:read")
    bill = ctx.store.get(BILLS, {"bill_id": bill_id}) if bill_id.startswith("bil_") else None
    if bill is None or not _readable(caller, bill):
        raise BillNotFound()
    return bill_view(bill)


def list_account_bills(
    ctx: Context, caller: Caller, account_id: str, query: Mapping[str, str] | None
) -> dict[str, Any]:
    """All bills of an account, newest first: for channels (the patient's app) and operators."""
    caller.require("bills:read")
    if caller.kind == "hospital":
        raise Forbidden("hospitals read bills through their own visits")
    limit, start = page_params(query)
    if ctx.store.get(ACCOUNTS, {"account_id": account_id}) is None or not account_id.startswith("acc_"):
        raise AccountNotFound()
    page = ctx.store.query(BILLS, account_id, index="by_account", limit=limit, start=start, forward=False)
    return page_view(page, bill_view)
