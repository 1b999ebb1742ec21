"""Operator reports (treatfirst.domain.reports defines every figure): counters kept with the events, closing
balances per business date, and the report of a date range as JSON or CSV.

Counters: each close, payment, refund on a bill, write-off, recovery and ladder step adds to its business date's
counters IN ITS OWN TRANSACTION (`tally_writes`), on one of REPORT_SHARDS items per counter chosen from the event's
subject, so a day's counters are a handful of items and no item is written by every event of a city. A charge post
adds nothing (an accepted post stays one request): what is lent is counted when the visit closes.

Closing balances: the unpaid amount of every due date at the close of a business date, and everything lent so far.
They follow from the previous date's and the day's counters only (domain.reports.ClosingBalances.after), so
computing one again gives the same item; `close_days` records each closed date once, the first time a report needs
it. The reports begin on the first date recorded (the day before the first report's range, when nothing is).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import msgspec

from treatfirst.domain import reports as r
from treatfirst.domain.collection import closed_through, local_date
from treatfirst.domain.errors import InvalidDateRange
from treatfirst.messages.common import to_item
from treatfirst.messages.reports import OperatorReport, ReportQuery
from treatfirst.services.identity import Caller
from treatfirst.services.paging import every
from treatfirst.services.ports import REPORTS, Put, Update, Write
from treatfirst.services.unit_of_work import Context

CLOSING = "closing"
_PAGE = 100
_RECORD_BATCH = 25


# ---- counters, written with the events ---------------------------------------------------------------------------
def business_date(ctx: Context) -> date:
    """The business date an event committed now belongs to: the first date not closed yet (city zone, cut-off)."""
    return closed_through(ctx.clock.now(), zone=ctx.policy.timezone, cutoff=ctx.policy.due_at) + timedelta(days=1)


def due_date(ctx: Context, bill: Mapping[str, Any]) -> date:
    return local_date(bill["due_at"], ctx.policy.timezone)


def shard_of(seed: str) -> int:
    return hashlib.sha256(seed.encode()).digest()[0] % r.REPORT_SHARDS


def tally_writes(ctx: Context, tally: r.Tally, seed: str) -> list[Write]:
    """The Updates that add a transaction's counters to its business date (one item per counter name)."""
    if not tally:
        return []
    day_shard = f"{business_date(ctx).isoformat()}#{shard_of(seed)}"
    return [
        Update(REPORTS, {"day_shard": day_shard, "counter": name}, add={"n": n, "fen": fen}, upsert=True)
        for name, (n, fen) in sorted(tally.counts.items())
    ]


def count_issued(ctx: Context, tally: r.Tally, bill: Mapping[str, Any]) -> None:
    """A bill issued on closing: lent (credit and emergency self-pay) by due date; emergency by hospital."""
    total = int(bill["amount_fen"]) + int(bill["emergency_amount_fen"])
    if total:
        tally.add(r.counter(r.ISSUED, due_date(ctx, bill).isoformat()), 1, total)
    if bill["emergency_amount_fen"]:
        tally.add(r.counter(r.EMERGENCY, bill["hospital_id"]), 1, int(bill["emergency_amount_fen"]))


def count_paid(ctx: Context, tally: r.Tally, bill: Mapping[str, Any], amount: int, settled: bool) -> None:
    """Money applied to an unpaid bill: on time until its due date's close, late after it."""
    due = due_date(ctx, bill)
    timing = "late" if business_date(ctx) > due else "on_time"
    tally.add(r.counter(r.PAID, due.isoformat(), timing), 1 if settled else 0, amount)


def count_refunded(ctx: Context, tally: r.Tally, bill: Mapping[str, Any], amount: int, settled: bool) -> None:
    tally.add(r.counter(r.REFUNDED, due_date(ctx, bill).isoformat()), 1 if settled else 0, amount)


def count_written_off(
    tally: r.Tally, due: date, reason: str, parts: list[tuple[str, int]], *, first_counts_bill: bool = True
) -> None:
    """A write-off: (fund, amount) parts; the bill counts once (with its first part), each fund draws its part."""
    counted = not first_counts_bill
    for fund, amount in parts:
        if not amount:
            continue
        band = r.closed_band_of_write_off(fund)
        tally.add(r.counter(r.WRITTEN_OFF, due.isoformat(), reason, band), 0 if counted else 1, amount)
        counted = True
        tally.add(r.counter(r.DRAWN, fund), 1, amount)


def count_recovered(tally: r.Tally, fund: str, amount: int) -> None:
    tally.add(r.counter(r.RECOVERED, fund), 1, amount)


