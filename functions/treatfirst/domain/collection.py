"""The collection ladder, pure: what an account in collection must do on a business date.

An account carries its collection state (see `State`): the unpaid bills (due date and amounts), the ladder step
it is at, the steps already applied for the current anchor, its strikes and pauses. `plan()` turns that state,
the policy and a business date into a `Plan`: which bills become overdue (and count as strikes), which messages go
out, which step and blocks hold, which bills are written off, and the next business date anything can happen.

Rules (DESIGN.md "Overdue and collection"; Kill Bill's overdue states, Fineract's pause arithmetic):
- Days overdue = days since the EARLIEST unpaid due date (the anchor) minus the days paused since then. Every
  payment or refund re-anchors, because the unpaid map it keeps is what the anchor is computed from.
- A pause without a bill (an inpatient stay, a city moratorium) stops every bill of the account from ageing; a
  dispute pauses only its own bill: while it is open, that bill is left out of the ladder (its days, its count and
  its amount), and the days it was disputed never age it. The account's days overdue are those of its most overdue
  bill that is not under an open dispute.
- The step is the most severe step whose conditions hold (never "the next one after the current"); its actions
  run once per anchor (`applied`), so a partial payment that leaves the anchor where it was neither skips nor
  repeats a step, and a step whose conditions stop holding eases back without sending anything.
- A reminder goes out `remind_before_due_days` before each bill's due date and `remind_days_before` each step.
- A bill goes overdue, and counts as a strike, on its due date's close (the business date closes at the due time;
  append-only: a later payment does not remove it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from treatfirst.domain.policy import BLOCKABLE, LadderStep, Policy

# Blocks a suspension imposes: everything blockable (emergency care is never blocked).
SUSPEND_BLOCKS: tuple[str, ...] = BLOCKABLE
# Write-off reason codes (Stripe's uncollectible reasons and the city's own).
WRITE_OFF_REASONS = ("ladder_exhausted", "hardship", "deceased", "emergency_unidentified", "operator_decision")

# Kinds of outbox messages a plan asks for.
KIND_DUE_REMINDER = "due_reminder"  # before a bill's due date
KIND_STEP_REMINDER = "step_reminder"  # before a ladder step
KIND_STEP = "step"  # a ladder step was reached (its actions say what it does)
KIND_PHONE_TASK = "phone_task"  # an operator task, not a message to the patient
KIND_CLEARED = "cleared"  # everything paid: restrictions lifted


# ---- business date ---------------------------------------------------------------------------------------------
def closed_through(now: datetime, *, zone: str, cutoff: time) -> date:
    """The last business date whose cut-off (local `cutoff` o'clock) has passed at `now`.

    With cut-off 23:59:59 the date 2026-11-25 closes at 2026-11-25T23:59:59+08:00: from then on a bill due that
    day is overdue and the sweep may process the date.
    """
    local = now.astimezone(ZoneInfo(zone))
    today = local.date()
    if local.timetz().replace(tzinfo=None) >= cutoff:
        return today
    return today - timedelta(days=1)


def local_date(utc_text: str, zone: str) -> date:
    """The city's calendar date of an RFC 3339 instant."""
    moment = datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(zone)).date()


