"""Events to hospitals and channels: one row per (cause, receiver), written in the SAME transaction as its cause.

    event_put(ctx, *, kind, audience, subject, data) -> Write

- `kind` is a name of the catalogue (treatfirst.domain.events.CATALOGUE); `audience` is the receiving caller,
  "<caller kind>:<principal id>" (Caller.actor), and must be a kind the catalogue allows for that event;
  `subject` names the cause (a bill id, a refund id, "<account>#<step>#<anchor>", ...); `data` holds only
  the fields the catalogue declares for the kind (thin events: ids, amounts in fen, dates, codes).
- The event id is derived from (kind, audience, subject) and the Put refuses an existing row, so a cause rerun
  can never produce a second event: its whole transaction fails (CONCURRENT_UPDATE), like the SMS outbox.
- The row waits in the sparse `events_due` index until the webhook dispatcher (services/webhooks.py) has
  handed it to the receiver's endpoints, and stays readable by its receiver through `GET /v1/events?after=`
  (the pull fallback, index `events_by_audience`, ordered by `seq` = created_at#event_id).

An accepted charge post writes no event (it stays ONE DynamoDB request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import ConcurrentUpdate, EventNotFound
from treatfirst.domain.events import FIELDS, KINDS, event_id
from treatfirst.services.identity import Caller
from treatfirst.services.paging import decode_cursor, encode_cursor
from treatfirst.services.ports import EVENTS, Item, Put
from treatfirst.services.unit_of_work import Context

EVENT_PART = "event"  # the event row's range key; delivery rows are "to#<endpoint>", attempts "try#<endpoint>#<n>"
DUE_SHARDS = 4  # rows waiting for the dispatcher spread over this many index partitions
SETTLE_SECONDS = 30  # the pull list shows an event this long after it was written (a slow transaction's row,
# written with an earlier created_at, is never skipped by a reader that already moved past it)

_AUDIENCE = re.compile(r"^[a-z_]{1,20}:[A-Za-z0-9_-]{1,64}$")
_ID = re.compile(r"^[A-Za-z0-9_#:-]{1,200}$")
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _check_value(name: str, value: Any) -> Any:
    kind = FIELDS[name][0]
    ok = {
        "id": lambda v: isinstance(v, str) and bool(_ID.match(v)),
        "code": lambda v: isinstance(v, str) and bool(_CODE.match(v)),
        "date": lambda v: isinstance(v, str) and bool(_DATE.match(v)),
        "time": lambda v: isinstance(v, str) and bool(_TIME.match(v)),
        "fen": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "count": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "bool": lambda v: isinstance(v, bool),
        "codes": lambda v: isinstance(v, list | tuple) and all(isinstance(c, str) and _CODE.match(c) for c in v),
        "ids": lambda v: isinstance(v, list | tuple) and all(isinstance(c, str) and _ID.match(c) for c in v),
    }[kind](value)
    if not ok:
        raise ValueError(f"event field {name} must be of type {kind}, not {value!r}")
    return list(value) if isinstance(value, list | tuple) else value


def check_data(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data, checked against the catalogue; ValueError names the first field refused."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown event kind {kind!r} (known: {', '.join(KINDS)})")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name not in spec.fields:
            raise ValueError(f"event {kind} does not carry {name!r} (declared: {', '.join(spec.fields)})")
        if value is not None:
            out[name] = _check_value(name, value)
    return out


def due_shard(eid: str) -> str:
    return str(int(eid[4:12], 16) % DUE_SHARDS)


def event_put(ctx: Context, *, kind: str, audience: str, subject: str, data: Mapping[str, Any]) -> Put:
    """The event row, to commit in the same transaction as its cause (a retry of the cause adds nothing).

    Raises ValueError for an unknown kind, an audience the kind does not allow or an undeclared field
    (programming errors, never a caller's input)."""
    checked = check_data(kind, data)
    if not _AUDIENCE.match(audience) or audience.split(":", 1)[0] not in KINDS[kind].audiences:
        raise ValueError(f"event {kind} cannot go to {audience!r} (kinds: {', '.join(KINDS[kind].audiences)})")
    if not subject or len(subject) > 400:
        raise ValueError("an event's subject names its cause (1-400 characters)")
    eid = event_id(kind, audience, subject)
    now = ctx.now_text()
    return Put(
        EVENTS,
        {
            "event_id": eid,
            "part": EVENT_PART,
            "kind": kind,
            "audience": audience,
            "subject": subject,
            "data": checked,
            "created_at": now,
            "seq": f"{now}#{eid}",
            "request_id": ctx.request_id,
            "due_shard": due_shard(eid),
            "due_at": now,
        },
        fail=lambda: ConcurrentUpdate("this event was already written"),
    )


def bill_audiences(bill: Item) -> list[str]:
    """Who hears of a bill: its hospital, and the payment channel that enrolled the patient (when one did)."""
    return [f"hospital:{bill['hospital_id']}"] + ([f"channel:{bill['channel_id']}"] if bill.get("channel_id") else [])


def bill_events(ctx: Context, kind: str, bill: Item, **extra: Any) -> list[Put]:
    """The event of a bill's change (bill.issued, bill.paid) to each of its audiences, in the change's own
    transaction: one row each (a row more in a transaction, never a request more)."""
    fields = {
        "bill.issued": ("bill_id", "visit_id", "account_id", "status", "amount_fen", "emergency_amount_fen"),
        "bill.paid": ("bill_id", "visit_id", "account_id", "paid_fen", "paid_at"),
    }[kind]
    data = {name: bill[name] for name in fields if name in bill}
    if kind == "bill.issued":
        data["due_at"] = bill["due_local"]
    return [
        event_put(ctx, kind=kind, audience=audience, subject=bill["bill_id"], data=data | extra)
        for audience in bill_audiences(bill)
    ]


def payload(row: Item) -> dict[str, Any]:
    """What a receiver gets (the webhook body and each item of the pull list), per Standard Webhooks:
    {"type", "timestamp", "data"}, plus the event id (also the `webhook-id` header)."""
    return {"id": row["event_id"], "type": row["kind"], "timestamp": row["created_at"], "data": row["data"]}


# ---- the pull fallback: GET /v1/events?after= ---------------------------------------------------------------------
def list_events(ctx: Context, caller: Caller, *, after: str | None, limit: int) -> dict[str, Any]:
    """The caller's own events, oldest first, after the position `after` (the `after` of the previous answer).

    An answer always carries `after` (the position to ask from next time, even when the page is empty), so a
    receiver that cannot take calls polls with it and never misses nor repeats an event."""
    caller.may("events", "list")
    bound = f"events|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, after)
    until = rfc3339(ctx.clock.now() - timedelta(seconds=SETTLE_SECONDS))
    page = ctx.store.query(EVENTS, caller.actor, index="events_by_audience", limit=limit, start=start, until=until)
    last = page.items[-1] if page.items else None
    position = {k: last[k] for k in ("event_id", "part", "audience", "seq")} if last else start
    return {
        "items": [payload(r) for r in page.items],
        "has_more": page.cursor is not None,
        "after": encode_cursor(ctx.cipher, bound, position) if position else None,
    }


def own_event(ctx: Context, caller: Caller, eid: str) -> Item:
    """The caller's own event row, or EVENT_NOT_FOUND (another caller's event is not found either)."""
    row = ctx.store.get(EVENTS, {"event_id": eid, "part": EVENT_PART}) if re.match(r"^evt_[0-9a-f]{32}$", eid) else None
    if row is None or row["audience"] != caller.actor:
        raise EventNotFound()
    return row
