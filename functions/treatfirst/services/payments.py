"""Payments (还款) from channels, idempotent by the channel's transaction id; bills (账单) to read."""

from __future__ import annotations

import functools
from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.errors import (
    AccountNotFound,
    BillNotFound,
    BillNotPayable,
    ConcurrentUpdate,
    Overpayment,
    TransactionIdConflict,
    TreatFirstError,
)
from treatfirst.domain.ids import new_id
from treatfirst.messages import payments as msg
from treatfirst.messages.common import to_item
from treatfirst.services.idempotency import Idempotency, NaturalKeyTaken, Outcome, request_hash, run_once
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import ACCOUNTS, BILLS, PAYMENTS, Item, Put, Update, Write
from treatfirst.services.records import audit, entry
from treatfirst.services.unit_of_work import Context

PAYABLE = ("issued", "overdue")


def bill_view(item: Item) -> dict[str, Any]:
    return to_item(
        msg.Bill(
            bill_id=item["bill_id"],
            visit_id=item["visit_id"],
            hospital_id=item["hospital_id"],
            account_id=item["account_id"],
            status=item["status"],
            issued_at=item["issued_at"],
            due_at=item["due_local"],
            amount_fen=item["amount_fen"],
            emergency_amount_fen=item["emergency_amount_fen"],
            refunded_fen=item["refunded_fen"],
            paid_fen=item["paid_fen"],
            outstanding_fen=item["outstanding_fen"],
            paid_at=item.get("paid_at"),
            policy_version=item["policy"]["policy_version"],
            policy_sha256=item["policy"]["policy_sha256"],
        )
    )


def payment_view(item: Item) -> dict[str, Any]:
    return to_item(
        msg.Payment(
            payment_id=item["payment_id"],
            channel_id=item["channel_id"],
            channel_txn_id=item["channel_txn_id"],
            amount_fen=item["amount_fen"],
            paid_at=item["paid_at"],
            received_at=item["received_at"],
            payer=msg.PaidBy(**item["payer"]),
            allocations=[msg.PaidAllocation(**a) for a in item["allocations"]],
        )
    )


def notify_payment(ctx: Context, caller: Caller, command: msg.PaymentRequest, idempotency_key: str | None) -> Outcome:
    """Apply a channel's payment to one or more bills (full or partial, any payer); credit is restored.

    The allocations were checked to add up, each bill once, when the request was decoded.
    """
    caller.may("payments", "pay")
    txn, amount = command.channel_txn_id, command.amount_fen
    payer = {"kind": command.payer.kind if command.payer else "self"}
    allocations: list[dict[str, Any]] = [
        {"bill_id": a.bill_id, "amount_fen": a.amount_fen} for a in command.allocations
    ]
    fingerprint = request_hash(command)
    payment_key = {"payment_key": f"{caller.principal_id}#{txn}"}
    idem = Idempotency(ctx, caller, idempotency_key, "payment", command)

    def build() -> tuple[list[Write], Outcome]:
        payment: dict[str, Any] = {
            **payment_key,
            "payment_id": new_id("pay"),
            "channel_id": caller.principal_id,
            "channel_txn_id": txn,
            "amount_fen": amount,
            "paid_at": command.paid_at.isoformat(),  # as the channel sent it (instant and offset)
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
                entry(ctx, bill["account_id"], k, a, "payment", payment["payment_id"], caller.actor) for k, a in moves
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
            audit(
                ctx,
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


def _readable(view: str, caller: Caller, bill: Item) -> bool:
    return view != "own" or bill["hospital_id"] == caller.principal_id


def get_bill(ctx: Context, caller: Caller, bill_id: str) -> dict[str, Any]:
    view = caller.may("bills", "read")  # "own" for a hospital: the bills of its own visits
    bill = ctx.store.get(BILLS, {"bill_id": bill_id}) if bill_id.startswith("bil_") else None
    if bill is None or not _readable(view, caller, bill):
        raise BillNotFound()
    return bill_view(bill)


def list_account_bills(ctx: Context, caller: Caller, account_id: str, query: PageQuery) -> dict[str, Any]:
    """All bills of an account, newest first: for channels (the patient's app) and operators."""
    caller.may("bills", "list")  # channels and operators; hospitals read bills through their own visits
    bound = f"bills|{account_id}|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    if not account_id.startswith("acc_") or ctx.store.get(ACCOUNTS, {"account_id": account_id}) is None:
        raise AccountNotFound()
    page = ctx.store.query(BILLS, account_id, index="by_account", limit=query.limit, start=start, forward=False)
    return page_view(ctx.cipher, bound, page, bill_view)
