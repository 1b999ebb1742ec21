"""MkDocs hook: the blacklist page's generated parts, from the code and the policies.

The marker `<!-- treatfirst:blacklist -->` in site/zh/blacklist.md and site/en/blacklist.md is replaced by:
- the record's state diagram and transition table (treatfirst.domain.blacklist.RECORD_TRANSITIONS, the table the
  services move along and the tests hold them to);
- each example city's blacklist rule (legal basis, objection period, validity, cooling days, retention, appeals,
  how the strike rule lifts), read from the policy files;
- the text the patient's status route gives as the way off the list (services.blacklist.how_to_leave).
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from treatfirst.domain import blacklist as b
from treatfirst.domain import states
from treatfirst.domain.policy import Policy, example_policy
from treatfirst.services.blacklist import how_to_leave

MARKER = "<!-- treatfirst:blacklist -->"
CITIES = ("lianyungang", "xiamen")

T = {
    "zh": {
        "diagram": "### 状态图",
        "diagram_note": "由代码中的转换表 `treatfirst.domain.blacklist.RECORD_TRANSITIONS` 生成；"
        "服务只沿这些转换改变记录。",
        "table": "| 从 | 到 | 事件 | 原因 |",
        "rules": "### 各城市的规则（来自政策文件）",
        "head": "| 项目 | {cities} |",
        "basis": "法律依据",
        "source": "列入来源",
        "publish": "异议期（列入后多少天起可对外报送）",
        "validity": "有效期",
        "cooling": "信用修复冷静期",
        "retention": "移出后保存期限（期满删除）",
        "appeal": "可否提出异议",
        "lift": "逾期次数规则的解除",
        "export": "对外报送",
        "days": "{n} 天",
        "yes": "可以",
        "no": "不可以",
        "export_on": "启用（由报送功能按政策执行）",
        "export_off": "未启用：记录仅在平台内部",
        "lift_rule": "期间内次数不再达到条件且无欠款时自动解除",
        "lift_operator": "仅在逾期记录被撤销或信用修复后解除",
        "how": "### 本人查询时看到的移出方式",
    },
    "en": {
        "diagram": "### State diagram",
        "diagram_note": "Generated from the code's transition table `treatfirst.domain.blacklist.RECORD_TRANSITIONS`; "
        "the services move a record only along these transitions.",
        "table": "| From | To | Event | Why |",
        "rules": "### Each city's rule (from its policy file)",
        "head": "| Item | {cities} |",
        "basis": "Legal basis",
        "source": "Listed by",
        "publish": "Objection period (days after listing before it may be exported)",
        "validity": "Validity",
        "cooling": "Credit repair cooling period",
        "retention": "Kept after removal (then deleted)",
        "appeal": "Appeals",
        "lift": "How the strike rule lifts",
        "export": "Export",
        "days": "{n} days",
        "yes": "allowed",
        "no": "not allowed",
        "export_on": "enabled (the export runs it as the policy says)",
        "export_off": "not enabled: records stay inside the platform",
        "lift_rule": "by itself once the bills in the window no longer meet it and nothing is owed",
        "lift_operator": "only when a strike is annulled or by credit repair",
        "how": "### The way off the list, as the status route tells the patient",
    },
}


def _sources(p: Policy, lang: str) -> str:
    out = [f"`{s.name}` ({s.day_offset})" for s in p.collection_ladder if "blacklist" in s.actions]
    if "blacklist" in p.strike_actions:
        out.append(f"`strikes` ({p.strike_threshold(lang)})")
    return ", ".join(out) or "—"


def section(lang: str) -> str:
    t = T[lang]
    policies = [example_policy(c) for c in CITIES]
    names = [p.city_name if lang == "zh" else p.city_name_en for p in policies]
    lines = [
        t["diagram"],
        "",
        t["diagram_note"],
        "",
        "```mermaid",
        states.mermaid(b.diagram_rows(), b.RECORD_START, b.RECORD_FINAL),
        "```",
        "",
        t["table"],
        "|---|---|---|---|",
    ]
    for frm, to, event, why in b.RECORD_TRANSITIONS:
        zh, en = why.split(" / ")
        lines.append(f"| `{frm}` | `{to}` | `{event}` | {zh if lang == 'zh' else en} |")
    lines += ["", t["rules"], "", t["head"].format(cities=" | ".join(names)), "|---" * (len(names) + 1) + "|"]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {t[label]} | " + " | ".join(values) + " |")

    rules = [p.blacklist for p in policies]
    assert all(r is not None for r in rules), "both example cities have a blacklist rule"
    row("basis", [f"{r.legal_basis.document}：{r.legal_basis.text}" for r in rules if r])
    row("source", [_sources(p, lang) for p in policies])
    row("publish", [t["days"].format(n=r.publish_after_days) for r in rules if r])
    row("validity", [t["days"].format(n=r.validity_days) for r in rules if r])
    row("cooling", [t["days"].format(n=p.repair_cooling_days) for p in policies])
    row("retention", [t["days"].format(n=r.retention_days) for r in rules if r])
    row("appeal", [t["yes"] if p.repair_appeal_allowed else t["no"] for p in policies])
    row("lift", [t["lift_rule"] if p.strike_lift == "rule_no_longer_met" else t["lift_operator"] for p in policies])
    row("export", [t["export_on"] if p.blacklist_export_enabled else t["export_off"] for p in policies])
    lines += ["", t["how"], ""]
    for p, name in zip(policies, names, strict=True):
        lines.append(f"- **{name}**: {how_to_leave(p)}")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if MARKER not in markdown:
        return markdown
    lang = "en" if page.file.src_uri.startswith("en/") else "zh"
    return markdown.replace(MARKER, section(lang), 1)
