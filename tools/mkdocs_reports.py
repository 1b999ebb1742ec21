"""MkDocs hook: the reports page (reference/reports.md), generated from the definitions the code computes with.

Every figure's name and exact definition come from treatfirst.domain.reports.FIGURES (the same text the HTML
report prints), the bands from OPEN_BANDS / CLOSED_BANDS and report_html.BAND_ZH, the CSV columns from
services.reports.CSV_COLUMNS, the limits from the constants the code checks.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from treatfirst.domain import reports as r
from treatfirst.report_html import BAND_ZH
from treatfirst.services.reports import CSV_COLUMNS

PAGE = "reference/reports.md"


def reports_page() -> str:
    lines = [
        "# 运营报表 Operator reports",
        "",
        "本页由代码中的指标定义生成（`treatfirst.domain.reports.FIGURES`），与接口、CSV 和 HTML 报表使用同一份文字。",
        "",
        "Generated from the definitions the code computes with (`treatfirst.domain.reports.FIGURES`): the route, "
        "the CSV and the HTML report show the same text.",
        "",
        "## 获取方式 How to get it",
        "",
        f"- `GET /v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`（仅运营方）：业务日期区间（含两端，均须已日切，"
        f"最多 {r.MAX_RANGE_DAYS} 天）；默认 JSON，`format=csv` 或 `Accept: text/csv` 返回 CSV（UTF-8 带 BOM）。"
        "区间不合法时返回统一错误格式，错误码 `INVALID_DATE_RANGE`（400）。",
        f"- `GET /v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD` (operators only): business dates, both inclusive and "
        f"closed, at most {r.MAX_RANGE_DAYS}; JSON by default, CSV (UTF-8 with a byte order mark) with "
        "`format=csv` or `Accept: text/csv`. A bad range is refused in the one error shape with "
        "`INVALID_DATE_RANGE` (400).",
        "- `treatfirst-admin report --from 2026-11-01 --to 2026-11-30 --out report.html`：一个自包含的静态 HTML "
        "文件，图表为内联 SVG，不含脚本，不引用任何外部资源。 / one self-contained static HTML file: charts are "
        "inline SVG, no script, nothing fetched.",
        "",
        "## 数据来源 Where the numbers come from",
        "",
        "每次关闭就诊、还款、对账单退款、核销、核销后收回和催收阶梯发出的消息，都在其**自身的事务中**把金额加到所在"
        f"业务日期的计数器上；计数器分散在 {r.REPORT_SHARDS} 个分片中，没有任何一项被全市每笔业务写入。记账"
        "（`POST .../charges`）不写计数器，仍是一次 DynamoDB 请求：放款在就诊关闭时计入。账单按到期日分组，"
        "每个业务日期日切时各到期日的未还余额由前一日余额加当日计数器得出，首次被报表用到时记录一次"
        "（重算结果相同）。报表从第一次记录的日期开始。",
        "",
        "Each close, payment, refund on a bill, write-off, recovery and ladder message adds to its business date's "
        f"counters in its **own transaction**, spread over {r.REPORT_SHARDS} shards, so no item is written by every "
        "event of a city. A charge post writes no counter and stays one DynamoDB request: what is lent is counted "
        "when the visit closes. Bills are grouped by due date; the unpaid balance of every due date at each "
        "business date's close follows from the previous close and the day's counters, and is recorded the first "
        "time a report needs it (computing it again gives the same). The reports begin with the first date "
        "recorded. A test holds the balances by band, lending, repayments, refunds, write-offs and each fund's draws "
        "and recoveries equal to the ledger's entries, to the fen, over random activity.",
        "",
        "## 指标与定义 Figures and their definitions",
        "",
        "| 指标 Figure | 字段 Field | 定义 | Definition |",
        "|---|---|---|---|",
    ]
    for f in r.FIGURES:
        lines.append(f"| {f.zh}<br>{f.en} | `{f.key}` | {f.definition_zh} | {f.definition_en} |")
    lines += [
        "",
        "比率以百万分比整数给出（1 000 000 = 100%），金额以分为单位的整数。 / Ratios are integers in parts per "
        "million (1 000 000 = 100 %); amounts are integer fen.",
        "",
        "## 还款状态分档 Repayment-status bands",
        "",
        "| 档 Band | 含义 | 类型 Kind |",
        "|---|---|---|",
    ]
    for band in r.OPEN_BANDS:
        lines.append(f"| `{band}` | {BAND_ZH[band]} | 区间末日日切时未还 unpaid at the last close |")
    for band in r.CLOSED_BANDS:
        lines.append(f"| `{band}` | {BAND_ZH[band]} | 区间内离开未还 left the unpaid book in the range |")
    lines += [
        "",
        f"核销给 {'、'.join(f'`{x}`' for x in r.LENDER_FUNDS)}（放款方自身）记为 `B`，给其他托底基金记为 `D`。 / "
        f"A write-off to {', '.join(f'`{x}`' for x in r.LENDER_FUNDS)} (the lender itself) is `B`; to any other "
        "backstop fund `D`.",
        "",
        "## CSV",
        "",
        "列 Columns: `from`, `to`, " + ", ".join(f"`{c}`" for c in CSV_COLUMNS) + "。",
        "",
        "每个指标及其维度一行；空值为空单元格。 / One row per figure and dimension; a null is an empty cell.",
        "",
    ]
    return "\n".join(lines)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, PAGE, content=reports_page()))
    return files
