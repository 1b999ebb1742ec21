"""Reconciliation (对账) against the ledger's business days: hospitals in two levels like 医保 3201/3202, channels by
their daily statement, and the suspense list (挂账) where breaks wait.

- Hospital, level 1 (`reconcile_totals`): the hospital sends its day totals by kind; the answer is `balanced`, or
  the difference per kind. Level 2 (`reconcile_lines`): it sends its detail lines; the answer is one verdict per
  reference (domain.reconciliation). Both read the platform's side of the day from the per-day ledger index
  (services.ledger_days, the hospital's entries only), so a hospital reconciles its own data and nothing else.
  A closed business date never changes (every entry's date is fixed at its commit), so the same request always
  gets the same answer; an Idempotency-Key sent again with another body is a 409 as everywhere.
- Channel (`reconcile_statement`): the statement file is parsed (domain.statements) and matched with the platform's
  payments of the channel and day. Each reference that does not match within the day is a break; breaks go to the
  suspense list, one item per (channel, kind, reference), holding what each side has said so far. A later day's
  statement that brings the missing side (a payment committed after the cut-off, a refund listed a day late)
  settles the item (`matched`); an operator closes the others with a reason (`resolve_suspense`, audited).
  A statement is taken once per channel and date: the same file again returns the first result, another file
  for that date is STATEMENT_CONFLICT. The suspense writes go in small transactions, each guarded by the
  statement's id on the item, and the statement record is written last, so a crash halfway and a rerun equal
  one clean run.
- Each result is written as a `reconciliation.result` event for its caller (services.events), in the same
  transaction as the record of the reconciliation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from treatfirst.domain import reconciliation as recon
from treatfirst.domain import statements
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import (
    BusinessDateOpen,
    StatementConflict,
    SuspenseAlreadyResolved,
    SuspenseNotFound,
    ValidationFailed,
)
from treatfirst.messages import reconciliation as msg
from treatfirst.messages.common import to_item
from treatfirst.services.events import event_put
from treatfirst.services.idempotency import Idempotency, Outcome, request_hash
from treatfirst.services.identity import Caller
from treatfirst.services.ledger_days import entries_for_day
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import AUDIT, RECONCILIATION, Item, Put, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

OPEN_QUEUE = "open"
CHUNK = 20  # suspense writes per transaction (DynamoDB takes 100 per transaction; small keeps conflicts cheap)
KEEP_STATEMENTS = 20  # the statement ids an item remembers (the rerun guard needs the latest only)


# ---- the platform's side of a day --------------------------------------------------------------------------------
def _closed_day(ctx: Context, business_date: str) -> date:
    try:
        day = date.fromisoformat(business_date)
    except ValueError:
        raise ValidationFailed("business_date is not a calendar date", field="business_date") from None
    if day > closed_through(ctx.clock.now(), zone=ctx.policy.timezone, cutoff=ctx.policy.due_at):
        raise BusinessDateOpen(field="business_date")
    return day


def day_entries(ctx: Context, day: date, party: str) -> Iterator[Item]:
    """The party's ledger entries of one business date, from the sparse, sharded per-day index (no scan)."""
    return entries_for_day(ctx, city_code=ctx.policy.city_code, business_date=day, party=party)


def platform_lines(entries: Iterable[Item], kinds: Iterable[recon.Kind]) -> list[recon.Line]:
    """Ledger entries as reconciliation lines: the movements each kind names, keyed by the entry's reference."""
    kinds = tuple(kinds)
    lines = []
    for entry in entries:
        kind = recon.kind_of(str(entry["kind"]), kinds)
        if kind is not None:
            lines.append(recon.Line(kind, str(entry["ref_id"]), int(entry["amount_fen"])))
    return lines


def _line_view(v: recon.Verdict) -> msg.LineResult:
    return msg.LineResult(
        kind=v.kind,
        ref=v.ref,
        result=v.result,  # type: ignore[arg-type]
        platform_amount_fen=v.platform_amount_fen,
        counterparty_amount_fen=v.counterparty_amount_fen,
        difference_fen=v.difference_fen,
    )


def _stable_id(prefix: str, *parts: str) -> str:
    return f"{prefix}_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


