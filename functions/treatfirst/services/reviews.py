"""Emergency care made accountable: review items above the policy's threshold, and per-hospital totals.

Emergency care is never refused, but its claim on the emergency-aid fund must be answerable:
- an emergency charge whose self-pay is above `emergency.review_above_fen`, and a visit whose emergency
  self-pay total is above it when the visit closes, each open a review item IN THE SAME TRANSACTION as the
  charge or the closing (its id is derived from what caused it, so a retry can never open a second one);
- an operator lists the open items (a sparse index holds only open ones), and confirms or rejects each with
  a reason, audited; the decision changes no balance;
- every emergency charge carries its city month in a sparse, sharded index, so the operator's per-hospital
  totals read the month's emergency charges and nothing else.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from treatfirst.domain.errors import ReviewAlreadyDecided, ReviewNotFound
from treatfirst.domain.policy import Policy
from treatfirst.messages import reviews as msg
from treatfirst.messages.common import to_item
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery, decode_cursor, every, page_view
from treatfirst.services.ports import CHARGES, REVIEWS, Item, Put, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

EMERGENCY_SHARDS = 4
OPEN_QUEUE = "emergency"


def emergency_month(policy: Policy, moment: datetime, fee_line_key: str) -> str:
    """The sparse index key of an emergency charge: its month in the city's zone and one of a few shards."""
    shard = hashlib.sha256(fee_line_key.encode()).digest()[0] % EMERGENCY_SHARDS
    return f"{moment.astimezone(ZoneInfo(policy.timezone)):%Y-%m}#{shard}"


def emergency_reviews(
    ctx: Context,
    caller: Caller,
    *,
    kind: str,
    visit: Item,
    amount_fen: int,
    fee_line_id: str | None = None,
) -> list[Write]:
    """The review item an emergency amount above the policy's threshold opens (none at or below it)."""
    threshold = ctx.policy.emergency_review_above_fen
    if amount_fen <= threshold:
        return []
    declared = visit.get("emergency") or {}
    review_id = f"rev_{visit['visit_id']}" + (f"_{fee_line_id}" if fee_line_id else "")
    item: Item = {
        "review_id": review_id,
        "queue": OPEN_QUEUE,
        "opened_at": ctx.now_text(),
        "kind": kind,
        "status": "open",
        "hospital_id": visit["hospital_id"],
        "visit_id": visit["visit_id"],
        "account_id": visit["account_id"],
        "fee_line_id": fee_line_id,
        "amount_fen": amount_fen,
        "threshold_fen": threshold,
        "triage_level": declared.get("triage_level"),
        "reason_code": declared.get("reason_code"),
        "request_id": ctx.request_id,
        "policy": ctx.policy.stamp,
    }
    return [
        Put(REVIEWS, {k: v for k, v in item.items() if v is not None}),
        audit(ctx, caller, f"review#{review_id}", "review.opened", kind=kind, amount_fen=amount_fen),
    ]


def review_view(item: Item) -> dict[str, Any]:
    fields: dict[str, Any] = {k: item[k] for k in msg.Review.__struct_fields__ if item.get(k) is not None}
    return to_item(msg.Review(**fields))


def list_open_reviews(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """Open review items, oldest first (the queue an operator works through)."""
    caller.may("reviews", "list")
    bound = f"reviews|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(REVIEWS, OPEN_QUEUE, index="open_reviews", limit=query.limit, start=start)
    return page_view(ctx.cipher, bound, page, review_view)


def get_review(ctx: Context, caller: Caller, review_id: str) -> dict[str, Any]:
    caller.may("reviews", "read")
    return review_view(_load(ctx, review_id))


def decide_review(
    ctx: Context, caller: Caller, review_id: str, command: msg.ReviewDecision, idempotency_key: str | None
) -> Outcome:
    """Confirm or reject an open review item, with a reason; the item leaves the open queue."""
    caller.may("reviews", "decide")
    idem = Idempotency(ctx, caller, idempotency_key, f"review:{review_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        item = _load(ctx, review_id)
        if item["status"] != "open":
            raise ReviewAlreadyDecided()
        decided = {
            "status": command.outcome,
            "decided_at": ctx.now_text(),
            "decided_by": caller.actor,
            "decision_reason": command.reason.strip(),
        }
        writes: list[Write] = [
            Update(
                REVIEWS,
                {"review_id": review_id},
                set=decided,
                remove=("queue",),
                expect={"status": "open"},
                fail=ReviewAlreadyDecided,
            ),
            audit(ctx, caller, f"review#{review_id}", f"review.{command.outcome}", reason=decided["decision_reason"]),
        ]
        return writes, Outcome(200, review_view({**item, **decided}))

    return idem.run(build)


def emergency_report(ctx: Context, caller: Caller, query: msg.EmergencyReportQuery) -> dict[str, Any]:
    """Per-hospital emergency totals of one city month, from the sparse month index (no scan)."""
    caller.may("reports", "emergency")
    totals: dict[str, dict[str, Any]] = {}
    for shard in range(EMERGENCY_SHARDS):
        for charge in every(ctx.store, CHARGES, f"{query.month}#{shard}", index="by_emergency_month"):
            row = totals.setdefault(
                charge["hospital_id"],
                {
                    "hospital_id": charge["hospital_id"],
                    "charges": 0,
                    "visits": set(),
                    "self_pay_fen": 0,
                    "refunded_self_pay_fen": 0,
                },
            )
            row["charges"] += 1
            row["visits"].add(charge["visit_id"])
            row["self_pay_fen"] += int(charge["self_pay_fen"])
            row["refunded_self_pay_fen"] += int(charge.get("refunded_self_pay_fen") or 0)
    hospitals = [
        msg.HospitalEmergencyTotals(
            hospital_id=row["hospital_id"],
            charges=row["charges"],
            visits=len(row["visits"]),
            self_pay_fen=row["self_pay_fen"],
            refunded_self_pay_fen=row["refunded_self_pay_fen"],
            net_self_pay_fen=row["self_pay_fen"] - row["refunded_self_pay_fen"],
        )
        for row in sorted(totals.values(), key=lambda r: r["hospital_id"])
    ]
    open_count = _count_open(ctx)
    return to_item(
        msg.EmergencyReport(
            month=query.month, timezone=ctx.policy.timezone, hospitals=hospitals, open_reviews=open_count
        )
    )


def _count_open(ctx: Context) -> int:
    return sum(1 for _ in every(ctx.store, REVIEWS, OPEN_QUEUE, index="open_reviews"))


def _load(ctx: Context, review_id: str) -> Item:
    item = ctx.store.get(REVIEWS, {"review_id": review_id})
    if item is None:
        raise ReviewNotFound()
    return item
