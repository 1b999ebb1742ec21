"""Closing a visit: its holds become a bill due at the policy's time in the city's zone."""

from __future__ import annotations

from datetime import UTC

from treatfirst.domain import ledger
from treatfirst.domain.clock import due_time, local_rfc3339, rfc3339
from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError, VisitClosed
from treatfirst.domain.ids import new_id
from treatfirst.domain.reports import Tally
from treatfirst.messages.common import Empty
from treatfirst.services import collection, reports
from treatfirst.services.events import bill_events
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.payments import bill_view
from treatfirst.services.ports import ACCOUNTS, BILLS, VISITS, Put, Update, Write
from treatfirst.services.records import audit, entry
from treatfirst.services.reviews import emergency_reviews
from treatfirst.services.unit_of_work import Context
from treatfirst.services.visits import load_visit, visit_view

DUE_SHARDS = 8


def due_shard(due_at_utc_text: str, bill_id: str) -> str:
    """Sparse overdue index key: the UTC due day plus one of DUE_SHARDS shards."""
    return f"{due_at_utc_text[:10]}#{sum(bill_id.encode()) % DUE_SHARDS}"


def close_visit(ctx: Context, caller: Caller, visit_id: str, command: Empty, idempotency_key: str | None) -> Outcome:
    """Turn the visit's holds into a bill; the account's open-visit count falls in the same transaction."""
    caller.may("visits", "close")
    idem = Idempotency(ctx, caller, idempotency_key, f"close:{visit_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        visit = load_visit(ctx, caller, visit_id)
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
        if visit.get("channel_id"):
            bill["channel_id"] = visit["channel_id"]
        if total:
            bill["due_shard"] = due_shard(bill["due_at"], bill_id)
        else:
            bill["paid_at"] = bill["issued_at"]
        moves = [(k, a) for k, a in (("issue", held), ("emergency_issue", eheld)) if a]
        writes: list[Write] = [
            Update(
                VISITS,
                {"visit_id": visit_id},
                set={"status": "closed", "closed_at": ctx.now_text(), "bill_id": bill_id},
                expect={"status": "open", "held_fen": held, "emergency_held_fen": eheld},
                fail=lambda: _why_not_closed(ctx, visit_id),
            ),
            Put(BILLS, bill),
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                add={**ledger.combine(*(ledger.delta(k, a) for k, a in moves)), "open_visits": -1}
                | ({"collect_version": 1} if total or "stay_start" in visit else {}),
                set=(collection.bill_issued(ctx, account_id, bill) if total else {})
                | (collection.stay_closed(ctx, visit) if "stay_start" in visit else {}),
                fail=ConcurrentUpdate,
            ),
            *[
                entry(ctx, account_id, k, a, "bill", bill_id, caller.actor, hospital_id=visit["hospital_id"])
                for k, a in moves
            ],
            *emergency_reviews(ctx, caller, kind="emergency_visit", visit=visit, amount_fen=eheld),
            *bill_events(ctx, "bill.issued", bill),
            audit(
                ctx,
                caller,
                f"visit#{visit_id}",
                "visit.closed",
                bill_id=bill_id,
                amount_fen=held,
                emergency_amount_fen=eheld,
                due_at=bill["due_at"],
                **ctx.policy.stamp,
            ),
        ]
        tally = Tally()
        reports.count_issued(ctx, tally, bill)
        writes += reports.tally_writes(ctx, tally, bill_id)  # report counters, in this transaction
        closed = {**visit, "status": "closed", "bill_id": bill_id, "closed_at": ctx.now_text()}
        return writes, Outcome(201, {"visit": visit_view(closed), "bill": bill_view(bill)})

    return idem.run(build)


def _why_not_closed(ctx: Context, visit_id: str) -> TreatFirstError:
    current = ctx.store.get(VISITS, {"visit_id": visit_id})
    if current is not None and current["status"] != "open":
        return VisitClosed()
    return ConcurrentUpdate("a charge landed while the visit was closing; retry the close")