# ---- hospitals: two levels ----------------------------------------------------------------------------------------
def reconcile_totals(ctx: Context, caller: Caller, command: msg.TotalsRequest, idempotency_key: str | None) -> Outcome:
    """Level 1 (like 医保 3201): the hospital's day totals by kind against the platform's; balanced or not."""
    caller.may("reconciliations", "totals")
    day = _closed_day(ctx, command.business_date)
    idem = Idempotency(ctx, caller, idempotency_key, "reconciliation:totals", command)
    replayed = idem.replay() is not None  # a reused key with another body is refused before any work
    lines = platform_lines(day_entries(ctx, day, f"hospital:{caller.principal_id}"), recon.HOSPITAL_KINDS)
    theirs: dict[str, recon.Totals] = {t.kind: recon.Totals(t.count, t.amount_fen) for t in command.totals}
    compared = recon.compare_totals(recon.HOSPITAL_KIND_NAMES, recon.totals(lines), theirs)
    balanced = all(c.balanced for c in compared)
    rec_id = _stable_id("rec", caller.principal_id, command.business_date, "totals", idem.hash)
    result = msg.TotalsResult(
        reconciliation_id=rec_id,
        hospital_id=caller.principal_id,
        business_date=command.business_date,
        level="totals",
        result="balanced" if balanced else "unbalanced",
        kinds=[
            msg.KindResult(
                kind=c.kind,  # type: ignore[arg-type]
                status="balanced" if c.balanced else "different",
                platform_count=c.platform.count,
                platform_amount_fen=c.platform.amount_fen,
                counterparty_count=c.counterparty.count,
                counterparty_amount_fen=c.counterparty.amount_fen,
                difference_fen=c.difference_fen,
            )
            for c in compared
        ],
    )
    breaks = sum(1 for c in compared if not c.balanced)
    answer = (command.business_date, "totals", result.result, breaks)
    return _record(ctx, caller, idem, replayed, rec_id, answer, to_item(result))


def reconcile_lines(ctx: Context, caller: Caller, command: msg.LinesRequest, idempotency_key: str | None) -> Outcome:
    """Level 2 (like 医保 3202): the hospital's detail lines against the platform's; one verdict per reference."""
    caller.may("reconciliations", "lines")
    day = _closed_day(ctx, command.business_date)
    idem = Idempotency(ctx, caller, idempotency_key, "reconciliation:lines", command)
    replayed = idem.replay() is not None
    ours = platform_lines(day_entries(ctx, day, f"hospital:{caller.principal_id}"), recon.HOSPITAL_KINDS)
    theirs = [recon.Line(line.kind, line.ref, line.amount_fen) for line in command.lines]
    verdicts = recon.match(ours, theirs)
    counts = {name: 0 for name in recon.RESULTS}
    for v in verdicts:
        counts[v.result] += 1
    breaks = len(verdicts) - counts[recon.MATCHED]
    rec_id = _stable_id("rec", caller.principal_id, command.business_date, "lines", idem.hash)
    result = msg.LinesResult(
        reconciliation_id=rec_id,
        hospital_id=caller.principal_id,
        business_date=command.business_date,
        level="lines",
        result="unbalanced" if breaks else "balanced",
        counts=msg.Counts(**counts),
        lines=[_line_view(v) for v in verdicts],
    )
    answer = (command.business_date, "lines", result.result, breaks)
    return _record(ctx, caller, idem, replayed, rec_id, answer, to_item(result))


def _record(
    ctx: Context,
    caller: Caller,
    idem: Idempotency,
    replayed: bool,
    rec_id: str,
    answer: tuple[str, str, str, int],
    body: Item,
) -> Outcome:
    """Keep a small record of the answer (with its event) once; the answer itself is recomputed on a retry, which
    gives the same body because a closed day never changes. `answer`: business date, level, result, breaks."""
    business_date, level, result, breaks = answer
    summary = {"reconciliation_id": rec_id, "level": level, "result": result, "breaks": breaks}
    if replayed:
        return Outcome(200, body, replayed=True)
    if ctx.store.get(RECONCILIATION, {"recon_id": rec_id}) is not None:  # the same request answered before
        ctx.commit(idem.record(Outcome(200, summary)))
        return Outcome(200, body, replayed=True)
    item = {
        "recon_id": rec_id,
        "party": caller.actor,
        "business_date": business_date,
        "level": level,
        "result": result,
        "breaks": breaks,
        "request_hash": idem.hash,
        "created_at": ctx.now_text(),
    }
    writes: list[Write] = [
        Put(RECONCILIATION, item),
        audit(ctx, caller, f"reconciliation#{rec_id}", f"reconciliation.{level}", result=result, breaks=breaks),
        *_result_event(ctx, caller, rec_id, business_date, level, result, breaks),
        *idem.record(Outcome(200, summary)),
    ]
    ctx.commit(writes)
    return Outcome(200, body)


