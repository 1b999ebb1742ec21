"""Visits (就诊) and charges (记账): self-pay held on the credit line in one atomic conditional write."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.clock import due_time, local_rfc3339, rfc3339
from treatfirst.domain.errors import (
    AccountNotActive,
    AccountNotFound,
    ChargeNotFound,
    ChargeNotRefundable,
    ConcurrentUpdate,
    CreditLimitExceeded,
    FeeLineConflict,
    Forbidden,
    RefundExceedsOutstanding,
    SplitMismatch,
    TreatFirstError,
    ValidationFailed,
    VisitClosed,
    VisitNotFound,
)
from treatfirst.domain.ids import new_id
from treatfirst.domain.inputs import Body
from treatfirst.services.context import Caller, Context, Idempotency, NaturalKeyTaken, Outcome, request_hash, run_once
from treatfirst.services.paging import page_params, page_view
from treatfirst.services.ports import ACCOUNTS, BILLS, CHARGES, VISITS, Item, Put, Update, Write
from treatfirst.services.views import bill_view, charge_view, visit_view

DUE_SHARDS = 8
_PARTS = ("insurance_fen", "personal_account_fen", "self_pay_fen")


class _VisitFacts:
    """A visit's hospital and account never change: cache them so a post needs no read."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, visit_id: str) -> tuple[str, str] | None:
        with self._lock:
            found = self._items.get(visit_id)
            if found:
                self._items.move_to_end(visit_id)
            return found

    def put(self, visit_id: str, hospital_id: str, account_id: str) -> None:
        with self._lock:
            self._items[visit_id] = (hospital_id, account_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


VISIT_FACTS = _VisitFacts()


def _load_visit(ctx: Context, caller: Caller, visit_id: str) -> Item:
    """The visit, only for the hospital that owns it (another hospital gets 404, not 403)."""
    item = ctx.store.get(VISITS, {"visit_id": visit_id}) if visit_id.startswith("vis_") else None
    if item is None or (caller.kind == "hospital" and item["hospital_id"] != caller.principal_id):
        raise VisitNotFound()
    VISIT_FACTS.put(visit_id, item["hospital_id"], item["account_id"])
    return item


def _visit_facts(ctx: Context, caller: Caller, visit_id: str) -> tuple[str, str]:
    facts = VISIT_FACTS.get(visit_id)
    if facts is None:
        item = _load_visit(ctx, caller, visit_id)
        facts = (item["hospital_id"], item["account_id"])
    if facts[0] != caller.principal_id:
        raise VisitNotFound()
    return facts


# ---- visits ----
def open_visit(ctx: Context, caller: Caller, body: Any, idempotency_key: str | None) -> Outcome:
    caller.require("visits:write")
    if caller.kind != "hospital":
        raise Forbidden("only a hospital key opens visits")
    b = Body(body)
    account_id = b.token("account_id")
    kind = b.choice("kind", ("outpatient", "inpatient"), default="outpatient")
    department = b.text("department", max_len=64, required=False)
    his_visit_id = b.token("his_visit_id", required=False)
    emergency = b.flag("emergency")
    b.done()
    idem = Idempotency(ctx, caller, idempotency_key, "open_visit", body)

    def build() -> tuple[list[Write], Outcome]:
        account = ctx.store.get(ACCOUNTS, {"account_id": account_id}) if account_id.startswith("acc_") else None
        if account is None:
            raise AccountNotFound(field="account_id")
        if account["status"] == "withdrawn" or (account["status"] != "active" and not emergency):
            raise AccountNotActive(f"the account is {account['status']}", field="account_id")
        visit_id = new_id("vis")
        item = {
            "visit_id": visit_id,
            "hospital_id": caller.principal_id,
            "account_id": account_id,
            "his_visit_id": his_visit_id,
            "kind": kind,
            "department": department,
            "status": "open",
            "opened_at": ctx.now_text(),
            "held_fen": 0,
            "emergency_held_fen": 0,
            "charge_count": 0,
            "policy": ctx.policy.stamp,
        }
        writes: list[Write] = [
            Put(VISITS, {k: v for k, v in item.items() if v is not None}),
            ctx.audit(
                caller,
                f"visit#{visit_id}",
                "visit.opened",
                account_id=account_id,
                kind=kind,
                emergency=emergency,
            ),
        ]
        return writes, Outcome(201, visit_view(item))

    return idem.run(build)


def get_visit(ctx: Context, caller: Caller, visit_id: str) -> dict[str, Any]:
    caller.require("visits:read")
    return visit_view(_load_visit(ctx, caller, visit_id))


def list_visits(ctx: Context, caller: Caller, query: Mapping[str, str] | None) -> dict[str, Any]:
    """The calling hospital's visits, newest first."""
    caller.require("visits:read")
    if caller.kind != "hospital":
        raise Forbidden("visits are listed per hospital; use a hospital key")
    limit, start = page_params(query)
    page = ctx.store.query(VISITS, caller.principal_id, index="by_hospital", limit=limit, start=start, forward=False)
    return page_view(page, visit_view)


def list_charges(ctx: Context, caller: Caller, visit_id: str, query: Mapping[str, str] | None) -> dict[str, Any]:
    caller.require("visits:read")
    _load_visit(ctx, caller, visit_id)
    limit, start = page_params(query)
    return page_view(ctx.store.query(CHARGES, visit_id, limit=limit, start=start), charge_view)


# ---- charges ----
def _parse_charge(body: Any) -> dict[str, Any]:
    b = Body(body)
    charge = {
        "fee_line_id": b.token("fee_line_id"),
        "item_code": b.token("item_code"),
        "item_name": b.text("item_name", max_len=100),
        "quantity": b.integer("quantity", minimum=1, maximum=100_000, required=False) or 1,
        "occurred_at": b.moment("occurred_at"),
        "total_fen": b.amount("total_fen"),
        **{part: b.amount(part) for part in _PARTS},
        "emergency": b.flag("emergency"),
    }
    b.done()
    if charge["total_fen"] != sum(charge[p] for p in _PARTS):
        raise SplitMismatch(field="total_fen")
    charge["occurred_at"] = rfc3339(charge["occurred_at"])
    return charge


def post_charge(ctx: Context, caller: Caller, visit_id: str, body: Any, idempotency_key: str | None) -> Outcome:
    """Hold the self-pay share on the credit line: ONE transaction (visit, charge, line, ledger, audit).

    A retry with the same fee-line id or Idempotency-Key returns the first result and charges nothing more.
    """
    caller.require("visits:write")
    charge = _parse_charge(body)
    hospital_id, account_id = _visit_facts(ctx, caller, visit_id)
    fingerprint = request_hash(charge)
    idem = Idempotency(ctx, caller, idempotency_key, f"charge:{visit_id}", body)
    key = {"visit_id": visit_id, "fee_line_id": charge["fee_line_id"]}

    def build() -> tuple[list[Write], Outcome]:
        amount, emergency = charge["self_pay_fen"], charge["emergency"]
        item = {
            **key,
            **charge,
            "hospital_id": hospital_id,
            "account_id": account_id,
            "status": "posted",
            "posted_at": ctx.now_text(),
            "request_hash": fingerprint,
            "refunds": [],
            **{f"refunded_{p}": 0 for p in _PARTS},
            "policy": ctx.policy.stamp,
        }
        bucket = "emergency_held_fen" if emergency else "held_fen"
        writes: list[Write] = [
            Put(CHARGES, item, fail=NaturalKeyTaken),
            Update(
                VISITS,
                {"visit_id": visit_id},
                add={bucket: amount, "charge_count": 1},
                expect={"status": "open"},
                fail=VisitClosed,
            ),
        ]
        if amount:
            if emergency:  # never refused for lack of credit or a suspension; outside the limit
                writes.append(Update(ACCOUNTS, {"account_id": account_id}, add=ledger.delta("emergency_hold", amount)))
            else:
                writes.append(
                    Update(
                        ACCOUNTS,
                        {"account_id": account_id},
                        add=ledger.delta("hold", amount),
                        expect={"status": "active"},
                        fail=lambda: _why_refused(ctx, account_id, amount),
                    )
                )
            writes.append(
                ctx.entry(
                    account_id,
                    "emergency_hold" if emergency else "hold",
                    amount,
                    "charge",
                    f"{visit_id}/{charge['fee_line_id']}",
                    caller.actor,
                )
            )
        writes.append(
            ctx.audit(
                caller,
                f"visit#{visit_id}",
                "charge.posted",
                fee_line_id=charge["fee_line_id"],
                self_pay_fen=amount,
                emergency=emergency,
            )
        )
        return writes, Outcome(201, charge_view(item))

    return run_once(
        ctx,
        idem,
        build,
        table=CHARGES,
        key=key,
        fingerprint=fingerprint,
        conflict=lambda: FeeLineConflict(field="fee_line_id"),
        view=charge_view,
    )


def _why_refused(ctx: Context, account_id: str, amount: int) -> TreatFirstError:
    account = ctx.store.get(ACCOUNTS, {"account_id": account_id})
    if account is None:
        return AccountNotFound()
    if account["status"] != "active":
        return AccountNotActive(f"the account is {account['status']}")
    return CreditLimitExceeded(
        f"self_pay_fen {amount} exceeds the available credit {account['available_fen']}",
        field="self_pay_fen",
        available_fen=account["available_fen"],
    )


def refund_charge(
    ctx: Context,
    caller: Caller,
    visit_id: str,
    fee_line_id: str,
    body: Any,
    idempotency_key: str | None,
    *,
    cancel: bool = False,
) -> Outcome:
    """Cancel a charge or refund part of it, before or after the visit closes, restoring credit."""
    caller.require("visits:write")
    b = Body(body if body is not None else {})
    reason = b.text("reason", max_len=200, required=False)
    asked = {} if cancel else {p: b.amount(p, required=False) or 0 for p in _PARTS}
    b.done()
    if not cancel and not any(asked.values()):
        raise ValidationFailed("a refund must return at least one fen", field="self_pay_fen")
    idem = Idempotency(ctx, caller, idempotency_key, f"refund:{visit_id}:{fee_line_id}:{cancel}", body)

    def build() -> tuple[list[Write], Outcome]:
        visit = _load_visit(ctx, caller, visit_id)
        charge = ctx.store.get(CHARGES, {"visit_id": visit_id, "fee_line_id": fee_line_id})
        if charge is None:
            raise ChargeNotFound(field="fee_line_id")
        remaining = {p: charge[p] - charge[f"refunded_{p}"] for p in _PARTS}
        amounts = remaining if cancel else asked
        for part, value in amounts.items():
            if value > remaining[part]:
                raise ChargeNotRefundable(f"{part} {value} exceeds the remaining {remaining[part]}", field=part)
        if cancel and charge["status"] == "cancelled":
            raise ChargeNotRefundable("the charge is already cancelled", field="fee_line_id")
        left = {p: remaining[p] - amounts[p] for p in _PARTS}
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
                expect={f"refunded_{p}": charge[f"refunded_{p}"] for p in _PARTS},
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
                ctx.entry(account_id, kind, sp, "refund", refund["refund_id"], caller.actor),
            ]
        elif sp:
            writes += _refund_on_bill(ctx, caller, visit["bill_id"], account_id, sp, emergency, refund["refund_id"])
        writes.append(
            ctx.audit(
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
            **{f"refunded_{p}": charge[f"refunded_{p}"] + amounts[p] for p in _PARTS},
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
    return [
        Update(
            BILLS,
            {"bill_id": bill_id},
            add={part: -sp, "outstanding_fen": -sp, "refunded_fen": sp},
            set={"status": "paid", "paid_at": ctx.now_text()} if settled else {},
            remove=("due_shard",) if settled else (),
            expect={"outstanding_fen": bill["outstanding_fen"]},
            fail=ConcurrentUpdate,
        ),
        Update(ACCOUNTS, {"account_id": account_id}, add=ledger.delta(kind, sp), fail=ConcurrentUpdate),
        ctx.entry(account_id, kind, sp, "refund", refund_id, caller.actor),
    ]


# ---- close ----
def due_shard(due_at_utc_text: str, bill_id: str) -> str:
    """Sparse overdue index key: the UTC due day plus one of DUE_SHARDS shards."""
    return f"{due_at_utc_text[:10]}#{sum(bill_id.encode()) % DUE_SHARDS}"


def close_visit(ctx: Context, caller: Caller, visit_id: str, body: Any, idempotency_key: str | None) -> Outcome:
    """Turn the visit's holds into a bill due at the policy's time in the city's zone."""
    caller.require("visits:write")
    Body(body if body is not None else {}).done()
    idem = Idempotency(ctx, caller, idempotency_key, f"close:{visit_id}", body)

    def build() -> tuple[list[Write], Outcome]:
        visit = _load_visit(ctx, caller, visit_id)
        if visit["status"] != "open":
            raise VisitClosed()
        held, eheld, account_id = visit["held_fen"], visit["emergency_held_fen"], visit["account_id"]
        now = ctx.clock.now()
        bill_id = new_id("bil")
        due = due_time(now, zone=ctx.policy.timezone, days_after=ctx.policy.due_days_after, at=ctx.policy.due_at)
        total = held + eheld
        bill = {
            "bill_id": bill_id,
            "visit_id": visit_id,
            "hospital_id": visit["hospital_id"],
            "account_id": account_id,
            "status": "issued" if total else "paid",
            "issued_at": rfc3339(now),
            "due_at": rfc3339(due),
            "due_local": local_rfc3339(due.astimezone(UTC), ctx.policy.timezone),
            "amount_fen": held,
            "emergency_amount_fen": eheld,
            "refunded_fen": 0,
            "paid_fen": 0,
            "outstanding_fen": total,
            "credit_outstanding_fen": held,
            "emergency_outstanding_fen": eheld,
            "policy": ctx.policy.stamp,
        }
        if total:
            bill["due_shard"] = due_shard(bill["due_at"], bill_id)
        else:
            bill["paid_at"] = bill["issued_at"]
        writes: list[Write] = [
            Update(
                VISITS,
                {"visit_id": visit_id},
                set={"status": "closed", "closed_at": ctx.now_text(), "bill_id": bill_id},
                expect={"status": "open", "held_fen": held, "emergency_held_fen": eheld},
                fail=lambda: _why_not_closed(ctx, visit_id),
            ),
            Put(BILLS, bill),
        ]
        moves = [(k, a) for k, a in (("issue", held), ("emergency_issue", eheld)) if a]
        if moves:
            writes.append(
                Update(
                    ACCOUNTS,
                    {"account_id": account_id},
                    add=ledger.combine(*(ledger.delta(k, a) for k, a in moves)),
                    fail=ConcurrentUpdate,
                )
            )
            writes += [ctx.entry(account_id, k, a, "bill", bill_id, caller.actor) for k, a in moves]
        writes.append(
            ctx.audit(
                caller,
                f"visit#{visit_id}",
                "visit.closed",
                bill_id=bill_id,
                amount_fen=held,
                emergency_amount_fen=eheld,
                due_at=bill["due_at"],
                **ctx.policy.stamp,
            )
        )
        return writes, Outcome(
            201,
            {
                "visit": visit_view({**visit, "status": "closed", "bill_id": bill_id, "closed_at": ctx.now_text()}),
                "bill": bill_view(bill),
            },
        )

    return idem.run(build)


def _why_not_closed(ctx: Context, visit_id: str) -> TreatFirstError:
    current = ctx.store.get(VISITS, {"visit_id": visit_id})
    if current is not None and current["status"] != "open":
        return VisitClosed()
    return ConcurrentUpdate("a charge landed while the visit was closing; retry the close")
