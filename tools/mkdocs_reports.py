"""MkDocs hook: the reports page (reference/reports.md, one per language), generated from the definitions the code
computes with.

Every figure's name and exact definition come from treatfirst.domain.reports.FIGURES (the same text the HTML
report prints), the bands from OPEN_BANDS / CLOSED_BANDS and report_html.BAND_ZH, the CSV columns from
services.reports.CSV_COLUMNS, the limits from the constants the code checks.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from treatfirst.domain import reports as r
from treatfirst.report_html import BAND_ZH

from tools.mkdocs_i18n import GENERATED, add_file, language

PAGE = "reference/reports.md"

BAND_EN = {
    "N": "not past due",
    "1": "1-30 calendar days past due",
    "2": "31-60 calendar days past due",
    "3": "61-90 calendar days past due",
    "4": "91-120 calendar days past due",
    "5": "121-150 calendar days past due",
    "6": "151-180 calendar days past due",
    "7": "over 180 calendar days past due",
    "C": "closed on time",
    "M": "repaid late",
    "D": "repaid by a backstop",
    "B": "bad debt",
}


def _zh() -> list[str]:
    lenders = "、".join(f"`{x}`" for x in r.LENDER_FUNDS)
    return [
        "# 运营报表",
        "",
        "本页由代码中的指标定义（`treatfirst.domain.reports.FIGURES`）生成，与接口、CSV 和 HTML 报表使用同一份文字。",
        "",
        "## 获取方式",
        "",
        f"- `GET /v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD`（仅运营方）：业务日期区间，含两端，均须已日切，最多 "
        f"{r.MAX_RANGE_DAYS} 天。默认返回 JSON；`format=csv` 或 `Accept: text/csv` 返回 CSV（UTF-8 带 BOM，"
        "Excel 可直接打开）。区间不合法时以统一错误格式返回 `INVALID_DATE_RANGE`（400），不写入任何数据。",
        "- `treatfirst-admin report --from 2026-11-01 --to 2026-11-30 --out report.html`：生成一个自包含的静态 "
        "HTML 文件，图表为内联 SVG，不含脚本，不引用任何外部资源。",
        "",
        "## 数据来源",
        "",
        "每次关闭就诊、还款、对账单退款、核销、核销后收回以及催收阶梯写入的消息，都在其**自身的事务中**把金额加到"
        f"所在业务日期的计数器上；计数器分散在 {r.REPORT_SHARDS} 个分片中，没有任何一项被全市每笔业务写入。"
        "记账（`POST .../charges`）不写计数器，仍是一次 DynamoDB 请求：放款在就诊关闭时计入。",
        "",
        "账单按到期日分组。每个业务日期日切时各到期日的未还余额，由前一日的余额加当日计数器得出，在报表第一次"
        "用到时记录（重算结果相同）；报表从第一次记录的日期开始。测试在随机业务下核对：各档余额、放款、还款、"
        "退款、核销以及各基金的承担与收回，与账本分录一致，精确到分。",
        "",
        "## 逾期天数：日历天，不扣除暂停",
        "",
        r.CALENDAR_DAYS_ZH,
        "",
        "## 指标与定义",
        "",
        "| 指标 | 字段 | 定义 |",
        "|---|---|---|",
        *[f"| {f.zh} | `{f.key}` | {f.definition_zh} |" for f in r.FIGURES],
        "",
        "比率以百万分比整数给出（1 000 000 即 100%），金额为以分计的整数。",
        "",
        "## 还款状态分档",
        "",
        "| 档 | 含义 | 类别 |",
        "|---|---|---|",
        *[f"| `{b}` | {BAND_ZH[b]} | 区间末日日切时未还 |" for b in r.OPEN_BANDS],
        *[f"| `{b}` | {BAND_ZH[b]} | 区间内离开未还状态 |" for b in r.CLOSED_BANDS],
        "",
        f"核销给 {lenders}（放款方自身）记为 `B`，给其他托底基金记为 `D`。",
        "",
        "## CSV",
        "",
        "列：`from`、`to`、" + "、".join(f"`{c}`" for c in _csv_columns()) + "。每个指标及其维度一行；空值为空单元格。",
        "",
    ]


def _en() -> list[str]:
    lenders = ", ".join(f"`{x}`" for x in r.LENDER_FUNDS)
    return [
        "# Operator reports",
        "",
        "Generated from the definitions the code computes with (`treatfirst.domain.reports.FIGURES`): the route, the "
        "CSV and the HTML report show the same text.",
        "",
        "## How to get it",
        "",
        f"- `GET /v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD` (operators only): business dates, both inclusive and "
        f"closed, at most {r.MAX_RANGE_DAYS}. JSON by default; CSV (UTF-8 with a byte order mark, so Excel opens it) "
        "with `format=csv` or `Accept: text/csv`. A bad range is refused in the one error shape with "
        "`INVALID_DATE_RANGE` (400) and writes nothing.",
        "- `treatfirst-admin report --from 2026-11-01 --to 2026-11-30 --out report.html`: one self-contained static "
        "HTML file; the charts are inline SVG, there is no script and nothing is fetched.",
        "",
        "## Where the numbers come from",
        "",
        "Each close, payment, refund on a bill, write-off, recovery and ladder message adds to its business date's "
        f"counters in its **own transaction**, spread over {r.REPORT_SHARDS} shards, so no item is written by every "
        "event of a city. A charge post writes no counter and stays one DynamoDB request: what is lent is counted "
        "when the visit closes.",
        "",
        "Bills are grouped by due date. The unpaid balance of every due date at each business date's close follows "
        "from the previous close and the day's counters, and is recorded the first time a report needs it "
        "(computing it again gives the same); the reports begin with the first date recorded. A test holds the "
        "balances by band, lending, repayments, refunds, write-offs and each fund's draws and recoveries equal to "
        "the ledger's entries, to the fen, over random activity.",
        "",
        "## Days past due: calendar days, pauses not taken off",
        "",
        r.CALENDAR_DAYS_EN,
        "",
        "## Figures and their definitions",
        "",
        "| Figure | Field | Definition |",
        "|---|---|---|",
        *[f"| {f.en} | `{f.key}` | {f.definition_en} |" for f in r.FIGURES],
        "",
        "Ratios are integers in parts per million (1 000 000 = 100 %); amounts are integer fen.",
        "",
        "## Repayment-status bands",
        "",
        "| Band | Meaning | Kind |",
        "|---|---|---|",
        *[f"| `{b}` | {BAND_EN[b]} | unpaid at the last day's close |" for b in r.OPEN_BANDS],
        *[f"| `{b}` | {BAND_EN[b]} | left the unpaid book in the range |" for b in r.CLOSED_BANDS],
        "",
        f"A write-off to {lenders} (the lender itself) is `B`; to any other backstop fund `D`.",
        "",
        "## CSV",
        "",
        "Columns: `from`, `to`, " + ", ".join(f"`{c}`" for c in _csv_columns()) + ". One row per figure and "
        "dimension; a null is an empty cell.",
        "",
    ]


def _csv_columns() -> tuple[str, ...]:
    from treatfirst.services.reports import CSV_COLUMNS

    return CSV_COLUMNS


def reports_page(lang: str) -> str:
    return "\n".join(_zh() if lang == "zh" else _en())


@event_priority(GENERATED)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    add_file(files, config, PAGE, reports_page(language(config)))
    return files
