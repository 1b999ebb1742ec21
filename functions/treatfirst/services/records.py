"""Builders of the append-only records a change writes with itself: audit events and ledger entries."""

from __future__ import annotations

from typing import Any

from treatfirst.domain import ledger
from treatfirst.domain.ids import new_id
from treatfirst.services.identity import Caller
from treatfirst.services.ports import AUDIT, LEDGER, Put
from treatfirst.services.unit_of_work import Context


def audit(ctx: Context, caller: Caller | None, subject: str, action: str, **details: Any) -> Put:
    """An append-only audit event (who, what, when, request id). Details never hold identifiers."""
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
        },
    )


def entry(ctx: Context, account_id: str, kind: str, amount_fen: int, ref_type: str, ref_id: str, actor: str) -> Put:
    """One ledger entry; its `delta` is derived from the movement kind (domain.ledger)."""
    return Put(
        LEDGER,
        {
            "account_id": account_id,
            "entry_id": new_id("led"),
            "kind": kind,
            "amount_fen": amount_fen,
            "delta": ledger.delta(kind, amount_fen),
            "ref_type": ref_type,
            "ref_id": ref_id,
            "at": ctx.now_text(),
            "request_id": ctx.request_id,
            "actor": actor,
        },
    )
