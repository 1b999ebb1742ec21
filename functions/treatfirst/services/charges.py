"""Charges (记账): self-pay held on the credit line in one atomic conditional write; a visit's charge list."""

from __future__ import annotations

from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import (
    AccountNotActive,
    AccountNotFound,
    AccountRestricted,
    CreditLimitExceeded,
    EmergencyNotDeclared,
    FeeLineConflict,
    TreatFirstError,
    VisitClosed,
)
from treatfirst.messages import visits as msg
from treatfirst.messages.common import to_item
from treatfirst.services.idempotency import Idempotency, NaturalKeyTaken, Outcome, request_hash, run_once
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import ACCOUNTS, CHARGES, VISITS, Item, Put, Update, Write
from treatfirst.services.records import audit, entry
from treatfirst.services.reviews import emergency_month, emergency_reviews
from treatfirst.services.unit_of_work import Context
from treatfirst.services.visits import load_visit, visit_facts

PARTS = msg.PARTS


def charge_view(item: Item) -> dict[str, Any]:
    return to_item(
        msg.Charge(
            **{name: item[name] for name in msg.Charge.__struct_fields__ if name != "refunds"},
            refunds=[msg.Refund(**r) for r in item.get("refunds", [])],
        )
    )


def list_charges(ctx: Context, caller: Caller, visit_id: str, query: PageQuery) -> dict[str, Any]:
    caller.may("charges", "list")
    load_visit(ctx, caller, visit_id)
    bound = f"charges|{visit_id}|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    return page_view(ctx.cipher, bound, ctx.store.query(CHARGES, visit_id, limit=query.limit, start=start), charge_view)


def post_charge(
    ctx: Context, caller: Caller, visit_id: str, command: msg.ChargeRequest, idempotency_key: str | None
) -> Outcome:
    """Hold the self-pay share on the credit line: ONE transaction (visit, charge, line, ledger, audit).

    A retry with the same fee-line id or Idempotency-Key returns the first result and charges nothing more.
    An emergency charge needs a visit declared an emergency (checked in the same conditional write, no read).
    """
    caller.may("charges", "post")
    charge: dict[str, Any] = {
        "fee_line_id": command.fee_line_id,
        "item_code": command.item_code,
        "item_name": command.item_name,
        "quantity": command.quantity,
        "occurred_at": rfc3339(command.occurred_at),
        "total_fen": command.total_fen,
        **{part: getattr(command, part) for part in PARTS},
        "emergency": command.emergency,
    }
    hospital_id, account_id = visit_facts(ctx, caller, visit_id)
    fingerprint = request_hash(charge)
    idem = Idempotency(ctx, caller, idempotency_key, f"charge:{visit_id}", command)
    key = {"visit_id": visit_id, "fee_line_id": command.fee_line_id}

    def build() -> tuple[list[Write], Outcome]:
        amount, emergency = command.self_pay_fen, command.emergency
        item = {
            **key,
            **charge,
            "hospital_id": hospital_id,
            "account_id": account_id,
            "status": "posted",
            "posted_at": ctx.now_text(),
            "request_hash": fingerprint,
            "refunds": [],
            **{f"refunded_{p}": 0 for p in PARTS},
            "policy": ctx.policy.stamp,
        }
        if emergency:  # the operator's per-hospital emergency totals read this sparse index
            item["emergency_month"] = emergency_month(ctx.policy, ctx.clock.now(), f"{visit_id}/{command.fee_line_id}")
        bucket = "emergency_held_fen" if emergency else "held_fen"
        writes: list[Write] = [
            Put(CHARGES, item, fail=NaturalKeyTaken),
            Update(
                VISITS,
                {"visit_id": visit_id},
                add={bucket: amount, "charge_count": 1},
                expect={"status": "open", "emergency_declared": True} if emergency else {"status": "open"},
                fail=(lambda: _why_visit_refused(ctx, visit_id)) if emergency else VisitClosed,
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
                        # the collection blocks live on the line this write already conditions: no extra request
                        lacks={"blocks": "new_charges"},
                        fail=lambda: _why_refused(ctx, account_id, amount),
                    )
                )
            writes.append(
                entry(
                    ctx,
                    account_id,
                    "emergency_hold" if emergency else "hold",
                    amount,
                    "charge",
                    f"{visit_id}/{command.fee_line_id}",
                    caller.actor,
                    hospital_id=hospital_id,
                )
            )
        if emergency:
            visit = {"visit_id": visit_id, "hospital_id": hospital_id, "account_id": account_id}
            writes += emergency_reviews(
                ctx, caller, kind="emergency_charge", visit=visit, amount_fen=amount, fee_line_id=command.fee_line_id
            )
        writes.append(
            audit(
                ctx,
                caller,
                f"visit#{visit_id}",
                "charge.posted",
                fee_line_id=command.fee_line_id,
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


def _why_visit_refused(ctx: Context, visit_id: str) -> TreatFirstError:
    """Only on refusal: a closed visit, or an emergency charge on a visit that declared none."""
    visit = ctx.store.get(VISITS, {"visit_id": visit_id})
    if visit is None or visit["status"] != "open":
        return VisitClosed()
    return EmergencyNotDeclared(field="emergency")


def _why_refused(ctx: Context, account_id: str, amount: int) -> TreatFirstError:
    account = ctx.store.get(ACCOUNTS, {"account_id": account_id})
    if account is None:
        return AccountNotFound()
    if account["status"] != "active":
        return AccountNotActive(f"the account is {account['status']}")
    if "new_charges" in (account.get("blocks") or ()):
        return AccountRestricted("the account may not take new charges until its overdue bills are paid")
    return CreditLimitExceeded(
        f"self_pay_fen {amount} exceeds the available credit {account['available_fen']}",
        field="self_pay_fen",
        available_fen=account["available_fen"],
    )
