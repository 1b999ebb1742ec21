"""The operator report as one static, self-contained HTML file: charts drawn as inline SVG here, in Python, no
script and nothing fetched from anywhere; Chinese first, English under it. `treatfirst-admin report` writes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from treatfirst.domain import reports as r

BAND_ZH = {
    "N": "未逾期",
    "1": "1–30天",
    "2": "31–60天",
    "3": "61–90天",
    "4": "91–120天",
    "5": "121–150天",
    "6": "151–180天",
    "7": "180天以上",
    "C": "按时结清",
    "M": "逾期后还清",
    "D": "托底代偿",
    "B": "呆账",
}
COLOURS = ("#2b6cb0", "#dd6b20", "#2f855a", "#c53030", "#6b46c1", "#718096")


def yuan(fen: int | None) -> str:
    """Integer fen as yuan text with two decimals and thousands separators (never through a float)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def percent(ppm: int | None) -> str:
    """Parts per million as a percentage with 4 decimals (integer arithmetic)."""
    if ppm is None:
        return "—"
    whole, rest = divmod(int(ppm), 10_000)
    return f"{whole}.{rest:04d}%"


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], *, unit: str = "fen") -> Markup:
    """Vertical bars with their values; heights scale to the largest value (integer arithmetic)."""
    width, height, top, bottom, left = 640, 260, 30, 50, 10
    inner = height - top - bottom
    slot = (width - 2 * left) // max(1, len(values))
    peak = max([1, *values])
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + inner}" x2="{width - left}" y2="{top + inner}" stroke="#999"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = inner * max(0, value) // peak
        x = left + i * slot + slot // 6
        w = slot * 2 // 3
        shown = yuan(value) if unit == "fen" else (percent(value) if unit == "ppm" else str(value))
        parts += [
            f'<rect x="{x}" y="{top + inner - h}" width="{w}" height="{h}" fill="{COLOURS[0]}"/>',
            f'<text x="{x + w // 2}" y="{top + inner - h - 4}" font-size="11" text-anchor="middle">'
            f"{escape(shown)}</text>",
            f'<text x="{x + w // 2}" y="{top + inner + 16}" font-size="11" text-anchor="middle">{escape(label)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def line_chart(title: str, days: Sequence[str], series: Mapping[str, Sequence[int]]) -> Markup:
    """One polyline per series over the days, with a legend; the y axis scales to the largest value."""
    width, height, top, bottom, left, right = 640, 280, 30, 60, 10, 10
    inner_w, inner_h = width - left - right, height - top - bottom
    peak = max([1, *(v for values in series.values() for v in values)])
    step = inner_w / max(1, len(days) - 1)
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + inner_h}" x2="{width - right}" y2="{top + inner_h}" stroke="#999"/>',
        f'<text x="{left}" y="{top - 8}" font-size="11">{escape(yuan(peak))}</text>',
    ]
    for n, (name, values) in enumerate(series.items()):
        points = " ".join(
            f"{left + i * step:.1f},{top + inner_h - inner_h * max(0, v) / peak:.1f}" for i, v in enumerate(values)
        )
        colour = COLOURS[n % len(COLOURS)]
        parts += [
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>',
            f'<rect x="{left + n * 160}" y="{height - 18}" width="12" height="12" fill="{colour}"/>',
            f'<text x="{left + n * 160 + 16}" y="{height - 8}" font-size="11">{escape(name)}</text>',
        ]
    if days:
        parts += [
            f'<text x="{left}" y="{top + inner_h + 16}" font-size="11">{escape(days[0])}</text>',
            f'<text x="{width - right}" y="{top + inner_h + 16}" font-size="11" text-anchor="end">'
            f"{escape(days[-1])}</text>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>运营报表 Operator report {{ report['from'] }} – {{ report['to'] }}</title>
<style>
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 1.5rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1a202c; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.en { color: #4a5568; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.kpi { display: flex; flex-wrap: wrap; gap: 1rem; }
.kpi div { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem 1rem; min-width: 10rem; }
.kpi b { display: block; font-size: 1.3rem; }
</style>
</head>
<body>
<h1>{{ city }} 运营报表 <span class="en">Operator report</span></h1>
<p>业务日期 {{ report['from'] }} 至 {{ report['to'] }}（含）；金额单位：元。
<span class="en">Business dates {{ report['from'] }} to {{ report['to'] }} (inclusive); amounts in yuan.</span></p>

<div class="kpi">
<div>放款额 <span class="en">Lent</span><b>{{ yuan(report['lent']['fen']) }}</b></div>
<div>逾期未还 <span class="en">Past-due unpaid</span><b>{{ yuan(report['past_due']['fen']) }}</b></div>
<div>欠费率 <span class="en">Arrears rate</span><b>{{ percent(report['arrears_rate_ppm']) }}</b></div>
<div>治愈率 <span class="en">Cure rate</span><b>{{ percent(report['cure']['rate_ppm']) }}</b></div>
<div>还款额 <span class="en">Repaid</span><b>{{ yuan(report['repaid']['fen']) }}</b></div>
</div>

<h2>每日放款、还款与逾期余额 <span class="en">Daily lending, repayment and past-due balance</span></h2>
{{ daily_chart }}

<h2>账龄分档（区间末日日切，按日历天）
<span class="en">Aging bands at the last day's close, in calendar days</span></h2>
{{ aging_chart }}
<p class="note">{{ calendar_zh }} <span class="en">{{ calendar_en }}</span></p>
<table><tr><th>档 Band</th><th>说明</th><th>笔数 Bills</th><th>金额 Amount</th></tr>
{% for b in report['aging'] %}<tr><td>{{ b['band'] }}</td><td>{{ band_zh[b['band']] }}</td>
<td class="num">{{ b['bills'] }}</td><td class="num">{{ yuan(b['fen']) }}</td></tr>
{% endfor %}</table>

<h2>迁徙率 <span class="en">Roll rates</span></h2>
{{ roll_chart }}
<table><tr><th>从 From</th><th>到 To</th><th>基数 Base</th><th>迁徙 Rolled</th><th>比率 Rate</th></tr>
{% for x in report['roll_rates'] %}<tr><td>{{ x['from'] }}</td><td>{{ x['to'] }}</td>
<td class="num">{{ yuan(x['base_fen']) }}</td><td class="num">{{ yuan(x['rolled_fen']) }}</td>
<td class="num">{{ percent(x['rate_ppm']) }}</td></tr>
{% endfor %}</table>

<h2>核销（按原因） <span class="en">Write-offs by reason</span></h2>
<table><tr><th>原因 Reason</th><th>笔数 Bills</th><th>金额 Amount</th></tr>
{% for w in report['write_offs'] %}<tr><td>{{ w['reason'] }}</td><td class="num">{{ w['n'] }}</td>
<td class="num">{{ yuan(w['fen']) }}</td></tr>
{% else %}<tr><td colspan="3">无 None</td></tr>{% endfor %}</table>

<h2>托底基金（按基金） <span class="en">Backstop draws by fund</span></h2>
<table><tr><th>基金 Fund</th><th>次数 Draws</th><th>承担 Drawn</th><th>收回 Recovered</th></tr>
{% for f in report['backstop'] %}<tr><td>{{ f['fund'] }}</td><td class="num">{{ f['draws'] }}</td>
<td class="num">{{ yuan(f['drawn_fen']) }}</td><td class="num">{{ yuan(f['recovered_fen']) }}</td></tr>
{% else %}<tr><td colspan="4">无 None</td></tr>{% endfor %}</table>

<h2>急危重症（按医院） <span class="en">Emergency care by hospital</span></h2>
<table><tr><th>医院 Hospital</th><th>就诊 Visits</th><th>自付 Self-pay</th></tr>
{% for e in report['emergency'] %}<tr><td>{{ e['hospital_id'] }}</td><td class="num">{{ e['visits'] }}</td>
<td class="num">{{ yuan(e['fen']) }}</td></tr>
{% else %}<tr><td colspan="3">无 None</td></tr>{% endfor %}</table>

<h2>催收提醒 <span class="en">Reminders</span></h2>
<table><tr><th>类型 Kind</th><th>条数 Count</th></tr>
{% for m in report['messages'] %}<tr><td>{{ m['kind'] }}</td><td class="num">{{ m['n'] }}</td></tr>
{% else %}<tr><td colspan="2">无 None</td></tr>{% endfor %}</table>

<h2>失信名单 <span class="en">Listed and removed persons</span></h2>
<p>新增 {{ report['blacklist']['listed'] }} 人，移出 {{ report['blacklist']['removed'] }} 人。
<span class="en">Listed {{ report['blacklist']['listed'] }}, removed {{ report['blacklist']['removed'] }}.</span></p>

<h2>指标定义 <span class="en">Definitions</span></h2>
<table><tr><th>指标 Figure</th><th>定义 Definition</th></tr>
{% for f in figures %}<tr><td>{{ f.zh }}<br><span class="en">{{ f.en }}</span></td>
<td>{{ f.definition_zh }}<br><span class="en">{{ f.definition_en }}</span></td></tr>
{% endfor %}</table>
</body>
</html>
"""


def render(report: Mapping[str, Any], *, city: str) -> str:
    """The HTML page of a report (domain.reports.build_report's shape)."""
    env = Environment(autoescape=True, undefined=StrictUndefined)
    open_bands = [b for b in report["aging"] if b["band"] in r.OPEN_BANDS]
    daily = report["daily"]
    return env.from_string(TEMPLATE).render(
        report=report,
        city=city,
        yuan=yuan,
        percent=percent,
        band_zh=BAND_ZH,
        calendar_zh=r.CALENDAR_DAYS_ZH,
        calendar_en=r.CALENDAR_DAYS_EN,
        figures=r.FIGURES,
        aging_chart=bar_chart("账龄分档 Aging bands", [b["band"] for b in open_bands], [b["fen"] for b in open_bands]),
        roll_chart=bar_chart(
            "迁徙率 Roll rates",
            [f"{x['from']}→{x['to']}" for x in report["roll_rates"]],
            [x["rate_ppm"] or 0 for x in report["roll_rates"]],
            unit="ppm",
        ),
        daily_chart=line_chart(
            "每日 Daily",
            [d["day"] for d in daily],
            {
                "放款 lent": [d["lent_fen"] for d in daily],
                "还款 repaid": [d["repaid_fen"] for d in daily],
                "逾期余额 past due": [d["past_due_fen"] for d in daily],
            },
        ),
    )
