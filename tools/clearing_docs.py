"""Docs for the money side, generated from the code: the funding models' ledger movements (a diagram and a table from
domain/ledger.py SETTLEMENT and FIGURES), each city's financiers (the policy files), the clearing files' formats
(domain/clearing.py field lists) and a worked day cleared by the real code.

A page asks for a block with a marker line, replaced in mkdocs_hooks.on_page_markdown:
    <!-- treatfirst:funding-diagrams -->   <!-- treatfirst:funding-table -->   <!-- treatfirst:financiers -->
    <!-- treatfirst:clearing-figures -->   <!-- treatfirst:clearing-formats --> <!-- treatfirst:clearing-example -->
"""

from __future__ import annotations

from collections.abc import Callable

from treatfirst.domain import clearing as c
from treatfirst.domain.ledger import FIGURES, FUND_FIGURES, SETTLEMENT
from treatfirst.domain.policy import POLICY_DIR, example_policy, label

PARTY_LABELS = {
    "hospital": ("医院", "hospital"),
    "financier": ("资金方", "financier"),
    "channel": ("支付渠道", "payment channel"),
    "fund": ("托底资金", "backstop fund"),
}
KIND_LABELS = {
    "hold": ("自付记账", "self-pay posted"),
    "emergency_hold": ("急诊自付记账", "emergency self-pay posted"),
    "release_hold": ("退款（结算前）", "refund before closing"),
    "release_owed": ("退款（出账后）", "refund after closing"),
    "emergency_release_hold": ("急诊退款（结算前）", "emergency refund before closing"),
    "emergency_release_owed": ("急诊退款（出账后）", "emergency refund after closing"),
    "payment": ("还款", "payment"),
    "emergency_payment": ("急诊还款", "emergency payment"),
    "backstop_write_off": ("核销托底补偿", "backstop reimbursement of a write-off"),
    "backstop_recovery": ("核销后追回", "recovery after write-off"),
}


