"""MkDocs hook: the pages that come from the code, generated at build time so the docs never drift.

Nothing generated here is committed. Each build writes, as virtual files:

- cities/index.md: the example cities' policies side by side;
- cities/<city>.md: one city's policy summary, and the consent texts rendered by `treatfirst.consents` (the
  function the API serves and checks at enrollment) with the SHA-256 the API records, plus the policy file;
- cities/<city>/<kind>-<version>.txt: each consent text, byte for byte, so `sha256sum` shows the same hash;
- reference/api.md (an index), reference/api/<tag>.md (the operations, each with an example from
  tools/mkdocs_examples.py), reference/schemas.md and reference/openapi.json: from
  `treatfirst.openapi.document()`, the document the API
  serves at GET /v1/openapi.json (a functional test holds it against the app's real routes);
- reference/errors.md: from `treatfirst.domain.errors.all_error_classes()`;
- on the request-signing pages, worked signatures from the published vectors (site/signing-vectors.json), each
  checked against `treatfirst.domain.signing` while the page is built.

Anything missing or malformed in those sources stops the build with an error rather than a page of guesses.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

# The pages describe this checkout's code, whatever copy of the package the environment has installed.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from treatfirst import openapi  # noqa: E402
from treatfirst.consents import RenderedConsent, render_all  # noqa: E402
from treatfirst.domain import signing  # noqa: E402
from treatfirst.domain.errors import TreatFirstError, all_error_classes  # noqa: E402
from treatfirst.domain.money import format_yuan  # noqa: E402
from treatfirst.domain.policy import (  # noqa: E402
    POLICY_DIR,
    POLICY_FIELDS,
    DocumentationOnly,
    Policy,
    example_policy,
    field_paths,
    label,
)
from treatfirst.http_status import status_of  # noqa: E402
from treatfirst.messages import notes_zh  # noqa: E402
from treatfirst.services.idempotency import IDEMPOTENCY_TTL  # noqa: E402
from treatfirst.services.identity import SCOPES  # noqa: E402

from tools import clearing_docs  # noqa: E402
from tools.mkdocs_examples import curl, examples, pretty  # noqa: E402
from tools.mkdocs_i18n import GENERATED, add_file, language, page_language  # noqa: E402

CITIES = ("lianyungang", "xiamen")
SIGNING_MARKER = "<!-- treatfirst:signing-example -->"


class DocsSourceError(RuntimeError):
    """The code a generated page comes from does not have what the page needs."""


# ---- shared ----------------------------------------------------------------------------------------------
def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _labels(codes: Iterable[str], lang: str, empty: str = "—") -> str:
    codes = tuple(codes)
    return ("、" if lang == "zh" else ", ").join(label(c, lang) for c in codes) if codes else empty


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(code: str) -> str:
    return code.lower().replace("_", "-")


# ---- cities ----------------------------------------------------------------------------------------------
def _due(p: Policy, lang: str) -> str:
    at = p.due_at_text
    if lang == "zh":
        return f"账单生成后第 {p.due_days_after} 天 {at}（{p.timezone}）"
    return f"day {p.due_days_after} after the local issue date, at {at} {p.timezone}"


def _eligibility(p: Policy, lang: str) -> str:
    if p.eligibility_model == "zero_threshold":
        return _t(lang, "零门槛", "zero threshold")
    if p.eligibility_model == "score_banded":
        sources = _labels(p.score_sources, lang)
        return _t(lang, f"按{sources}分档", f"banded by {sources} credit score")
    raise DocsSourceError(f"{p.city_code}: eligibility model {p.eligibility_model!r} has no description here")


def _limits(p: Policy, lang: str) -> str:
    unit = _t(lang, " 元", " CNY")
    return _t(lang, "；", "; ").join(
        (f"{t.min_score}+ → " if t.min_score is not None else "") + f"{format_yuan(t.limit_fen)}{unit}" for t in p.tiers
    )


FUTURE = {"zh": "（尚未执行）", "en": " (not enforced yet)"}


def _future(lang: str, *paths: str) -> str:
    """A marker for rules that only the documents carry: every field named is documentation-only."""
    return FUTURE[lang] if all(isinstance(POLICY_FIELDS[p], DocumentationOnly) for p in paths) else ""


def _strikes(p: Policy, lang: str) -> str:
    actions = _labels(p.strike_actions, lang)
    if lang == "zh":
        window = f"{p.strike_window_months} 个月内" if p.strike_window_months else "累计"
        return f"{window}{p.strike_threshold('zh')} → {actions}（`{p.strike_comparison} {p.strike_count}`）"
    window = f"within {p.strike_window_months} months" if p.strike_window_months else "in total"
    return f"{p.strike_threshold('en')} {window} → {actions} (`{p.strike_comparison} {p.strike_count}`)"


def _export(p: Policy, lang: str) -> str:
    if p.blacklist_export_enabled:
        return _t(
            lang,
            f"**已声明**，逾期 {p.blacklist_day_offset} 天起",
            f"**declared**, from day {p.blacklist_day_offset} overdue",
        ) + _future(lang, "blacklist_export.enabled")
    return _t(lang, "未启用", "not enabled")


def cities_page(policies: dict[str, Policy], lang: str) -> str:
    zh = lang == "zh"
    f = functools.partial(_future, lang)
    rows: list[tuple[str, ...]] = [
        (_t(lang, "政策版本", "Policy version"), *(f"`{p.version}`" for p in policies.values())),
        (_t(lang, "资格", "Eligibility"), *(_eligibility(p, lang) for p in policies.values())),
        (_t(lang, "额度", "Limits"), *(_limits(p, lang) for p in policies.values())),
        (_t(lang, "还款期限", "Due"), *(_due(p, lang) for p in policies.values())),
        (
            _t(lang, "催收阶梯", "Ladder") + f("collection_ladder[].actions"),
            *(
                "<br>".join(
                    _t(lang, f"逾期 {s.day_offset} 天：", f"day {s.day_offset}: ") + _labels(s.actions, lang)
                    for s in p.collection_ladder[::-1]
                )
                for p in policies.values()
            ),
        ),
        (_t(lang, "失信规则", "Strike rule") + f("strikes.count"), *(_strikes(p, lang) for p in policies.values())),
        (_t(lang, "报送信用平台", "Credit platform export"), *(_export(p, lang) for p in policies.values())),
        (
            _t(lang, "亲情账户", "Family pool") + f("family.relations"),
            *(_labels(p.family_relations, lang) for p in policies.values()),
        ),
        (
            _t(lang, "住院免押金", "Inpatient hold") + f("inpatient_hold_fen"),
            *(f"{format_yuan(p.inpatient_hold_fen)}{_t(lang, ' 元', ' CNY')}" for p in policies.values()),
        ),
        (
            _t(lang, "托底顺序", "Backstop order") + f("backstop_order"),
            *(_labels(p.backstop_order, lang) for p in policies.values()),
        ),
        (
            _t(lang, "资金模式", "Funding") + f("funding_model"),
            *(_labels((p.funding_model,), lang) for p in policies.values()),
        ),
        (_t(lang, "知情同意", "Consents"), *(str(len(p.consents)) for p in policies.values())),
    ]
    header = (
        "| | "
        + " | ".join(f"[{p.city_name if zh else p.city_name_en}]({key}.md)" for key, p in policies.items())
        + " |"
    )
    intro = (
        [
            "# 城市政策",
            "",
            "每个城市的规则写在一份政策文件里（YAML，加载时校验，带版本和 SHA-256）。"
            "同一份文件驱动额度决定、账单到期时间、患者签署的知情同意书和本站页面。下表由两个示例城市的政策文件生成。",
            "",
            f"标有{FUTURE['zh']}的规则只写在政策、知情同意书和本站中，平台代码尚未执行；"
            "每个城市页面末尾逐项列出政策字段由哪段代码执行。",
        ]
        if zh
        else [
            "# City policies",
            "",
            "Each city's rules live in one policy file (YAML, validated on load, versioned and hashed). The same file "
            "drives limit decisions, bill due times, the consent texts a patient signs and these pages. The table "
            "below is generated from the two example cities' files.",
            "",
            f"Rules marked{FUTURE['en']} are declared in the policy, the consents and these pages, but no code "
            "enforces them yet; each city page ends with every policy field and the code that enforces it.",
        ]
    )
    outro = (
        "新城市复制一份示例文件、修改后用 `treatfirst-admin check-policy <文件>` 校验（错误会指出具体字段），"
        "见[部署](../deploy.md)。"
        if zh
        else "A new city copies an example file, edits it and checks it with `treatfirst-admin check-policy <file>` "
        "(an error names the exact field); see [Deploy a city](../deploy.md)."
    )
    return "\n".join(
        [
            *intro,
            "",
            header,
            "|---" * (len(policies) + 1) + "|",
            *("| " + " | ".join(row) + " |" for row in rows),
            "",
            outro,
            "",
        ]
    )


def _consent_file(name: str, consent: RenderedConsent) -> str:
    return f"cities/{name}/{consent.kind}-{consent.version}.txt"


def _readable(text: str) -> list[str]:
    """The plain consent text for reading inside the page: each line its own paragraph, Markdown characters
    escaped (a masked ID number's asterisks stay asterisks)."""
    out: list[str] = []
    for line in text.splitlines():
        if line:
            out += ["".join(f"\\{c}" if c in "\\`*_[]<>#|" else c for c in line), ""]
    return out


def _indent(lines: Iterable[str], by: str = "    ") -> list[str]:
    return [f"{by}{line}" if line else "" for line in lines]


def consent_section(name: str, consent: RenderedConsent, lang: str) -> list[str]:
    download = _consent_file(name, consent).removeprefix("cities/")
    file = download.rsplit("/", 1)[-1]
    zh = lang == "zh"
    return [
        f"### {consent.title if zh else consent.title_en} {{#{consent.kind.replace('_', '-')}}}",
        "",
        _t(lang, "版本", "Version") + f" `{consent.version}` · SHA-256 `{consent.sha256}`",
        "",
        *(
            []
            if zh
            else [
                "The patient reads and accepts the Chinese text below; it is shown here as the platform hashes it.",
                "",
            ]
        ),
        f'=== "{_t(lang, "正文", "Text")}"',
        "",
        *_indent(_readable(consent.text)),
        "",
        f'=== "{_t(lang, "原文（计算哈希的字节）", "Exact text (the bytes hashed)")}"',
        "",
        *_indent(["``` { .text .tf-wrap }", *consent.text.splitlines(), "```"]),
        "",
        _t(
            lang,
            f"[下载]({download})与平台计算哈希的字节完全相同的 UTF-8 文件：`sha256sum {file}` 打印上面的哈希。",
            f"[Download]({download}) the exact UTF-8 bytes: `sha256sum {file}` prints the hash above.",
        ),
        "",
    ]


# Why a policy field drives no code yet (POLICY_FIELDS), in Chinese; a reason added since shows in English.
REASONS_ZH = {
    "descriptive text shown in the consents and on the pages; a consent basis needs its own consent kind": (
        "知情同意书和页面中展示的说明文字；以同意为依据的接收方须有自己的同意种类"
    ),
    "descriptive text shown in the consents and on the pages": "知情同意书和本站页面中的说明文字",
    "family pools are not built yet": "亲情账户尚未实现",
    "no hold is taken when an inpatient visit opens yet (a stay pauses the debt; see collection)": (
        "住院就诊开立时尚不预留额度（住院期间暂停逾期计算，见催收）"
    ),
    "limits do not change after enrollment yet": "签约后额度尚不调整",
}


def enforcement_section(p: Policy, lang: str) -> list[str]:
    """Every field of this city's policy file and the code that enforces it, or why it is documentation-only."""
    paths = sorted(field_paths(p.raw))
    unknown = [path for path in paths if path not in POLICY_FIELDS]
    if unknown:
        raise DocsSourceError(f"{p.city_code}: policy fields {unknown} are not classified in POLICY_FIELDS")

    def status(path: str) -> str:
        entry = POLICY_FIELDS[path]
        if isinstance(entry, DocumentationOnly):
            reason = REASONS_ZH.get(entry.reason, entry.reason) if lang == "zh" else entry.reason
            return _t(lang, "**仅文档**", "**documentation only**") + f" — {_cell(reason)}"
        return _t(lang, "执行代码", "enforced by") + f" `{entry.function}`"

    zh = lang == "zh"
    return [
        _t(
            lang,
            "## 政策字段与执行代码 {#enforcement}",
            "## Policy fields and the code that enforces them {#enforcement}",
        ),
        "",
        "下表由代码中的登记表 `treatfirst.domain.policy.POLICY_FIELDS` "
        "生成，测试核对每个“执行”条目所指的函数确实读取该字段。"
        "标为“仅文档”的字段只出现在知情同意书和本站，目前不驱动任何代码。"
        if zh
        else "Generated from the registry `treatfirst.domain.policy.POLICY_FIELDS`; a test checks that each function "
        "named really reads its field. Fields marked documentation only appear in the consents and these pages and "
        "drive no code yet.",
        "",
        _t(lang, "| 字段 | 状态 |", "| Field | Status |"),
        "|---|---|",
        *[f"| `{path}` | {status(path)} |" for path in paths],
        "",
    ]


def city_page(name: str, p: Policy, consents: list[RenderedConsent], lang: str) -> str:
    if not consents:
        raise DocsSourceError(f"{name}: the policy lists no consents")
    zh = lang == "zh"
    f = functools.partial(_future, lang)
    yuan = _t(lang, " 元", " CNY")
    lines = [
        f"# {p.city_name if zh else p.city_name_en}",
        "",
        _t(lang, "政策版本", "Policy version") + f" **{p.version}** · SHA-256 `{p.sha256}`  ",
        (
            f"城市代码 `{p.city_code}` · 时区 `{p.timezone}` · 运营方 {p.operator_name}，{p.hotline}"
            if zh
            else f"City code `{p.city_code}` · Time zone `{p.timezone}` · Operator {p.operator_name_en} "
            f"({p.operator_name}), {p.hotline}"
        ),
        "",
        _t(
            lang,
            "平台依据本政策作出的每项决定（额度、账单到期时间、知情同意）都记录上述版本和 SHA-256；"
            "`GET /v1/policy` 返回正在运行的政策。",
            "Every decision made under this policy (limit, due time, consent) records the version and SHA-256 "
            "above; `GET /v1/policy` returns the policy in force.",
        ),
        "",
        _t(lang, "## 额度 {#credit-line}", "## Credit line {#credit-line}"),
        "",
        (
            f"资格：**{_eligibility(p, lang)}** · 最低年龄 {p.min_age} 岁 · 医保状态："
            if zh
            else f"Eligibility: **{_eligibility(p, lang)}** · Minimum age {p.min_age} · Insurance status: "
        )
        + ", ".join(f"`{s}`" for s in p.insurance_statuses),
        "",
        _t(
            lang, "| 档位 | 最低分 | 额度（元） | `limit_fen` |", "| Tier | Minimum score | Limit (CNY) | `limit_fen` |"
        ),
        "|---|---|---|---|",
        *[
            f"| `{t.name}` | {t.min_score if t.min_score is not None else '—'} | {format_yuan(t.limit_fen)} | "
            f"{t.limit_fen} |"
            for t in p.tiers
        ],
        "",
        (
            f"提额：{p.upgrade_after_on_time} 次按时还款 · 降额：{p.downgrade_after_late} 次逾期"
            f"{f('tier_rules.upgrade_after_on_time')}。"
            if zh
            else f"Upgrade: {p.upgrade_after_on_time} on-time payments · Downgrade: {p.downgrade_after_late} late "
            f"payments{f('tier_rules.upgrade_after_on_time')}."
        ),
        "",
        _t(lang, "## 还款期限 {#due-time}", "## Due time {#due-time}"),
        "",
        f"{_due(p, 'zh')}。" if zh else f"A bill is due on {_due(p, 'en')}.",
        "",
        _t(lang, "## 催收阶梯 {#collection-ladder}", "## Collection ladder {#collection-ladder}"),
        "",
        _t(
            lang,
            "最严重的一级在前。每日催收扫描（城市营业日）按逾期天数（自最早一张未结清账单的到期日起算，暂停期间不计）执行"
            "条件成立的最严重一级，每级每个起算日只执行一次，并在各级之前按政策天数短信提醒；还清全部欠款即在该笔还款中解除限制。",
            "Most severe step first. The daily collection sweep (per business date) applies the most severe step "
            "whose conditions hold, on days overdue since the earliest unpaid due date minus paused days, each step "
            "once per anchor date, with an SMS the policy's days before each step; paying everything lifts the "
            "blocks in that payment.",
        ),
        "",
        _t(lang, "| 步骤 | 逾期天数 | 措施 | 限制 |", "| Step | Days overdue | Actions | Blocks |"),
        "|---|---|---|---|",
        *[
            f"| `{s.name}` | {s.day_offset} | {_labels(s.actions, lang)} | {_labels(s.blocks, lang)} |"
            for s in p.collection_ladder
        ],
        "",
        _t(lang, "**失信规则**", "**Strike rule**") + f("strikes.count") + _t(lang, "：", ": ") + _strikes(p, lang),
        "",
        _t(lang, "## 信用报送 {#credit-reporting}", "## Credit reporting {#credit-reporting}"),
        "",
    ]
    if p.blacklist_export_enabled:
        if not p.blacklist_legal_basis:
            raise DocsSourceError(f"{name}: export enabled without a legal basis")
        lines += [
            _t(
                lang,
                f"**报送**{f('blacklist_export.enabled')}：逾期 {p.blacklist_day_offset} 天起列入名单的记录，"
                "每个业务日报送一次新列入和移出的变化（见[失信名单报送](../export.md)）。",
                f"**Reported**{f('blacklist_export.enabled')}: entries listed from day {p.blacklist_day_offset} "
                "overdue; each business day's additions and removals are delivered to the city public credit "
                "platform (see [the blacklist export](../export.md)).",
            ),
            "",
            _t(lang, "法律依据：", "Legal basis: ") + p.blacklist_legal_basis,
        ]
    else:
        lines.append(
            _t(
                lang,
                "**未启用**：政策不允许对外报送；失信名单（若政策规定）仅在平台内部使用。",
                "**Not enabled**: the policy allows no reporting; a blacklist, where the policy has one, stays "
                "internal.",
            )
        )
    appeal = p.repair_appeal_allowed
    lines += [
        "",
        (
            f"信用修复{f('credit_repair.cooling_days')}：结清全部欠费后冷静期 {p.repair_cooling_days} 天"
            f"{'，或申诉成立' if appeal else ''}。"
            if zh
            else f"Credit repair{f('credit_repair.cooling_days')}: a cooling period of {p.repair_cooling_days} days "
            f"after paying all arrears{', or an accepted appeal' if appeal else ''}."
        ),
        "",
        _t(lang, "## 其他规则 {#other-rules}", "## Other rules {#other-rules}"),
        "",
        _t(lang, "| 项目 | 规则 |", "| Item | Rule |"),
        "|---|---|",
        f"| {_t(lang, '亲情账户', 'Family pool')}{f('family.relations')} | {_labels(p.family_relations, lang)}"
        + _t(lang, "<br>分额度：", "<br>Sub-limits: ")
        + (_t(lang, "是", "yes") if p.family_sub_limits else _t(lang, "否", "no"))
        + " |",
        f"| {_t(lang, '住院免押金额度', 'Inpatient hold')}{f('inpatient_hold_fen')} | "
        f"{format_yuan(p.inpatient_hold_fen)}{yuan} |",
        f"| {_t(lang, '急危重症托底', 'Emergency backstop')}{f('emergency.backstop')} | "
        f"{_labels((p.emergency_backstop,), lang)} |",
        f"| {_t(lang, '托底顺序', 'Backstop order')}{f('backstop_order')} | {_labels(p.backstop_order, lang)} |",
        f"| {_t(lang, '资金模式', 'Funding model')}{f('funding_model')} | {_labels((p.funding_model,), lang)} |",
        "",
        _t(lang, "## 知情同意书 {#consents}", "## Consents {#consents}"),
        "",
        _t(
            lang,
            "以下文本由 `treatfirst.consents.render_consent` 生成——接口在 `GET /v1/consents` 提供并在签约时核对的"
            "正是同一函数的输出；平台记录患者同意的版本和 SHA-256。",
            "The texts below come from `treatfirst.consents.render_consent`, the function behind "
            "`GET /v1/consents` and the check at enrollment; the platform records the version and SHA-256 of each "
            "text a patient accepts.",
        ),
        "",
        _t(lang, "| 同意书 | `kind` | 版本 | SHA-256 |", "| Consent | `kind` | Version | SHA-256 |"),
        "|---|---|---|---|",
        *[
            f"| [{c.title if zh else c.title_en}](#{c.kind.replace('_', '-')}) | `{c.kind}` | `{c.version}` | "
            f"`{c.sha256}` |"
            for c in consents
        ],
        "",
    ]
    for consent in consents:
        lines += consent_section(name, consent, lang)
    lines += enforcement_section(p, lang)
    lines += [
        _t(lang, "## 政策文件 {#policy-file}", "## The policy file {#policy-file}"),
        "",
        f"`functions/treatfirst/policies/{name}.yaml` (SHA-256 `{p.sha256}`):",
        "",
        "```yaml",
        (POLICY_DIR / f"{name}.yaml").read_text(encoding="utf-8").rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


# ---- API reference ---------------------------------------------------------------------------------------
def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    name = _ref_name(schema)
    if name is None:
        return schema
    if name not in schemas:
        raise DocsSourceError(f"the OpenAPI document refers to a missing schema {name!r}")
    return dict(schemas[name])


def _type(schema: dict[str, Any], lang: str) -> str:
    name = _ref_name(schema)
    if name:
        return f"[{name}](#schema-{name.lower()})"
    if "anyOf" in schema:
        return _t(lang, " 或 ", " or ").join(_type(alt, lang) for alt in schema["anyOf"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    if "enum" in schema and set(schema["enum"]) == {c.code for c in all_error_classes()}:
        return _t(lang, "string：一个[错误码](errors.md)", "string: an [error code](errors.md)")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "object")
    if kind == "array":
        return _t(
            lang,
            f"数组，元素为 {_type(schema.get('items', {}), lang)}",
            f"array of {_type(schema.get('items', {}), lang)}",
        )
    text = _t(lang, " 或 ", " or ").join(kind) if isinstance(kind, list) else str(kind)
    if schema.get("format") == "date-time":
        text += " (RFC 3339)"
    return text


BOUNDS = {
    "zh": (
        ("minimum", "≥ {}"),
        ("maximum", "≤ {}"),
        ("maxLength", "最多 {} 个字符"),
        ("minItems", "至少 {} 项"),
        ("maxItems", "最多 {} 项"),
        ("pattern", "格式 `{}`"),
        ("default", "默认 `{}`"),
    ),
    "en": (
        ("minimum", "≥ {}"),
        ("maximum", "≤ {}"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("pattern", "pattern `{}`"),
        ("default", "default `{}`"),
    ),
}


def _facets(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema's own keywords, with those of a nullable field's non-null alternative."""
    alternatives = [a for a in schema.get("anyOf", []) if a.get("type") != "null" and "$ref" not in a]
    return {**(alternatives[0] if len(alternatives) == 1 else {}), **{k: v for k, v in schema.items() if k != "anyOf"}}


def translated(description: str) -> str:
    """The Chinese of an English description from the structs; the English itself when none is written yet
    (tests/docs/test_reference_pages.py lists those)."""
    return notes_zh.DESCRIPTIONS.get(description, description)


def _notes(schema: dict[str, Any], lang: str, zh_note: str | None = None, own: bool = False) -> str:
    """A field's notes: in Chinese, what it is (zh_note) unless its own description already says it (`own`: a
    description written for this field, not one its type gives many fields), then the description, then bounds."""
    facets = _facets(schema)
    notes = [zh_note] if lang == "zh" and zh_note and not (own and facets.get("description")) else []
    if facets.get("description"):
        notes.append(translated(facets["description"]) if lang == "zh" else facets["description"])
    notes += [
        fmt.format(json.dumps(facets[k]) if k == "default" else facets[k]) for k, fmt in BOUNDS[lang] if k in facets
    ]
    if lang == "zh":
        return "；".join(_cell(n.rstrip("。")) for n in notes)
    return "; ".join(_cell(n) for n in notes)


def shared_descriptions(schemas: dict[str, Any]) -> set[str]:
    """Descriptions that more than one field name carries: a type's (an amount in fen, a time), not a field's."""
    names: dict[str, set[str]] = {}
    for schema in schemas.values():
        for field, prop in schema.get("properties", {}).items():
            description = _facets(prop).get("description")
            if description:
                names.setdefault(description, set()).add(field)
    return {d for d, fields in names.items() if len(fields) > 1}


def _field_rows(schema: dict[str, Any], schemas: dict[str, Any], lang: str, struct: str, prefix: str = "") -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    shared = shared_descriptions(schemas)
    for name, prop in schema.get("properties", {}).items():
        zh_note = notes_zh.field_note(struct, name, prop)
        needed = _t(lang, "是", "yes") if name in required else ""
        own = _facets(prop).get("description") not in shared
        rows.append(f"| `{prefix}{name}` | {_type(prop, lang)} | {needed} | {_notes(prop, lang, zh_note, own)} |")
        inner = prop.get("items", {}) if prop.get("type") == "array" else prop
        if "properties" in inner:
            rows += _field_rows(inner, schemas, lang, struct, f"{prefix}{name}{'[]' if inner is not prop else ''}.")
    return rows


def _field_table(schema: dict[str, Any], schemas: dict[str, Any], lang: str) -> list[str]:
    struct = _ref_name(schema) or ""
    schema = _resolve(schema, schemas)
    if not schema.get("properties"):
        if schema.get("type") == "object":
            return [_t(lang, "无字段：不带请求体，或发送 `{}`。", "No fields: send no body, or `{}`.")]
        return [_type(schema, lang)]
    return [
        _t(lang, "| 字段 | 类型 | 必填 | 说明 |", "| Field | Type | Required | Notes |"),
        "|---|---|---|---|",
        *_field_rows(schema, schemas, lang, struct),
    ]


def _error_codes(status: str, response: dict[str, Any], known: set[str]) -> list[str]:
    codes = response.get("x-treatfirst-error-codes")
    if codes is None:
        description = str(response.get("description", ""))
        if not description.startswith("error codes: "):
            raise DocsSourceError(f"response {status} names no error codes: {description!r}")
        codes = description.removeprefix("error codes: ").split(", ")
    unknown = set(codes) - known
    if unknown:
        raise DocsSourceError(f"response {status} names unknown error codes {sorted(unknown)}")
    return list(codes)


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) in the document's order."""
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                out.append((method.upper(), path, op))
    return out


WHERE = {
    "zh": {"path": "路径参数", "query": "查询参数", "header": "请求头"},
    "en": {"path": "path", "query": "query", "header": "header"},
}


def _operation(
    method: str, path: str, op: dict[str, Any], schemas: dict[str, Any], known: set[str], lang: str
) -> list[str]:
    """One operation's section, with links relative to reference/api/<tag>.md."""
    lines = [f"## `{method} {path}` {{#{op['operationId']}}}", "", f"{summary(op, lang)}", ""]
    scope = op.get("x-treatfirst-scope")
    lines.append(
        _t(
            lang,
            f"- 权限 `{scope}` · 需要[签名](../../authentication.md)",
            f"- Scope `{scope}` · [signed](../../authentication.md)",
        )
        if op.get("security")
        else _t(lang, "- 公开：无需签名", "- Public: no signature")
    )
    for param in op.get("parameters", []):
        note = _notes(
            {**param.get("schema", {}), **({"description": param["description"]} if "description" in param else {})},
            lang,
        )
        lines.append(
            f"- {WHERE[lang][param['in']]} `{param['name']}`: {_type(param.get('schema', {}), lang)}"
            + (f" — {note}" if note else "")
        )
    if {"limit", "cursor"} <= {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}:
        lines.append(
            _t(
                lang,
                "- 分页：把响应中的 `cursor` 原样传回取下一页，直到 `has_more` 为 `false`",
                "- Paged: pass the answer's `cursor` back for the next page until `has_more` is `false`",
            )
        )
    lines.append("")
    body = op.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        name = _ref_name(schema)
        optional = "" if body.get("required") else _t(lang, " · 可省略", " · optional")
        lines += [
            _t(lang, "**请求体**", "**Request body**") + (f" ({_type(schema, lang)})" if name else "") + optional,
            "",
            *_field_table(schema, schemas, lang),
            "",
        ]
    else:
        lines += [_t(lang, "**请求体**：无", "**Request body**: none"), ""]
    lines += [
        _t(lang, "**响应**", "**Responses**"),
        "",
        _t(lang, "| HTTP | 内容 | 错误码 |", "| HTTP | Body | Error codes |"),
        "|---|---|---|",
    ]
    for status, response in op["responses"].items():
        content = response["content"]
        json_body = content.get("application/json")  # a file download names its media types instead
        shown = _type(json_body["schema"], lang) if json_body else ", ".join(f"`{m.split(';')[0]}`" for m in content)
        codes = (
            ""
            if status.startswith("2")
            else ", ".join(f"[`{c}`](errors.md#{_anchor(c)})" for c in _error_codes(status, response, known))
        )
        lines.append(f"| `{status}` | {shown} | {codes} |")
    lines.append("")
    return _relocated(lines)


# One page per tag, so a reader on a phone finds one operation without scrolling the whole API.
TAG_PAGES = {
    "Platform": ("platform", "平台"),
    "Operators": ("operators", "运营方"),
    "Enrollment": ("enrollment", "签约"),
    "Visits": ("visits", "就诊与记账"),
    "Bills": ("bills", "账单"),
    "Payments": ("payments", "还款"),
    "Collection": ("collection", "催收"),
    "Emergency": ("emergency", "急诊复核"),
    "Test clock": ("test-clock", "测试时钟"),
    "Credit platform": ("credit-platform", "信用平台"),
    "Privacy": ("privacy", "个人信息"),
    "Webhooks": ("webhooks", "事件与回调"),
    "Clearing": ("clearing", "日清算"),
    "Reconciliation": ("reconciliation", "对账"),
}
SUMMARY_ZH = {
    "health": "存活检查，返回正在执行的政策",
    "openapi": "本 OpenAPI 文档",
    "getPolicy": "正在执行的城市政策，含版本和 SHA-256",
    "listConsents": "签约前展示给患者的知情同意书文本，含 SHA-256",
    "registerCaller": "登记医院或支付渠道的密钥（secret 只显示一次）；每个 id 只有一把有效密钥",
    "rotateCaller": "轮换密钥的 secret；旧 secret 在到期前仍然有效",
    "revokeCaller": "吊销密钥：30 秒内在所有服务器上被拒绝",
    "enroll": "为居民签约：身份、核验、知情同意、额度决定",
    "lookupAccount": "按身份证号查找签约账户",
    "getAccount": "读取一个签约账户及其信用额度",
    "withdraw": "居民退出（解约）",
    "listAccountBills": "列出一个账户的账单",
    "openVisit": "开立就诊",
    "listVisits": "列出本医院的就诊",
    "getVisit": "读取一次就诊",
    "postCharge": "记账：一笔费用明细（医保、个人账户、自付），自付部分冻结在额度上",
    "listCharges": "列出一次就诊的费用明细",
    "cancelCharge": "撤销一笔费用明细（全额）",
    "refundCharge": "部分退费（退款）一笔费用明细",
    "closeVisit": "结束就诊，生成账单",
    "getBill": "读取一张账单",
    "notifyPayment": "支付渠道通知一笔还款（按渠道交易号幂等）",
    "listAccountMessages": "一个账户的短信和电话任务，最新的在前",
    "listPhoneTasks": "待处理和已认领的电话任务，最早的在前",
    "claimPhoneTask": "认领一个电话任务；响应中带有要拨打的号码",
    "recordPhoneTaskOutcome": "记录已认领电话的结果；任务完成",
    "getCollectionState": "一个账户的催收状态：阶段、逾期天数、账龄、失信次数、暂停、下一阶段日期",
    "openDispute": "对一张未付账单提出争议：争议结束前催收阶梯不计该账单",
    "closeDispute": "结束争议；争议期间的天数仍不计入",
    "writeOffBill": "核销一张未还账单：困难救助、身故、身份不明的急诊患者或运营方决定（须写明原因，审计）",
    "listMoratoriums": "城市的暂停催收期（进行中和已结束）",
    "openMoratorium": "开启全市暂停催收：从今天起欠款不再计龄",
    "closeMoratorium": "结束暂停催收期",
    "listReviews": "待复核的急诊记录，最早的在前（运营方）",
    "getReview": "读取一条复核记录（运营方）",
    "decideReview": "确认或驳回一条待复核记录，须说明理由（运营方；留审计）",
    "emergencyReport": "某月各医院的急诊合计（运营方）",
    "operatorReport": "日期区间的运营报表：欠费率、账龄分档（按日历天）、迁徙率与治愈率、核销、托底基金动用（运营方）",
    "getConsentStates": "账户的同意与告知记录，以及哪些需要重新同意（渠道）",
    "answerConsents": "凭本人新近实名核验记录本人对现行文本的同意（渠道）",
    "privacyRequest": "个人信息权利请求：查阅复制、更正、撤回同意、删除、解释、人工复核（渠道）",
    "listPrivacyRequests": "待运营方答复的个人信息请求，按答复期限排序（运营方）",
    "answerPrivacyRequest": "答复个人信息请求：维持或提高额度，须写明理由（运营方）",
    "createWebhookEndpoint": "登记回调地址及要接收的事件；whsec_ 密钥只显示一次",
    "listWebhookEndpoints": "本方的回调地址（不含密钥）",
    "deleteWebhookEndpoint": "删除回调地址，此后不再向其投递",
    "rotateWebhookSecret": "轮换回调密钥；旧密钥到期前投递同时带两个签名",
    "listEvents": "按顺序拉取本方的事件（无法接收回调时的替代方式）",
    "listEventDeliveries": "某个事件的投递记录：每个地址、每次尝试",
    "replayEvent": "以同一 webhook-id 立即重新投递某个事件",
    "getClearing": "某清算方某业务日的日清算清单：文件、SHA-256、大小与净额",
    "getClearingFile": "某清算方的日清算文件（分段、base64）",
    "getTestClock": "测试时钟的时间和偏移（仅本机和沙箱）",
    "advanceTestClock": "把平台时钟向前拨，并在新时间运行定时任务",
    "getAging": "按人民银行还款状态分档的未还账单数和金额（运营方）",
    "listExports": "失信名单报送的每日交付，最新的在前（信用平台）",
    "getExport": "一次交付：窗口、条数、清单 SHA-256 和文件（信用平台）",
    "downloadExportFile": "按原样下载交付中的一个文件，X-Content-SHA256 头给出其 SHA-256（信用平台）",
    "acknowledgeExport": "确认已核验的交付，写明清单 SHA-256（信用平台；记入审计）",
    "getBlacklistStatus": "本人的失信记录、理由、依据和移出方式（渠道、运营方）",
    "fileBlacklistAppeal": "对失信记录提出异议：本人经渠道实名核验，或运营方代为提出",
    "listBlacklist": "名单上的记录（含异议中），最早的在前（运营方）",
    "listBlacklistWaiting": "阶梯已要求列入、等待告知短信送达的账户，等待最久的在前（运营方）",
    "getBlacklistRecord": "读取一条失信记录及其异议（运营方）",
    "correctBlacklistRecord": "更正移出错误的记录，须说明理由（运营方；留审计）",
    "listBlacklistAppeals": "待处理的失信记录异议，最早的在前（运营方）",
    "decideBlacklistAppeal": "异议成立或不成立，须说明理由（运营方；留审计）",
    "annulStrike": "撤销一条逾期记录，须说明理由（运营方；留审计）",
    "reconcileTotals": "按类别核对某个已日切业务日的合计（医院；对总账，如 3201）",
    "reconcileLines": "逐笔核对某个已日切业务日的明细（医院；对明细账，如 3202）",
    "uploadStatement": "上传渠道日对账单；差异进入挂账（渠道）",
    "listSuspense": "未了结的挂账，最早的在前（运营方）",
    "getSuspense": "读取一条挂账（运营方）",
    "resolveSuspense": "写明理由了结一条挂账（运营方；留审计）",
}


def tag_page(op: dict[str, Any]) -> str:
    """The reference page (relative to reference/) that documents this operation."""
    tag = op.get("tags", ["Other"])[0]
    if tag not in TAG_PAGES:
        raise DocsSourceError(
            f"operation {op['operationId']} has tag {tag!r}: add it to TAG_PAGES in tools/mkdocs_hooks.py and its "
            "page to the nav in mkdocs.yml"
        )
    return f"api/{TAG_PAGES[tag][0]}.md"


def op_href(op: dict[str, Any]) -> str:
    return f"{tag_page(op)}#{op['operationId']}"


def summary_zh(op: dict[str, Any]) -> str:
    """The Chinese summary; an operation added since falls back to its English one (tests/docs lists them)."""
    return SUMMARY_ZH.get(op["operationId"], str(op.get("summary", "")))


def summary(op: dict[str, Any], lang: str) -> str:
    text = summary_zh(op) if lang == "zh" else str(op.get("summary", ""))
    return text + _t(lang, "。", ".") if text and text[-1] not in "。.)）" else text


def _example_section(op: dict[str, Any], lang: str) -> list[str]:
    example = examples()[op["operationId"]]
    lines = [_t(lang, "**示例**", "**Example**"), ""]
    lines += [
        f'=== "{_t(lang, "请求", "Request")}"',
        "",
        "    ```sh",
        *_indent(curl(example, bool(op.get("security"))).splitlines()),
        "    ```",
        "",
    ]
    if example.request is not None:
        lines += [
            f'=== "{_t(lang, "请求体", "Request body")}"',
            "",
            "    ```json",
            *_indent(pretty(example.request).splitlines()),
            "    ```",
            "",
        ]
    for name, view in example.views.items():
        lines += [
            f'=== "{_t(lang, "响应", "Response")} {example.status}: {name}"',
            "",
            "    ```json",
            *_indent(pretty(view).splitlines()),
        ]
        lines += ["    ```", ""]
    if example.response is not None and not example.views:
        lines += [
            f'=== "{_t(lang, "响应", "Response")} {example.status}"',
            "",
            "    ```json",
            *_indent(pretty(example.response).splitlines()),
            "    ```",
            "",
        ]
    if op.get("security"):
        lines += [
            _t(
                lang,
                "签名头的计算见[请求签名](../../authentication.md)；`treatfirst.client.TreatFirstClient` 会自动计算。",
                "The signature headers are computed as [request signing](../../authentication.md) says; "
                "`treatfirst.client.TreatFirstClient` computes them for you.",
            ),
            "",
        ]
    return lines


def _relocated(lines: list[str]) -> list[str]:
    """Links written for reference/*.md, moved to reference/api/*.md."""
    text = "\n".join(lines)
    for old, new in (("](#schema-", "](../schemas.md#schema-"), ("](errors.md", "](../errors.md")):
        text = text.replace(old, new)
    return text.splitlines()


def api_index(doc: dict[str, Any], lang: str) -> str:
    rows = []
    for m, p, op in operations(doc):
        scope = "`" + op["x-treatfirst-scope"] + "`" if op.get("x-treatfirst-scope") else _t(lang, "公开", "public")
        rows.append(f"| [`{m} {p}`]({op_href(op)}){{#{op['operationId']}}} | {_cell(summary(op, lang))} | {scope} |")
    zh = lang == "zh"
    version = doc["info"]["version"]
    return "\n".join(
        [
            _t(lang, "# 接口参考", "# API reference"),
            "",
            f"由接口实际提供的 OpenAPI {doc['openapi']} 文档（`GET /v1/openapi.json`）生成，"
            "测试逐一核对该文档与实际路由；每个操作附示例请求和响应，由接口使用的同一组消息结构生成，并由测试发给接口核对。"
            f"[下载 openapi.json](openapi.json)（接口版本 `{version}`）"
            f"· [接口调试](explorer.md) · [数据结构](schemas.md)"
            if zh
            else f"Generated from the OpenAPI {doc['openapi']} document the API serves at `GET /v1/openapi.json`; "
            "a test holds it against the app's real routes. Each operation has an example request and response "
            "generated from the message structs the API uses, and a test sends each example to the app. "
            f"[Download openapi.json](openapi.json) (API version `{version}`) · [API explorer](explorer.md) · "
            "[Schemas](schemas.md)",
            "",
            *([] if zh else [_cell(doc["info"].get("description", "")), ""]),
            _t(
                lang,
                "约定见[接口约定](../conventions.md)，签名见[请求签名](../authentication.md)。",
                "Conventions: [API conventions](../conventions.md); signatures: "
                "[request signing](../authentication.md).",
            ),
            "",
            *[
                f"- [{zh_title if zh else tag}]({tag_page({'tags': [tag], 'operationId': tag})})"
                for tag, (_, zh_title) in TAG_PAGES.items()
            ],
            "",
            _t(lang, "| 操作 | 说明 | 权限 |", "| Operation | Summary | Scope |"),
            "|---|---|---|",
            *rows,
            "",
        ]
    )


def api_pages(doc: dict[str, Any], lang: str) -> dict[str, str]:
    """reference/api.md (the index), one page per tag, and reference/schemas.md."""
    schemas = doc["components"]["schemas"]
    known = {c.code for c in all_error_classes()}
    by_page: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, op in operations(doc):
        by_page.setdefault(tag_page(op), []).append((method, path, op))
    pages = {"reference/api.md": api_index(doc, lang)}
    for tag, (slug, zh) in TAG_PAGES.items():
        ops = by_page.pop(f"api/{slug}.md", [])
        if not ops:
            raise DocsSourceError(f"tag {tag!r} has no operation left in the OpenAPI document")
        lines = [f"# {zh if lang == 'zh' else tag}", "", f"[{_t(lang, '接口参考', 'API reference')}](../api.md)", ""]
        for method, path, op in ops:
            lines += [*_operation(method, path, op, schemas, known, lang), "", *_example_section(op, lang)]
        pages[f"reference/api/{slug}.md"] = "\n".join(lines)
    lines = [_t(lang, "# 数据结构", "# Schemas"), "", f"[{_t(lang, '接口参考', 'API reference')}](api.md)", ""]
    for name, schema in schemas.items():
        lines += [f"## {name} {{#schema-{name.lower()}}}", ""]
        if schema.get("description"):
            text = schema["description"]
            lines += [_cell(translated(text) if lang == "zh" else text), ""]
        lines += [*_field_table({"$ref": f"#/components/schemas/{name}"}, schemas, lang), ""]
    pages["reference/schemas.md"] = "\n".join(lines).replace("](#schema-", "](schemas.md#schema-")
    return pages


# ---- error codes -----------------------------------------------------------------------------------------
STATUS_GUIDANCE = {
    400: (
        "请求不合法：按 `field` 修正后再发，原样重试不会成功。",
        "The request is invalid: fix `field`; retrying as is fails again.",
    ),
    401: (
        "签名未通过：检查 key id、签名算法、服务器时间（±5 分钟）和每次新的 nonce。",
        "The signature failed: check the key id, the signing steps, the clock (±5 minutes) and a fresh nonce.",
    ),
    403: ("密钥没有该操作所需的权限。", "The key lacks the scope this operation needs."),
    404: (
        "对象不存在，或不属于调用方（医院看不到其他医院的就诊）。",
        "No such object, or not the caller's (a hospital never sees another's visits).",
    ),
    405: (
        "该路径不接受此方法：见 API 参考中的方法。",
        "The path does not take this method: see the API reference for its methods.",
    ),
    409: (
        "与当前状态冲突：先读取最新状态；`CONCURRENT_UPDATE` 可用同一 `Idempotency-Key` 重试。",
        "Conflicts with the current state: read it first; retry `CONCURRENT_UPDATE` with the same `Idempotency-Key`.",
    ),
    413: ("请求体超过 64 KB。", "The body is over 64 KB."),
    415: (
        "请求体须标为 `application/json`（没有请求体的请求可带任何 Content-Type）。",
        "A body must be labelled `application/json` (a request without a body may carry any Content-Type).",
    ),
    422: (
        "请求合法，但业务规则不允许（额度、资格、账单状态）：不是平台故障，原样重试不会成功。",
        "Valid, but the rules refuse it (credit, eligibility, bill state): not a platform fault, and retrying as "
        "is fails again.",
    ),
    429: (
        "请求过多（API 网关限流）：稍后用同一 `Idempotency-Key` 重试。",
        "Too many requests (throttled by the API gateway): retry later with the same `Idempotency-Key`.",
    ),
    500: (
        "平台内部错误：可用同一 `Idempotency-Key` 重试；持续出现请带 `request_id` 报障。",
        "A platform fault: retry with the same `Idempotency-Key`; if it persists, report it with the `request_id`.",
    ),
}


def _status(cls: type[TreatFirstError]) -> int:
    """The HTTP status the API answers with for this error class."""
    return status_of(cls)


def general_code(cls: type[TreatFirstError]) -> str | None:
    """The code a client falls back to when it does not know `cls.code`: its parent class's code, when that
    parent is answered with the same HTTP status. Top-level codes of a status (VALIDATION_FAILED, NOT_FOUND,
    UNPROCESSABLE, ...) have none: a client that does not know them acts on the HTTP status."""
    base = cls.__mro__[1]
    if not (isinstance(base, type) and issubclass(base, TreatFirstError)) or base is cls:
        return None
    return base.code if _status(base) == _status(cls) and base.code != cls.code else None


# Each code's meaning in Chinese (the API's own `message` is English, for developers). A code added since falls
# back to its English message (tests/docs/test_reference_pages.py lists those).
MEANING_ZH = {
    "APPEAL_ALREADY_DECIDED": "这件异议已作出决定或已关闭",
    "APPEAL_NOT_ALLOWED": "本市政策不受理异议",
    "APPEAL_NOT_FOUND": "没有这件异议",
    "APPEAL_PENDING": "该记录已有待处理的异议",
    "BLACKLIST_RECORD_NOT_FOUND": "没有这条失信记录",
    "RECORD_NOT_LISTED": "该记录已不在名单上",
    "STRIKE_ALREADY_ANNULLED": "这条逾期记录已被撤销",
    "STRIKE_NOT_FOUND": "该账户没有这条逾期记录",
    "ERASURE_REFUSED": "还不能删除：有欠款、占用额度或未结束的就诊，或已删除",
    "GUARDIAN_REQUIRED": "不满十四周岁：须由监护人同意并提供证明，平台暂不受理",
    "IDENTITY_ERASED": "此人的身份信息已删除（数据密钥已销毁）",
    "RIGHTS_REQUEST_CLOSED": "该个人信息请求已答复",
    "RECONSENT_REQUIRED": "城市政策改变了必需同意或告知的范围：本人重新同意后才能开立新的就诊（急诊除外）",
    "RIGHTS_REQUEST_NOT_FOUND": "没有这个个人信息请求",
    "ACCOUNT_NOT_ACTIVE": "账户不是正常状态",
    "ACCOUNT_NOT_FOUND": "没有这个账户",
    "ACCOUNT_RESTRICTED": "账户被催收阶梯或失信规则限制",
    "ALREADY_DISPUTED": "这张账单已有未结束的争议",
    "ALREADY_ENROLLED": "该居民已签约",
    "AMOUNT_OWED": "账户还有冻结或欠款",
    "BAD_SIGNATURE": "签名与请求不符",
    "BILL_NOT_FOUND": "没有这张账单",
    "BILL_NOT_PAYABLE": "账单当前状态不能还款",
    "CALLER_EXISTS": "该类型、该编号的调用方已有一把有效密钥",
    "CALLER_NOT_FOUND": "没有这把调用方密钥",
    "CALLER_REVOKED": "调用方密钥已吊销",
    "CHARGE_NOT_FOUND": "没有这笔费用明细",
    "CHARGE_NOT_REFUNDABLE": "退费超过该笔费用的剩余金额",
    "CLOCK_SKEW": "请求时间戳与服务器时间相差超过 5 分钟",
    "CONCURRENT_UPDATE": "请求执行期间对象已被修改；请重试",
    "CONFLICT": "请求与当前状态冲突",
    "CONSENT_REQUIRED": "缺少必需的知情同意",
    "CREDIT_LIMIT_EXCEEDED": "自付金额超过可用额度",
    "EMERGENCY_NOT_COVERED": "城市政策不把该分诊级别认定为急危重症",
    "EMERGENCY_NOT_DECLARED": "急危重症费用须记在声明为急危重症的就诊上",
    "FEE_LINE_CONFLICT": "该费用明细编号已以不同内容记账",
    "FORBIDDEN": "密钥没有该操作所需的权限",
    "IDEMPOTENCY_KEY_REUSED": "该 Idempotency-Key 已用于另一个请求",
    "INTERNAL_ERROR": "平台内部错误",
    "INVALID_AMOUNT": "金额须为以分计的非负整数",
    "INVALID_CURSOR": "游标无效",
    "INVALID_DATE_RANGE": "日期区间无效：结束早于开始、尚未日切、超过 366 天或早于报表开始日期",
    "INVALID_ID_NUMBER": "居民身份证号无效",
    "INVALID_PHONE": "手机号不是大陆手机号",
    "MALFORMED_JSON": "请求体不是合法的 JSON",
    "METHOD_NOT_ALLOWED": "该路径不接受此方法",
    "NOT_ELIGIBLE": "按城市政策，该居民不符合条件",
    "NOT_FOUND": "不存在",
    "OVERPAYMENT": "还款超过账单的未还金额",
    "PAUSE_NOT_FOUND": "没有这个进行中的暂停",
    "PAYLOAD_TOO_LARGE": "请求体超过 64 KB",
    "POLICY_INVALID": "城市政策无效",
    "REFUND_EXCEEDS_OUTSTANDING": "账单已还款，超出可退部分；请通过支付渠道退款",
    "REPLAYED_NONCE": "该 nonce 已被使用",
    "REVIEW_ALREADY_DECIDED": "该复核条目已有决定",
    "EXPORT_MANIFEST_MISMATCH": "manifest_sha256 不是这次交付清单的 SHA-256（未做任何更改）",
    "EXPORT_NOT_FOUND": "没有这次交付，或交付中没有这个文件",
    "REVIEW_NOT_FOUND": "没有这个复核条目",
    "CLEARING_NOT_FOUND": "本清算方在该业务日没有清算文件（或日期、文件名格式不符）",
    "CLEARING_UNBALANCED": "当日清算与账本不符（不应发生）：清算停止，未写任何文件",
    "ROUTE_NOT_FOUND": "没有这个路径",
    "SPLIT_MISMATCH": "total_fen 须等于 insurance_fen + personal_account_fen + self_pay_fen",
    "TASK_NOT_CLAIMABLE": "电话任务已被其他运营人员认领或已完成",
    "TASK_NOT_FOUND": "没有这个电话任务",
    "TEST_CLOCK_DISABLED": "本部署没有测试时钟（只有本机环境和沙箱启用）",
    "THROTTLED": "请求过多；稍后用同一 Idempotency-Key 重试",
    "TRANSACTION_ID_CONFLICT": "该渠道交易号已用于另一笔还款",
    "UNAUTHENTICATED": "请求没有由已知密钥签名",
    "UNPROCESSABLE": "请求合法，但业务规则不允许",
    "UNSUPPORTED_MEDIA_TYPE": "请求体须以 application/json 发送",
    "VALIDATION_FAILED": "请求不合法",
    "VERIFICATION_STALE": "实名核验不够新；请重新核验本人",
    "VISIT_CLOSED": "就诊已结束",
    "VISIT_NOT_FOUND": "没有这次就诊",
    "VISIT_OPEN": "账户有进行中的就诊；请先结束",
    # reconciliation
    "BUSINESS_DATE_OPEN": "该营业日尚未结束；过了截止时间再对账",
    "STATEMENT_CONFLICT": "该渠道该营业日已用另一份对账单对过账",
    "STATEMENT_MALFORMED": "对账单文件不是其声明的格式",
    "SUSPENSE_ALREADY_RESOLVED": "该挂账条目已不在待处理状态",
    "SUSPENSE_NOT_FOUND": "没有这个挂账条目",
    # events and webhooks
    "EVENT_KIND_NOT_ALLOWED": "该调用方不能订阅这种事件",
    "EVENT_NOT_FOUND": "没有这个事件",
    "WEBHOOK_ENDPOINT_LIMIT": "该调用方的 webhook 地址已达上限",
    "WEBHOOK_ENDPOINT_NOT_FOUND": "没有这个 webhook 地址",
    "WEBHOOK_URL_REFUSED": "webhook 地址须为 https，且只解析到公网地址",
}


def meaning(cls: type[TreatFirstError], lang: str) -> str:
    return MEANING_ZH.get(cls.code, cls.default_message) if lang == "zh" else cls.default_message


# Codes the HTTP edge answers outside any operation of the OpenAPI document.
EDGE_CODES = {
    "ROUTE_NOT_FOUND": (
        "任何未知路径；在 AWS 上也包括路径不接受的方法",
        "any unknown path; on AWS also a method the path lacks",
    ),
    "METHOD_NOT_ALLOWED": ("路径不接受的方法（本机环境）", "a method the path lacks (local stack)"),
    "UNSUPPORTED_MEDIA_TYPE": ("请求体不是 application/json 的任何请求", "any request whose body is not labelled JSON"),
    "THROTTLED": ("API 网关限流（AWS）", "the API gateway's throttling (AWS)"),
    "INTERNAL_ERROR": ("任何操作中未预料的平台故障", "any operation, on an unexpected platform fault"),
}


def errors_page(doc: dict[str, Any], lang: str) -> str:
    classes = all_error_classes()
    known = {c.code for c in classes}
    used: dict[str, list[str]] = {}
    every, signed = set(), set()
    for _method, _path, op in operations(doc):
        every.add(op["operationId"])
        if op.get("security"):
            signed.add(op["operationId"])
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                for code in _error_codes(status, response, known):
                    used.setdefault(code, []).append(op["operationId"])
    titles = {op["operationId"]: f"{method} {path}" for method, path, op in operations(doc)}
    hrefs = {op["operationId"]: op_href(op) for _method, _path, op in operations(doc)}
    zh = lang == "zh"

    def returned_by(code: str) -> str:
        ids = set(used.get(code, []))
        if not ids:
            edge = EDGE_CODES.get(code)
            return (edge[0] if zh else edge[1]) if edge else "—"
        if ids == every:
            return _t(lang, "所有操作", "every operation")
        if ids == signed:
            return _t(lang, "所有签名操作", "every signed operation")
        return "<br>".join(f"[`{titles[i]}`]({hrefs[i]})" for i in used[code])

    def parent(cls: type[TreatFirstError]) -> str:
        code = general_code(cls)
        return f"[`{code}`](#{_anchor(code)})" if code else "—"

    lines = (
        [
            "# 错误码",
            "",
            '所有错误同一结构 `{"error": {"code", "message", "field", "request_id"}}`，错误码稳定；'
            "`message` 是给开发者看的英文说明。",
            "",
            "**客户端如何处理错误：** 先看错误码；遇到不认识的错误码，按表中的归类码处理；"
            "没有归类码的，按 HTTP 状态处理。归类码总是与该错误码同一 HTTP 状态：额度不足 `CREDIT_LIMIT_EXCEEDED` "
            "归类为 `UNPROCESSABLE`（业务规则拒绝，不是平台故障），只有 HTTP 500 表示平台故障。",
            "",
            "被拒绝的请求不改变任何数据。",
            "",
        ]
        if zh
        else [
            "# Error codes",
            "",
            'Every error has one shape, `{"error": {"code", "message", "field", "request_id"}}`, and a stable code.',
            "",
            "**How a client acts on an error:** act on the code; for a code you do not know, act on its general code "
            "in the table below; for a code without one, act on the HTTP status. A general code always has the same "
            "HTTP status as the code: a credit refusal (`CREDIT_LIMIT_EXCEEDED`) falls back to `UNPROCESSABLE` (the "
            "rules refused, not a fault); only HTTP 500 is a platform fault.",
            "",
            "A refused request changes nothing.",
            "",
        ]
    )
    statuses = sorted({_status(c) for c in classes})
    for status in statuses:
        if status not in STATUS_GUIDANCE:
            raise DocsSourceError(f"HTTP {status} has no guidance on the error-code page")
        guidance_zh, guidance_en = STATUS_GUIDANCE[status]
        lines += [
            f"## HTTP {status}",
            "",
            guidance_zh if zh else guidance_en,
            "",
            _t(lang, "| 错误码 | 含义 | 归类 | 返回于 |", "| Code | Meaning | General code | Returned by |"),
            "|---|---|---|---|",
            *[
                f"| `{c.code}`{{#{_anchor(c.code)}}} | {_cell(meaning(c, lang))} | {parent(c)} | "
                f"{returned_by(c.code)} |"
                for c in classes
                if _status(c) == status
            ],
            "",
        ]
    return "\n".join(lines)


# ---- signing example -------------------------------------------------------------------------------------
VECTORS = ROOT / "site" / "signing-vectors.json"


def signing_vectors() -> list[dict[str, Any]]:
    """The published known-answer vectors, each checked against the platform's signing code before it is shown."""
    published = json.loads(VECTORS.read_text(encoding="utf-8"))
    if published.get("algorithm") != signing.ALGORITHM:
        raise DocsSourceError(f"{VECTORS.name}: algorithm is not {signing.ALGORITHM}")
    vectors: list[dict[str, Any]] = published["vectors"]
    for v in vectors:
        pairs = [(k, val) for k, val in v["query"]]
        body = v["body"].encode("utf-8")
        key = signing.signing_key(v["secret"])
        computed = {
            "canonical_query": signing.canonical_query(pairs),
            "string_to_sign": signing.string_to_sign(v["method"], v["path"], pairs, v["timestamp"], v["nonce"], body),
            "signing_key_hex": key.hex(),
            "signature": signing.sign(key, v["method"], v["path"], pairs, v["timestamp"], v["nonce"], body),
        }
        for name, value in computed.items():
            if v[name] != value:
                raise DocsSourceError(f"{VECTORS.name}: vector {v['name']!r} {name} differs from the signing code")
    return vectors


def _vector(v: dict[str, Any], lang: str) -> list[str]:
    zh = lang == "zh"
    none = "（无）" if zh else "(none)"
    query = ", ".join(f"`{json.dumps([k, val], ensure_ascii=False)}`" for k, val in v["query"]) or none
    body = f"`{v['body']}`" if v["body"] else ("（空）" if zh else "(empty)")
    url = v["path"] + (f"?{v['canonical_query']}" if v["canonical_query"] else "")
    return [
        f"| {'输入' if zh else 'Input'} | {'值' if zh else 'Value'} |",
        "|---|---|",
        f"| secret | `{v['secret']}` |",
        f"| method, path | `{v['method']}`, `{v['path']}` |",
        f"| {'查询参数（按发送顺序）' if zh else 'query pairs (as sent)'} | {_cell(query)} |",
        f"| `{signing.HEADER_TIMESTAMP}`, `{signing.HEADER_NONCE}` | `{v['timestamp']}`, `{v['nonce']}` |",
        f"| body (UTF-8) | {body} |",
        f"| {'规范查询串' if zh else 'canonical query'} | "
        f"{'`' + v['canonical_query'] + '`' if v['canonical_query'] else '（空行）' if zh else '(an empty line)'} |",
        f"| {'请求体 SHA-256' if zh else 'body SHA-256'} | `{v['body_sha256']}` |",
        f"| {'签名密钥（32 字节，此处以十六进制显示）' if zh else 'signing key (32 bytes, shown as hex)'} | "
        f"`{v['signing_key_hex']}` |",
        "",
        "待签字符串 String to sign:" if zh else "String to sign:",
        "",
        "```text",
        v["string_to_sign"],
        "```",
        "",
        f"`{signing.HEADER_SIGNATURE}`: `{v['signature']}`",
        "",
        f"{'请求行' if zh else 'Request line'}: `{v['method']} {url}`",
    ]


def signing_example(lang: str) -> str:
    vectors = signing_vectors()
    with_query = next((v for v in vectors if v["query"]), None)
    with_body = next((v for v in vectors if v["body"]), None)
    if with_query is None or with_body is None:
        raise DocsSourceError(f"{VECTORS.name} needs a vector with a query and one with a body")
    zh = lang == "zh"
    return "\n".join(
        [
            "### 带查询参数的 GET" if zh else "### A GET with a query",
            "",
            *_vector(with_query, lang),
            "",
            "### 带请求体的 POST" if zh else "### A POST with a body",
            "",
            *_vector(with_body, lang),
        ]
    )


# ---- conventions -----------------------------------------------------------------------------------------
SCOPES_MARKER = "<!-- treatfirst:scopes -->"
IDEMPOTENT_MARKER = "<!-- treatfirst:idempotent-operations -->"


def scopes_table(doc: dict[str, Any], lang: str) -> str:
    """Caller kind → its scopes → the operations each scope opens, from the code's scope table and the document."""
    by_scope: dict[str, list[str]] = {}
    for method, path, op in operations(doc):
        if op.get("x-treatfirst-scope"):
            by_scope.setdefault(op["x-treatfirst-scope"], []).append(f"[`{method} {path}`](../reference/{op_href(op)})")
    zh = lang == "zh"
    lines = [
        "| 调用方 | 权限 | 可调用的操作 |" if zh else "| Caller | Scope | Operations |",
        "|---|---|---|",
    ]
    for kind, scopes in SCOPES.items():
        for scope in scopes:
            if scope not in by_scope:
                raise DocsSourceError(f"scope {scope!r} of {kind} opens no operation of the OpenAPI document")
            lines.append(f"| `{kind}` | `{scope}` | {'<br>'.join(by_scope[scope])} |")
    lines += [
        "",
        "公开操作（无需签名）：" if zh else "Public operations (no signature): ",
    ]
    public = [f"`{m} {p}`" for m, p, op in operations(doc) if not op.get("security")]
    lines[-1] += ("、" if zh else ", ").join(public) + ("。" if zh else ".")
    return "\n".join(lines)


def idempotent_operations(doc: dict[str, Any], lang: str) -> str:
    """The operations that take an Idempotency-Key (each can answer IDEMPOTENCY_KEY_REUSED), and how long keys last."""
    ops = [
        f"[`{m} {p}`](../reference/{op_href(op)})"
        for m, p, op in operations(doc)
        if any(x.get("in") == "header" and x.get("name") == "Idempotency-Key" for x in op.get("parameters", []))
    ]
    if not ops:
        raise DocsSourceError("no operation of the OpenAPI document takes an Idempotency-Key")
    hours = int(IDEMPOTENCY_TTL.total_seconds() // 3600)
    if lang == "zh":
        return f"接受 `Idempotency-Key` 的操作（平台保存键 {hours} 小时）：" + "、".join(ops) + "。"
    return f"Operations that take an `Idempotency-Key` (keys are kept for {hours} hours): " + ", ".join(ops) + "."


# ---- MkDocs events ---------------------------------------------------------------------------------------
@event_priority(GENERATED)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    lang = language(config)
    policies = {name: example_policy(name) for name in CITIES}
    add_file(files, config, "cities/index.md", cities_page(policies, lang))
    for name, policy in policies.items():
        consents = render_all(policy)
        add_file(files, config, f"cities/{name}.md", city_page(name, policy, consents, lang))
        for consent in consents:
            add_file(files, config, _consent_file(name, consent), consent.text.encode("utf-8"))
    doc = openapi.document()
    for path, content in api_pages(doc, lang).items():
        add_file(files, config, path, content)
    add_file(files, config, "reference/errors.md", errors_page(doc, lang))
    published = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    add_file(files, config, "reference/openapi.json", published.encode("utf-8"))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    src = page.file.src_uri
    if src.endswith("authentication.md"):
        if SIGNING_MARKER not in markdown:
            raise DocsSourceError(f"{src} lost its {SIGNING_MARKER} marker")
        markdown = markdown.replace(SIGNING_MARKER, signing_example(page_language(page)))
    if src.endswith("conventions.md"):
        lang = page_language(page)
        for marker, render in ((SCOPES_MARKER, scopes_table), (IDEMPOTENT_MARKER, idempotent_operations)):
            if marker not in markdown:
                raise DocsSourceError(f"{src} lost its {marker} marker")
            markdown = markdown.replace(marker, render(openapi.document(), lang))
    markdown = clearing_docs.render(markdown, page_language(page))  # funding and clearing pages
    return markdown