def count_message(tally: r.Tally, kind: str) -> None:
    tally.add(r.counter(r.MESSAGE, kind), 1, 0)


# ---- reading ---------------------------------------------------------------------------------------------------
def day_counts(ctx: Context, day: date) -> r.Counts:
    """Every counter of one business date: one query per shard (reads grow with the counters, never a scan)."""
    total: r.Counts = {}
    for shard in range(r.REPORT_SHARDS):
        for item in every(ctx.store, REPORTS, f"{day.isoformat()}#{shard}", page_size=_PAGE):
            row = total.setdefault(item["counter"], [0, 0])
            row[0] += int(item.get("n", 0))
            row[1] += int(item.get("fen", 0))
    return total


CLOSE_GRACE = timedelta(minutes=5)  # a transaction stamped just before the cut-off has committed by then


def last_closed(ctx: Context) -> date:
    """The last business date a report may cover: closed at least CLOSE_GRACE ago."""
    then = ctx.clock.now() - CLOSE_GRACE
    return closed_through(then, zone=ctx.policy.timezone, cutoff=ctx.policy.due_at)


def roll_up(ctx: Context) -> dict[str, Any]:
    """The scheduled part (run with the hourly collection): record the closing balances of every business date
    closed since the last one recorded, so the reports begin when the platform does, not with the first report."""
    through = last_closed(ctx)
    return {"closed_through": close_days(ctx, through).day.isoformat()}


def _latest_closing(ctx: Context) -> r.ClosingBalances | None:
    page = ctx.store.query(REPORTS, CLOSING, limit=1, forward=False)
    if not page.items:
        return None
    item = page.items[0]
    return r.ClosingBalances.from_item(date.fromisoformat(item["counter"]), item)


def first_closing(ctx: Context) -> date | None:
    page = ctx.store.query(REPORTS, CLOSING, limit=1)
    return date.fromisoformat(page.items[0]["counter"]) if page.items else None


def close_days(
    ctx: Context, through: date, *, begin: date | None = None, known: Mapping[date, r.Counts] | None = None
) -> r.ClosingBalances:
    """Record the closing balances of every business date after the last one recorded, through `through` (a
    closed date), and return those of `through`. With nothing recorded, the reports begin at `begin` (empty
    balances at the close of the day before it). `known`: counters already read, by day."""
    latest = _latest_closing(ctx)
    pending: list[r.ClosingBalances] = []
    if latest is None:
        latest = r.ClosingBalances((begin or through) - timedelta(days=1))
        pending.append(latest)
    current = latest
    day = latest.day
    while day < through:
        day += timedelta(days=1)
        counts = known[day] if known is not None and day in known else day_counts(ctx, day)
        current = current.after(day, counts)
        pending.append(current)
        if len(pending) == _RECORD_BATCH:
            _record(ctx, pending)
            pending = []
    _record(ctx, pending)
    return current


def closings(ctx: Context, start: date, end: date) -> dict[date, r.ClosingBalances]:
    """The recorded closing balances of start..end, read newest first from the one partition (pages of 100)."""
    found: dict[date, r.ClosingBalances] = {}
    for item in every(ctx.store, REPORTS, CLOSING, page_size=_PAGE, until=end.isoformat(), forward=False):
        day = date.fromisoformat(item["counter"])
        if day < start:
            break
        found[day] = r.ClosingBalances.from_item(day, item)
    return found


def _record(ctx: Context, days: list[r.ClosingBalances]) -> None:
    """Record closing balances, oldest first, a few days per transaction. Each is the same item whoever computes
    it (a pure function of what came before), so two reports racing write it twice, equal."""
    if days:
        items = [
            {"day_shard": CLOSING, "counter": b.day.isoformat(), **b.as_item(), "written_at": ctx.now_text()}
            for b in days
        ]
        ctx.commit([Put(REPORTS, item, overwrite=True) for item in items])


# ---- the report -----------------------------------------------------------------------------------------------
def check_range(ctx: Context, start: date, end: date) -> None:
    closed = last_closed(ctx)
    if end < start:
        raise InvalidDateRange("`to` is before `from`", field="to")
    if end > closed:
        raise InvalidDateRange(f"`to` is after the last closed business date {closed.isoformat()}", field="to")
    if (end - start).days + 1 > r.MAX_RANGE_DAYS:
        raise InvalidDateRange(f"a report covers at most {r.MAX_RANGE_DAYS} business dates", field="from")
    first = first_closing(ctx)
    if first is not None and start <= first:
        raise InvalidDateRange(f"the reports begin after {first.isoformat()}", field="from")


