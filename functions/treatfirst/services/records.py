"""Builders of the append-only records a change writes with itself: audit events and ledger entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.days import business_date, day_key, day_shard_of
from treatfirst.domain.ids import new_id
from treatfirst.services.identity import Caller
from treatfirst.services.ports import AUDIT, LEDGER, Put
from treatfirst.services.unit_of_work import Context


def audit(ctx: Context, caller: Caller | None, subject: str, action: str, **details: Any) -> Put:
    """An append-only audit event (who, what, when, request id). Details never hold identifiers. It expires (the
    table's time to live deletes it) privacy.retention.audit_days after it is written."""
    expires = ctx.clock.now() + timedelta(days=ctx.policy.privacy.audit_days)
    return Put(
        AUDIT,
        {
            "subject": subject,
            "event_id": new_id("evt"),
            "action": action,
            "actor_kind": caller.kind if caller else "system",
            "actor_id": caller.principal_id if caller else "system",
            "at": ctx.now_text(),
            "request_id": ctx.request_id,
            "details": details,
            "expires_at": int(expires.timestamp()),
        },
    )


def entry(
    ctx: Context,
    account_id: str,
    kind: str,
    amount_fen: int,
    ref_type: str,
    ref_id: str,
    actor: str,
    *,
    hospital_id: str | None = None,
    channel_id: str | None = None,
    channel_txn_id: str | None = None,
) -> Put:
    """One ledger entry; its `delta` is derived from the movement kind (domain.ledger).

    It carries, from its commit on and never changed: its business date (the city's zone and cut-off), and the
    parties clearing needs — the hospital, the channel that collected money, the financier the policy assigns the
    hospital under financier_advance, the backstop fund. Every kind but open_line is in the sparse, sharded per-day
    index (`day_shard`, domain.days), with these attributes projected: reading a day costs one item per entry.
    """
    entry_id = new_id("led")
    day = business_date(ctx.clock.now(), zone=ctx.policy.timezone, cutoff=ctx.policy.due_at)
    item: dict[str, Any] = {
        "account_id": account_id,
        "entry_id": entry_id,
        "kind": kind,
        "amount_fen": amount_fen,
        "delta": ledger.delta(kind, amount_fen),
        "ref_type": ref_type,
        "ref_id": ref_id,
        "at": ctx.now_text(),
        "request_id": ctx.request_id,
        "actor": actor,
        "business_date": day.isoformat(),
    }
    if kind in ledger.DAILY_KINDS:
        item["day_shard"] = day_key(ctx.policy.city_code, day, day_shard_of(f"{account_id}#{ref_type}#{ref_id}#{kind}"))
    if hospital_id:
        item["hospital_id"] = hospital_id
        financier = ctx.policy.financier_for(hospital_id)
        if financier:
            item["financier_id"] = financier
    if channel_id:
        item["channel_id"] = channel_id
    if channel_txn_id:  # the channel's own transaction id: its statement lines are keyed by it
        item["channel_txn_id"] = channel_txn_id
    if account_id.startswith(FUND_PREFIX):
        item["fund_id"] = account_id.split("#")[1]
    return Put(LEDGER, item)


FUND_PREFIX = "fund#"  # a backstop fund's ledger partitions: "fund#<fund>#<shard>"