def add_months(day: date, months: int) -> date:
    """Calendar months later (or earlier when negative); the 31st falls to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has 28 days


# ---- state -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnpaidBill:
    bill_id: str
    due: date  # the local due date
    outstanding_fen: int  # credit + emergency still unpaid
    emergency_fen: int  # the emergency part of outstanding_fen
    overdue: bool = False  # already marked overdue (and counted as a strike)

    @property
    def credit_fen(self) -> int:
        return self.outstanding_fen - self.emergency_fen


@dataclass(frozen=True)
class Strike:
    bill_id: str
    on: date  # the business date the bill went overdue
    annulled: bool = False  # an operator annulled it (a row of its own in the strike log): it no longer counts


@dataclass(frozen=True)
class Pause:
    """Days from `start` (inclusive) to `end` (exclusive; None while open) do not age the debt."""

    pause_id: str
    start: date
    end: date | None
    reason: str
    bill_id: str | None = None  # a dispute pauses only this bill; None pauses the whole account

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def applies_to(self, bill_id: str) -> bool:
        return self.bill_id is None or self.bill_id == bill_id


@dataclass(frozen=True)
class State:
    unpaid: tuple[UnpaidBill, ...] = ()
    step: str | None = None  # the ladder step the account is at
    anchor: date | None = None  # the earliest unpaid due date the applied steps belong to
    applied: tuple[str, ...] = ()  # steps (and "remind:<step>") done for this anchor
    reminded: tuple[str, ...] = ()  # bills whose before-due reminder went out
    strikes: tuple[Strike, ...] = ()
    strike_blocked: bool = False  # the strike rule's actions hold
    pauses: tuple[Pause, ...] = ()  # disputes and other operator pauses (append-only)
    stays: tuple[Pause, ...] = ()  # inpatient stays: opened and closed with the inpatient visit
    strikes_reset_on: date | None = None  # a credit repair: strikes on or before this date no longer count

    @property
    def all_pauses(self) -> tuple[Pause, ...]:
        return (*self.pauses, *self.stays)

    @property
    def earliest_due(self) -> date | None:
        return min((b.due for b in self.unpaid), default=None)

    @property
    def unpaid_fen(self) -> int:
        return sum(b.outstanding_fen for b in self.unpaid)


# ---- pieces of the rule ----------------------------------------------------------------------------------------
def paused_days(pauses: Iterable[Pause], since: date, until: date) -> int:
    """Days d with since < d <= until covered by at least one pause (overlapping pauses count once)."""
    spans = [p for p in pauses]
    if until <= since or not spans:
        return 0
    count = 0
    day = since + timedelta(days=1)
    while day <= until:
        if any(p.covers(day) for p in spans):
            count += 1
        day += timedelta(days=1)
    return count


def days_overdue(anchor: date, on: date, pauses: Iterable[Pause] = ()) -> int:
    """Days since the anchor due date minus paused days; negative before the due date."""
    if on <= anchor:
        return (on - anchor).days
    return (on - anchor).days - paused_days(pauses, anchor, on)


def bill_pauses(bill_id: str, pauses: Iterable[Pause]) -> tuple[Pause, ...]:
    """The pauses that stop this bill from ageing: the account's and the city's, and its own disputes."""
    return tuple(p for p in pauses if p.applies_to(bill_id))


def bill_days(bill: UnpaidBill, on: date, pauses: Iterable[Pause]) -> int:
    """Days this bill is overdue on `on`: since its due date, minus the days paused for it."""
    return days_overdue(bill.due, on, bill_pauses(bill.bill_id, pauses))


def disputed(bill_id: str, on: date, pauses: Iterable[Pause]) -> bool:
    """The bill is under a dispute that covers `on` (its ladder waits until the dispute is closed)."""
    return any(p.bill_id == bill_id and p.covers(on) for p in pauses)


def ladder_bills(unpaid: Iterable[UnpaidBill], on: date, pauses: Iterable[Pause]) -> list[UnpaidBill]:
    """The unpaid bills the ladder counts on `on`: every one not under an open dispute."""
    spans = tuple(pauses)
    return [b for b in unpaid if not disputed(b.bill_id, on, spans)]


def account_days(bills: Iterable[UnpaidBill], on: date, pauses: Iterable[Pause]) -> int | None:
    """The account's days overdue: those of its most overdue counted bill (None when no bill counts)."""
    spans = tuple(pauses)
    return max((bill_days(b, on, spans) for b in bills), default=None)


def step_holds(step: LadderStep, days: int, bills: int, unpaid_fen: int) -> bool:
    """Every condition of the step (each an explicit 'at least') holds."""
    return (
        days >= step.day_offset
        and (step.min_unpaid_bills is None or bills >= step.min_unpaid_bills)
        and (step.min_unpaid_fen is None or unpaid_fen >= step.min_unpaid_fen)
    )


def evaluate(ladder: Sequence[LadderStep], days: int, bills: int, unpaid_fen: int) -> LadderStep | None:
    """The most severe step whose conditions hold (the ladder lists the most severe first), or None."""
    if bills == 0:
        return None
    return next((s for s in ladder if step_holds(s, days, bills, unpaid_fen)), None)


