"""Marking bills overdue: reads the sparse, sharded due index day by day (never a table scan)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError
from treatfirst.services.closing import DUE_SHARDS
from treatfirst.services.ports import BILLS, Update
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context


@dataclass
class SweepResult:
    examined: int = 0
    marked: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"examined": self.examined, "marked": self.marked, "failed": self.failed}


def mark_overdue(ctx: Context, *, lookback_days: int = 2, page_size: int = 100) -> SweepResult:
    """Move every issued bill whose due time has passed to `overdue`. Idempotent: rerunning changes nothing.

    Days older than `lookback_days` were covered by earlier hourly runs; pass a larger value after an outage.
    """
    now = ctx.clock.now()
    until = rfc3339(now)
    result = SweepResult()
    for back in range(lookback_days, -1, -1):
        day = (now - timedelta(days=back)).strftime("%Y-%m-%d")
        for shard in range(DUE_SHARDS):
            start = None
            while True:
                page = ctx.store.query(
                    BILLS, f"{day}#{shard}", index="by_due", limit=page_size, start=start, until=until
                )
                for bill in page.items:
                    result.examined += 1
                    if bill["status"] != "issued":
                        continue
                    try:
                        ctx.commit(
                            [
                                Update(
                                    BILLS,
                                    {"bill_id": bill["bill_id"]},
                                    set={"status": "overdue"},
                                    expect={"status": "issued"},
                                    fail=ConcurrentUpdate,
                                ),
                                audit(ctx, None, f"bill#{bill['bill_id']}", "bill.overdue", due_at=bill["due_at"]),
                            ]
                        )
                        result.marked += 1
                    except TreatFirstError:
                        result.failed += 1  # paid or changed meanwhile; the next run looks again
                if page.cursor is None:
                    break
                start = page.cursor
    return result