def _result_event(
    ctx: Context, caller: Caller, rec_id: str, business_date: str, level: str, result: str, breaks: int
) -> list[Write]:
    """The `reconciliation.result` event for the caller (services.events), written with its cause."""
    data = {
        "reconciliation_id": rec_id,
        "business_date": business_date,
        "level": level,
        "result": result,
        "breaks": breaks,
    }
    return [event_put(ctx, kind="reconciliation.result", audience=caller.actor, subject=rec_id, data=data)]


# ---- channels: the daily statement and the suspense list ----------------------------------------------------------
def _channel_refs(ctx: Context, entries: Iterable[Item]) -> list[recon.Line]:
    """The channel's payments of the day as lines keyed by the channel's transaction id (one line per payment).

    A payment's entries (credit, emergency, recovery; one per bill) share its payment id; the channel's transaction
    id is on the entry when the ledger carries it, else read from the payment's audit event.
    """
    amounts: dict[str, int] = {}
    txns: dict[str, str] = {}
    for entry in entries:
        if recon.kind_of(str(entry["kind"]), recon.CHANNEL_KINDS) is None:
            continue
        payment_id = str(entry["ref_id"])
        amounts[payment_id] = amounts.get(payment_id, 0) + int(entry["amount_fen"])
        if entry.get("channel_txn_id"):
            txns[payment_id] = str(entry["channel_txn_id"])
    lines = []
    for payment_id, amount in amounts.items():
        txn = txns.get(payment_id) or _txn_from_audit(ctx, payment_id) or payment_id
        lines.append(recon.Line("payment", txn, amount))
    return lines


def _txn_from_audit(ctx: Context, payment_id: str) -> str | None:
    page = ctx.store.query(AUDIT, f"payment#{payment_id}", limit=5)
    for event in page.items:
        txn = (event.get("details") or {}).get("channel_txn_id")
        if event.get("action") == "payment.received" and txn:
            return str(txn)
    return None


def suspense_id(channel_id: str, kind: str, ref: str) -> str:
    return _stable_id("sus", channel_id, kind, ref)


def _age_days(ctx: Context, opened_on: str) -> int:
    today = ctx.clock.now().astimezone(ZoneInfo(ctx.policy.timezone)).date()
    return max(0, (today - date.fromisoformat(opened_on)).days)


def _balance(item: Item) -> recon.Balance:
    return recon.Balance(item.get("platform_fen"), item.get("counterparty_fen"))


def suspense_view(ctx: Context, item: Item) -> dict[str, Any]:
    v = _balance(item).verdict((item["kind"], item["ref"]))
    return to_item(
        msg.SuspenseItem(
            suspense_id=item["recon_id"],
            channel_id=item["channel_id"],
            kind=item["kind"],
            ref=item["ref"],
            status=item["status"],
            result=v.result,  # type: ignore[arg-type]
            platform_amount_fen=v.platform_amount_fen,
            counterparty_amount_fen=v.counterparty_amount_fen,
            difference_fen=v.difference_fen,
            owner=item["owner"],
            opened_on=item["opened_on"],
            last_seen_on=item["last_seen_on"],
            age_days=_age_days(ctx, item["opened_on"]),
            opened_at=item["opened_at"],
            settled_on=item.get("settled_on"),
            resolved_at=item.get("resolved_at"),
            resolved_by=item.get("resolved_by"),
            resolution=item.get("resolution"),
        )
    )


def _owner(result: str, channel_id: str) -> str:
    who = recon.OWNERS[result][0]
    return f"channel:{channel_id}" if who == "channel" else who