def strikes_in_window(
    strikes: Iterable[Strike], on: date, window_months: int | None, reset_on: date | None = None
) -> int:
    """Strikes that count on `on`: within `window_months` calendar months (a strike on 2026-01-15 counts up to and
    including 2027-01-14 with a 12-month window), or all of them when the rule has no window (累计). An annulled
    strike never counts, nor one on or before `reset_on` (a credit repair)."""
    live = [s for s in strikes if not s.annulled and (reset_on is None or s.on > reset_on)]
    if window_months is None:
        return sum(1 for s in live if s.on <= on)
    start = add_months(on, -window_months)
    return sum(1 for s in live if start < s.on <= on)


def strike_rule_met(count: int, comparison: str, threshold: int) -> bool:
    """The policy's explicit comparison: '>=' (以上, includes the number) or '>' (超过, excludes it)."""
    if comparison == ">=":
        return count >= threshold
    if comparison == ">":
        return count > threshold
    raise ValueError(f"unknown comparison {comparison}")


def step_blocks(step: LadderStep | None) -> tuple[str, ...]:
    if step is None:
        return ()
    blocks = set(step.blocks)
    if "suspend" in step.actions:
        blocks |= set(SUSPEND_BLOCKS)
    return tuple(b for b in BLOCKABLE if b in blocks)


def strike_blocks(policy: Policy) -> tuple[str, ...]:
    blocks: set[str] = set()
    if "suspend" in policy.strike_actions:
        blocks |= set(SUSPEND_BLOCKS)
    if "restrict" in policy.strike_actions:
        blocks |= {"limit_increase"}
    return tuple(b for b in BLOCKABLE if b in blocks)


def suspended(policy: Policy, state: State) -> bool:
    step = _step(policy, state.step)
    return bool(step and "suspend" in step.actions) or (state.strike_blocked and "suspend" in policy.strike_actions)


def _step(policy: Policy, name: str | None) -> LadderStep | None:
    return next((s for s in policy.collection_ladder if s.name == name), None)


def _rank(policy: Policy, name: str | None) -> int:
    """0 for no step, higher is more severe."""
    ladder = policy.collection_ladder
    for i, s in enumerate(ladder):
        if s.name == name:
            return len(ladder) - i
    return 0


# ---- the plan --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """An outbox row to write in the same transaction; `key` is stable, so one event is never sent twice."""

    kind: str
    key: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class WriteOff:
    bill_id: str
    credit_fen: int
    emergency_fen: int
    reason: str


@dataclass(frozen=True)
class Plan:
    on: date
    state: State  # the state after the plan
    blocks: tuple[str, ...]
    suspended: bool
    marked_overdue: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()
    write_offs: tuple[WriteOff, ...] = ()
    strike_changed: bool = False
    step_changed: bool = False
    next_on: date | None = None  # the next business date anything can happen; None: out of collection
    days: int | None = None  # days overdue on `on` (after pauses)
    events: tuple[str, ...] = field(default=())  # audit actions, in order
    listed: str | None = None  # the blacklist record the step made (services.blacklist.on_step fills it in)

    @property
    def changed(self) -> bool:
        return bool(self.marked_overdue or self.messages or self.write_offs or self.strike_changed or self.step_changed)


def message_key(account_id: str, kind: str, what: str, anchor: date | None) -> str:
    """The outbox dedupe key: one message per (account, kind, step or bill, anchor date)."""
    return f"{account_id}#{kind}#{what}#{anchor.isoformat() if anchor else '-'}"


