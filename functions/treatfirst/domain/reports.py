"""Operator reports: what each figure means, and how it is computed from per-day counters (pure).

Where the numbers come from (treatfirst.services.reports): every close, payment, refund on a bill, write-off,
recovery and ladder message adds to a few counters of its own business date, in its OWN transaction (never a
charge post: an accepted post stays one request), spread over REPORT_SHARDS items so no item is written by every
event of a city. A counter is (name -> bills or messages `n`, amount `fen`). Bills are grouped by due date (their
"cohort"): an unpaid bill ages with the calendar, so the balance of every due date at the close of any business
date — and from it every band — follows from the counters alone, exactly (ClosingBalances).

A figure's definition here is the one text the route, the CSV, the HTML report and the docs page show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

REPORT_SHARDS = 8
MAX_RANGE_DAYS = 366
ROLL_DAYS = 30  # one band of the central bank's scale

# Bands of an unpaid bill at a business date's close: N not yet past due, then 1-7 by 30 days past due.
OPEN_BANDS = ("N", "1", "2", "3", "4", "5", "6", "7")
# Bands of a bill that left the unpaid book in the range: C closed on time, M repaid late, D repaid by a backstop
# (a guarantor: insurance, a public fund, an aid fund), B bad debt (written off to the lender itself).
CLOSED_BANDS = ("C", "M", "D", "B")
LENDER_FUNDS = ("hospital", "financier")  # a write-off to these is the lender's own loss: bad debt (B)

# Counter names: "<figure>|<dimension>|...". Amounts are fen; n counts bills (or messages, or visits).
ISSUED = "issued"  # issued|<due date>: bills issued (n) and their self-pay (fen: credit + emergency)
PAID = "paid"  # paid|<due date>|on_time|late: money applied to bills of that due date; n = bills it settled
REFUNDED = "refunded"  # refunded|<due date>: refunds on issued bills; n = bills they settled
WRITTEN_OFF = "written_off"  # written_off|<due date>|<reason>|<band D or B>: n = bills, fen = amount written off
DRAWN = "drawn"  # drawn|<fund>: what a backstop fund absorbed (fen), n = write-off entries
RECOVERED = "recovered"  # recovered|<fund>: money received after a write-off, credited to the fund
EMERGENCY = "emergency"  # emergency|<hospital>: emergency self-pay billed on closing; n = visits
MESSAGE = "message"  # message|<kind>: ladder SMS rows (and phone tasks) written to the outbox


# Why the report's aging is in calendar days while the ladder's is not (the one text every page shows).
CALENDAR_DAYS_ZH = (
    "报表的逾期天数按日历天计：自到期日日切起算，争议、住院、全市暂停等暂停期间照样计入。计数器只按到期日分组，"
    "不记录某张账单何时暂停、暂停多久，因此无法扣除暂停天数。催收阶梯和实时的 GET /v1/aging 按账单扣除暂停天数，"
    "所以暂停过的账单在本报表中可能处于更高的档（逾期未还余额和迁徙率同样按日历天），两者不必相同。"
)
CALENDAR_DAYS_EN = (
    "The report counts days past due in calendar days from the due date's close: days paused by a dispute, an "
    "inpatient stay or a city moratorium count too. Its counters group bills by due date only and do not know when "
    "or how long a bill was paused, so paused days cannot be taken off. The collection ladder and the live "
    "GET /v1/aging take each bill's paused days off, so a bill that was paused can be in a later band here than "
    "there (past-due unpaid and roll rates are in calendar days too); the two need not agree."
)


def counter(*parts: str) -> str:
    for part in parts:
        if "|" in part:
            raise ValueError("a counter dimension holds no '|'")
    return "|".join(parts)


def band_at_close(due: date, day: date) -> str:
    """The band of a bill due on `due` and unpaid at the close of business date `day`.

    A bill is past due from its due date's close (the city's cut-off is the due time): at that close it is 1 day past
    due. N while not past due; 1 for 1-30 days, ..., 6 for 151-180, 7 over 180.
    """
    days = (day - due).days + 1
    if days <= 0:
        return "N"
    return str(min(7, (days - 1) // 30 + 1))


def closed_band_of_write_off(fund: str) -> str:
    return "B" if fund in LENDER_FUNDS else "D"


@dataclass(frozen=True)
class Figure:
    key: str
    zh: str
    en: str
    definition_zh: str
    definition_en: str
    unit: str  # "fen", "count", "ratio" (a ratio is given as parts per million, an integer, and null when 0/0)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "lent",
        "放款额",
        "Amount lent",
        "区间内关闭就诊生成的账单自付金额合计（信用部分加急危重症部分），按关闭时的业务日期计。",
        "Self-pay billed when visits closed in the range (credit part plus emergency part), by the business date "
        "of the closing.",
        "fen",
    ),
    Figure(
        "past_due",
        "逾期未还余额",
        "Past-due unpaid",
        "区间末日日切时，已过到期日（到期日日切后即逾期）仍未还、未核销的账单余额合计，即 1–7 档之和"
        "（按日历天，暂停中的账单也计入）。",
        "At the close of the range's last business date: what is still owed on bills whose due date has closed "
        "(a bill is past due from its due date's close), not written off — the sum of bands 1-7 (calendar days: "
        "bills in a pause count too).",
        "fen",
    ),
    Figure(
        "arrears_rate",
        "欠费率",
        "Arrears rate",
        "逾期未还余额 ÷ 自报表开始累计放款额（截至区间末日）。以百万分比整数给出，分母为 0 时为空。",
        "Past-due unpaid divided by everything lent since the reports began, through the range's last day. Given "
        "in parts per million (an integer); null when nothing was lent.",
        "ratio",
    ),
    Figure(
        "aging",
        "账龄分档（人民银行还款状态）",
        "Aging bands (the central bank's repayment status)",
        "区间末日日切时未还账单按逾期天数分档：N 未逾期；1 为 1–30 天，2 为 31–60 天 … 6 为 151–180 天，7 为 180 天以上"
        "（按日历天，不扣除争议、住院、全市暂停等暂停天数；催收阶梯和实时的 /v1/aging 扣除暂停天数，两者可能不同）。"
        "另列区间内离开未还状态的账单：C 按时结清或退款"
        "结清，M 逾期后还清，D 由托底方代偿（信用保险、市级基金、救助基金等核销），B 呆账（核销给放款方自身："
        "医院或资金方）。每档给出笔数和金额。",
        "Unpaid bills at the close of the range's last business date by days past due: N not past due; 1 for 1-30 "
        "days, 2 for 31-60, ..., 6 for 151-180, 7 over 180 (calendar days: days paused by a dispute, a stay or a "
        "moratorium are not taken off; the ladder and the live /v1/aging take them off, so the two can differ). "
        "Next to them, bills that left the unpaid book in the range: C closed on time "
        "(paid by the due date's close, or refunded to nothing), M repaid late, D repaid by a backstop (written off "
        "to credit insurance, a municipal or aid fund), B bad debt (written off to the lender itself: the hospital "
        "or the financier). Each band has bills and amount.",
        "fen",
    ),
    Figure(
        "roll_rates",
        "迁徙率",
        "Roll rates",
        "N→1：区间内到期的账单在到期日日切时仍未还的金额 ÷ 到期日开始时（前一日日切余额加当日新开）应还金额。"
        "k→k+1（k=1…6）：区间末日前 30 天日切时处于 k 档的各到期日，在区间末日日切时仍未还的金额 ÷ 其当时金额"
        "（档宽 30 天，仍未还即已进入 k+1 档）；7→7 同理。按日历天分档，与账龄分档相同。"
        "百万分比整数，分母为 0 时为空。",
        "N->1: of the amount falling due in the range (a due date's balance at the previous close plus bills issued "
        "on the day), the share still unpaid at its due date's close. k->k+1 (k = 1-6): of the amount in band k at "
        "the close 30 days before the range's last day, the share still unpaid at the last day's close (bands are "
        "30 days wide, so it is then in band k+1); 7->7 likewise. Bands in calendar days, as the aging bands. "
        "Parts per million; null when 0/0.",
        "ratio",
    ),
    Figure(
        "cure_rate",
        "治愈率",
        "Cure rate",
        "区间开始前一日日切时逾期未还的金额中，区间内由还款（不含退款与核销）收回的比例。"
        "百万分比整数，分母为 0 时为空。",
        "Of the past-due unpaid at the close before the range starts, the share repaid by payments in the range "
        "(refunds and write-offs do not count). Parts per million; null when 0/0.",
        "ratio",
    ),
    Figure(
        "repaid",
        "还款额",
        "Repaid",
        "区间内还款渠道入账、冲抵未核销账单的金额，分按时（到期日日切前）与逾期后两部分。",
        "Payments applied in the range to bills not written off, split into on time (by the due date's close) and "
        "late.",
        "fen",
    ),
    Figure(
        "refunded",
        "账单退款",
        "Refunded on bills",
        "区间内对已出账单的退款或撤销金额（就诊关闭前的退款只释放冻结，不在此列）。",
        "Refunds and cancellations in the range on bills already issued (refunds before a visit closes only "
        "release holds and are not counted).",
        "fen",
    ),
    Figure(
        "write_offs",
        "核销（按原因）",
        "Write-offs by reason",
        "区间内核销的账单笔数与金额，按核销原因码分组。",
        "Bills written off in the range, count and amount, by reason code.",
        "fen",
    ),
    Figure(
        "backstop",
        "托底基金动用（按基金）",
        "Backstop draws by fund",
        "区间内各托底基金承担的核销金额，以及核销后收回并返还该基金的金额。",
        "What each backstop fund absorbed through write-offs in the range, and what it got back as recoveries.",
        "fen",
    ),
    Figure(
        "emergency",
        "急危重症（按医院）",
        "Emergency care by hospital",
        "区间内关闭的就诊中急危重症自付金额，按医院分组（笔数为就诊数）。按月统计已记账急诊费用见 "
        "/v1/reports/emergency。",
        "Emergency self-pay of visits closed in the range, by hospital (n counts visits). Emergency charges "
        "posted per month are on /v1/reports/emergency.",
        "fen",
    ),
    Figure(
        "messages",
        "催收提醒",
        "Reminders",
        "区间内催收阶梯写入发件箱的短信（按类型：到期前提醒、阶梯前提醒、阶梯通知、结清通知）及电话任务数；"
        "发件箱至少投递一次。",
        "SMS rows the collection ladder wrote to the outbox in the range (by kind: before due, before a step, a "
        "step reached, all paid) and phone tasks; the outbox delivers each at least once.",
        "count",
    ),
    Figure(
        "blacklist",
        "失信名单新增与移出",
        "Listed and removed persons",
        "区间内失信名单变更记录中新增列入（异议期满后公布）与移出（已公布记录因还清、申诉成立、到期或更正而移出）"
        "的人数，按人去重，按变更的业务日期计。",
        "Persons added to the blacklist (published, after the objection period) and removed from it (a published "
        "record removed on repayment, an accepted appeal, expiry or correction) in the range, each person once, by "
        "the business date of the change in the blacklist's change log.",
        "count",
    ),
)

FIGURE_KEYS = tuple(f.key for f in FIGURES)


def ppm(numerator: int, denominator: int) -> int | None:
    """A ratio in parts per million, rounded half up; None for 0/0 (a ratio of nothing is not zero)."""
    if denominator == 0:
        return None
    return (2 * 1_000_000 * numerator + denominator) // (2 * denominator)


# ---- counters and closing balances -------------------------------------------------------------------------------
Counts = dict[str, list[int]]  # counter name -> [n, fen]


class Tally:
    """The counters one transaction adds to (merged, so a transaction touches each counter item once)."""

    def __init__(self) -> None:
        self.counts: Counts = {}

    def add(self, name: str, n: int, fen: int) -> None:
        if n == 0 and fen == 0:
            return
        row = self.counts.setdefault(name, [0, 0])
        row[0] += n
        row[1] += fen

    def __bool__(self) -> bool:
        return bool(self.counts)


def merge(counts: Iterable[Mapping[str, list[int]]]) -> Counts:
    total: Counts = {}
    for one in counts:
        for name, (n, fen) in one.items():
            row = total.setdefault(name, [0, 0])
            row[0] += n
            row[1] += fen
    return total


@dataclass
class ClosingBalances:
    """Unpaid bills by due date at the close of `day`, and everything lent since the reports began."""

    day: date
    cohorts: dict[str, list[int]] = field(default_factory=dict)  # due date -> [open bills, outstanding fen]
    lent_fen: int = 0
    lent_n: int = 0

    def after(self, day: date, counts: Mapping[str, list[int]]) -> ClosingBalances:
        """The balances at the close of `day`, from these (the previous day's) and the day's counters."""
        cohorts = {k: list(v) for k, v in self.cohorts.items()}
        lent_fen, lent_n = self.lent_fen, self.lent_n
        for name, (n, fen) in counts.items():
            parts = name.split("|")
            if parts[0] == ISSUED:
                row = cohorts.setdefault(parts[1], [0, 0])
                row[0] += n
                row[1] += fen
                lent_fen += fen
                lent_n += n
            elif parts[0] in (PAID, REFUNDED, WRITTEN_OFF):
                row = cohorts.setdefault(parts[1], [0, 0])
                row[0] -= n
                row[1] -= fen
        return ClosingBalances(day, {k: v for k, v in sorted(cohorts.items()) if v != [0, 0]}, lent_fen, lent_n)

    def bands(self) -> dict[str, list[int]]:
        out = {b: [0, 0] for b in OPEN_BANDS}
        for due, (n, fen) in self.cohorts.items():
            row = out[band_at_close(date.fromisoformat(due), self.day)]
            row[0] += n
            row[1] += fen
        return out

    def outstanding(self, due: str) -> int:
        return self.cohorts.get(due, [0, 0])[1]

    def as_item(self) -> dict[str, Any]:
        return {"cohorts": self.cohorts, "lent_fen": self.lent_fen, "lent_n": self.lent_n}

    @classmethod
    def from_item(cls, day: date, item: Mapping[str, Any]) -> ClosingBalances:
        return cls(
            day,
            {k: [int(v[0]), int(v[1])] for k, v in (item.get("cohorts") or {}).items()},
            int(item.get("lent_fen", 0)),
            int(item.get("lent_n", 0)),
        )


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# ---- the report --------------------------------------------------------------------------------------------------
def _sum(counts: Mapping[str, list[int]], figure: str, *dims: str | None) -> list[int]:
    """[n, fen] of the counters of `figure` whose dimensions match `dims` (None matches any)."""
    total = [0, 0]
    for name, (n, fen) in counts.items():
        parts = name.split("|")
        if parts[0] != figure:
            continue
        if all(d is None or (i + 1 < len(parts) and parts[i + 1] == d) for i, d in enumerate(dims)):
            total[0] += n
            total[1] += fen
    return total


def _group(counts: Mapping[str, list[int]], figure: str, position: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for name, (n, fen) in counts.items():
        parts = name.split("|")
        if parts[0] == figure:
            row = out.setdefault(parts[position], [0, 0])
            row[0] += n
            row[1] += fen
    return dict(sorted(out.items()))


def build_report(
    *,
    start: date,
    end: date,
    per_day: Mapping[date, Mapping[str, list[int]]],
    closing: Mapping[date, ClosingBalances],
    roll_base: ClosingBalances | None,
    blacklist: Mapping[str, int],
) -> dict[str, Any]:
    """The report of business dates start..end from each day's counters and closing balances.

    `closing` holds the close of start-1 and of every day of the range; `roll_base` the close of end-30 (None when
    the reports had not begun then). Amounts in fen, ratios in parts per million.
    """
    range_days = days(start, end)
    counts = merge(per_day.get(d, {}) for d in range_days)
    before, last = closing[start - timedelta(days=1)], closing[end]

    open_bands = last.bands()
    past_due_fen = sum(open_bands[b][1] for b in OPEN_BANDS[1:])
    past_due_n = sum(open_bands[b][0] for b in OPEN_BANDS[1:])

    paid_on_time = _sum(counts, PAID, None, "on_time")
    paid_late = _sum(counts, PAID, None, "late")
    refunded = _sum(counts, REFUNDED)
    closed = {
        "C": [paid_on_time[0] + refunded[0], paid_on_time[1] + refunded[1]],
        "M": paid_late,
        "D": _sum(counts, WRITTEN_OFF, None, None, "D"),
        "B": _sum(counts, WRITTEN_OFF, None, None, "B"),
    }

    # N->1: what fell due in the range, and what of it was still unpaid at its due date's close
    due_n1, unpaid_n1 = 0, 0
    for d in range_days:
        key = d.isoformat()
        due_n1 += closing[d - timedelta(days=1)].outstanding(key) + _sum(per_day.get(d, {}), ISSUED, key)[1]
        unpaid_n1 += closing[d].outstanding(key)
    rolls: list[dict[str, Any]] = [{"from": "N", "to": "1", "base_fen": due_n1, "rolled_fen": unpaid_n1}]
    for i, band in enumerate(OPEN_BANDS[1:], start=1):
        base_fen = rolled_fen = 0
        if roll_base is not None:
            for due, (_, fen) in roll_base.cohorts.items():
                if band_at_close(date.fromisoformat(due), roll_base.day) == band:
                    base_fen += fen
                    rolled_fen += last.outstanding(due)
        rolls.append(
            {
                "from": band,
                "to": OPEN_BANDS[min(i + 1, 7)],
                "base_fen": base_fen if roll_base else None,
                "rolled_fen": rolled_fen if roll_base else None,
            }
        )
    for row in rolls:
        row["rate_ppm"] = ppm(row["rolled_fen"], row["base_fen"]) if row["base_fen"] is not None else None

    past_due_before = {
        due: fen
        for due, (_, fen) in before.cohorts.items()
        if band_at_close(date.fromisoformat(due), before.day) != "N"
    }
    cure_base = sum(past_due_before.values())
    cured = sum(_sum(counts, PAID, due)[1] for due in past_due_before)

    def rows(grouped: Mapping[str, list[int]], key: str) -> list[dict[str, Any]]:
        return [{key: k, "n": v[0], "fen": v[1]} for k, v in grouped.items()]

    drawn = _group(counts, DRAWN, 1)
    recovered = _group(counts, RECOVERED, 1)
    funds = sorted({*drawn, *recovered})
    lent = _sum(counts, ISSUED)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "lent": {"bills": lent[0], "fen": lent[1]},
        "lent_since_start_fen": last.lent_fen,
        "past_due": {"bills": past_due_n, "fen": past_due_fen},
        "arrears_rate_ppm": ppm(past_due_fen, last.lent_fen),
        "aging": [{"band": b, "bills": open_bands[b][0], "fen": open_bands[b][1]} for b in OPEN_BANDS]
        + [{"band": b, "bills": closed[b][0], "fen": closed[b][1]} for b in CLOSED_BANDS],
        "roll_rates": rolls,
        "cure": {"base_fen": cure_base, "cured_fen": cured, "rate_ppm": ppm(cured, cure_base)},
        "repaid": {
            "on_time_fen": paid_on_time[1],
            "late_fen": paid_late[1],
            "fen": paid_on_time[1] + paid_late[1],
        },
        "refunded": {"bills": refunded[0], "fen": refunded[1]},
        "write_offs": rows(_group(counts, WRITTEN_OFF, 2), "reason"),
        "backstop": [
            {
                "fund": f,
                "draws": drawn.get(f, [0, 0])[0],
                "drawn_fen": drawn.get(f, [0, 0])[1],
                "recovered_fen": recovered.get(f, [0, 0])[1],
            }
            for f in funds
        ],
        "emergency": [{"hospital_id": k, "visits": v[0], "fen": v[1]} for k, v in _group(counts, EMERGENCY, 1).items()],
        "messages": [{"kind": k, "n": v[0]} for k, v in _group(counts, MESSAGE, 1).items()],
        "blacklist": dict(blacklist),
        "daily": [
            {
                "day": d.isoformat(),
                "lent_fen": _sum(per_day.get(d, {}), ISSUED)[1],
                "repaid_fen": _sum(per_day.get(d, {}), PAID)[1],
                "written_off_fen": _sum(per_day.get(d, {}), WRITTEN_OFF)[1],
                "past_due_fen": sum(v[1] for b, v in closing[d].bands().items() if b != "N"),
            }
            for d in range_days
        ],
    }
