"""The blacklist record and the way off it (domain.blacklist holds the states and the transition table).

Items of the `blacklist` table (hash key `item_id`):
- a record, "blr_" + 26 characters derived from its cause (account, ladder step or strike rule, anchor date), so a
  rerun of the step that lists can never make a second record: the Put refuses an existing id;
- an appeal, "bla_...";
- a change-log row, "blc_<record>_<n>": the export-relevant changes, append-only, each with the city's OPEN
  business date at its commit (a day the export has not read yet: a closed day never gains a row, so re-running an
  export of a closed window reads the same rows). Rows carry change_day "<city>#<date>#<shard>" for the sparse,
  sharded `blacklist_changes` index.

What the export sees (the rule `changes()` implements, agreed with the export):
- "added" is written when the record is PUBLISHED: on the first sweep on or after `publish_on` (the listing date +
  the policy's `blacklist.publish_after_days`, an objection period), and only while no appeal is pending. A record
  under appeal is withheld: when the appeal is rejected it is published at once if its date has come, and when the
  appeal is accepted it leaves without ever being added.
- "removed" is written when a PUBLISHED record leaves the list (repair, accepted appeal, expiry, correction), with
  its reason. An appeal filed after publication leaves the record exported until an operator decides it.
- A record removed before publication writes no row (the platform never had it).
- A purge (after the policy's retention) deletes the record's change rows with its personal data; the audit events
  remain.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from treatfirst.domain import blacklist as b
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import ConcurrentUpdate
from treatfirst.domain.policy import Policy
from treatfirst.services.ports import BLACKLIST, Item, Put, Write
from treatfirst.services.unit_of_work import Context

CHANGE_SHARDS = 4  # a day's change rows spread over this many index partitions
DUE_SHARDS = 16  # the same count and hash as the collection sweep's shards (services.collection.collect_shard)


def due_shard(account_id: str) -> str:
    """The record's shard in the blacklist_due index: the account's collection shard, so the sweep of shard n
    handles the records of shard n."""
    return str(int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:4], "big") % DUE_SHARDS)


def change_shard(record_id: str) -> int:
    return int.from_bytes(hashlib.sha256(record_id.encode()).digest()[:4], "big") % CHANGE_SHARDS


def change_day(city_code: str, business_date: str, shard: int) -> str:
    return f"{city_code}#{business_date}#{shard}"


def open_business_date(ctx: Context) -> date:
    """The city's business date still open now (its last closed date + 1): the date a change written now has."""
    return closed_through(ctx.clock.now(), zone=ctx.policy.timezone, cutoff=ctx.policy.due_at) + timedelta(days=1)


def timing(policy: Policy) -> b.Timing:
    rule = policy.blacklist
    if rule is None:
        raise ValueError(f"the policy of {policy.city_code} has no blacklist rule")
    return b.Timing(
        publish_after_days=rule.publish_after_days,
        validity_days=rule.validity_days,
        cooling_days=policy.repair_cooling_days,
        retention_days=rule.retention_days,
    )


def record_id_for(account_id: str, cause: str) -> str:
    """The stable id of the record a cause makes ("<account>#<source>#<step>#<anchor or date>")."""
    return "blr_" + hashlib.sha256(f"{account_id}#{cause}".encode()).hexdigest()[:26].upper()


def basis(policy: Policy) -> dict[str, Any]:
    """The decision basis every record carries: the policy that made it and its legal basis."""
    rule = policy.blacklist
    assert rule is not None
    return {
        "policy_version": policy.version,
        "policy_sha256": policy.sha256,
        "legal_basis": rule.legal_basis.text,
        "legal_basis_ref": {k: v for k, v in rule.legal_basis.as_dict().items() if k != "text"},
    }


def index_fields(state: str, dates: b.Dates, t: b.Timing, account_id: str) -> dict[str, Any]:
    """The sparse index keys of a record in `state` (None: remove the attribute)."""
    due = b.next_due(state, dates, t)
    return {
        "due_shard": due_shard(account_id) if due else None,
        "next_due": due.isoformat() if due else None,
        "list_state": state if state != b.PURGED else None,
        "open": True if state in b.OPEN_STATES else None,
    }


# ---- creating a record ---------------------------------------------------------------------------------------------
def record_item(
    ctx: Context,
    *,
    account_id: str,
    cause: Mapping[str, Any],
    bills: Sequence[Mapping[str, Any]],
    notice: Sequence[Mapping[str, Any]],
    strike_bills: Sequence[str],
    on: date,
) -> Item:
    """The record as first written (state listed). `cause` holds source ("ladder" | "strikes"), step, anchor (the
    earliest unpaid due date, for the ladder) and days_overdue; `bills` [{bill_id, amount_fen, due_at}]; `notice`
    the delivered outbox rows that told the patient beforehand (never empty: the caller checked)."""
    if not notice:
        raise ValueError("a blacklist record needs proof of prior notice")
    t = timing(ctx.policy)
    dates = b.listing_dates(on, t)
    key = cause.get("anchor") or on.isoformat()
    record_id = record_id_for(account_id, f"{cause['source']}#{cause['step']}#{key}")
    at = ctx.now_text()
    return {
        "item_id": record_id,
        "kind": "record",
        "record_id": record_id,
        "city_code": ctx.policy.city_code,
        "account_id": account_id,
        "holder": account_id,
        "opened_at": at,
        "listed_at": at,
        "state": b.LISTED,
        "state_version": 1,
        "cause": dict(cause),
        "reason": b.LISTING_REASON,
        "amount_fen": sum(int(x["amount_fen"]) for x in bills),
        "bills": [dict(x) for x in bills],
        "basis": basis(ctx.policy),
        "notice": {
            "message_ids": [r["message_id"] for r in notice],
            "sent_at": [r["sent_at"] for r in notice],
        },
        "strike_bills": list(strike_bills),
        "change_count": 0,
        "changes": [],
        "request_id": ctx.request_id,
        **{k: v for k, v in b.dates_fields(dates).items() if v is not None},
        **{k: v for k, v in index_fields(b.LISTED, dates, t, account_id).items() if v is not None},
    }