def plan(policy: Policy, account_id: str, state: State, on: date, moratoriums: Sequence[Pause] = ()) -> Plan:
    """What the account must do on business date `on` (closed), given its state. Pure and idempotent:
    planning again on the state the plan returns gives a plan that changes nothing."""
    pauses = (*state.all_pauses, *moratoriums)
    messages: list[Message] = []
    events: list[str] = []
    unpaid = list(state.unpaid)

    # 1. Bills past due become overdue; each counts as a strike, once, on this date.
    marked: list[str] = []
    strikes = list(state.strikes)
    for i, bill in enumerate(unpaid):
        if not bill.overdue and bill.due <= on:  # the date closes at the due time: the bill is past due
            unpaid[i] = replace(bill, overdue=True)
            marked.append(bill.bill_id)
            if all(s.bill_id != bill.bill_id for s in strikes):
                strikes.append(Strike(bill.bill_id, on))
    if marked:
        events.append("bill.overdue")

    # 2. Reminders before each unpaid bill's due date.
    reminded = [r for r in state.reminded if any(b.bill_id == r for b in unpaid)]
    if policy.remind_before_due_days is not None:
        for bill in unpaid:
            remind_on = bill.due - timedelta(days=policy.remind_before_due_days)
            if remind_on <= on < bill.due and bill.bill_id not in reminded:
                reminded.append(bill.bill_id)
                messages.append(
                    Message(
                        KIND_DUE_REMINDER,
                        message_key(account_id, KIND_DUE_REMINDER, bill.bill_id, bill.due),
                        {"bill_id": bill.bill_id, "due_date": bill.due.isoformat(), "amount_fen": bill.outstanding_fen},
                    )
                )

    # 3. The ladder, on days since the earliest unpaid due date minus paused days. Bills under an open dispute
    #    wait: the days, count and amount are those of the other bills, while the anchor (which names the steps
    #    applied and their messages) stays the earliest unpaid due date, so opening and closing a dispute eases
    #    and restores a step without sending anything twice.
    counted = ladder_bills(unpaid, on, pauses)
    anchor = min((b.due for b in unpaid), default=None)
    applied = list(state.applied)
    step_name = state.step
    write_offs: list[WriteOff] = []
    days: int | None = None
    if anchor is None:
        step_name = None
    else:
        days = account_days(counted, on, pauses)
        count, total = len(counted), sum(b.outstanding_fen for b in counted)
        target = evaluate(policy.collection_ladder, days, count, total) if days is not None and days >= 0 else None
        if anchor != state.anchor:
            # Re-anchored (the oldest bill was paid, refunded or written off): the steps the account had already
            # passed and the new anchor also calls for are not sent again; the ones above must be reached anew.
            keep = min(_rank(policy, state.step), _rank(policy, target.name if target else None))
            applied = [s.name for s in policy.collection_ladder if 0 < _rank(policy, s.name) <= keep]
            applied.reverse()
        if target is not None and target.name not in applied:
            applied.append(target.name)
            events.append(f"collection.step.{target.name}")
            base = {
                "step": target.name,
                "actions": list(target.actions),
                "days_overdue": days,
                "due_date": min(b.due for b in counted).isoformat(),
                "amount_fen": total,
                "bills": count,
            }
            if any(a != "phone_task" for a in target.actions):
                messages.append(Message(KIND_STEP, message_key(account_id, KIND_STEP, target.name, anchor), base))
            if "phone_task" in target.actions:
                messages.append(
                    Message(KIND_PHONE_TASK, message_key(account_id, KIND_PHONE_TASK, target.name, anchor), base)
                )
            if "write_off" in target.actions:
                for bill in counted:
                    if bill_days(bill, on, pauses) >= target.day_offset:
                        write_offs.append(
                            WriteOff(bill.bill_id, bill.credit_fen, bill.emergency_fen, "ladder_exhausted")
                        )
        elif _rank(policy, target.name if target else None) < _rank(policy, step_name):
            events.append("collection.step.eased")
        step_name = target.name if target is not None else None
        # 4. Reminders before each step not yet reached for this anchor.
        for s in policy.collection_ladder:
            if s.remind_days_before is None or s.name in applied or f"remind:{s.name}" in applied:
                continue
            if _rank(policy, s.name) <= _rank(policy, step_name):
                continue
            if not step_holds(s, s.day_offset, count, total):
                continue  # the step's number or amount condition does not hold: no reminder of a step to come
            if days is not None and s.day_offset - s.remind_days_before <= days < s.day_offset:
                applied.append(f"remind:{s.name}")
                messages.append(
                    Message(
                        KIND_STEP_REMINDER,
                        message_key(account_id, KIND_STEP_REMINDER, s.name, anchor),
                        {
                            "step": s.name,
                            "actions": list(s.actions),
                            "in_days": s.day_offset - days,
                            "due_date": min(b.due for b in counted).isoformat(),
                            "amount_fen": total,
                            "bills": count,
                        },
                    )
                )

    written = {w.bill_id for w in write_offs}
    if written:
        events.append("bill.written_off")
        unpaid = [b for b in unpaid if b.bill_id not in written]
        reminded = [r for r in reminded if r not in written]
    # The ladder restarts on what is left (if anything) from the next date; nothing left: out of collection.
    if not unpaid:
        if state.step is not None or step_name is not None:
            events.append("collection.cleared")
        step_name, anchor, applied = None, None, []
    elif written:
        counted = ladder_bills(unpaid, on, pauses)
        anchor = min(b.due for b in unpaid)
        days = account_days(counted, on, pauses)
        left = (
            evaluate(policy.collection_ladder, days, len(counted), sum(b.outstanding_fen for b in counted))
            if days is not None
            else None
        )
        keep = min(_rank(policy, state.step), _rank(policy, left.name if left else None))
        applied = [s.name for s in reversed(policy.collection_ladder) if 0 < _rank(policy, s.name) <= keep]
        step_name = left.name if left and left.name in applied else (state.step if keep else None)
        step_name = left.name if left else None

    # 5. The strike rule.
    count = strikes_in_window(strikes, on, policy.strike_window_months, state.strikes_reset_on)
    met = strike_rule_met(count, policy.strike_comparison, policy.strike_count)
    strike_blocked = state.strike_blocked
    if met and not strike_blocked:
        strike_blocked = True
        events.append("collection.strikes.applied")
        messages.append(
            Message(
                KIND_STEP,
                message_key(account_id, KIND_STEP, "strikes", on),
                {"step": "strikes", "actions": list(policy.strike_actions), "strikes": count},
            )
        )
    elif strike_blocked and not met and policy.strike_lift == "rule_no_longer_met" and not unpaid:
        strike_blocked = False
        events.append("collection.strikes.lifted")

    new_state = State(
        unpaid=tuple(unpaid),
        step=step_name,
        anchor=anchor,
        applied=tuple(applied),
        reminded=tuple(reminded),
        strikes=tuple(strikes),
        strike_blocked=strike_blocked,
        pauses=state.pauses,
        stays=state.stays,
        strikes_reset_on=state.strikes_reset_on,
    )
    return Plan(
        on=on,
        state=new_state,
        blocks=blocks_of(policy, new_state),
        suspended=suspended(policy, new_state),
        marked_overdue=tuple(marked),
        messages=tuple(messages),
        write_offs=tuple(write_offs),
        strike_changed=new_state.strikes != state.strikes or strike_blocked != state.strike_blocked,
        step_changed=(new_state.step, new_state.applied, new_state.anchor, new_state.reminded)
        != (state.step, state.applied, state.anchor, state.reminded),
        next_on=next_date(policy, new_state, on, moratoriums),
        days=days,
        events=tuple(events),
    )