def _l(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def funding_diagrams(lang: str) -> str:
    """One Mermaid flowchart per funding model: parties as nodes, one arrow per movement (payer -> payee)."""
    out = []
    for model, moves in SETTLEMENT.items():
        out.append(f"#### {label(model, lang)} (`{model}`)\n")
        out.append("```mermaid\nflowchart LR")
        parties = sorted({p for payer, payee in moves.values() for p in (payer, payee)})
        for party in parties:
            out.append(f'  {party}["{_l(PARTY_LABELS[party], lang)}"]')
        grouped: dict[tuple[str, str], list[str]] = {}
        for kind, (payer, payee) in moves.items():
            grouped.setdefault((payer, payee), []).append(kind)
        for (payer, payee), kinds in grouped.items():
            text = "<br>".join(_l(KIND_LABELS[k], lang) for k in kinds)
            out.append(f'  {payer} -->|"{text}"| {payee}')
        out.append("```\n")
    return "\n".join(out)


def funding_table(lang: str) -> str:
    """Every ledger movement kind that moves money, and who pays whom under each model."""
    models = list(SETTLEMENT)
    head = "| 分录类型 | " if lang == "zh" else "| movement kind | "
    lines = [head + " | ".join(f"{label(m, lang)} (`{m}`)" for m in models) + " |", "|---|" + "---|" * len(models)]
    kinds = sorted({k for moves in SETTLEMENT.values() for k in moves})
    none = "不产生资金划转" if lang == "zh" else "no money moves"
    for kind in kinds:
        cells = []
        for m in models:
            move = SETTLEMENT[m].get(kind)
            cells.append(f"{_l(PARTY_LABELS[move[0]], lang)} → {_l(PARTY_LABELS[move[1]], lang)}" if move else none)
        lines.append(f"| `{kind}` {_l(KIND_LABELS[kind], lang)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def financiers(lang: str) -> str:
    """Each example city's funding model and financiers, from its policy file."""
    lines = []
    for path in sorted(POLICY_DIR.glob("*.yaml")):
        policy = example_policy(path.stem)
        name = policy.city_name if lang == "zh" else policy.city_name_en
        lines.append(f"- **{name}**: `funding_model: {policy.funding_model}` ({label(policy.funding_model, lang)})")
        for f in policy.financiers:
            hospitals = ", ".join(f"`{h}`" for h in f.hospitals) or "—"
            default = (
                (" （默认）" if lang == "zh" else " (default)") if f.financier_id == policy.default_financier else ""
            )
            who = f.name if lang == "zh" else f.name_en
            lines.append(f"    - `{f.financier_id}` {who}{default}: {hospitals}")
    return "\n".join(lines) + "\n"


def clearing_figures(lang: str) -> str:
    head = "| 项目 | 字段 | 分录类型 |" if lang == "zh" else "| figure | field | movement kinds |"
    lines = [head, "|---|---|---|"]
    for name, kinds in FIGURES.items():
        lines.append(f"| {_l(c.FIGURE_LABELS[name], lang)} | `{name}` | " + ", ".join(f"`{k}`" for k in kinds) + " |")
    fund = "托底资金的文件" if lang == "zh" else "a backstop fund's files"
    for name, kinds in FUND_FIGURES.items():
        lines.append(
            f"| {_l(c.FIGURE_LABELS[name], lang)} ({fund}) | `{name}` | " + ", ".join(f"`{k}`" for k in kinds) + " |"
        )
    return "\n".join(lines) + "\n"


def _fields_table(fields: tuple[tuple[str, str, str], ...], lang: str) -> str:
    head = "| 列 | 含义 |" if lang == "zh" else "| column | meaning |"
    rows = [head, "|---|---|"] + [f"| `{n}` | {zh if lang == 'zh' else en} |" for n, zh, en in fields]
    return "\n".join(rows) + "\n"


def clearing_formats(lang: str) -> str:
    t = {
        "zh": (
            "**clearing.csv**（UTF-8，逗号分隔，首行为列名，每行一条涉及本方的账本分录）：",
            "**clearing.json** 中的 `instructions[]`（清算指令）：",
            "**clearing.json** 中的 `positions[]`（本方与每个对方的头寸）：",
            "**clearing.json** 的其余字段：`format_version`、`city_code`、`business_date`、`party`、`figures`"
            "（上表各项）、`net_fen`（各头寸净额之和）、`lines`（与 CSV 相同的行）。\n\n"
            "**manifest.json**（在两个文件之后写入）：`format_version`、`city_code`、`business_date`、`party`、"
            "`lines`、`net_fen`、`files[]`（`name`、`sha256`、`bytes`）。",
        ),
        "en": (
            "**clearing.csv** (UTF-8, comma-separated, a header row, one line per ledger entry that names the party):",
            "`instructions[]` in **clearing.json** (the clearing instructions):",
            "`positions[]` in **clearing.json** (the party's position with each counterparty):",
            "The rest of **clearing.json**: `format_version`, `city_code`, `business_date`, `party`, `figures` (the "
            "table above), `net_fen` (the sum of its positions' nets), `lines` (the same lines as the CSV).\n\n"
            "**manifest.json** (written after both files): `format_version`, `city_code`, `business_date`, `party`, "
            "`lines`, `net_fen`, `files[]` (`name`, `sha256`, `bytes`).",
        ),
    }[lang]
    return "\n".join(
        [
            t[0],
            "",
            _fields_table(c.LINE_FIELDS, lang),
            t[1],
            "",
            _fields_table(c.INSTRUCTION_FIELDS, lang),
            t[2],
            "",
            _fields_table(c.POSITION_FIELDS, lang),
            t[3],
            "",
        ]
    )


EXAMPLE_ENTRIES = [
    {"entry_id": "led_01", "kind": "hold", "amount_fen": 12000, "ref_type": "charge", "ref_id": "vis_1/FEE-1"},
    {"entry_id": "led_02", "kind": "hold", "amount_fen": 3000, "ref_type": "charge", "ref_id": "vis_1/FEE-2"},
    {"entry_id": "led_03", "kind": "release_hold", "amount_fen": 3000, "ref_type": "refund", "ref_id": "rfd_1"},
    {"entry_id": "led_04", "kind": "issue", "amount_fen": 12000, "ref_type": "bill", "ref_id": "bil_1"},
    {
        "entry_id": "led_05",
        "kind": "payment",
        "amount_fen": 5000,
        "ref_type": "payment",
        "ref_id": "pay_1",
        "channel_id": "wechat-pay",
        "channel_txn_id": "4200000001",
    },
]


def example_day() -> c.Day:
    """The worked example: one hospital-a day in Xiamen (financier_advance), cleared by the real code."""
    policy = example_policy("xiamen")
    entries = []
    for e in EXAMPLE_ENTRIES:
        stamped = {**e, "business_date": "2026-11-24", "hospital_id": "hospital-a"}
        stamped["financier_id"] = policy.financier_for("hospital-a")
        entries.append(stamped)
    return c.clear_day(policy.city_code, "2026-11-24", entries)


def clearing_example(lang: str) -> str:
    day = example_day()
    party = "hospital:hospital-a"
    files = c.party_files(day, party)
    intro = (
        "厦门（资金方垫付）某日 hospital-a 的分录由本平台的清算代码清算后，医院文件的 CSV 如下（本页构建时生成）："
        if lang == "zh"
        else "A hospital-a day in Xiamen (financier advance), cleared by the platform's own clearing code when this "
        "page was built; the hospital's CSV:"
    )
    instr = "清算指令：" if lang == "zh" else "Instructions:"
    lines = [intro, "", "```csv", files["clearing.csv"].decode().rstrip("\n"), "```", "", instr, ""]
    for i in day.instructions:
        lines.append(
            f"- `{i['payer']}` → `{i['payee']}`: {i['amount_fen']} fen "
            f"({i['gross_payer_to_payee_fen']} − {i['gross_payee_to_payer_fen']}), "
            + ", ".join(f"`{e}`" for e in i["entry_ids"])
        )
    return "\n".join(lines) + "\n"


MARKERS: dict[str, Callable[[str], str]] = {
    "<!-- treatfirst:funding-diagrams -->": funding_diagrams,
    "<!-- treatfirst:funding-table -->": funding_table,
    "<!-- treatfirst:financiers -->": financiers,
    "<!-- treatfirst:clearing-figures -->": clearing_figures,
    "<!-- treatfirst:clearing-formats -->": clearing_formats,
    "<!-- treatfirst:clearing-example -->": clearing_example,
}


def render(markdown: str, lang: str) -> str:
    """Replace each marker of this module in a page (zh or en)."""
    for marker, make in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make(lang))
    return markdown
