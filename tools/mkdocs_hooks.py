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
from treatfirst.services.idempotency import IDEMPOTENCY_TTL  # noqa: E402
from treatfirst.services.identity import SCOPES  # noqa: E402

from tools.mkdocs_examples import curl, examples, pretty  # noqa: E402
from tools.mkdocs_i18n import GENERATED, add_file, page_language  # noqa: E402

CITIES = ("lianyungang", "xiamen")
SIGNING_MARKER = "<!-- treatfirst:signing-example -->"


class DocsSourceError(RuntimeError):
    """The code a generated page comes from does not have what the page needs."""


# ---- shared ----------------------------------------------------------------------------------------------
def _labels(codes: Iterable[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(label(c, lang) for c in codes)


def _both(codes: Iterable[str], empty: str = "—") -> str:
    codes = tuple(codes)
    return f"{_labels(codes, 'zh')}<br>{_labels(codes, 'en')}" if codes else empty


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


def _eligibility(p: Policy) -> str:
    if p.eligibility_model == "zero_threshold":
        return "零门槛 zero threshold"
    if p.eligibility_model == "score_banded":
        return f"按{_labels(p.score_sources, 'zh')}分档 banded by {_labels(p.score_sources, 'en')} credit score"
    raise DocsSourceError(f"{p.city_code}: eligibility model {p.eligibility_model!r} has no description here")


def _limits(p: Policy) -> str:
    return "; ".join(
        (f"{t.min_score}+ → " if t.min_score is not None else "") + f"{format_yuan(t.limit_fen)} CNY" for t in p.tiers
    )


FUTURE = "（尚未执行 not enforced yet）"


def _future(*paths: str) -> str:
    """A marker for rules that only the documents carry: every field named is documentation-only."""
    return f" {FUTURE}" if all(isinstance(POLICY_FIELDS[p], DocumentationOnly) for p in paths) else ""


def _strikes(p: Policy, lang: str) -> str:
    actions = _labels(p.strike_actions, lang)
    if lang == "zh":
        window = f"{p.strike_window_months} 个月内" if p.strike_window_months else "累计"
        return f"{window}{p.strike_threshold('zh')} → {actions}（`{p.strike_comparison} {p.strike_count}`）"
    window = f"within {p.strike_window_months} months" if p.strike_window_months else "in total"
    return f"{p.strike_threshold('en')} {window} → {actions} (`{p.strike_comparison} {p.strike_count}`)"


def _export(p: Policy) -> str:
    if p.blacklist_export_enabled:
        return (
            f"**已声明 declared**, 逾期 {p.blacklist_day_offset} 天起 / from day {p.blacklist_day_offset} overdue"
            + _future("blacklist_export.enabled")
        )
    return "未启用 not enabled"


def cities_page(policies: dict[str, Policy]) -> str:
    rows: list[tuple[str, ...]] = [
        ("政策版本 Policy version", *(f"`{p.version}`" for p in policies.values())),
        ("资格 Eligibility", *(_eligibility(p) for p in policies.values())),
        ("额度 Limits", *(_limits(p) for p in policies.values())),
        ("还款期限 Due", *(f"{_due(p, 'zh')}<br>{_due(p, 'en')}" for p in policies.values())),
        (
            f"催收阶梯 Ladder{_future('collection_ladder[].actions')}",
            *(
                "<br>".join(
                    f"逾期 {s.day_offset} 天 day {s.day_offset}: {_labels(s.actions, 'zh')} {_labels(s.actions, 'en')}"
                    for s in p.collection_ladder[::-1]
                )
                for p in policies.values()
            ),
        ),
        (
            f"失信规则 Strike rule{_future('strikes.count')}",
            *(f"{_strikes(p, 'zh')}<br>{_strikes(p, 'en')}" for p in policies.values()),
        ),
        ("报送信用平台 Credit platform export", *(_export(p) for p in policies.values())),
        (f"亲情账户 Family pool{_future('family.relations')}", *(_both(p.family_relations) for p in policies.values())),
        (
            f"住院免押金 Inpatient hold{_future('inpatient_hold_fen')}",
            *(f"{format_yuan(p.inpatient_hold_fen)} CNY" for p in policies.values()),
        ),
        (f"托底顺序 Backstop order{_future('backstop_order')}", *(_both(p.backstop_order) for p in policies.values())),
        (f"资金模式 Funding{_future('funding_model')}", *(_both((p.funding_model,)) for p in policies.values())),
        ("知情同意 Consents", *(str(len(p.consents)) for p in policies.values())),
    ]
    header = "| | " + " | ".join(f"[{p.city_name} {p.city_name_en}]({name}.md)" for name, p in policies.items()) + " |"
    return "\n".join(
        [
            "# 城市政策 City policies",
            "",
            "每个城市的规则写在一份政策文件里（YAML，加载时校验，带版本和 SHA-256）。"
            "同一份文件驱动额度决定、账单到期时间、患者签署的知情同意书和本站页面。下表由两个示例城市的政策文件生成。",
            "",
            "Each city's rules live in one policy file (YAML, validated on load, versioned and hashed). The same file "
            "drives limit decisions, bill due times, the consent texts a patient signs and these pages. The table "
            "below is generated from the two example cities' files.",
            "",
            f"标有{FUTURE}的规则只写在政策、知情同意书和本站中，平台代码尚未执行；每个城市页面末尾逐项列出政策字段由哪段代码执行。"
            f"Rules marked {FUTURE} are declared in the policy, the consents and these pages, but no code "
            "enforces them yet; each city page ends with every policy field and the code that enforces it.",
            "",
            header,
            "|---" * (len(policies) + 1) + "|",
            *("| " + " | ".join(row) + " |" for row in rows),
            "",
            "新城市复制一份示例文件、修改后用 `treatfirst-admin check-policy <文件>` 校验（错误会指出具体字段），"
            "见[部署](../zh/deploy.md)。A new city copies an example file, edits it and checks it with "
            "`treatfirst-admin check-policy <file>` (an error names the exact field); see "
            "[Deploy a city](../en/deploy.md).",
            "",
        ]
    )


def _consent_file(name: str, consent: RenderedConsent) -> str:
    return f"cities/{name}/{consent.kind}-{consent.version}.txt"


def _readable(text: str) -> list[str]:
    """The consent Markdown for reading inside the page: its own headings become bold lines (no page headings)."""
    out = []
    for line in text.splitlines():
        stripped = line.lstrip("#")
        out.append(f"**{stripped.strip()}**" if line.startswith("#") and stripped.startswith(" ") else line)
    return out


def _indent(lines: Iterable[str], by: str = "    ") -> list[str]:
    return [f"{by}{line}" if line else "" for line in lines]


def consent_section(name: str, consent: RenderedConsent) -> list[str]:
    download = _consent_file(name, consent).removeprefix("cities/")
    return [
        f"### {consent.title} · {consent.title_en} {{#{consent.kind.replace('_', '-')}}}",
        "",
        f"版本 Version `{consent.version}` · SHA-256 `{consent.sha256}`",
        "",
        '=== "正文 Text"',
        "",
        *_indent(_readable(consent.text)),
        "",
        '=== "原文 Exact text (the bytes hashed)"',
        "",
        *_indent(["``` { .markdown .tf-wrap }", *consent.text.splitlines(), "```"]),
        "",
        f"[下载 Download]({download}) the exact UTF-8 bytes: `sha256sum {download.rsplit('/', 1)[-1]}` prints the "
        "hash above. 下载的文件与平台计算哈希的字节完全相同。",
        "",
    ]


def enforcement_section(p: Policy) -> list[str]:
    """Every field of this city's policy file and the code that enforces it, or why it is documentation-only."""
    paths = sorted(field_paths(p.raw))
    unknown = [path for path in paths if path not in POLICY_FIELDS]
    if unknown:
        raise DocsSourceError(f"{p.city_code}: policy fields {unknown} are not classified in POLICY_FIELDS")

    def status(path: str) -> str:
        entry = POLICY_FIELDS[path]
        if isinstance(entry, DocumentationOnly):
            return f"**仅文档 documentation only** — {_cell(entry.reason)}"
        return f"执行 enforced by `{entry.function}`"

    return [
        "## 政策字段与执行代码 Policy fields and the code that enforces them {#enforcement}",
        "",
        "下表由代码中的登记表 `treatfirst.domain.policy.POLICY_FIELDS` 生成，"
        "测试核对每个“执行”条目所指的函数确实读取该字段。"
        "标为“仅文档”的字段只出现在知情同意书和本站，目前不驱动任何代码。"
        "Generated from the registry `treatfirst.domain.policy.POLICY_FIELDS`; a test checks that each function named "
        "really reads its field. Fields marked documentation only appear in the consents and these pages and drive "
        "no code yet.",
        "",
        "| 字段 Field | 状态 Status |",
        "|---|---|",
        *[f"| `{path}` | {status(path)} |" for path in paths],
        "",
    ]


def city_page(name: str, p: Policy, consents: list[RenderedConsent]) -> str:
    if not consents:
        raise DocsSourceError(f"{name}: the policy lists no consents")
    lines = [
        f"# {p.city_name} {p.city_name_en}",
        "",
        f"政策版本 Policy version **{p.version}** · SHA-256 `{p.sha256}`  ",
        f"城市代码 City code `{p.city_code}` · 时区 Time zone `{p.timezone}` · 运营方 Operator {p.operator_name} "
        f"({p.operator_name_en}), {p.hotline}",
        "",
        "平台依据本政策作出的每项决定（额度、账单到期时间、知情同意）都记录上述版本和 SHA-256；"
        "`GET /v1/policy` 返回正在运行的政策。"
        "Every decision made under this policy (limit, due time, consent) records the version and SHA-256 "
        "above; `GET /v1/policy` returns the policy in force.",
        "",
        "## 额度 Credit line",
        "",
        f"资格 Eligibility: **{_eligibility(p)}** · 最低年龄 Minimum age {p.min_age} · 医保状态 Insurance status: "
        + ", ".join(f"`{s}`" for s in p.insurance_statuses),
        "",
        "| 档位 Tier | 最低分 Minimum score | 额度 Limit (CNY) | `limit_fen` |",
        "|---|---|---|---|",
        *[
            f"| `{t.name}` | {t.min_score if t.min_score is not None else '—'} | {format_yuan(t.limit_fen)} | "
            f"{t.limit_fen} |"
            for t in p.tiers
        ],
        "",
        f"提额 Upgrade: {p.upgrade_after_on_time} 次按时还款 on-time payments · 降额 Downgrade: "
        f"{p.downgrade_after_late} 次逾期 late payments{_future('tier_rules.upgrade_after_on_time')}.",
        "",
        "## 还款期限 Due time",
        "",
        f"{_due(p, 'zh')}。  ",
        f"A bill is due on {_due(p, 'en')}.",
        "",
        "## 催收阶梯 Collection ladder",
        "",
        "最严重的一级在前。每日催收扫描（城市营业日）按逾期天数（自最早一张未结清账单的到期日起算，暂停期间不计）执行"
        "条件成立的最严重一级，每级每个起算日只执行一次，并在各级之前按政策天数短信提醒；还清全部欠款即在该笔还款中解除限制。"
        "Most severe step first. The daily collection sweep (per business date) applies the most severe step whose "
        "conditions hold, on days overdue since the earliest unpaid due date minus paused days, each step once per "
        "anchor date, with an SMS the policy's days before each step; paying everything lifts the blocks in that "
        "payment.",
        "",
        "| 步骤 Step | 逾期天数 Days overdue | 措施 Actions | 限制 Blocks |",
        "|---|---|---|---|",
        *[f"| `{s.name}` | {s.day_offset} | {_both(s.actions)} | {_both(s.blocks)} |" for s in p.collection_ladder],
        "",
        f"**失信规则 Strike rule**{_future('strikes.count')}: {_strikes(p, 'zh')}。 {_strikes(p, 'en')}.",
        "",
        "## 信用报送 Credit reporting",
        "",
    ]
    if p.blacklist_export_enabled:
        if not p.blacklist_legal_basis:
            raise DocsSourceError(f"{name}: export enabled without a legal basis")
        lines += [
            f"**已声明 Declared**{_future('blacklist_export.enabled')}: 政策规定逾期 {p.blacklist_day_offset} 天起"
            "报送市公共信用信息平台；报送功能尚未实现，平台目前不报送任何信息。"
            "The policy declares reporting to the city public credit platform from day "
            f"{p.blacklist_day_offset} overdue; reporting is not built yet and the platform reports nothing today.",
            "",
            f"法律依据 Legal basis: {p.blacklist_legal_basis}",
        ]
    else:
        lines.append(
            "**未启用 Not enabled**: 政策不允许对外报送；失信名单（若政策规定）仅在平台内部使用。"
            "The policy allows no reporting; a blacklist, where the policy has one, stays internal."
        )
    lines += [
        "",
        f"信用修复 Credit repair{_future('credit_repair.cooling_days')}: "
        f"结清全部欠费后冷静期 {p.repair_cooling_days} 天"
        f"{'，或申诉成立' if p.repair_appeal_allowed else ''}。A cooling period of {p.repair_cooling_days} days after "
        f"paying all arrears{', or an accepted appeal' if p.repair_appeal_allowed else ''}.",
        "",
        "## 其他规则 Other rules",
        "",
        "| 项目 Item | 规则 Rule |",
        "|---|---|",
        f"| 亲情账户 Family pool{_future('family.relations')} | {_both(p.family_relations)}<br>分额度 sub-limits: "
        f"{'是 yes' if p.family_sub_limits else '否 no'} |",
        f"| 住院免押金额度 Inpatient hold{_future('inpatient_hold_fen')} | {format_yuan(p.inpatient_hold_fen)} CNY |",
        f"| 急危重症托底 Emergency backstop{_future('emergency.backstop')} | {_both((p.emergency_backstop,))} |",
        f"| 托底顺序 Backstop order{_future('backstop_order')} | {_both(p.backstop_order)} |",
        f"| 资金模式 Funding model{_future('funding_model')} | {_both((p.funding_model,))} |",
        "",
        "## 知情同意书 Consents",
        "",
        "以下文本由 `treatfirst.consents.render_consent` 生成——"
        "接口在 `GET /v1/consents` 提供并在签约时核对的正是同一函数的输出；平台记录患者同意的版本和 SHA-256。"
        "The texts below come from `treatfirst.consents.render_consent`, the "
        "function behind `GET /v1/consents` and the check at enrollment; the platform records the version and "
        "SHA-256 of each text a patient accepts.",
        "",
        "| 同意书 Consent | `kind` | 版本 Version | SHA-256 |",
        "|---|---|---|---|",
        *[
            f"| [{c.title}](#{c.kind.replace('_', '-')}) | `{c.kind}` | `{c.version}` | `{c.sha256}` |"
            for c in consents
        ],
        "",
    ]
    for consent in consents:
        lines += consent_section(name, consent)
    lines += enforcement_section(p)
    lines += [
        "## 政策文件 The policy file",
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


def _type(schema: dict[str, Any]) -> str:
    name = _ref_name(schema)
    if name:
        return f"[{name}](#schema-{name.lower()})"
    if "const" in schema:
        return f"`{json.dumps(schema['const'], ensure_ascii=False)}`"
    if "enum" in schema and set(schema["enum"]) == {c.code for c in all_error_classes()}:
        return "string: 一个[错误码](errors.md) an [error code](errors.md)"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    text = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if schema.get("format") == "date-time":
        text += " (RFC 3339)"
    return text


def _notes(schema: dict[str, Any]) -> str:
    notes = [schema["description"]] if schema.get("description") else []
    bounds = (
        ("minimum", "≥ {}"),
        ("maximum", "≤ {}"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("pattern", "pattern `{}`"),
        ("default", "default `{}`"),
    )
    notes += [fmt.format(json.dumps(schema[k]) if k == "default" else schema[k]) for k, fmt in bounds if k in schema]
    return "; ".join(_cell(n) for n in notes)


def _field_rows(schema: dict[str, Any], schemas: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        rows.append(f"| `{prefix}{name}` | {_type(prop)} | {'yes' if name in required else ''} | {_notes(prop)} |")
        inner = prop.get("items", {}) if prop.get("type") == "array" else prop
        if "properties" in inner:
            rows += _field_rows(inner, schemas, f"{prefix}{name}{'[]' if inner is not prop else ''}.")
    return rows


def _field_table(schema: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    schema = _resolve(schema, schemas)
    if not schema.get("properties"):
        return ["无字段 No fields: send no body, or `{}`." if schema.get("type") == "object" else _type(schema)]
    return [
        "| 字段 Field | 类型 Type | 必填 Required | 说明 Notes |",
        "|---|---|---|---|",
        *_field_rows(schema, schemas),
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


def _operation(method: str, path: str, op: dict[str, Any], schemas: dict[str, Any], known: set[str]) -> list[str]:
    lines = [f"### `{method} {path}` {{#{op['operationId']}}}", "", op.get("summary", ""), ""]
    scope = op.get("x-treatfirst-scope")
    lines.append(
        f"- 权限 Scope: `{scope}` · 签名 signed "
        "([请求签名](../zh/authentication.md) / [signing](../en/authentication.md))"
        if op.get("security")
        else "- 公开 Public: 无需签名 no signature"
    )
    for param in op.get("parameters", []):
        where = {"path": "路径参数 path", "query": "查询参数 query", "header": "请求头 header"}[param["in"]]
        note = _notes(
            {**param.get("schema", {}), **({"description": param["description"]} if "description" in param else {})}
        )
        lines.append(f"- {where} `{param['name']}`: {_type(param.get('schema', {}))}" + (f" — {note}" if note else ""))
    if {"limit", "cursor"} <= {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}:
        lines.append(
            "- 分页 Paged: 把响应中的 `cursor` 原样传回取下一页，直到 `has_more` 为 `false` · pass the answer's "
            "`cursor` back for the next page until `has_more` is `false`"
        )
    lines.append("")
    body = op.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        name = _ref_name(schema)
        lines += [
            f"**请求体 Request body** {f'({_type(schema)})' if name else ''}"
            f"{'' if body.get('required') else ' · 可省略 optional'}",
            "",
            *_field_table(schema, schemas),
            "",
        ]
    else:
        lines += ["**请求体 Request body**: 无 none", ""]
    lines += ["**响应 Responses**", "", "| HTTP | 内容 Body | 错误码 Error codes |", "|---|---|---|"]
    for status, response in op["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        codes = (
            ""
            if status.startswith("2")
            else ", ".join(f"[`{c}`](errors.md#{_anchor(c)})" for c in _error_codes(status, response, known))
        )
        lines.append(f"| `{status}` | {_type(schema)} | {codes} |")
    lines.append("")
    return lines


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
    "getTestClock": "测试时钟的时间和偏移（仅本机和沙箱）",
    "advanceTestClock": "把平台时钟向前拨，并在新时间运行定时任务",
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


def _example_section(op: dict[str, Any]) -> list[str]:
    example = examples()[op["operationId"]]
    lines = ["**示例 Example**", ""]
    lines += [
        '=== "请求 Request"',
        "",
        "    ```sh",
        *_indent(curl(example, bool(op.get("security"))).splitlines()),
        "    ```",
        "",
    ]
    if example.request is not None:
        lines += [
            '=== "请求体 Request body"',
            "",
            "    ```json",
            *_indent(pretty(example.request).splitlines()),
            "    ```",
            "",
        ]
    for name, view in example.views.items():
        lines += [
            f'=== "响应 Response {example.status}: {name}"',
            "",
            "    ```json",
            *_indent(pretty(view).splitlines()),
        ]
        lines += ["    ```", ""]
    if example.response is not None and not example.views:
        lines += [
            f'=== "响应 Response {example.status}"',
            "",
            "    ```json",
            *_indent(pretty(example.response).splitlines()),
            "    ```",
            "",
        ]
    if op.get("security"):
        lines += [
            "签名头的计算见[请求签名](../../zh/authentication.md)；`treatfirst.client.TreatFirstClient` 会自动计算。"
            "The signature headers are computed as [request signing](../../en/authentication.md) says; "
            "`treatfirst.client.TreatFirstClient` computes them for you.",
            "",
        ]
    return lines


def _relocated(lines: list[str]) -> list[str]:
    """Links written for reference/*.md, moved to reference/api/*.md."""
    text = "\n".join(lines)
    for old, new in (
        ("](#schema-", "](../schemas.md#schema-"),
        ("](errors.md", "](../errors.md"),
        ("](../zh/", "](../../zh/"),
        ("](../en/", "](../../en/"),
    ):
        text = text.replace(old, new)
    return text.splitlines()


def api_index(doc: dict[str, Any]) -> str:
    rows = []
    for m, p, op in operations(doc):
        scope = "`" + op["x-treatfirst-scope"] + "`" if op.get("x-treatfirst-scope") else "公开 public"
        rows.append(
            f"| [`{m} {p}`]({op_href(op)}){{#{op['operationId']}}} | {_cell(summary_zh(op))}<br>"
            f"{_cell(op.get('summary', ''))} | {scope} |"
        )
    return "\n".join(
        [
            "# 接口参考 API reference",
            "",
            f"由接口实际提供的 OpenAPI {doc['openapi']} 文档（`GET /v1/openapi.json`）生成，"
            "测试逐一核对该文档与实际路由；每个操作附示例请求和响应，由接口使用的同一组消息结构生成，并由测试发给接口核对。"
            f"Generated from the OpenAPI {doc['openapi']} document the API serves at `GET /v1/openapi.json`; a test "
            "holds it against the app's real routes. Each operation has an example request and response generated "
            "from the message structs the API uses, and a test sends each example to the app. "
            f"[下载 Download openapi.json](openapi.json) (API version `{doc['info']['version']}`) · "
            "[接口调试 API explorer](explorer.md) · [数据结构 Schemas](schemas.md)",
            "",
            _cell(doc["info"].get("description", "")),
            "",
            "约定见[接口约定](../zh/conventions.md)，签名见[请求签名](../zh/authentication.md)。 Conventions: "
            "[API conventions](../en/conventions.md); signatures: [request signing](../en/authentication.md).",
            "",
            *[f"- [{zh} {tag}]({tag_page({'tags': [tag], 'operationId': tag})})" for tag, (_, zh) in TAG_PAGES.items()],
            "",
            "| 操作 Operation | 说明 Summary | 权限 Scope |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )


def api_pages(doc: dict[str, Any]) -> dict[str, str]:
    """reference/api.md (the index), one page per tag, and reference/schemas.md."""
    schemas = doc["components"]["schemas"]
    known = {c.code for c in all_error_classes()}
    by_page: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, op in operations(doc):
        by_page.setdefault(tag_page(op), []).append((method, path, op))
    pages = {"reference/api.md": api_index(doc)}
    for tag, (slug, zh) in TAG_PAGES.items():
        ops = by_page.pop(f"api/{slug}.md", [])
        if not ops:
            raise DocsSourceError(f"tag {tag!r} has no operation left in the OpenAPI document")
        lines = [f"# {zh} {tag}", "", "[接口参考 API reference](../api.md)", ""]
        for method, path, op in ops:
            section = _operation(method, path, op, schemas, known)
            section[0] = f"## `{method} {path}` {{#{op['operationId']}}}"
            section[2] = f"{summary_zh(op)}。 {op.get('summary', '')}."
            lines += _relocated(section) + _example_section(op)
        pages[f"reference/api/{slug}.md"] = "\n".join(lines)
    lines = ["# 数据结构 Schemas", "", "[接口参考 API reference](api.md)", ""]
    for name, schema in schemas.items():
        lines += [f"## {name} {{#schema-{name.lower()}}}", "", *_field_table(schema, schemas), ""]
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


# Codes the HTTP edge answers outside any operation of the OpenAPI document.
EDGE_CODES = {
    "ROUTE_NOT_FOUND": "任何未知路径；在 AWS 上也包括路径不接受的方法 any unknown path; on AWS also a method "
    "the path lacks",
    "METHOD_NOT_ALLOWED": "路径不接受的方法（本地） a method the path lacks (local stack)",
    "UNSUPPORTED_MEDIA_TYPE": "请求体不是 application/json 的任何请求 any request whose body is not labelled JSON",
    "THROTTLED": "API 网关限流（AWS） the API gateway's throttling (AWS)",
    "INTERNAL_ERROR": "任何操作中未预料的平台故障 any operation, on an unexpected platform fault",
}


def errors_page(doc: dict[str, Any]) -> str:
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

    def returned_by(code: str) -> str:
        ids = set(used.get(code, []))
        if not ids:
            return EDGE_CODES.get(code, "—")
        if ids == every:
            return "所有操作 every operation"
        if ids == signed:
            return "所有签名操作 every signed operation"
        return "<br>".join(f"[`{titles[i]}`]({hrefs[i]})" for i in used[code])

    def parent(cls: type[TreatFirstError]) -> str:
        code = general_code(cls)
        return f"[`{code}`](#{_anchor(code)})" if code else "—"

    lines = [
        "# 错误码 Error codes",
        "",
        '所有错误同一结构 `{"error": {"code", "message", "field", "request_id"}}`，错误码稳定。'
        "Every error has one shape and a stable code.",
        "",
        "**客户端如何处理 How a client acts on an error:** 先看错误码；遇到不认识的错误码，按表中的归类码处理；"
        "没有归类码的，按 HTTP 状态处理。归类码总是与该错误码同一 HTTP 状态：额度不足 `CREDIT_LIMIT_EXCEEDED` "
        "归类为 `UNPROCESSABLE`（业务规则拒绝，不是平台故障），只有 HTTP 500 表示平台故障。"
        "Act on the code; for a code you do not know, act on its general code in the table below; for a code "
        "without one, act on the HTTP status. A general code always has the same HTTP status as the code: a "
        "credit refusal (`CREDIT_LIMIT_EXCEEDED`) falls back to `UNPROCESSABLE` (the rules refused, not a "
        "fault); only HTTP 500 is a platform fault.",
        "",
        "被拒绝的请求不改变任何数据。A refused request changes nothing.",
        "",
    ]
    statuses = sorted({_status(c) for c in classes})
    for status in statuses:
        if status not in STATUS_GUIDANCE:
            raise DocsSourceError(f"HTTP {status} has no guidance on the error-code page")
        zh, en = STATUS_GUIDANCE[status]
        lines += [
            f"## HTTP {status}",
            "",
            f"{zh} {en}",
            "",
            "| 错误码 Code | 含义 Meaning | 归类 General code | 返回于 Returned by |",
            "|---|---|---|---|",
            *[
                f"| `{c.code}`{{#{_anchor(c.code)}}} | {_cell(c.default_message)} | {parent(c)} | "
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
        "| 调用方 Caller | 权限 Scope | 可调用的操作 Operations |" if zh else "| Caller | Scope | Operations |",
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
    policies = {name: example_policy(name) for name in CITIES}
    add_file(files, config, "cities/index.md", cities_page(policies))
    for name, policy in policies.items():
        consents = render_all(policy)
        add_file(files, config, f"cities/{name}.md", city_page(name, policy, consents))
        for consent in consents:
            add_file(files, config, _consent_file(name, consent), consent.text.encode("utf-8"))
    doc = openapi.document()
    for path, content in api_pages(doc).items():
        add_file(files, config, path, content)
    add_file(files, config, "reference/errors.md", errors_page(doc))
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
    return markdown