def blocks_of(policy: Policy, state: State) -> tuple[str, ...]:
    """What the account may not do: the blocks of its ladder step and of the strike rule when it holds."""
    held = set(step_blocks(_step(policy, state.step)))
    if state.strike_blocked:
        held |= set(strike_blocks(policy))
    return tuple(b for b in BLOCKABLE if b in held)


def next_date(policy: Policy, state: State, on: date, moratoriums: Sequence[Pause] = ()) -> date | None:
    """The first business date after `on` on which `plan` can change something, or None (nothing unpaid, no
    strike that can lift by itself). Under an open pause the account is looked at again the next day."""
    pauses = (*state.all_pauses, *moratoriums)
    candidates: list[date] = []
    for bill in state.unpaid:
        if not bill.overdue:
            candidates.append(bill.due)
        if policy.remind_before_due_days is not None and bill.bill_id not in state.reminded:
            remind_on = bill.due - timedelta(days=policy.remind_before_due_days)
            if on < bill.due:
                candidates.append(max(remind_on, on + timedelta(days=1)))
    counting = ladder_bills(state.unpaid, on, pauses)
    if state.unpaid:
        if any(p.covers(on + timedelta(days=1)) for p in pauses if p.end is None):
            candidates.append(on + timedelta(days=1))
        elif counting:
            days_now = account_days(counting, on, pauses)
            assert days_now is not None
            for s in policy.collection_ladder:
                if _rank(policy, s.name) <= _rank(policy, state.step) and s.name in state.applied:
                    continue
                for threshold in (s.day_offset, s.day_offset - (s.remind_days_before or 0)):
                    if threshold > days_now:
                        candidates.extend(
                            _date_at(b.due, threshold, on, bill_pauses(b.bill_id, pauses)) for b in counting
                        )
            if any(s.min_unpaid_bills or s.min_unpaid_fen for s in policy.collection_ladder):
                pass  # count and amount change only with bills, payments and refunds, which re-index the account
    if state.strike_blocked and policy.strike_lift == "rule_no_longer_met" and policy.strike_window_months:
        reset = state.strikes_reset_on
        counted = sorted(s.on for s in state.strikes if not s.annulled and (reset is None or s.on > reset))
        for s_on in counted:
            expiry = add_months(s_on, policy.strike_window_months) + timedelta(days=0)
            if expiry > on:
                candidates.append(expiry)
                break
    future = [c for c in candidates if c > on]
    return min(future) if future else None


