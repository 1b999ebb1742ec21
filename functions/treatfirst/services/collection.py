"""Collection: the account's collection state kept by close, payment and refund, and the sweep that applies the
policy's ladder (treatfirst.domain.collection) to what is due.

Where the state lives: on the account item (see domain.collection.State and the attributes `state_fields` names),
so the writes that change what is owed keep it in their own transaction, and the sparse, sharded `by_next_step`
index (hash `collect_shard`, range `next_step_at`, a business date) tells the sweep which accounts have
something due, with the state projected into the index (no extra read per item).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from treatfirst.domain import collection as c
from treatfirst.domain import ledger
from treatfirst.domain.collection import closed_through, local_date
from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError
from treatfirst.domain.reports import Tally
from treatfirst.services import blacklist, reports
from treatfirst.services.events import bill_audiences, event_put
from treatfirst.services.outbox import outbox_put
from treatfirst.services.ports import ACCOUNTS, AUDIT, BILLS, Item, Put, Update, Write
from treatfirst.services.records import audit, entry
from treatfirst.services.unit_of_work import Context

COLLECT_SHARDS = 16
_log = logging.getLogger(__name__)


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


def city_today(ctx: Context) -> date:
    """The city's calendar date now (a pause or a stay opened or closed today starts or ends on it)."""
    return ctx.clock.now().astimezone(ZoneInfo(ctx.policy.timezone)).date()


def stay_opened(ctx: Context, account: Item, visit_id: str, start: str) -> dict[str, Any]:
    """`set` fields of the inpatient visit's account Update: from `start` (today) the stay pauses the debt."""
    stay = {"start": start}
    at = {f"stays.{visit_id}": stay} if "stays" in account else {"stays": {visit_id: stay}}
    return {**at, **look_again(ctx, account["account_id"])}


def stay_closed(ctx: Context, visit: Item) -> dict[str, Any]:
    """`set` fields of the closing transaction's account Update: the stay ends today (its days stay paused)."""
    start = visit["stay_start"]
    stay = {"start": start, "end": max(city_today(ctx).isoformat(), start)}
    return {f"stays.{visit['visit_id']}": stay, **look_again(ctx, visit["account_id"])}


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


# ---- the sweep -------------------------------------------------------------------------------------------------
WATERMARK = "sys#watermark#"  # + shard: the last business date the shard was fully swept through
MORATORIUMS = "sys#moratoriums"  # the city's moratoriums (pauses for every account), one small item


