"""Patient statements (信用日账): each morning, one SMS per patient who was charged on the business date before, with
what those charges came to and what is owed now — through the same outbox as the reminders.

Where the city's policy sets `reminders.daily_statement: true`. The patients are found from the ledger's per-day
index (treatfirst.services.ledger_days.entries_for_day: the day's `hold` and `emergency_hold` entries, one per
charge with self-pay), never a scan; then one read of each such account. The message carries the minimum: the
masked name, the date, how many charges, their self-pay and what is owed in yuan, the earliest due date — never
an item, a hospital, a department or a diagnosis (services/outbox.py refuses any other parameter).

One row per (account, date): the outbox row's id comes from f"{account}#statement#{date}", so a rerun sends
nothing twice; a watermark item ("sys#statements") remembers the last date done, so a rerun reads nothing.
Only the last closed business date is stated: after an outage, the days missed are not sent late. The job runs
with the SMS dispatcher (every 5 minutes) and writes nothing before SEND_FROM_HOUR in the city's time zone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError
from treatfirst.services.collection import closed_date
from treatfirst.services.outbox import outbox_put
from treatfirst.services.ports import ACCOUNTS, Item, Put, Update, Write
from treatfirst.services.unit_of_work import Context

WATERMARK = "sys#statements"
SEND_FROM_HOUR = 9  # city time: statements are written from 09:00 (no SMS at night), then dispatched at once
CHARGE_KINDS = ("hold", "emergency_hold")

Entries = Callable[[Context, str, date], Iterable[Item]]


def _day_entries(ctx: Context, city_code: str, day: date) -> Iterable[Item]:
    from treatfirst.services.ledger_days import entries_for_day

    return entries_for_day(ctx, city_code=city_code, business_date=day)


@dataclass
class StatementResult:
    date: str | None = None
    entries: int = 0
    sent: int = 0
    already: int = 0
    skipped: int = 0
    enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "date": self.date,
            "entries": self.entries,
            "sent": self.sent,
            "already": self.already,
            "skipped": self.skipped,
        }


def send_statements(ctx: Context, *, entries: Entries = _day_entries) -> StatementResult:
    """Write the statement SMS of the last closed business date (once per account and date)."""
    if not ctx.policy.daily_statement:
        return StatementResult(enabled=False)
    if ctx.clock.now().astimezone(ZoneInfo(ctx.policy.timezone)).hour < SEND_FROM_HOUR:
        return StatementResult()
    day = closed_date(ctx)
    result = StatementResult(date=day.isoformat())
    mark = ctx.store.get(ACCOUNTS, {"account_id": WATERMARK})
    if mark is not None and mark["swept_through"] >= day.isoformat():
        return result
    charged: dict[str, list[int]] = {}
    for e in entries(ctx, ctx.policy.city_code, day):
        result.entries += 1
        if e.get("kind") in CHARGE_KINDS and str(e.get("account_id", "")).startswith("acc_"):
            line = charged.setdefault(e["account_id"], [0, 0])
            line[0] += 1
            line[1] += int(e["amount_fen"])
    for account_id, (count, fen) in sorted(charged.items()):
        account = ctx.store.get(ACCOUNTS, {"account_id": account_id})
        if account is None or account.get("status") != "active" or not account.get("phone_enc"):
            result.skipped += 1
            continue
        owed = sum(int(account.get(k, 0)) for k in ("owed_fen", "held_fen", "emergency_owed_fen", "emergency_held_fen"))
        params: dict[str, Any] = {
            "statement_date": day.isoformat(),
            "charges": count,
            "charged_fen": fen,
            "amount_fen": owed,
        }
        if account.get("name_masked"):
            params["name_masked"] = account["name_masked"]
        dues = sorted(v["due"] for v in (account.get("unpaid") or {}).values())
        if dues:
            params["due_date"] = dues[0]
        put = outbox_put(
            ctx, account_id=account_id, kind="statement", dedupe_key=f"{account_id}#statement#{day}", params=params
        )
        try:
            ctx.commit([put])
        except ConcurrentUpdate:
            result.already += 1  # sent by an earlier run that stopped before its watermark
            continue
        result.sent += 1
    write: Write = (
        Update(
            ACCOUNTS,
            {"account_id": WATERMARK},
            set={"swept_through": day.isoformat()},
            expect={"swept_through": mark["swept_through"]},
            fail=ConcurrentUpdate,
        )
        if mark is not None
        else Put(ACCOUNTS, {"account_id": WATERMARK, "swept_through": day.isoformat()}, fail=ConcurrentUpdate)
    )
    with contextlib.suppress(TreatFirstError):  # another run moved it meanwhile: its rows are the same rows
        ctx.commit([write])
    return result
