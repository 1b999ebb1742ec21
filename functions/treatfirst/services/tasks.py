"""The phone task queue: the ladder's `phone_task` rows of the outbox, listed, claimed and closed by operators.

A task is open until an operator claims it (a conditional write: two operators never hold one task), then done
when the claimer records the outcome. Both moves are audited with who and why. Tasks sit in one partition of the
sparse queue index while open or claimed; a done task leaves it.
"""

from __future__ import annotations

from typing import Any

from treatfirst.domain.errors import TaskNotClaimable, TaskNotFound
from treatfirst.domain.ids import mask_phone
from treatfirst.messages.collection import ClaimRequest, OutcomeRequest
from treatfirst.services.identity import Caller
from treatfirst.services.identity_data import phone_of
from treatfirst.services.outbox import PHONE_QUEUE
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import ACCOUNTS, OUTBOX, Item, Update
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

FIELDS = ("account_id", "status", "created_at", "params", "claimed_by", "claimed_at", "outcome", "done_at")


def task_view(row: Item) -> dict[str, Any]:
    view = {"task_id": row["message_id"], **{k: row[k] for k in FIELDS if k in row}}
    if "name_masked" in row.get("params", {}):
        view["name_masked"] = row["params"]["name_masked"]
    return view


def list_tasks(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """Open and claimed phone tasks, oldest first."""
    caller.may("tasks", "list")
    bound = f"tasks|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(OUTBOX, PHONE_QUEUE, index="by_queue", limit=query.limit, start=start)
    return page_view(ctx.cipher, bound, page, task_view)


def _task(ctx: Context, task_id: str) -> Item:
    row = ctx.store.get(OUTBOX, {"message_id": task_id})
    if row is None or row.get("channel") != "phone":
        raise TaskNotFound()
    return row


def claim_task(ctx: Context, caller: Caller, task_id: str, command: ClaimRequest) -> dict[str, Any]:
    """Take an open task (or one this operator already holds); the answer carries the number to call."""
    caller.may("tasks", "claim")
    row = _task(ctx, task_id)
    if row["status"] == "claimed" and row.get("claimed_by") == caller.actor:
        expect = {"status": "claimed", "claimed_by": caller.actor}
    elif row["status"] == "open":
        expect = {"status": "open"}
    else:
        raise TaskNotClaimable()
    now = ctx.now_text()
    ctx.commit(
        [
            Update(
                OUTBOX,
                {"message_id": task_id},
                set={"status": "claimed", "claimed_by": caller.actor, "claimed_at": now},
                expect=expect,
                fail=TaskNotClaimable,
            ),
            audit(
                ctx, caller, f"account#{row['account_id']}", "phone_task.claim", task_id=task_id, reason=command.reason
            ),
        ]
    )
    account = ctx.store.get(ACCOUNTS, {"account_id": row["account_id"]})
    phone = (phone_of(ctx, account) if account is not None else None) or ""
    claimed = {**row, "status": "claimed", "claimed_by": caller.actor, "claimed_at": now}
    return {**task_view(claimed), "phone": phone, "phone_masked": mask_phone(phone) if phone else None}


def record_outcome(ctx: Context, caller: Caller, task_id: str, command: OutcomeRequest) -> dict[str, Any]:
    """Close a task this operator holds with the call's outcome and a note (why)."""
    caller.may("tasks", "outcome")
    row = _task(ctx, task_id)
    if row["status"] != "claimed" or row.get("claimed_by") != caller.actor:
        raise TaskNotClaimable("record the outcome of a task you claimed")
    now = ctx.now_text()
    ctx.commit(
        [
            Update(
                OUTBOX,
                {"message_id": task_id},
                set={"status": "done", "outcome": command.outcome, "done_at": now},
                remove=["queue"],
                expect={"status": "claimed", "claimed_by": caller.actor},
                fail=TaskNotClaimable,
            ),
            audit(
                ctx,
                caller,
                f"account#{row['account_id']}",
                "phone_task.outcome",
                task_id=task_id,
                outcome=command.outcome,
                note=command.note,
            ),
        ]
    )
    return task_view({**row, "status": "done", "outcome": command.outcome, "done_at": now})