def _fold(
    ctx: Context, channel_id: str, statement_id: str, business_date: str, v: recon.Verdict
) -> tuple[list[Write], dict[str, Any]]:
    """One break into the suspense list: open an item, add to an open one (settling it when the sides now agree),
    or, after a crash, see that this statement was already applied."""
    item_id = suspense_id(channel_id, v.kind, v.ref)
    item = ctx.store.get(RECONCILIATION, {"recon_id": item_id})
    writes: list[Write]
    if item is not None and statement_id in (item.get("statements") or ()):
        balance, writes = _balance(item), []  # applied by an earlier, interrupted run
        status = item["status"]
    elif item is not None and item["status"] == "open":
        balance = _balance(item).plus(v.platform_amount_fen, v.counterparty_amount_fen)
        status = "matched" if balance.settled else "open"
        changes: dict[str, Any] = {
            "platform_fen": balance.platform_fen,
            "counterparty_fen": balance.counterparty_fen,
            "last_seen_on": business_date,
            "statements": [*(item.get("statements") or [])[-KEEP_STATEMENTS + 1 :], statement_id],
            "status": status,
            "version": item["version"] + 1,
        }
        if balance.settled:
            changes["settled_on"] = business_date
        else:
            changes["owner"] = _owner(balance.verdict((v.kind, v.ref)).result, channel_id)
        writes = [
            Update(
                RECONCILIATION,
                {"recon_id": item_id},
                set=changes,
                remove=("queue",) if balance.settled else (),
                expect={"status": "open", "version": item["version"]},
                lacks={"statements": statement_id},
            )
        ]
        if balance.settled:
            writes.append(audit(ctx, None, f"suspense#{item_id}", "suspense.matched", statement_id=statement_id))
    else:  # new, or a reference whose earlier item was closed: a new episode under the same id
        balance = recon.Balance(v.platform_amount_fen, v.counterparty_amount_fen)
        status = "open"
        fresh = {
            "recon_id": item_id,
            "queue": OPEN_QUEUE,
            "opened_at": ctx.now_text(),
            "channel_id": channel_id,
            "kind": v.kind,
            "ref": v.ref,
            "status": status,
            "platform_fen": v.platform_amount_fen,
            "counterparty_fen": v.counterparty_amount_fen,
            "owner": _owner(v.result, channel_id),
            "opened_on": business_date,
            "last_seen_on": business_date,
            "statements": [statement_id],
            "version": (item or {}).get("version", 0) + 1,
        }
        fresh = {k: val for k, val in fresh.items() if val is not None}
        writes = [Put(RECONCILIATION, fresh, overwrite=item is not None)]
    shown = balance.verdict((v.kind, v.ref))
    brk = msg.Break(
        kind=v.kind,  # type: ignore[arg-type]
        ref=v.ref,
        result=shown.result,  # type: ignore[arg-type]
        platform_amount_fen=shown.platform_amount_fen,
        counterparty_amount_fen=shown.counterparty_amount_fen,
        difference_fen=shown.difference_fen,
        suspense_id=item_id,
        suspense_status="matched" if status == "matched" else "open",
    )
    return writes, to_item(brk)


def statement_view(item: Item) -> dict[str, Any]:
    return to_item(
        msg.StatementResult(
            statement_id=item["recon_id"],
            channel_id=item["channel_id"],
            business_date=item["business_date"],
            format=item["format"],
            sha256=item["sha256"],
            lines=item["lines"],
            platform_lines=item["platform_lines"],
            result=item["result"],
            counts=msg.StatementCounts(**item["counts"]),
            breaks=[msg.Break(**b) for b in item["break_list"]],
            breaks_truncated=item["breaks_truncated"],
            received_at=item["created_at"],
        )
    )