@dataclass
class SweepResult:
    dates: list[str] = field(default_factory=list)
    read: int = 0  # index items read
    reread: int = 0  # items read again after a guard failed
    acted: int = 0  # accounts whose state changed
    moved: int = 0  # accounts whose next date only moved on
    messages: int = 0
    written_off: int = 0
    failed: int = 0
    blacklist: int = 0  # blacklist records made, and their transitions (services/blacklist.py)

    def add(self, other: SweepResult) -> None:
        for name in ("read", "reread", "acted", "moved", "messages", "written_off", "failed", "blacklist"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.dates = sorted({*self.dates, *other.dates})

    def as_dict(self) -> dict[str, Any]:
        return {
            "dates": self.dates,
            "read": self.read,
            "reread": self.reread,
            "acted": self.acted,
            "moved": self.moved,
            "messages": self.messages,
            "written_off": self.written_off,
            "failed": self.failed,
            "blacklist": self.blacklist,
        }


def moratoriums(ctx: Context) -> tuple[c.Pause, ...]:
    """The city's moratoriums (one read per sweep run, not per account)."""
    item = ctx.store.get(ACCOUNTS, {"account_id": MORATORIUMS})
    return tuple(c.pause_from_item(p) for p in (item or {}).get("pauses") or ())


def sweep(ctx: Context, *, page_size: int = 100) -> SweepResult:
    """Every shard, every business date from its watermark to the last closed date, in process (the local stack,
    the test clock and tests). On AWS the scheduled function fans out one queue message per shard instead."""
    through = closed_date(ctx)
    total = SweepResult()
    morats = moratoriums(ctx)
    for shard in range(COLLECT_SHARDS):
        total.add(sweep_shard(ctx, str(shard), through, page_size=page_size, morats=morats))
    return total


def fan_out_messages(ctx: Context) -> list[dict[str, str]]:
    """One queue message per shard: sweep the shard through the last closed business date."""
    through = closed_date(ctx).isoformat()
    return [{"shard": str(shard), "through": through} for shard in range(COLLECT_SHARDS)]


def sweep_shard(
    ctx: Context,
    shard: str,
    through: date,
    *,
    page_size: int = 100,
    morats: tuple[c.Pause, ...] | None = None,
) -> SweepResult:
    """Sweep one shard for each business date after its watermark up to `through`, in order, then move the
    watermark. A crash leaves the watermark behind: the rerun repeats those dates, where every account already
    acted on has moved its next date on (and its guard changed), so nothing happens twice."""
    if morats is None:
        morats = moratoriums(ctx)
    key = {"account_id": f"{WATERMARK}{shard}"}
    mark = ctx.store.get(ACCOUNTS, key)
    last = date.fromisoformat(mark["swept_through"]) if mark else through - timedelta(days=1)
    result = SweepResult()
    day = last + timedelta(days=1)
    while day <= through:
        result.add(sweep_date(ctx, shard, day, page_size=page_size, morats=morats))
        day += timedelta(days=1)
    if through > last:
        write: Write = (
            Update(
                ACCOUNTS,
                key,
                set={"swept_through": through.isoformat()},
                expect={"swept_through": last.isoformat()},
                fail=ConcurrentUpdate,
            )
            if mark
            else Put(ACCOUNTS, {**key, "swept_through": through.isoformat()}, fail=ConcurrentUpdate)
        )
        ctx.commit([write])
    # the blacklist records of this shard whose next transition is due (publication, repair, expiry, purge)
    if ctx.policy.blacklist is not None:
        result.blacklist += blacklist.sweep_due(ctx, shard, through)
    return result


def sweep_date(
    ctx: Context, shard: str, on: date, *, page_size: int = 100, morats: tuple[c.Pause, ...] = ()
) -> SweepResult:
    """Act on every account of the shard whose next date is `on` or earlier (the index holds nothing else)."""
    result = SweepResult(dates=[on.isoformat()])
    start = None
    while True:
        page = ctx.store.query(
            ACCOUNTS, shard, index="by_next_step", limit=page_size, start=start, until=on.isoformat()
        )
        for item in page.items:
            result.read += 1
            try:
                outcome = step_account(ctx, item, on, morats)
            except TreatFirstError as exc:
                # the index copy was stale or a payment landed: read the account itself and plan again, once
                fresh = ctx.store.get(ACCOUNTS, {"account_id": item["account_id"]})
                result.reread += 1
                if fresh is None or fresh.get("next_step_at") is None or fresh["next_step_at"] > on.isoformat():
                    continue
                try:
                    outcome = step_account(ctx, fresh, on, morats)
                except TreatFirstError:
                    result.failed += 1
                    _log.warning("collection.step_failed code=%s shard=%s on=%s", exc.code, shard, on.isoformat())
                    continue
            if outcome is None:
                continue
            if outcome.changed:
                result.acted += 1
            else:
                result.moved += 1
            result.messages += len(outcome.messages)
            result.blacklist += 1 if outcome.listed else 0
            result.written_off += len(outcome.write_offs)
        if page.cursor is None:
            return result
        start = page.cursor


def step_account(ctx: Context, item: Item, on: date, morats: tuple[c.Pause, ...] = ()) -> c.Plan | None:
    """Plan the account for `on` and commit the plan as ONE transaction whose account write re-checks the guard
    (the collection version it was planned from). Raises ConcurrentUpdate when the account changed meanwhile."""
    account_id = item["account_id"]
    state = c.state_from_item(item)
    plan = c.plan(ctx.policy, account_id, state, on, morats)
    version = int(item.get("collect_version", 0))
    # the blacklist action: a listing (with proof of prior notice) or its wait, the repair clock of an open record
    listing = blacklist.on_step(ctx, account_id, item, state, plan, on)
    next_on = plan.next_on
    if listing.look_again is not None and (next_on is None or listing.look_again < next_on):
        next_on = listing.look_again
    fields: dict[str, Any] = {
        **c.state_fields(plan.state),
        "blocks": list(plan.blocks) or None,
        "next_step_at": next_on.isoformat() if next_on else None,
        "collect_shard": collect_shard(account_id) if next_on else None,
        **listing.fields,
    }
    credit = sum(w.credit_fen for w in plan.write_offs)
    emergency = sum(w.emergency_fen for w in plan.write_offs)
    add = {"collect_version": 1, **write_off_line(credit, emergency)}
    writes: list[Write] = [
        Update(
            ACCOUNTS,
            {"account_id": account_id},
            set=fields,
            add=add,
            expect={"collect_version": version},
            fail=ConcurrentUpdate,
        )
    ]
    written = {w.bill_id: w for w in plan.write_offs}
    was_overdue = {b.bill_id: b.overdue for b in state.unpaid}
    owed = {b.bill_id: b.outstanding_fen for b in state.unpaid}
    for bill_id in plan.marked_overdue:
        if bill_id not in written:
            writes.append(
                Update(
                    BILLS,
                    {"bill_id": bill_id},
                    set={"status": "overdue"},
                    # what the account says is owed on it (the account's guard already pins the rest)
                    expect={"outstanding_fen": owed[bill_id]},
                    fail=ConcurrentUpdate,
                )
            )
    shard = collect_shard(account_id)
    tally = Tally()  # report counters of the step (write-offs, messages), added in this transaction
    dues = {b.bill_id: b.due for b in state.unpaid}
    for w in plan.write_offs:
        overdue = was_overdue.get(w.bill_id, False)
        writes += _write_off_writes(ctx, account_id, w, overdue, on, shard, due=dues[w.bill_id], tally=tally)
    for strike in plan.state.strikes:
        if strike not in state.strikes:
            writes.append(
                Put(
                    AUDIT,
                    {
                        "subject": f"strike#{account_id}",
                        "event_id": f"{strike.on.isoformat()}#{strike.bill_id}",
                        "action": "strike.counted",
                        "actor_kind": "system",
                        "actor_id": "collection",
                        "at": ctx.now_text(),
                        "request_id": ctx.request_id,
                        "details": {"bill_id": strike.bill_id, "on": strike.on.isoformat()},
                    },
                    fail=ConcurrentUpdate,
                )
            )
    writes += [_outbox(ctx, account_id, item.get("name_masked"), m) for m in plan.messages]
    writes += _hospital_events(ctx, account_id, state, plan)
    for m in plan.messages:
        reports.count_message(tally, m.kind)
    writes += reports.tally_writes(ctx, tally, account_id)
    writes += listing.writes
    if plan.changed:
        writes.append(
            audit(
                ctx,
                None,
                f"account#{account_id}",
                "collection.swept",
                on=on.isoformat(),
                events=list(plan.events),
                step=plan.state.step,
                days_overdue=plan.days,
                blocks=list(plan.blocks),
                bills_overdue=list(plan.marked_overdue),
                written_off=[w.bill_id for w in plan.write_offs],
                messages=[m.key for m in plan.messages],
                **ctx.policy.stamp,
            )
        )
    ctx.commit(writes)
    return replace(plan, listed=listing.listed) if listing.listed else plan


def _hospital_events(ctx: Context, account_id: str, state: c.State, plan: c.Plan) -> list[Write]:
    """bill.overdue for each bill the plan marks overdue, and collection.step for each step the plan reaches, to
    the hospitals whose bills are concerned (each sees only its own bills). The bills are read only when the plan
    has something to tell: reads stay proportional to what the sweep acts on. Ids come from the causes (the bill;
    the step's message key, as the outbox's), so a rerun of the step adds nothing."""
    steps: dict[str, c.Message] = {}
    for m in plan.messages:
        if m.kind in (c.KIND_STEP, c.KIND_PHONE_TASK) and "step" in m.params:
            steps.setdefault(str(m.params["step"]), m)
    if not plan.marked_overdue and not steps:
        return []
    hospital_of: dict[str, str] = {}
    audiences_of: dict[str, list[str]] = {}
    for b in state.unpaid:
        bill = ctx.store.get(BILLS, {"bill_id": b.bill_id})
        if bill is not None:
            hospital_of[b.bill_id] = bill["hospital_id"]
            audiences_of[b.bill_id] = bill_audiences(bill)
    written = {w.bill_id for w in plan.write_offs}
    due = {b.bill_id: b for b in state.unpaid}
    writes: list[Write] = []
    for bill_id in plan.marked_overdue:
        if bill_id in written or bill_id not in hospital_of:
            continue
        writes += [
            event_put(
                ctx,
                kind="bill.overdue",
                audience=audience,
                subject=bill_id,
                data={
                    "bill_id": bill_id,
                    "account_id": account_id,
                    "outstanding_fen": due[bill_id].outstanding_fen,
                    "due_date": due[bill_id].due.isoformat(),
                },
            )
            for audience in audiences_of[bill_id]
        ]
    by_hospital: dict[str, list[str]] = {}
    for bill_id, hospital_id in hospital_of.items():
        by_hospital.setdefault(hospital_id, []).append(bill_id)
    for name, m in steps.items():
        for hospital_id, bills in sorted(by_hospital.items()):
            writes.append(
                event_put(
                    ctx,
                    kind="collection.step",
                    audience=f"hospital:{hospital_id}",
                    subject=m.key,
                    data={
                        "account_id": account_id,
                        "step": name,
                        "days_overdue": m.params.get("days_overdue"),
                        "blocks": list(plan.blocks),
                        "bills": sorted(bills),
                    },
                )
            )
    return writes


def _write_off_writes(
    ctx: Context,
    account_id: str,
    w: c.WriteOff,
    overdue: bool,
    on: date,
    shard: str,
    *,
    credit_fund: str | None = None,
    actor: str = "system:collection",
    due: date,
    tally: Tally | None = None,
) -> list[Write]:
    """The bill becomes written_off (terminal, with its reason) and the ledger moves its debt to the funds: the
    credit part to `credit_fund` (by default the first fund of the policy's backstop order), the emergency part to
    the emergency backstop. The report counters (the bill's due date `due`) go to `tally` when the caller adds
    more to the same transaction, else into writes of their own."""
    credit_fund = credit_fund or ctx.policy.backstop_order[0]
    emergency_fund = ctx.policy.emergency_backstop
    # the hospital (and through the policy its financier) goes on the ledger entries for the daily clearing: one read
    # of the bill per write-off, which is terminal and rare (the account's unpaid map does not hold the hospital)
    bill = ctx.store.get(BILLS, {"bill_id": w.bill_id})
    hospital_id = bill["hospital_id"] if bill else None
    record = write_off_record(ctx, w, on, credit_fund)
    writes: list[Write] = [
        Update(
            BILLS,
            {"bill_id": w.bill_id},
            set={
                "status": "written_off",
                "written_off_at": ctx.now_text(),
                "write_off": record,
                "written_off_fen": w.credit_fen + w.emergency_fen,
                "recovered_fen": 0,
                "outstanding_fen": 0,
                "credit_outstanding_fen": 0,
                "emergency_outstanding_fen": 0,
            },
            remove=("due_shard",),
            expect={
                "status": "overdue" if overdue else "issued",
                "outstanding_fen": w.credit_fen + w.emergency_fen,
            },
            fail=ConcurrentUpdate,
        )
    ]
    for kind, amount, fund in (
        ("write_off", w.credit_fen, credit_fund),
        ("emergency_write_off", w.emergency_fen, emergency_fund),
    ):
        if amount:
            writes.append(entry(ctx, account_id, kind, amount, "bill", w.bill_id, actor, hospital_id=hospital_id))
            writes.append(
                entry(
                    ctx,
                    fund_account(fund, shard),
                    "backstop_write_off",
                    amount,
                    "bill",
                    w.bill_id,
                    actor,
                    hospital_id=hospital_id,
                )
            )
    counts = tally if tally is not None else Tally()
    reports.count_written_off(counts, due, w.reason, [(credit_fund, w.credit_fen), (emergency_fund, w.emergency_fen)])
    if tally is None:
        writes += reports.tally_writes(ctx, counts, w.bill_id)
    return writes


def write_off_line(credit_fen: int, emergency_fen: int) -> dict[str, int]:
    """`add` fields of the account Update of a write-off: the debt leaves the line's buckets, and the credit part
    shrinks the limit (ledger.LIMIT_MOVEMENTS), so limit == available + held + owed still holds."""
    moves = [(k, a) for k, a in (("write_off", credit_fen), ("emergency_write_off", emergency_fen)) if a]
    add = ledger.combine(*(ledger.delta(k, a) for k, a in moves))
    if credit_fen:
        add["limit_fen"] = -credit_fen
    return add


def write_off_record(ctx: Context, w: c.WriteOff, on: date, credit_fund: str) -> dict[str, Any]:
    """What the bill keeps of its write-off: the reason, the date and the funds that took each part."""
    record = {
        "reason": w.reason,
        "on": on.isoformat(),
        "credit_fen": w.credit_fen,
        "emergency_fen": w.emergency_fen,
        "credit_fund": credit_fund if w.credit_fen else None,
        "emergency_fund": ctx.policy.emergency_backstop if w.emergency_fen else None,
    }
    return {k: v for k, v in record.items() if v is not None}


def fund_account(fund: str, shard: str) -> str:
    """A backstop fund's ledger partition: sharded like the accounts, so no item takes every write-off of a city."""
    return f"fund#{fund}#{shard}"


def _outbox(ctx: Context, account_id: str, name_masked: str | None, m: c.Message) -> Write:
    """The outbox row of a planned message: its kind and parameters are the plan's, plus the masked name."""
    params = {**m.params, **({"name_masked": name_masked} if name_masked else {})}
    return outbox_put(ctx, account_id=account_id, kind=m.kind, dedupe_key=m.key, params=params)


def cleared_message(ctx: Context, account: Item, payment_id: str) -> Write:
    """The SMS that everything is paid and the restrictions are lifted, written by the payment that did it."""
    params = {"name_masked": account["name_masked"]} if account.get("name_masked") else {}
    key = f"{account['account_id']}#{c.KIND_CLEARED}#{payment_id}"
    return outbox_put(ctx, account_id=account["account_id"], kind=c.KIND_CLEARED, dedupe_key=key, params=params)


# ---- what payments and refunds change ----------------------------------------------------------------------------
def bill_changed(ctx: Context, account_id: str, bill_after: Item) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`set` and `remove` for the account Update of a payment or refund on one bill (no read): the bill's entry in
    the unpaid map follows what is still owed, or leaves it when settled; the account is looked at again on the
    next business date, where the ladder re-anchors on the earliest bill still unpaid. Add collect_version 1."""
    path = f"unpaid.{bill_after['bill_id']}"
    if bill_after["outstanding_fen"] == 0:
        return look_again(ctx, account_id), (path,)
    # the amounts only: the entry's due date and overdue mark stay as the close and the sweep wrote them
    amounts = {f"{path}.fen": bill_after["outstanding_fen"], f"{path}.efen": bill_after["emergency_outstanding_fen"]}
    return {**amounts, **look_again(ctx, account_id)}, ()


def cleared(ctx: Context, account: Item, settled: set[str]) -> dict[str, Any] | None:
    """When the bills `settled` are all the account still owes: the fields that take it out of the ladder at once
    (step, blocks of the ladder), for the payment's own transaction. None when something stays unpaid. The strike
    rule's blocks stay: they are lifted only as the policy says."""
    state = c.state_from_item(account)
    if any(b.bill_id not in settled for b in state.unpaid):
        return None
    after = c.State(
        strikes=state.strikes,
        strike_blocked=state.strike_blocked,
        pauses=state.pauses,
        stays=state.stays,
        strikes_reset_on=state.strikes_reset_on,
    )
    blocks = c.blocks_of(ctx.policy, after)
    return {"step": None, "anchor": None, "applied": None, "blocks": list(blocks) or None}
