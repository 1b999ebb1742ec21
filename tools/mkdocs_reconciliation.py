"""MkDocs hook: the reconciliation walk-through's tables and examples, generated from the code.

The page `reconciliation.md` (Chinese and English) holds markers replaced here from the sources the platform
itself runs on: the kinds and the ledger movements behind them and the verdicts (treatfirst.domain.reconciliation),
the two statement formats column by column (treatfirst.domain.statements, the definitions the parsers read), the
limits (treatfirst.messages.reconciliation) and example requests and answers (tools.mkdocs_examples, each decoded
with its struct before it is shown).
"""

from __future__ import annotations

import json
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from treatfirst.domain import reconciliation as recon
from treatfirst.domain.statements import FORMATS, MAX_STATEMENT_LINES
from treatfirst.messages import reconciliation as msg

from tools.mkdocs_examples import examples

PAGE = "reconciliation.md"
MARKER = re.compile(r"<!-- treatfirst:recon-([a-z_]+)(?::([A-Za-z_]+))? -->")


class ReconciliationSourceError(RuntimeError):
    """The page names a marker this hook does not know."""


def _kinds(lang: str) -> str:
    zh = lang == "zh"
    head = (
        "| 对象 | 类别 `kind` | 含义 | 对应的账本分录 | `ref` 是什么 |"
        if zh
        else ("| Party | `kind` | Meaning | Ledger movements | What `ref` is |")
    )
    rows = [head, "|---|---|---|---|---|"]
    parties = (("医院" if zh else "hospital", recon.HOSPITAL_KINDS), ("渠道" if zh else "channel", recon.CHANNEL_KINDS))
    for party, kinds in parties:
        for k in kinds:
            moves = ", ".join(f"`{m}`" for m in k.ledger_kinds) or "—"
            rows.append(f"| {party} | `{k.name}` | {k.zh if zh else k.en} | {moves} | {k.ref_zh if zh else k.ref} |")
    return "\n".join(rows)


def _results(lang: str) -> str:
    zh = lang == "zh"
    rows = ["| `result` | 含义 | 挂账的责任方 |" if zh else "| `result` | Meaning | Suspense owner |", "|---|---|---|"]
    for name, (text_zh, text_en) in recon.RESULTS.items():
        owner = recon.OWNERS.get(name)
        who = "—" if owner is None else f"`{owner[0]}`：{owner[1]}" if zh else f"`{owner[0]}`: {owner[2]}"
        rows.append(f"| `{name}` | {text_zh if zh else text_en} | {who} |")
    return "\n".join(rows)


def _format(lang: str, name: str | None) -> str:
    if name not in FORMATS:
        raise ReconciliationSourceError(f"no statement format {name!r}")
    fmt = FORMATS[name]
    zh = lang == "zh"
    lines = [f'`format: "{fmt.name}"` — {fmt.zh if zh else fmt.en}', ""]
    lines += ["| # | 列 | 说明 |" if zh else "| # | Column | Meaning |", "|---|---|---|"]
    lines += [f"| {i} | `{c.name}` | {c.zh if zh else c.en} |" for i, c in enumerate(fmt.columns, start=1)]
    if fmt.summary:
        lines += ["", "汇总部分（明细之后）：" if zh else "Summary section (after the detail rows):", ""]
        lines += ["| # | 列 | 说明 |" if zh else "| # | Column | Meaning |", "|---|---|---|"]
        lines += [f"| {i} | `{c.name}` | {c.zh if zh else c.en} |" for i, c in enumerate(fmt.summary, start=1)]
    return "\n".join(lines)


def _limits(lang: str) -> str:
    values = {
        "lines": msg.MAX_DETAIL_LINES,
        "statement": MAX_STATEMENT_LINES,
        "kb": msg.MAX_BODY_BYTES // 1024,
        "breaks": msg.MAX_STORED_BREAKS,
    }
    if lang == "zh":
        return (
            f"- 明细上传每次最多 {values['lines']} 行；对账单每份最多 {values['statement']} 行明细；"
            f"这两个接口的请求体最多 {values['kb']} KB（其余接口 64 KB），超出时 413 `PAYLOAD_TOO_LARGE`。\n"
            f"- 对账单结果中最多列出 {values['breaks']} 条差异（`breaks_truncated: true` 时其余在挂账列表中）。"
        )
    return (
        f"- A detail upload holds at most {values['lines']} lines; a statement at most {values['statement']} detail "
        f"rows; these two routes take bodies of up to {values['kb']} KB (64 KB elsewhere), beyond that 413 "
        f"`PAYLOAD_TOO_LARGE`.\n- A statement's answer lists at most {values['breaks']} breaks "
        "(`breaks_truncated: true`: the rest are in the suspense list)."
    )


def _example(lang: str, operation: str | None) -> str:
    shown = examples()
    if operation not in shown:
        raise ReconciliationSourceError(f"no example for operation {operation!r}")
    example = shown[operation]
    label = ("请求" if lang == "zh" else "Request", "应答" if lang == "zh" else "Answer")
    parts = []
    if example.request is not None:
        parts += [f"{label[0]} `{example.method} {example.path}`:", "", "```json"]
        parts += [json.dumps(example.request, ensure_ascii=False, indent=2), "```", ""]
    parts += [f"{label[1]} `{example.status}`:", "", "```json"]
    parts += [json.dumps(example.response, ensure_ascii=False, indent=2), "```"]
    return "\n".join(parts)


def render(markdown: str, lang: str) -> str:
    def one(match: re.Match[str]) -> str:
        what, arg = match.group(1), match.group(2)
        if what == "format":
            return _format(lang, arg)
        if what == "example":
            return _example(lang, arg)
        plain = {"kinds": _kinds, "results": _results, "limits": _limits}
        if what not in plain or arg is not None:
            raise ReconciliationSourceError(f"unknown marker recon-{what}")
        return plain[what](lang)

    return MARKER.sub(one, markdown)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    src = page.file.src_uri
    if src in (f"zh/{PAGE}", f"en/{PAGE}"):
        if not MARKER.search(markdown):
            raise ReconciliationSourceError(f"{src} lost its markers")
        return render(markdown, src[:2])
    return markdown
