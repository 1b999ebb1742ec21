"""Payments (还款) from channels, idempotent by the channel's transaction id; bills (账单) to read."""

from __future__ import annotations

import functools
from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.collection import KIND_CLEARED
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
from treatfirst.domain.reports import Tally
from treatfirst.messages import payments as msg
from treatfirst.messages.common import to_item
from treatfirst.services import collection, reports
from treatfirst.services.events import bill_events
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
            write_off=msg.WriteOffRecord(**item["write_off"], recovered_fen=item.get("recovered_fen", 0))
            if item.get("write_off")
            else None,
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
        unpaid_set: dict[str, dict[str, Any]] = {}
        unpaid_remove: dict[str, list[str]] = {}
        settled_bills: dict[str, set[str]] = {}
        tally = Tally()  # report counters, added in this transaction
        for i, alloc in enumerate(allocations):
            field = f"allocations[{i}]"
            bill = ctx.store.get(BILLS, {"bill_id": alloc["bill_id"]}) if alloc["bill_id"].startswith("bil_") else None
            if bill is None:
                raise BillNotFound(field=f"{field}.bill_id")
            if bill["status"] == "written_off":
                writes += _recovery(ctx, caller, bill, alloc["amount_fen"], payment["payment_id"], field, tally, txn)
                if alloc["amount_fen"] == bill["written_off_fen"] - bill.get("recovered_fen", 0):
                    # recovered in full: the account is looked at again on the next business date, as after paying
                    # arrears, so a listed person's blacklist record enters repair once nothing else is owed
                    unpaid_set.setdefault(bill["account_id"], {}).update(collection.look_again(ctx, bill["account_id"]))
                    per_account.setdefault(bill["account_id"], [])
                continue
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
            reports.count_paid(ctx, tally, bill, alloc["amount_fen"], settled)
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
                    # not the status: the sweep may mark the bill overdue meanwhile, and it is payable either way
                    expect={"outstanding_fen": bill["outstanding_fen"]},
                    fail=ConcurrentUpdate,
                )
            )
            if settled:
                paid = {**bill, "paid_fen": bill["paid_fen"] + alloc["amount_fen"], "paid_at": ctx.now_text()}
                writes += bill_events(ctx, "bill.paid", paid, settled_by="payment", payment_id=payment["payment_id"])
            account_id = bill["account_id"]
            after = {
                **bill,
                "outstanding_fen": bill["outstanding_fen"] - alloc["amount_fen"],
                "emergency_outstanding_fen": bill["emergency_outstanding_fen"] - emergency,
            }
            set_, remove_ = collection.bill_changed(ctx, account_id, after)
            unpaid_set.setdefault(account_id, {}).update(set_)
            unpaid_remove.setdefault(account_id, []).extend(remove_)
            if settled:
                settled_bills.setdefault(account_id, set()).add(bill["bill_id"])
            moves = [(k, a) for k, a in (("payment", credit), ("emergency_payment", emergency)) if a]
            per_account.setdefault(account_id, []).extend(ledger.delta(k, a) for k, a in moves)
            writes += [
                entry(
                    ctx,
                    account_id,
                    k,
                    a,
                    "payment",
                    payment["payment_id"],
                    caller.actor,
                    hospital_id=bill["hospital_id"],
                    channel_id=caller.principal_id,
                    channel_txn_id=txn,
                )
                for k, a in moves
            ]
        for account_id, deltas in per_account.items():
            fields = dict(unpaid_set.get(account_id, {}))
            expect: dict[str, Any] = {}
            if account_id in settled_bills:
                # Paying everything lifts the ladder's restrictions in this very transaction.
                account = ctx.store.get(ACCOUNTS, {"account_id": account_id})
                if account is None:
                    raise AccountNotFound()
                lifted = collection.cleared(ctx, account, settled_bills[account_id])
                if lifted is not None:
                    fields.update(lifted)
                    expect = {"collect_version": account.get("collect_version", 0)}
                    if account.get("step") or account.get("blocks"):
                        writes.append(collection.cleared_message(ctx, account, payment["payment_id"]))
                        reports.count_message(tally, KIND_CLEARED)
            writes.append(
                Update(
                    ACCOUNTS,
                    {"account_id": account_id},
                    add={**ledger.combine(*deltas), "collect_version": 1},
                    set=fields,
                    remove=tuple(unpaid_remove.get(account_id, ())),
                    expect=expect,
                    fail=functools.partial(_account_failure, ctx, account_id),
                )
            )
        writes += reports.tally_writes(ctx, tally, payment["payment_id"])
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

    for attempt in range(3):  # the collection sweep moved the account between our reads and our write: read again
        try:
            return _run(ctx, idem, build, payment_key, fingerprint)
        except ConcurrentUpdate:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _run(ctx: Context, idem: Idempotency, build: Any, payment_key: Item, fingerprint: str) -> Outcome:
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


def _recovery(
    ctx: Context, caller: Caller, bill: Item, amount: int, payment_id: str, field: str, tally: Tally, txn: str
) -> list[Write]:
    """Money for a written-off bill: a recovery credited to the fund that absorbed it, capped at what is still
    written off (written off minus recovered), with no effect on the credit line."""
    left = bill["written_off_fen"] - bill.get("recovered_fen", 0)
    if amount > left:
        raise Overpayment(
            f"{field}.amount_fen {amount} is more than the {left} still written off",
            field=f"{field}.amount_fen",
            outstanding_fen=left,
        )
    record = bill["write_off"]
    fund = record.get("credit_fund") or record.get("emergency_fund")
    shard = collection.collect_shard(bill["account_id"])
    reports.count_recovered(tally, fund, amount)
    parties = {"hospital_id": bill["hospital_id"], "channel_id": caller.principal_id, "channel_txn_id": txn}
    return [
        Update(
            BILLS,
            {"bill_id": bill["bill_id"]},
            add={"recovered_fen": amount},
            expect={"status": "written_off", "recovered_fen": bill.get("recovered_fen", 0)},
            fail=ConcurrentUpdate,
        ),
        entry(ctx, bill["account_id"], "recovery", amount, "payment", payment_id, caller.actor, **parties),
        entry(
            ctx,
            collection.fund_account(fund, shard),
            "backstop_recovery",
            amount,
            "payment",
            payment_id,
            caller.actor,
            **parties,
        ),
    ]


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
