"""Cancelling a charge or refunding part of it, before or after the visit closes, restoring credit."""

from __future__ import annotations

from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.collection import KIND_CLEARED
from treatfirst.domain.errors import (
    ChargeNotFound,
    ChargeNotRefundable,
    ConcurrentUpdate,
    RefundExceedsOutstanding,
    ValidationFailed,
)
from treatfirst.domain.ids import new_id
from treatfirst.domain.reports import Tally
from treatfirst.messages import visits as msg
from treatfirst.services import collection, reports
from treatfirst.services.charges import PARTS, charge_view
from treatfirst.services.events import bill_events, event_put
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.ports import ACCOUNTS, BILLS, CHARGES, VISITS, Update, Write
from treatfirst.services.records import audit, entry
from treatfirst.services.unit_of_work import Context
from treatfirst.services.visits import load_visit


def cancel_charge(
    ctx: Context,
    caller: Caller,
    visit_id: str,
    fee_line_id: str,
    command: msg.CancelRequest,
    idempotency_key: str | None,
) -> Outcome:
    """Cancel what remains of a charge."""
    return _refund(ctx, caller, visit_id, fee_line_id, None, command.reason, command, idempotency_key)


def refund_charge(
    ctx: Context,
    caller: Caller,
    visit_id: str,
    fee_line_id: str,
    command: msg.RefundRequest,
    idempotency_key: str | None,
) -> Outcome:
    """Refund part of a charge: at least one fen, no part beyond what remains."""
    asked = command.amounts()
    if not any(asked.values()):
        raise ValidationFailed("a refund must return at least one fen", field="self_pay_fen")
    return _refund(ctx, caller, visit_id, fee_line_id, asked, command.reason, command, idempotency_key)


def _refund(
    ctx: Context,
    caller: Caller,
    visit_id: str,
    fee_line_id: str,
    asked: dict[str, int] | None,
    reason: str | None,
    command: msg.CancelRequest | msg.RefundRequest,
    idempotency_key: str | None,
) -> Outcome:
    caller.may("charges", "refund")
    cancel = asked is None
    reason = reason.strip() if reason else None
    idem = Idempotency(ctx, caller, idempotency_key, f"refund:{visit_id}:{fee_line_id}:{cancel}", command)

    def build() -> tuple[list[Write], Outcome]:
        visit = load_visit(ctx, caller, visit_id)
        charge = ctx.store.get(CHARGES, {"visit_id": visit_id, "fee_line_id": fee_line_id})
        if charge is None:
            raise ChargeNotFound(field="fee_line_id")
        remaining = {p: charge[p] - charge[f"refunded_{p}"] for p in PARTS}
        amounts = remaining if asked is None else asked
        for part, value in amounts.items():
            if value > remaining[part]:
                raise ChargeNotRefundable(f"{part} {value} exceeds the remaining {remaining[part]}", field=part)
        if cancel and charge["status"] == "cancelled":
            raise ChargeNotRefundable("the charge is already cancelled", field="fee_line_id")
        left = {p: remaining[p] - amounts[p] for p in PARTS}
        status = "cancelled" if cancel else ("refunded" if not any(left.values()) else "partially_refunded")
        refund = {
            "refund_id": new_id("rfd"),
            **amounts,
            "reason": reason,
            "at": ctx.now_text(),
            "cancel": cancel,
        }
        charge_key = {"visit_id": visit_id, "fee_line_id": fee_line_id}
        writes: list[Write] = [
            Update(
                CHARGES,
                charge_key,
                add={f"refunded_{p}": v for p, v in amounts.items() if v},
                set={"status": status, "refunds": [*charge.get("refunds", []), refund]},
                expect={f"refunded_{p}": charge[f"refunded_{p}"] for p in PARTS},
                fail=ConcurrentUpdate,
            ),
        ]
        sp, emergency, account_id = amounts["self_pay_fen"], charge["emergency"], charge["account_id"]
        if sp and visit["status"] == "open":
            kind = "emergency_release_hold" if emergency else "release_hold"
            bucket = "emergency_held_fen" if emergency else "held_fen"
            writes += [
                Update(
                    VISITS,
                    {"visit_id": visit_id},
                    add={bucket: -sp},
                    expect={"status": "open"},
                    fail=ConcurrentUpdate,
                ),
                Update(ACCOUNTS, {"account_id": account_id}, add=ledger.delta(kind, sp), fail=ConcurrentUpdate),
                entry(
                    ctx,
                    account_id,
                    kind,
                    sp,
                    "refund",
                    refund["refund_id"],
                    caller.actor,
                    hospital_id=visit["hospital_id"],
                ),
            ]
        elif sp:
            writes += _refund_on_bill(ctx, caller, visit["bill_id"], account_id, sp, emergency, refund["refund_id"])
        writes.append(
            event_put(
                ctx,
                kind="charge.refunded",
                audience=f"hospital:{visit['hospital_id']}",
                subject=refund["refund_id"],
                data={
                    "visit_id": visit_id,
                    "fee_line_id": fee_line_id,
                    "refund_id": refund["refund_id"],
                    "cancel": cancel,
                    "status": status,
                    **amounts,
                },
            )
        )
        writes.append(
            audit(
                ctx,
                caller,
                f"visit#{visit_id}",
                "charge.cancelled" if cancel else "charge.refunded",
                fee_line_id=fee_line_id,
                refund_id=refund["refund_id"],
                **amounts,
            )
        )
        updated = {
            **charge,
            "status": status,
            "refunds": [*charge.get("refunds", []), refund],
            **{f"refunded_{p}": charge[f"refunded_{p}"] + amounts[p] for p in PARTS},
        }
        return writes, Outcome(200, charge_view(updated))

    return idem.run(build)


