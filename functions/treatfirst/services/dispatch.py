"""The dispatcher: hands every pending SMS row of the outbox to the city's SMS gateway, at least once.

A row moves pending -> sending -> sent, each move a conditional write on the row:
- claim: `pending` -> `sending` with a fresh lease id (two dispatchers never both claim a row);
- publish the message (with the row's stable `message_id`, which the gateway uses to drop a repeat);
- mark: `sending` with that lease id -> `sent`; the row leaves the queue index.
A dispatcher that dies between publish and mark leaves the row `sending`; after the lease (LEASE_SECONDS) the next
run claims it again and publishes the SAME message id once more: delivered at least once, and a row is never
published twice while its lease holds. A publish that fails puts the row back to `pending` for the next run.
Reads only the sparse queue index (rows still to deliver), never the table.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError
from treatfirst.domain.ids import new_id
from treatfirst.services.identity_data import phone_of
from treatfirst.services.outbox import QUEUE_SHARDS
from treatfirst.services.ports import ACCOUNTS, OUTBOX, Item, Publisher, Update
from treatfirst.services.unit_of_work import Context

LEASE_SECONDS = 300
MESSAGE_FORMAT_VERSION = 1


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    undeliverable: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "undeliverable": self.undeliverable, "skipped": self.skipped}


def gateway_message(ctx: Context, row: Item, phone: str) -> dict[str, Any]:
    """The JSON the SMS gateway receives (documented on the site's 'SMS gateway messages' page)."""
    return {
        "format": MESSAGE_FORMAT_VERSION,
        "message_id": row["message_id"],
        "kind": row["kind"],
        "city_code": ctx.policy.city_code,
        "phone": phone,
        "text": row["text"],
        "created_at": row["created_at"],
    }


def _row_key(row: Item) -> dict[str, str]:
    return {"message_id": row["message_id"]}


def dispatch(ctx: Context, publisher: Publisher, *, page_size: int = 100) -> DispatchResult:
    """Deliver every SMS row waiting in the queue index at the clock's now. Rerunning delivers nothing twice."""
    now = ctx.clock.now()
    result = DispatchResult()
    for shard in range(QUEUE_SHARDS):
        start = None
        while True:
            page = ctx.store.query(
                OUTBOX, f"sms#{shard}", index="by_queue", limit=page_size, start=start, until=rfc3339(now)
            )
            for row in page.items:
                _deliver(ctx, publisher, row, result)
            if page.cursor is None:
                break
            start = page.cursor
    return result


def _deliver(ctx: Context, publisher: Publisher, row: Item, result: DispatchResult) -> None:
    now = ctx.clock.now()
    lease = new_id("lse")
    if row.get("status") == "pending":
        expect: dict[str, Any] = {"status": "pending"}
    elif row.get("status") == "sending" and row.get("lease_until", "") < rfc3339(now):
        expect = {"status": "sending", "lease_id": row["lease_id"]}  # its dispatcher died after claiming it
    else:
        result.skipped += 1  # another dispatcher holds it
        return
    try:
        ctx.commit(
            [
                Update(
                    OUTBOX,
                    _row_key(row),
                    set={
                        "status": "sending",
                        "lease_id": lease,
                        "lease_until": rfc3339(now + timedelta(seconds=LEASE_SECONDS)),
                    },
                    add={"attempts": 1},
                    expect=expect,
                    fail=ConcurrentUpdate,
                )
            ]
        )
    except TreatFirstError:
        result.skipped += 1  # claimed or delivered meanwhile
        return
    held = {"status": "sending", "lease_id": lease}
    account = ctx.store.get(ACCOUNTS, {"account_id": row["account_id"]})
    phone = phone_of(ctx, account) if account is not None else None
    if phone is None:  # no such account, or its identity was erased
        ctx.commit([Update(OUTBOX, _row_key(row), set={"status": "undeliverable"}, remove=["queue"], expect=held)])
        result.undeliverable += 1
        return
    try:
        publisher.publish(gateway_message(ctx, row, phone))
    except Exception as exc:  # the gateway did not take it: back to pending for the next run
        result.failed += 1
        result.errors.append(type(exc).__name__)
        with contextlib.suppress(TreatFirstError):  # the lease ran out and another run took it
            ctx.commit(
                [
                    Update(
                        OUTBOX,
                        _row_key(row),
                        set={"status": "pending"},
                        remove=["lease_id", "lease_until"],
                        expect=held,
                    )
                ]
            )
        return
    with contextlib.suppress(TreatFirstError):  # the lease ran out: the row goes out again under the same id
        ctx.commit(
            [
                Update(
                    OUTBOX,
                    _row_key(row),
                    set={"status": "sent", "sent_at": ctx.now_text(), "sent_via": publisher.name},
                    remove=["queue", "lease_id", "lease_until"],
                    expect=held,
                    fail=ConcurrentUpdate,
                )
            ]
        )
    result.sent += 1
