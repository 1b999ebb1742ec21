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
  under appeal is withheld: when the appeal is rejected, the next daily sweep publishes it (its date has come), and
  when the appeal is accepted it leaves without ever being added.
- "removed" is written when a PUBLISHED record leaves the list (repair, accepted appeal, expiry, correction), with
  its reason. An appeal filed after publication leaves the record exported until an operator decides it.
- A record removed before publication writes no row (the platform never had it).
- A purge (after the policy's retention) deletes the record's change rows with its personal data; the audit events
  remain.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import msgspec

from treatfirst.domain import blacklist as b
from treatfirst.domain import collection as c
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import (
    AccountNotFound,
    AppealAlreadyDecided,
    AppealNotAllowed,
    AppealNotFound,
    AppealPending,
    BlacklistRecordNotFound,
    ConcurrentUpdate,
    RecordNotListed,
    StrikeAlreadyAnnulled,
    StrikeNotFound,
    TreatFirstError,
    ValidationFailed,
)
from treatfirst.domain.ids import new_id
from treatfirst.domain.policy import Policy
from treatfirst.messages import blacklist as msg
from treatfirst.messages.common import to_item
from treatfirst.services.enrollment import fresh
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.outbox import message_id
from treatfirst.services.paging import PageQuery, decode_cursor, every, page_view
from treatfirst.services.ports import ACCOUNTS, AUDIT, BILLS, BLACKLIST, OUTBOX, Delete, Item, Put, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

_log = logging.getLogger(__name__)

LIST_OPEN, LIST_REMOVED = "open", "removed"  # blacklist_by_state partitions of records (purged ones leave it)
APPEALS_PENDING, APPEALS_DECIDED = "appeal_pending", "appeal_decided"  # ... and of appeals
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
        "list_state": LIST_OPEN if state in b.OPEN_STATES else (LIST_REMOVED if state == b.REMOVED else None),
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


# ---- transitions ---------------------------------------------------------------------------------------------------
_PERSONAL = ("bills", "basis", "notice", "cause", "amount_fen", "strike_bills", "holder", "account_id", "removal")


def transition(
    ctx: Context,
    caller: Caller | None,
    record: Item,
    event: str,
    *,
    when: date,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> tuple[list[Write], Item, bool]:
    """The writes that move `record` by `event` (a row of domain.blacklist.RECORD_TRANSITIONS), dated `when` (a
    business date), audited with who (`caller`, None for the sweep) and why (`reason`).

    Returns (writes, the record after, whether the account must drop its open-record mark). The record's Update is
    guarded by its state_version, so two moves racing never both apply; a change-log row is added when the export
    must learn of it (domain.blacklist.export_change)."""
    state = record["state"]
    to = b.target(state, event)
    t = timing(ctx.policy)
    before = b.dates_from_item(record)
    dates = before
    now = ctx.now_text()
    fields: dict[str, Any] = {"state": to, "updated_at": now}
    remove: list[str] = []
    writes: list[Write] = []
    n = int(record.get("change_count", 0))
    change_ids = list(record.get("changes") or [])
    actor = caller.actor if caller else "system"
    if event == "publish":
        dates = replace(dates, published_on=when)
    elif event in b.REASON_OF:
        dates = b.removed_dates(dates, when, t)
        fields["removal"] = {"reason": b.REASON_OF[event], "on": when.isoformat(), "at": now, "by": actor}
        fields["removed_at"] = now
    kind = b.export_change(event, before)
    if kind is not None:
        change_reason = b.LISTING_REASON if kind == "added" else b.REASON_OF[event]
        writes.append(change_put(ctx, record, kind, change_reason, n))
        change_ids.append(f"blc_{record['record_id'][4:]}_{n:02d}")
        n += 1
        fields["change_count"] = n
        fields["changes"] = change_ids
    if event == "purge":
        # the retention ended: the personal data goes, with the change rows that copied it; a tombstone remains
        remove += [f for f in _PERSONAL if f in record]
        writes += [Delete(BLACKLIST, {"item_id": cid}, expect={"record_id": record["record_id"]}) for cid in change_ids]
        fields["changes"] = None
        fields["purged_at"] = now
    fields.update(b.dates_fields(dates))
    fields.update(index_fields(to, dates, t, record.get("account_id", "")))
    fields.update(extra or {})
    if state == b.APPEALING and event not in ("reject", "accept") and record.get("appeal_id"):
        # the record leaves the list while an appeal waits: the appeal is closed with it (accept decides it itself)
        writes.append(
            Update(
                BLACKLIST,
                {"item_id": record["appeal_id"]},
                set={"appeal_status": "closed", "list_state": APPEALS_DECIDED, "decided_at": now},
                expect={"appeal_status": "pending"},
                fail=ConcurrentUpdate,
            )
        )
    writes.insert(
        0,
        Update(
            BLACKLIST,
            {"item_id": record["record_id"]},
            set=fields,
            remove=tuple(remove),
            add={"state_version": 1},
            expect={"state_version": int(record["state_version"])},
            fail=ConcurrentUpdate,
        ),
    )
    writes.append(
        audit(
            ctx,
            caller,
            f"blacklist#{record['record_id']}",
            f"blacklist.{event}",
            state_from=state,
            state_to=to,
            on=when.isoformat(),
            reason=reason,
            change=kind,
            **ctx.policy.stamp,
        )
    )
    after = {
        **record,
        **{k: v for k, v in fields.items() if v is not None},
        "state_version": record["state_version"] + 1,
    }
    for k in [*remove, *(k for k, v in fields.items() if v is None)]:
        after.pop(k, None)
    return writes, after, state in b.OPEN_STATES and to not in b.OPEN_STATES


def account_release(ctx: Context, account: Item, record: Item, event: str, when: date) -> dict[str, Any]:
    """`set` fields of the account Update when its open record leaves the list: the mark goes; a credit repair also
    lifts the strike rule where the policy lets only an operator or a repair lift it (strikes.lift operator_only):
    the strikes up to the repair no longer count."""
    fields: dict[str, Any] = {}
    mark = account.get("blacklist_open") or {}
    if mark.get("record_id") == record["record_id"]:
        fields["blacklist_open"] = None
    if event == "repair" and ctx.policy.strike_lift == "operator_only":
        state = c.state_from_item(account)
        after = replace(state, strike_blocked=False, strikes_reset_on=when)
        fields["strikes_reset_on"] = when.isoformat()
        if state.strike_blocked:
            fields["strike_blocked"] = None
            fields["blocks"] = list(c.blocks_of(ctx.policy, after)) or None
    return fields


def _account(ctx: Context, account_id: str) -> Item | None:
    return ctx.store.get(ACCOUNTS, {"account_id": account_id}) if account_id.startswith("acc_") else None


def _account_update(account: Item, fields: Mapping[str, Any]) -> Update:
    """The account write of a blacklist change: guarded by the collection version, as the sweep's own writes are."""
    return Update(
        ACCOUNTS,
        {"account_id": account["account_id"]},
        set=dict(fields),
        add={"collect_version": 1},
        expect={"collect_version": int(account.get("collect_version", 0))},
        fail=ConcurrentUpdate,
    )


# ---- the daily sweep of records whose next transition is due ----------------------------------------------------
def sweep_due(ctx: Context, shard: str, through: date, *, page_size: int = 100) -> int:
    """Apply every transition due by the closed business date `through` to the records of `shard` (publication,
    repair, expiry, purge). Reads the sparse blacklist_due index up to `through`: only what is due, never a scan.
    A record acted on moves its next date on, so a rerun changes nothing. Returns the transitions made."""
    made = 0
    start = None
    while True:
        page = ctx.store.query(
            BLACKLIST, shard, index="blacklist_due", limit=page_size, start=start, until=through.isoformat()
        )
        for item in page.items:
            try:
                made += settle(ctx, item, through)
            except TreatFirstError as exc:
                fresh = ctx.store.get(BLACKLIST, {"item_id": item["item_id"]})
                try:
                    made += settle(ctx, fresh, through) if fresh else 0
                except TreatFirstError:
                    _log.warning("blacklist.step_failed code=%s shard=%s", exc.code, shard)
        if page.cursor is None:
            return made
        start = page.cursor


def settle(ctx: Context, record: Item, through: date) -> int:
    """Every transition due on `record` by `through`, in order, each its own transaction."""
    t = timing(ctx.policy)
    made = 0
    for _ in range(len(b.EVENTS)):
        due = b.due_event(record["state"], b.dates_from_item(record), t, through)
        if due is None:
            return made
        event, when = due
        account = _account(ctx, record["account_id"]) if event in b.REASON_OF else None
        if event == "repair":
            refused = _repair_refused(ctx, record, account)
            if refused:
                _interrupt_repair(ctx, record, account, refused)
                return made
        writes, after, released = transition(ctx, None, record, event, when=when, reason=_SWEEP_REASON[event])
        if released and account is not None:
            writes.append(_account_update(account, account_release(ctx, account, record, event, when)))
        ctx.commit(writes)
        record = after
        made += 1
    return made


_SWEEP_REASON = {
    "publish": "objection period over without an appeal",
    "repair": "all arrears paid and the cooling period passed",
    "expire": "validity period ended",
    "purge": "retention period ended",
}


def _unrecovered(ctx: Context, record: Item) -> bool:
    """Whether a bill of the record was written off and not recovered in full (the patient has not paid it)."""
    for entry_ in record.get("bills") or ():
        bill = ctx.store.get(BILLS, {"bill_id": entry_["bill_id"]})
        if bill is None or bill.get("status") != "written_off":
            continue
        if int(bill.get("recovered_fen", 0)) < int(bill.get("written_off_fen", 0)):
            return True
    return False


def _repair_refused(ctx: Context, record: Item, account: Item | None) -> str | None:
    """Why the repair cannot happen now (None: it can): arrears again, or a bill of the record not paid by the
    patient (written off and not recovered in full)."""
    if account is not None and any(u.overdue for u in c.state_from_item(account).unpaid):
        return "overdue_again"
    for entry_ in record.get("bills") or ():
        bill = ctx.store.get(BILLS, {"bill_id": entry_["bill_id"]})
        if bill is None:
            continue
        if bill.get("status") == "written_off" and int(bill.get("recovered_fen", 0)) < int(
            bill.get("written_off_fen", 0)
        ):
            return "written_off_unrecovered"
        if bill.get("status") not in ("paid", "written_off"):
            return "bill_unpaid"
    return None


def _interrupt_repair(ctx: Context, record: Item, account: Item | None, why: str) -> None:
    """The repair clock stops (the record stays listed); a later full payment starts it again."""
    t = timing(ctx.policy)
    dates = replace(b.dates_from_item(record), repaid_on=None)
    writes: list[Write] = [
        Update(
            BLACKLIST,
            {"item_id": record["record_id"]},
            set={"repaid_on": None, **index_fields(record["state"], dates, t, record["account_id"])},
            add={"state_version": 1},
            expect={"state_version": int(record["state_version"])},
            fail=ConcurrentUpdate,
        ),
        audit(ctx, None, f"blacklist#{record['record_id']}", "blacklist.repair_interrupted", reason=why),
    ]
    mark = (account or {}).get("blacklist_open") or {}
    if account is not None and mark.get("record_id") == record["record_id"]:
        writes.append(_account_update(account, {"blacklist_open": {"record_id": record["record_id"]}}))
    ctx.commit(writes)


# ---- the ladder's blacklist action (services.collection.step_account calls it) -----------------------------------
@dataclass
class LadderOutcome:
    """What the collection step adds to its own transaction for the blacklist."""

    fields: dict[str, Any] = field(default_factory=dict)  # account `set` fields
    writes: list[Write] = field(default_factory=list)
    look_again: date | None = None  # sweep the account again on this date (a listing waits for its notice)
    listed: str | None = None  # the record made


def _trigger(policy: Policy, before: c.State, plan: c.Plan, on: date) -> dict[str, Any] | None:
    """The listing the plan calls for: a ladder step with the blacklist action reached now, or the strike rule with
    the blacklist action applied now."""
    for step in policy.collection_ladder:
        if "blacklist" in step.actions and f"collection.step.{step.name}" in plan.events:
            anchor = before.earliest_due
            return {"source": "ladder", "step": step.name, "anchor": anchor.isoformat() if anchor else None}
    if "collection.strikes.applied" in plan.events and "blacklist" in policy.strike_actions:
        return {"source": "strikes", "step": "strikes", "rule_on": on.isoformat()}
    return None


def on_step(ctx: Context, account_id: str, item: Item, before: c.State, plan: c.Plan, on: date) -> LadderOutcome:
    """The blacklist part of one collection step (in the step's own transaction).

    - The ladder (or the strike rule) calls for a listing: the listing waits (`blacklist_pending` on the account,
      audited once) until a message that warned the patient was DELIVERED (outbox status sent): the step's reminder,
      else the step's own message, which goes out with this step, so the record is then made on a later sweep.
      The account is swept again every day while it waits. It is dropped (audited) if the arrears are paid first:
      no arrears, no listing (proportionality).
    - The record is made with its basis, bills, dates and the delivered message ids as proof of notice.
    - An open record: when a step finds every overdue bill paid (and nothing written off by it, and no bill of the
      record written off and not recovered in full), the repair clock starts (repaid_on, the record's due date moves
      to repaid_on + cooling days); overdue arrears again stop it. A recovery paying a written-off bill in full puts
      the account in the next sweep (services.payments), which then starts the clock.
    """
    out = LadderOutcome()
    if ctx.policy.blacklist is None:
        return out
    pending = item.get("blacklist_pending")
    mark = item.get("blacklist_open")
    overdue = [u for u in plan.state.unpaid if u.overdue]
    trigger = _trigger(ctx.policy, before, plan, on)
    fresh = False
    if trigger is not None and not mark and not pending:
        cause_on = date.fromisoformat(trigger["rule_on"]) if trigger.get("rule_on") else on
        anchor = date.fromisoformat(trigger["anchor"]) if trigger.get("anchor") else None
        keys = b.notice_keys(account_id, trigger["source"], trigger["step"], anchor, cause_on)
        pending = {**trigger, "since": on.isoformat(), "keys": list(keys)}
        fresh = True
    if pending:
        if not overdue:
            out.fields["blacklist_pending"] = None
            if not fresh:
                out.writes.append(
                    audit(ctx, None, f"account#{account_id}", "blacklist.listing_dropped", reason="arrears_paid")
                )
            return out
        rows = [ctx.store.get(OUTBOX, {"message_id": message_id(k)}) for k in pending["keys"]]
        proof = b.delivered(rows, before=ctx.now_text())
        if not proof:
            if fresh:
                out.fields["blacklist_pending"] = pending
                out.writes.append(
                    audit(
                        ctx,
                        None,
                        f"account#{account_id}",
                        "blacklist.waiting_for_notice",
                        step=pending["step"],
                        messages=[message_id(k) for k in pending["keys"]],
                    )
                )
            out.look_again = on + timedelta(days=1)
            return out
        record = _record_for(ctx, account_id, pending, overdue, plan, on, proof)
        out.writes += record_writes_for_listing(ctx, record)
        out.writes.append(
            audit(
                ctx,
                None,
                f"blacklist#{record['record_id']}",
                "blacklist.listed",
                account_id=account_id,
                step=pending["step"],
                amount_fen=record["amount_fen"],
                notice=record["notice"]["message_ids"],
                **ctx.policy.stamp,
            )
        )
        out.fields["blacklist_pending"] = None
        out.fields["blacklist_open"] = {"record_id": record["record_id"]}
        out.listed = record["record_id"]
        return out
    if mark:
        repaid = mark.get("repaid_on")
        if not overdue and not plan.write_offs and not repaid:
            _repair_clock(ctx, out, mark, on)
        elif overdue and repaid:
            _repair_clock(ctx, out, mark, None)
    return out


def _repair_clock(ctx: Context, out: LadderOutcome, mark: Mapping[str, Any], on: date | None) -> None:
    """Start (on = the business date everything overdue was found paid) or stop (None) the repair clock."""
    record = ctx.store.get(BLACKLIST, {"item_id": mark["record_id"]})
    if record is None or record["state"] not in b.OPEN_STATES:
        out.fields["blacklist_open"] = None  # the mark was stale: the record left the list already
        return
    if on is not None and _unrecovered(ctx, record):
        return  # written off, not paid: the clock starts when a recovery pays it in full (payments.notify_payment)
    t = timing(ctx.policy)
    dates = replace(b.dates_from_item(record), repaid_on=on)
    out.writes += [
        Update(
            BLACKLIST,
            {"item_id": record["record_id"]},
            set={
                "repaid_on": on.isoformat() if on else None,
                **index_fields(record["state"], dates, t, record["account_id"]),
            },
            add={"state_version": 1},
            expect={"state_version": int(record["state_version"])},
            fail=ConcurrentUpdate,
        ),
        audit(
            ctx,
            None,
            f"blacklist#{record['record_id']}",
            "blacklist.repair_started" if on else "blacklist.repair_interrupted",
            on=on.isoformat() if on else None,
            repair_on=(b.repair_on(dates, t) or on or date.min).isoformat() if on else None,
            reason="all overdue bills paid" if on else "overdue_again",
        ),
    ]
    out.fields["blacklist_open"] = {"record_id": record["record_id"], **({"repaid_on": on.isoformat()} if on else {})}


def _record_for(
    ctx: Context,
    account_id: str,
    pending: Mapping[str, Any],
    overdue: Sequence[c.UnpaidBill],
    plan: c.Plan,
    on: date,
    proof: Sequence[Mapping[str, Any]],
) -> Item:
    bills = []
    for u in overdue:
        bill = ctx.store.get(BILLS, {"bill_id": u.bill_id}) or {}
        bills.append({"bill_id": u.bill_id, "amount_fen": u.outstanding_fen, "due_at": bill.get("due_at")})
    ids = {u.bill_id for u in overdue}
    live = [s for s in plan.state.strikes if not s.annulled]
    strike_bills = [s.bill_id for s in live if pending["source"] == "strikes" or s.bill_id in ids]
    cause = {k: pending[k] for k in ("source", "step", "anchor", "rule_on") if pending.get(k)}
    cause["days_overdue"] = plan.days if plan.days is not None else 0
    return record_item(
        ctx, account_id=account_id, cause=cause, bills=bills, notice=proof, strike_bills=strike_bills, on=on
    )


# ---- the routes: views ---------------------------------------------------------------------------------------------
def _load_record(ctx: Context, record_id: str) -> Item:
    item = ctx.store.get(BLACKLIST, {"item_id": record_id}) if record_id.startswith("blr_") else None
    if item is None or item.get("kind") != "record":
        raise BlacklistRecordNotFound()
    return item


def _load_appeal(ctx: Context, appeal_id: str) -> Item:
    item = ctx.store.get(BLACKLIST, {"item_id": appeal_id}) if appeal_id.startswith("bla_") else None
    if item is None or item.get("kind") != "appeal":
        raise AppealNotFound()
    return item


def record_view(item: Mapping[str, Any]) -> dict[str, Any]:
    fields = {k: item[k] for k in msg.BlacklistRecord.__struct_fields__ if item.get(k) is not None}
    return to_item(msgspec.convert(fields, msg.BlacklistRecord))


def appeal_view(item: Mapping[str, Any]) -> dict[str, Any]:
    fields = {k: item[k] for k in msg.Appeal.__struct_fields__ if item.get(k) is not None}
    fields["status"] = item["appeal_status"]
    return to_item(msgspec.convert(fields, msg.Appeal))


_REASON_TEXT = {
    "ladder": "账单逾期 {days} 天仍未还清，按本市先医后付政策（{step}）列入失信名单",
    "strikes": "累计逾期达到本市先医后付政策的失信规则，列入失信名单",
}


def how_to_leave(policy: Policy) -> str:
    """The ways off the list under the policy, in the words the patient reads (the status route, the docs)."""
    t = timing(policy)
    parts = [f"结清全部逾期欠款后经过 {t.cooling_days} 天冷静期（期间无新的逾期）自动移出"]
    if policy.repair_appeal_allowed:
        parts.append("对记录有异议的，可通过渠道实名核验后提出异议，异议处理期间暂停对外报送，异议成立即移出")
    parts.append(f"列入满 {t.validity_days} 天自动移出")
    parts.append(f"移出 {t.retention_days} 天后删除记录")
    return "；".join(parts) + "。"


def status(ctx: Context, caller: Caller, account_id: str) -> dict[str, Any]:
    """The patient's blacklist status and the reasons (PIPL art. 24): each record with its reason, basis, bills,
    dates, whether it was exported, and the way off it. Read from the account's own index partition."""
    caller.may("blacklist", "status")
    account = _account(ctx, account_id)
    if account is None:
        raise AccountNotFound()
    rows = list(every(ctx.store, BLACKLIST, account_id, index="blacklist_by_account"))
    appeals = {r["appeal_id"]: r for r in rows if r.get("kind") == "appeal"}
    t = timing(ctx.policy) if ctx.policy.blacklist else None
    records = []
    for r in rows:
        if r.get("kind") != "record" or r["state"] == b.PURGED:
            continue
        cause = r.get("cause") or {}
        dates = b.dates_from_item(r)
        repair = b.repair_on(dates, t) if t and r["state"] in b.OPEN_STATES else None
        latest = appeals.get(r.get("appeal_id", ""))
        records.append(
            msg.StatusRecord(
                record_id=r["record_id"],
                state=r["state"],
                reason_text=_REASON_TEXT[cause.get("source", "ladder")].format(
                    days=cause.get("days_overdue", 0), step=cause.get("step", "")
                ),
                amount_fen=r["amount_fen"],
                bills=[msgspec.convert(x, msg.ListedBill) for x in r["bills"]],
                listed_on=r["listed_on"],
                valid_until=r["valid_until"],
                legal_basis=r["basis"]["legal_basis"],
                policy_version=r["basis"]["policy_version"],
                exported=bool(r.get("published_on")),
                how_to_leave=how_to_leave(ctx.policy),
                repaid_on=r.get("repaid_on"),
                repair_on=repair.isoformat() if repair else None,
                removed_on=r.get("removed_on"),
                removal_reason=(r.get("removal") or {}).get("reason"),
                appeal_status=latest["appeal_status"] if latest else None,
            )
        )
    listed = any(r.state in b.OPEN_STATES for r in records)
    return to_item(
        msg.BlacklistStatus(
            account_id=account_id,
            listed=listed,
            waiting_for_notice=bool(account.get("blacklist_pending")),
            records=records,
        )
    )


def list_open(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """Records on the list now (listed or under appeal), oldest first (operators)."""
    caller.may("blacklist", "list")
    bound = f"blacklist|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(BLACKLIST, LIST_OPEN, index="blacklist_by_state", limit=query.limit, start=start)
    return page_view(ctx.cipher, bound, page, record_view)


def waiting_for_notice(ctx: Context, caller: Caller) -> dict[str, Any]:
    """Accounts whose listing waits for a delivered notice (`blacklist_pending`), the longest waiting first
    (operators). Such an account is swept again every day while it waits, so it is in the sparse by_next_step index,
    whose projection carries the mark: the accounts in collection are read a page at a time, never a scan."""
    from treatfirst.services.collection import COLLECT_SHARDS

    caller.may("blacklist", "waiting")
    items = []
    for shard in range(COLLECT_SHARDS):
        for account in every(ctx.store, ACCOUNTS, str(shard), index="by_next_step"):
            pending = account.get("blacklist_pending")
            if pending:
                items.append(
                    {
                        "account_id": account["account_id"],
                        "source": pending["source"],
                        "step": pending["step"],
                        "since": pending["since"],
                        "messages": [message_id(k) for k in pending.get("keys") or ()],
                    }
                )
    items.sort(key=lambda i: (i["since"], i["account_id"]))
    return to_item(msgspec.convert({"items": items}, msg.WaitingListings))


def get_record(ctx: Context, caller: Caller, record_id: str) -> dict[str, Any]:
    """A record (a purged one as its tombstone) with its appeals (operators)."""
    caller.may("blacklist", "read")
    record = _load_record(ctx, record_id)
    appeals = [a for a in (ctx.store.get(BLACKLIST, {"item_id": i}) for i in record.get("appeal_ids") or ()) if a]
    return {"record": record_view(record), "appeals": [appeal_view(a) for a in appeals]}


def list_appeals(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """Appeals waiting for a decision, oldest first (operators)."""
    caller.may("blacklist_appeals", "list")
    bound = f"appeals|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(BLACKLIST, APPEALS_PENDING, index="blacklist_by_state", limit=query.limit, start=start)
    return page_view(ctx.cipher, bound, page, appeal_view)


# ---- the routes: appeal, decision, correction, strike annulment ------------------------------------------------
def file_appeal(
    ctx: Context, caller: Caller, record_id: str, command: msg.AppealRequest, idempotency_key: str | None
) -> Outcome:
    """An appeal against a listed record: by the patient through a channel (fresh real-name evidence of the person,
    as a withdrawal needs) or by an operator on the patient's behalf. The record goes to `appealing`: it is not
    published (exported) while the appeal waits; an operator decides it."""
    caller.may("blacklist_appeals", "file")
    evidence: dict[str, str] | None = None
    if caller.kind == "channel":
        if command.verification is None:
            raise ValidationFailed("a channel's appeal needs the person's real-name verification", field="verification")
        evidence = {**fresh(ctx, command.verification), "channel": caller.actor}
    if not ctx.policy.repair_appeal_allowed:
        raise AppealNotAllowed()
    idem = Idempotency(ctx, caller, idempotency_key, f"appeal:{record_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        record = _load_record(ctx, record_id)
        if record["state"] == b.APPEALING:
            raise AppealPending()
        if record["state"] not in b.OPEN_STATES:
            raise RecordNotListed()
        now = ctx.now_text()
        appeal_id = new_id("bla")
        appeal: Item = {
            "item_id": appeal_id,
            "kind": "appeal",
            "appeal_id": appeal_id,
            "record_id": record_id,
            "account_id": record["account_id"],
            "holder": record["account_id"],
            "opened_at": now,
            "list_state": APPEALS_PENDING,
            "appeal_status": "pending",
            "statement": command.statement.strip(),
            "filed_at": now,
            "filed_by_kind": "channel" if caller.kind == "channel" else "operator",
            "filed_by": caller.actor,
            "request_id": ctx.request_id,
        }
        if evidence is not None:
            appeal["verification"] = evidence
            appeal["verification_method"] = evidence["method"]
        writes, _, _ = transition(
            ctx,
            caller,
            record,
            "appeal",
            when=open_business_date(ctx),
            reason=appeal["statement"],
            extra={"appeal_id": appeal_id, "appeal_ids": [*(record.get("appeal_ids") or ()), appeal_id]},
        )
        writes.insert(0, Put(BLACKLIST, appeal, fail=ConcurrentUpdate))
        return writes, Outcome(201, appeal_view(appeal))

    return idem.run(build)


def decide_appeal(
    ctx: Context, caller: Caller, appeal_id: str, command: msg.AppealDecision, idempotency_key: str | None
) -> Outcome:
    """An operator decides an appeal with a reason. Accepted: the record leaves the list (appeal_accepted; the
    export learns it if the record had been published) and, if asked, the strikes it rested on are annulled.
    Rejected: the record is listed again (published by the next daily sweep once its date has come)."""
    caller.may("blacklist_appeals", "decide")
    idem = Idempotency(ctx, caller, idempotency_key, f"appeal-decision:{appeal_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        appeal = _load_appeal(ctx, appeal_id)
        if appeal["appeal_status"] != "pending":
            raise AppealAlreadyDecided()
        record = _load_record(ctx, appeal["record_id"])
        if record["state"] != b.APPEALING or record.get("appeal_id") != appeal_id:
            raise AppealAlreadyDecided()
        reason = command.reason.strip()
        accepted = command.outcome == "accepted"
        decided = {
            "appeal_status": command.outcome,
            "list_state": APPEALS_DECIDED,
            "decided_at": ctx.now_text(),
            "decided_by": caller.actor,
            "decision_reason": reason,
            "annul_strikes": bool(accepted and command.annul_strikes),
        }
        when = open_business_date(ctx)
        writes, _, released = transition(
            ctx, caller, record, "accept" if accepted else "reject", when=when, reason=reason
        )
        writes.insert(
            0,
            Update(
                BLACKLIST,
                {"item_id": appeal_id},
                set=decided,
                expect={"appeal_status": "pending"},
                fail=AppealAlreadyDecided,
            ),
        )
        if released:
            account = _account(ctx, record["account_id"])
            if account is not None:
                fields = account_release(ctx, account, record, "accept", when)
                if decided["annul_strikes"]:
                    more, annul_writes, _ = annul(
                        ctx, caller, account, record.get("strike_bills") or [], reason, strict=False
                    )
                    fields.update(more)
                    writes += annul_writes
                writes.append(_account_update(account, fields))
        return writes, Outcome(200, appeal_view({**appeal, **decided}))

    return idem.run(build)


def correct(
    ctx: Context, caller: Caller, record_id: str, command: msg.CorrectionRequest, idempotency_key: str | None
) -> Outcome:
    """An operator removes a record made in error, with a reason (a pending appeal is closed with it)."""
    caller.may("blacklist", "correct")
    idem = Idempotency(ctx, caller, idempotency_key, f"correct:{record_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        record = _load_record(ctx, record_id)
        if record["state"] not in b.OPEN_STATES:
            raise RecordNotListed()
        when = open_business_date(ctx)
        writes, after, released = transition(ctx, caller, record, "correct", when=when, reason=command.reason.strip())
        account = _account(ctx, record["account_id"]) if released else None
        if account is not None:
            writes.append(_account_update(account, account_release(ctx, account, record, "correct", when)))
        return writes, Outcome(200, record_view(after))

    return idem.run(build)


def annul(
    ctx: Context, caller: Caller, account: Item, bill_ids: Sequence[str], reason: str, *, strict: bool
) -> tuple[dict[str, Any], list[Write], dict[str, Any]]:
    """Annul the strikes of `bill_ids`: a new row per strike in the append-only strike log (the strike's own row
    stays), the account's strike flags, and the strike rule re-checked: its actions are lifted when it no longer
    holds and the policy lets an annulment lift them (strikes.lift operator_only; rule_no_longer_met once nothing
    is unpaid, as the sweep would). `strict`: an unknown or annulled strike is an error (the single-strike route).
    Returns (account `set` fields, writes, {"count", "applied"})."""
    state = c.state_from_item(account)
    strikes = list(state.strikes)
    writes: list[Write] = []
    for bill_id in bill_ids:
        index = next((i for i, s in enumerate(strikes) if s.bill_id == bill_id), None)
        if index is None:
            if strict:
                raise StrikeNotFound()
            continue
        if strikes[index].annulled:
            if strict:
                raise StrikeAlreadyAnnulled()
            continue
        strikes[index] = replace(strikes[index], annulled=True)
        writes.append(
            Put(
                AUDIT,
                {
                    "subject": f"strike#{account['account_id']}",
                    "event_id": f"annul#{bill_id}",
                    "action": "strike.annulled",
                    "actor_kind": caller.kind,
                    "actor_id": caller.principal_id,
                    "at": ctx.now_text(),
                    "request_id": ctx.request_id,
                    "details": {"bill_id": bill_id, "on": strikes[index].on.isoformat(), "reason": reason},
                },
                fail=StrikeAlreadyAnnulled,
            )
        )
    p = ctx.policy
    on = open_business_date(ctx) - timedelta(days=1)
    count = c.strikes_in_window(strikes, on, p.strike_window_months, state.strikes_reset_on)
    met = c.strike_rule_met(count, p.strike_comparison, p.strike_count)
    blocked = state.strike_blocked and not (not met and (p.strike_lift == "operator_only" or not state.unpaid))
    after = replace(state, strikes=tuple(strikes), strike_blocked=blocked)
    fields: dict[str, Any] = {
        "strikes": [c.strike_entry(s) for s in strikes] or None,
        "strike_blocked": True if blocked else None,
        "blocks": list(c.blocks_of(p, after)) or None,
    }
    if state.strike_blocked and not blocked:
        writes.append(
            audit(ctx, caller, f"account#{account['account_id']}", "collection.strikes.lifted", reason=reason)
        )
    pending = account.get("blacklist_pending") or {}
    if pending.get("source") == "strikes" and not met:
        # the listing the strike rule called for rests on strikes that no longer meet it: it is not made
        fields["blacklist_pending"] = None
        writes.append(
            audit(
                ctx, caller, f"account#{account['account_id']}", "blacklist.listing_dropped", reason="strike_annulled"
            )
        )
    return fields, writes, {"count": count, "applied": blocked}


def annul_strike(
    ctx: Context,
    caller: Caller,
    account_id: str,
    bill_id: str,
    command: msg.StrikeAnnulment,
    idempotency_key: str | None,
) -> Outcome:
    """An operator annuls one strike with a reason (the strike log is append-only: the annulment is a row of its
    own); the strike count and the strike rule's suspension honour it at once."""
    caller.may("collection", "annul_strike")
    idem = Idempotency(ctx, caller, idempotency_key, f"annul:{account_id}:{bill_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        account = _account(ctx, account_id)
        if account is None:
            raise AccountNotFound()
        reason = command.reason.strip()
        fields, writes, info = annul(ctx, caller, account, [bill_id], reason, strict=True)
        writes.insert(0, _account_update(account, fields))
        strike = next(s for s in c.state_from_item(account).strikes if s.bill_id == bill_id)
        body = msg.StrikeAnnulled(
            account_id=account_id,
            bill_id=bill_id,
            on=strike.on.isoformat(),
            annulled_at=ctx.now_text(),
            reason=reason,
            strikes_counted=info["count"],
            strike_rule_applied=info["applied"],
        )
        return writes, Outcome(200, to_item(body))

    return idem.run(build)
