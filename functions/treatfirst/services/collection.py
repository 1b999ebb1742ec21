"""Collection: the account's collection state kept by close, payment and refund, and the sweep that applies the
policy's ladder (treatfirst.domain.collection) to what is due.

Where the state lives: on the account item (see domain.collection.State and the attributes `state_fields` names),
so the writes that change what is owed keep it in their own transaction, and the sparse, sharded `by_next_step`
index (hash `collect_shard`, range `next_step_at`, a business date) tells the sweep which accounts have
something due, with the state projected into the index (no extra read per item).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from treatfirst.domain.collection import closed_through, local_date
from treatfirst.services.ports import Item
from treatfirst.services.unit_of_work import Context

COLLECT_SHARDS = 16


def collect_shard(account_id: str) -> str:
    """The account's shard in the by_next_step index: fixed for the account, spread evenly."""
    return str(int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:4], "big") % COLLECT_SHARDS)


def closed_date(ctx: Context) -> date:
    """The city's last closed business date now (its zone, the policy's cut-off: the due time)."""
    return closed_through(ctx.clock.now(), zone=ctx.policy.timezone, cutoff=ctx.policy.due_at)


def next_sweep_date(ctx: Context) -> date:
    """The first business date not closed yet: the sweep of that date will look at the account."""
    return closed_date(ctx) + timedelta(days=1)


def look_again(ctx: Context, account_id: str) -> dict[str, Any]:
    """Account fields that put it in the index for the next sweep date (it replans and moves the date on)."""
    return {"collect_shard": collect_shard(account_id), "next_step_at": next_sweep_date(ctx).isoformat()}


def unpaid_entry(ctx: Context, bill: Item) -> dict[str, Any]:
    """The account's record of an unpaid bill: its local due date and what is still owed on it."""
    return {
        "due": local_date(bill["due_at"], ctx.policy.timezone).isoformat(),
        "fen": bill["outstanding_fen"],
        "efen": bill["emergency_outstanding_fen"],
    }


def bill_issued(ctx: Context, account_id: str, bill: Item) -> dict[str, Any]:
    """`set` fields of the closing transaction's account Update: the bill joins the unpaid map (no read)."""
    return {f"unpaid.{bill['bill_id']}": unpaid_entry(ctx, bill), **look_again(ctx, account_id)}