def reconcile_statement(
    ctx: Context, caller: Caller, command: msg.StatementRequest, idempotency_key: str | None
) -> Outcome:
    """A channel's statement of one business date against the platform's payments of that channel and date."""
    caller.may("statements", "upload")
    day = _closed_day(ctx, command.business_date)
    channel_id = caller.principal_id
    idem = Idempotency(ctx, caller, idempotency_key, "statement", command)
    stored = idem.replay()
    if stored is not None:
        return stored
    statement_id = _stable_id("stm", channel_id, command.business_date)
    fingerprint = request_hash(command)
    earlier = ctx.store.get(RECONCILIATION, {"recon_id": statement_id})
    if earlier is not None:
        if earlier["request_hash"] != fingerprint:
            raise StatementConflict(field="content")
        return Outcome(201, statement_view(earlier), replayed=True)
    theirs = statements.parse(command.format, command.content)
    ours = _channel_refs(ctx, day_entries(ctx, day, f"channel:{channel_id}"))
    verdicts = recon.match(ours, theirs)
    matched = sum(1 for v in verdicts if v.result == recon.MATCHED)
    breaks: list[dict[str, Any]] = []
    pending: list[Write] = []
    for v in verdicts:
        if v.result == recon.MATCHED:
            continue
        writes, shown = _fold(ctx, channel_id, statement_id, command.business_date, v)
        breaks.append(shown)
        pending += writes
        if len(pending) >= CHUNK:
            ctx.commit(pending)
            pending = []
    if pending:
        ctx.commit(pending)
    settled = sum(1 for b in breaks if b["suspense_status"] == "matched")
    still_open = len(breaks) - settled
    result = "unbalanced" if still_open else "balanced"
    item: Item = {
        "recon_id": statement_id,
        "party": caller.actor,
        "channel_id": channel_id,
        "business_date": command.business_date,
        "format": command.format,
        "sha256": hashlib.sha256(command.content.encode()).hexdigest(),
        "lines": len(theirs),
        "platform_lines": len(ours),
        "result": result,
        "counts": {
            "matched": matched,
            "breaks": len(breaks),
            "settled_from_suspense": settled,
            "open_suspense": still_open,
        },
        "break_list": breaks[: msg.MAX_STORED_BREAKS],
        "breaks_truncated": len(breaks) > msg.MAX_STORED_BREAKS,
        "request_hash": fingerprint,
        "created_at": ctx.now_text(),
    }
    view = statement_view(item)
    final: list[Write] = [
        Put(RECONCILIATION, item, fail=lambda: StatementConflict(field="content")),
        audit(ctx, caller, f"statement#{statement_id}", "statement.reconciled", result=result, breaks=len(breaks)),
        *_result_event(ctx, caller, statement_id, command.business_date, "statement", result, still_open),
        *idem.record(Outcome(201, view)),
    ]
    ctx.commit(final)
    return Outcome(201, view)


def list_open_suspense(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """Open suspense items, oldest first (the queue an operator works through)."""
    caller.may("suspense", "list")
    bound = f"suspense|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(RECONCILIATION, OPEN_QUEUE, index="open_suspense", limit=query.limit, start=start)
    return page_view(ctx.cipher, bound, page, lambda item: suspense_view(ctx, item))


def _load_suspense(ctx: Context, item_id: str) -> Item:
    item = ctx.store.get(RECONCILIATION, {"recon_id": item_id}) if item_id.startswith("sus_") else None
    if item is None:
        raise SuspenseNotFound()
    return item


def get_suspense(ctx: Context, caller: Caller, item_id: str) -> dict[str, Any]:
    caller.may("suspense", "read")
    return suspense_view(ctx, _load_suspense(ctx, item_id))


def resolve_suspense(
    ctx: Context, caller: Caller, item_id: str, command: msg.Resolution, idempotency_key: str | None
) -> Outcome:
    """Close an open suspense item with a reason (audited); it leaves the open list."""
    caller.may("suspense", "resolve")
    idem = Idempotency(ctx, caller, idempotency_key, f"suspense:{item_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        item = _load_suspense(ctx, item_id)
        if item["status"] != "open":
            raise SuspenseAlreadyResolved()
        resolved = {
            "status": "resolved",
            "resolved_at": ctx.now_text(),
            "resolved_by": caller.actor,
            "resolution": command.reason.strip(),
        }
        writes: list[Write] = [
            Update(
                RECONCILIATION,
                {"recon_id": item_id},
                set={**resolved, "version": item["version"] + 1},
                remove=("queue",),
                expect={"status": "open", "version": item["version"]},
                fail=SuspenseAlreadyResolved,
            ),
            audit(ctx, caller, f"suspense#{item_id}", "suspense.resolved", reason=resolved["resolution"]),
        ]
        return writes, Outcome(200, suspense_view(ctx, {**item, **resolved}))

    return idem.run(build)