def _refund_on_bill(
    ctx: Context, caller: Caller, bill_id: str, account_id: str, sp: int, emergency: bool, refund_id: str
) -> list[Write]:
    bill = ctx.store.get(BILLS, {"bill_id": bill_id})
    assert bill is not None
    part = "emergency_outstanding_fen" if emergency else "credit_outstanding_fen"
    if sp > bill[part]:
        raise RefundExceedsOutstanding(field="self_pay_fen", outstanding_fen=bill[part])
    settled = bill["outstanding_fen"] == sp
    kind = "emergency_release_owed" if emergency else "release_owed"
    after = {**bill, "outstanding_fen": bill["outstanding_fen"] - sp}
    if emergency:
        after["emergency_outstanding_fen"] = bill["emergency_outstanding_fen"] - sp
    unpaid_set, unpaid_remove = collection.bill_changed(ctx, account_id, after)
    expect: dict[str, Any] = {}
    lifted_message: list[Write] = []
    if settled:  # nothing else owed: the ladder's restrictions are lifted in this same transaction
        account = ctx.store.get(ACCOUNTS, {"account_id": account_id})
        lifted = collection.cleared(ctx, account, {bill_id}) if account else None
        if account is not None and lifted is not None:
            unpaid_set = {**unpaid_set, **lifted}
            expect = {"collect_version": account.get("collect_version", 0)}
            if account.get("step") or account.get("blocks"):
                lifted_message = [collection.cleared_message(ctx, account, refund_id)]
    paid_event: list[Write] = []
    if settled:
        paid_event = [*bill_events(ctx, "bill.paid", {**bill, "paid_at": ctx.now_text()}, settled_by="refund")]
    tally = Tally()  # report counters, added in this transaction
    reports.count_refunded(ctx, tally, bill, sp, settled)
    if lifted_message:
        reports.count_message(tally, KIND_CLEARED)
    return [
        *lifted_message,
        *paid_event,
        *reports.tally_writes(ctx, tally, refund_id),
        Update(
            BILLS,
            {"bill_id": bill_id},
            add={part: -sp, "outstanding_fen": -sp, "refunded_fen": sp},
            set={"status": "paid", "paid_at": ctx.now_text()} if settled else {},
            remove=("due_shard",) if settled else (),
            expect={"outstanding_fen": bill["outstanding_fen"]},
            fail=ConcurrentUpdate,
        ),
        Update(
            ACCOUNTS,
            {"account_id": account_id},
            add={**ledger.delta(kind, sp), "collect_version": 1},
            set=unpaid_set,
            remove=unpaid_remove,
            expect=expect,
            fail=ConcurrentUpdate,
        ),
        entry(ctx, account_id, kind, sp, "refund", refund_id, caller.actor, hospital_id=bill["hospital_id"]),
    ]