def _date_at(anchor: date, target_days: int, on: date, pauses: Sequence[Pause]) -> date:
    """The first date after `on` whose days overdue reach `target_days` (pauses known now included)."""
    day = on + timedelta(days=1)
    days = days_overdue(anchor, day, pauses)
    # jump close to the answer, then walk past paused days
    if days < target_days:
        day += timedelta(days=target_days - days - 1)
    for _ in range(10_000):
        if days_overdue(anchor, day, pauses) >= target_days:
            return day
        day += timedelta(days=1)
    return day


# ---- (de)serialising the state kept on the account item ---------------------------------------------------------
def state_from_item(item: Mapping[str, Any]) -> State:
    unpaid = tuple(
        sorted(
            (
                UnpaidBill(
                    bill_id=bill_id,
                    due=date.fromisoformat(v["due"]),
                    outstanding_fen=int(v["fen"]),
                    emergency_fen=int(v.get("efen", 0)),
                    overdue=bool(v.get("overdue", False)),
                )
                for bill_id, v in (item.get("unpaid") or {}).items()
            ),
            key=lambda b: (b.due, b.bill_id),
        )
    )
    return State(
        unpaid=unpaid,
        step=item.get("step"),
        anchor=date.fromisoformat(item["anchor"]) if item.get("anchor") else None,
        applied=tuple(item.get("applied") or ()),
        reminded=tuple(item.get("reminded") or ()),
        strikes=tuple(
            Strike(s["bill_id"], date.fromisoformat(s["on"]), bool(s.get("annulled", False)))
            for s in item.get("strikes") or ()
        ),
        strike_blocked=bool(item.get("strike_blocked", False)),
        pauses=tuple(pause_from_item(p) for p in item.get("pauses") or ()),
        stays=tuple(
            Pause(f"stay:{visit_id}", date.fromisoformat(v["start"]), _day(v.get("end")), "inpatient_stay")
            for visit_id, v in sorted((item.get("stays") or {}).items())
        ),
        strikes_reset_on=date.fromisoformat(item["strikes_reset_on"]) if item.get("strikes_reset_on") else None,
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def unpaid_entry(bill: UnpaidBill) -> dict[str, Any]:
    return {
        "due": bill.due.isoformat(),
        "fen": bill.outstanding_fen,
        "efen": bill.emergency_fen,
        **({"overdue": True} if bill.overdue else {}),
    }


def pause_from_item(p: Mapping[str, Any]) -> Pause:
    return Pause(
        pause_id=p["pause_id"],
        start=date.fromisoformat(p["start"]),
        end=date.fromisoformat(p["end"]) if p.get("end") else None,
        reason=p["reason"],
        bill_id=p.get("bill_id"),
    )


def pause_item(p: Pause) -> dict[str, Any]:
    return {
        "pause_id": p.pause_id,
        "start": p.start.isoformat(),
        "end": p.end.isoformat() if p.end else None,
        "reason": p.reason,
        "bill_id": p.bill_id,
    }


def state_fields(state: State) -> dict[str, Any]:
    """The account attributes that hold `state` (None means: remove the attribute)."""
    return {
        "unpaid": {b.bill_id: unpaid_entry(b) for b in state.unpaid},
        "step": state.step,
        "anchor": state.anchor.isoformat() if state.anchor else None,
        "applied": list(state.applied) or None,
        "reminded": list(state.reminded) or None,
        "strikes": [strike_entry(s) for s in state.strikes] or None,
        "strike_blocked": True if state.strike_blocked else None,
        "strikes_reset_on": state.strikes_reset_on.isoformat() if state.strikes_reset_on else None,
    }


def strike_entry(s: Strike) -> dict[str, Any]:
    return {"bill_id": s.bill_id, "on": s.on.isoformat(), **({"annulled": True} if s.annulled else {})}