def report(ctx: Context, start: date, end: date) -> dict[str, Any]:
    """The report of business dates start..end (both closed), every figure of domain.reports.FIGURES."""
    check_range(ctx, start, end)
    per_day = {d: day_counts(ctx, d) for d in r.days(start, end)}  # each day's counters read once
    close_days(ctx, end, begin=start, known=per_day)
    roll_day = end - timedelta(days=r.ROLL_DAYS)
    closing = closings(ctx, min(start - timedelta(days=1), roll_day), end)
    assert all(d in closing for d in [start - timedelta(days=1), *per_day]), "recorded through the range"
    roll_base = closing.get(roll_day)
    return r.build_report(
        start=start,
        end=end,
        per_day=per_day,
        closing=closing,
        roll_base=roll_base,
        blacklist=blacklist_counts(ctx, start, end),
    )


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDateRange(f"`{field}` is not a calendar date", field=field) from None


def operator_report(ctx: Context, caller: Caller, query: ReportQuery) -> dict[str, Any]:
    """The operator report as the route answers it (the struct checks its shape)."""
    caller.may("reports", "read")
    start, end = parse_day(query.from_, "from"), parse_day(query.to, "to")
    body = report(ctx, start, end)
    return to_item(msgspec.convert(body, OperatorReport))


def blacklist_counts(ctx: Context, start: date, end: date) -> dict[str, int]:
    """Persons added to and removed from the blacklist records in the range (business dates start..end), read
    through the blacklist's own API (services.blacklist.changes: its change log, per business day, no scan). A
    person with two records added in the range counts once."""
    from treatfirst.services import blacklist

    added: set[str] = set()
    removed: set[str] = set()
    for change in blacklist.changes(
        ctx, city_code=ctx.policy.city_code, from_date=start, to_date=end + timedelta(days=1)
    ):
        (added if change["kind"] == "added" else removed).add(change["account_id"])
    return {"listed": len(added), "removed": len(removed)}


# ---- CSV: one row per figure and dimension -------------------------------------------------------------------------
CSV_COLUMNS = ("figure", "figure_zh", "dimension", "n", "fen", "ppm")


def csv_rows(report_body: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    zh = {f.key: f.zh for f in r.FIGURES}

    def row(
        figure: str, dimension: str, n: int | None = None, fen: int | None = None, rate: int | None = None
    ) -> tuple[Any, ...]:
        return (figure, zh[figure], dimension, n, fen, rate)

    b = report_body
    rows = [
        row("lent", "range", b["lent"]["bills"], b["lent"]["fen"]),
        row("lent", "since_start", None, b["lent_since_start_fen"]),
        row("past_due", "at_close", b["past_due"]["bills"], b["past_due"]["fen"]),
        row("arrears_rate", "at_close", None, None, b["arrears_rate_ppm"]),
        *[row("aging", a["band"], a["bills"], a["fen"]) for a in b["aging"]],
        *[row("roll_rates", f"{x['from']}->{x['to']}", None, x["rolled_fen"], x["rate_ppm"]) for x in b["roll_rates"]],
        row("cure_rate", "range", None, b["cure"]["cured_fen"], b["cure"]["rate_ppm"]),
        row("repaid", "on_time", None, b["repaid"]["on_time_fen"]),
        row("repaid", "late", None, b["repaid"]["late_fen"]),
        row("refunded", "range", b["refunded"]["bills"], b["refunded"]["fen"]),
        *[row("write_offs", w["reason"], w["n"], w["fen"]) for w in b["write_offs"]],
        *[row("backstop", f"{f['fund']}:drawn", f["draws"], f["drawn_fen"]) for f in b["backstop"]],
        *[row("backstop", f"{f['fund']}:recovered", None, f["recovered_fen"]) for f in b["backstop"]],
        *[row("emergency", e["hospital_id"], e["visits"], e["fen"]) for e in b["emergency"]],
        *[row("messages", m["kind"], m["n"]) for m in b["messages"]],
    ]
    rows += [row("blacklist", k, v) for k, v in sorted(b["blacklist"].items())]
    return rows


def to_csv(report_body: Mapping[str, Any]) -> str:
    """UTF-8 text (the HTTP edge adds the byte order mark so Chinese Excel opens it); empty cells for nulls."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("from", "to", *CSV_COLUMNS))
    for values in csv_rows(report_body):
        writer.writerow((report_body["from"], report_body["to"], *("" if v is None else v for v in values)))
    return out.getvalue()