def change_put(ctx: Context, record: Mapping[str, Any], kind: str, reason: str, n: int) -> Put:
    """Change-log row number `n` of the record (the record's change_count before it), written with the open
    business date. The id is fixed by (record, n): the record's own guarded update makes n unique."""
    record_id = record["record_id"]
    change_id = f"blc_{record_id[4:]}_{n:02d}"
    business_date = open_business_date(ctx).isoformat()
    at = ctx.now_text()
    row = {
        "item_id": change_id,
        "kind": "change",
        "change_id": change_id,
        "change_kind": kind,
        "record_id": record_id,
        "account_id": record["account_id"],
        "city_code": record["city_code"],
        "business_date": business_date,
        "at": at,
        "reason": reason,
        "amount_fen": record["amount_fen"],
        "bills": record["bills"],
        "basis": {k: record["basis"][k] for k in ("policy_version", "policy_sha256", "legal_basis")},
        "listed_at": record["listed_at"],
        "valid_until": record["valid_until"],
        "change_day": change_day(record["city_code"], business_date, change_shard(record_id)),
        "change_seq": f"{at}#{change_id}",
        "request_id": ctx.request_id,
    }
    return Put(BLACKLIST, row, fail=lambda: ConcurrentUpdate("this blacklist change was already written"))


# ---- the read API for the export -----------------------------------------------------------------------------------
CHANGE_FIELDS = (
    "change_id",
    "record_id",
    "account_id",
    "kind",
    "business_date",
    "at",
    "reason",
    "amount_fen",
    "bills",
    "basis",
    "listed_at",
    "valid_until",
)


def change_view(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {name: row[name] for name in CHANGE_FIELDS if name in row and name != "kind"}
    out["kind"] = row["change_kind"]
    return {name: out[name] for name in CHANGE_FIELDS}


def _day_rows(ctx: Context, key: str, page_size: int) -> Iterator[Item]:
    start = None
    while True:
        page = ctx.store.query(BLACKLIST, key, index="blacklist_changes", limit=page_size, start=start)
        yield from page.items
        if page.cursor is None:
            return
        start = page.cursor


def changes(
    ctx: Context, *, city_code: str, from_date: date, to_date: date, page_size: int = 200
) -> Iterator[dict[str, Any]]:
    """Every change of the city's blacklist with a business date in [from_date, to_date), in a stable order:
    by business date, then time, then change id. Reads only the index partitions of those days (no scan) and
    streams them (memory stays flat: one page per shard of the current day). Each item holds CHANGE_FIELDS:
    change_id, record_id, account_id, kind ("added" | "removed"), business_date, at, reason (the listing reason
    code for "added", the removal reason for "removed"), amount_fen, bills [{bill_id, amount_fen, due_at}],
    basis {policy_version, policy_sha256, legal_basis}, listed_at, valid_until (last business date on the list).
    A window whose days are all closed reads the same rows every time."""
    day = from_date
    while day < to_date:
        streams = [_day_rows(ctx, change_day(city_code, day.isoformat(), s), page_size) for s in range(CHANGE_SHARDS)]
        for row in heapq.merge(*streams, key=lambda r: str(r["change_seq"])):
            yield change_view(row)
        day += timedelta(days=1)


def record_writes_for_listing(ctx: Context, record: Item) -> list[Write]:
    """The Put of a new record, plus its "added" change when the policy has no objection period (published on the
    listing day). Refuses an existing record id (CONCURRENT_UPDATE): one cause, one record."""
    writes: list[Write] = []
    t = timing(ctx.policy)
    dates = b.dates_from_item(record)
    if dates.publish_on <= dates.listed_on:
        published = b.Dates(**{**dates.__dict__, "published_on": dates.listed_on})
        record = {
            **record,
            "published_on": dates.listed_on.isoformat(),
            "change_count": 1,
            "changes": [f"blc_{record['record_id'][4:]}_00"],
            **{k: v for k, v in index_fields(b.LISTED, published, t, record["account_id"]).items() if v is not None},
        }
        if b.next_due(b.LISTED, published, t) is None:  # pragma: no cover - an open record always expires
            record.pop("next_due", None)
        writes.append(change_put(ctx, record, "added", b.LISTING_REASON, 0))
    writes.insert(0, Put(BLACKLIST, record, fail=lambda: ConcurrentUpdate("this blacklist record already exists")))
    return writes
