"""MkDocs hook: pages generated at build time from the code, so the docs never drift.

- cities/<city>.md: the policy summary and the consent texts (rendered by the same function the API uses,
  with the SHA-256 the API records), plus the policy file itself;
- reference/api.md and reference/openapi.json: from treatfirst.openapi.document(), which a test holds
  against the app's real routes;
- reference/errors.md: from the error classes.
"""

from __future__ import annotations

import json
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from treatfirst import openapi
from treatfirst.consents import render_all
from treatfirst.domain.errors import all_error_classes
from treatfirst.domain.money import format_yuan
from treatfirst.domain.policy import POLICY_DIR, Policy, example_policy, label

CITIES = ("lianyungang", "xiamen")


def _codes(codes: tuple[str, ...], lang: str) -> str:
    return "、".join(label(c, lang) for c in codes) if lang == "zh" else ", ".join(label(c, lang) for c in codes)


def city_page(name: str) -> str:
    p: Policy = example_policy(name)
    lines = [
        f"# {p.city_name} {p.city_name_en}",
        "",
        f"政策版本 Policy version **{p.version}** · SHA-256 `{p.sha256}`  ",
        f"城市代码 City code `{p.city_code}` · 时区 Time zone `{p.timezone}` · 运营方 Operator {p.operator_name} "
        f"({p.operator_name_en}), {p.hotline}",
        "",
        "Every decision the platform makes under this policy (limit, bill due time, consent) records the version "
        "and SHA-256 above. 平台依据本政策作出的每项决定都记录上述版本和哈希。",
        "",
        "## 额度 Credit line",
        "",
        f"资格模型 Eligibility model: **{p.eligibility_model}** · 最低年龄 Minimum age {p.min_age} · "
        f"医保状态 Insurance status: {', '.join(p.insurance_statuses)}"
        + (
            f" · 信用分来源 Score source: {_codes(p.score_sources, 'zh')} ({_codes(p.score_sources, 'en')})"
            if p.score_sources
            else ""
        ),
        "",
        "| 档位 Tier | 最低分 Minimum score | 额度 Limit (CNY) | limit_fen |",
        "|---|---|---|---|",
        *[
            f"| {t.name} | {t.min_score if t.min_score is not None else '—'} | {format_yuan(t.limit_fen)} | "
            f"{t.limit_fen} |"
            for t in p.tiers
        ],
        "",
        "## 还款期限 Due time",
        "",
        f"账单生成后第 {p.due_days_after} 天 {p.due_at.strftime('%H:%M:%S')}（{p.timezone}）。  ",
        f"Day {p.due_days_after} after the local issue date, at {p.due_at.strftime('%H:%M:%S')} {p.timezone}.",
        "",
        "## 催收阶梯 Collection ladder",
        "",
        "最严重的一级在前 (most severe step first).",
        "",
        "| 步骤 Step | 逾期天数 Days overdue | 措施 Actions | 限制 Blocks |",
        "|---|---|---|---|",
        *[
            f"| {s.name} | {s.day_offset} | {_codes(s.actions, 'zh')}<br>{_codes(s.actions, 'en')} | "
            f"{_codes(s.blocks, 'zh') or '—'}<br>{_codes(s.blocks, 'en') or ''} |"
            for s in p.collection_ladder
        ],
        "",
        f"**失信规则 Strike rule**: 12 个月内逾期账单超过 {p.strike_overdue_bills} 笔 → {label(p.strike_action)}; "
        f"more than {p.strike_overdue_bills} overdue bills in {p.strike_window_months} months → "
        f"{label(p.strike_action, 'en')}.",
        "",
        "## 信用报送 Credit reporting",
        "",
        ("**已启用 Enabled.** 法律依据 Legal basis: " + str(p.blacklist_legal_basis))
        if p.blacklist_export_enabled
        else "**未启用 Not enabled**: 失信记录仅在平台内部使用，不对外报送。Records stay internal.",
        "",
        f"信用修复 Credit repair: 结清欠费后冷静期 {p.repair_cooling_days} 天 (cooling period after paying all "
        f"arrears){'；可申诉 appeals accepted' if p.repair_appeal_allowed else ''}.",
        "",
        "## 其他 Other rules",
        "",
        "| 项目 Item | 规则 Rule |",
        "|---|---|",
        f"| 急危重症托底 Emergency backstop | {label(p.emergency_backstop)} ({label(p.emergency_backstop, 'en')}) |",
        f"| 托底顺序 Backstop order | {_codes(p.backstop_order, 'zh')} ({_codes(p.backstop_order, 'en')}) |",
        f"| 资金模式 Funding model | {label(p.funding_model)} ({label(p.funding_model, 'en')}) |",
        f"| 亲情账户 Family pool | {_codes(p.family_relations, 'zh')} ({_codes(p.family_relations, 'en')}); "
        f"分额度 sub-limits: {'yes' if p.family_sub_limits else 'no'} |",
        f"| 住院免押金额度 Inpatient hold | {format_yuan(p.inpatient_hold_fen)} CNY |",
        f"| 提额 / 降额 Tier upgrade / downgrade | {p.upgrade_after_on_time} 次按时还款 on-time payments / "
        f"{p.downgrade_after_late} 次逾期 late payments |",
        "",
        "## 知情同意书 Consents",
        "",
        "The texts below are rendered by `treatfirst.consents.render_consent`, the same function the API serves "
        "at `GET /v1/consents` and checks at enrollment. 患者签署的正是以下文本，平台记录其版本和 SHA-256。",
        "",
    ]
    for consent in render_all(p):
        lines += [
            f"### {consent.title} · {consent.title_en}",
            "",
            f"版本 Version `{consent.version}` · SHA-256 `{consent.sha256}`",
            "",
            '??? abstract "全文 Full text (the exact bytes hashed)"',
            "",
            *[f"    {line}" if line else "" for line in ["```markdown", *consent.text.splitlines(), "```"]],
            "",
        ]
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


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _fields(schema: dict[str, Any]) -> list[str]:
    props = schema.get("properties", {})
    if not props:
        return ["(no fields)"]
    required = set(schema.get("required", []))
    rows = ["| 字段 Field | 类型 Type | 必填 Required | 说明 Notes |", "|---|---|---|---|"]
    for name, prop in props.items():
        notes = prop.get("description", "")
        if "properties" in prop:
            notes += (" " if notes else "") + "fields: " + ", ".join(f"`{k}`" for k in prop["properties"])
        rows.append(f"| `{name}` | {_type(prop)} | {'yes' if name in required else ''} | {notes} |")
    return rows


def api_page() -> str:
    doc = openapi.document()
    schemas = doc["components"]["schemas"]
    lines = [
        "# 接口参考 API reference",
        "",
        f"Generated from the OpenAPI {doc['openapi']} document the API serves at `GET /v1/openapi.json` "
        "([download](openapi.json)); a test checks it against the app's real routes. 本页由接口实际使用的 OpenAPI "
        "文档生成。",
        "",
        doc["info"]["description"],
        "",
    ]
    by_tag: dict[str, list[openapi.Operation]] = {}
    for op in openapi.OPERATIONS:
        by_tag.setdefault(op.tag, []).append(op)
    for tag, ops in by_tag.items():
        lines += [f"## {tag}", ""]
        for op in ops:
            spec = doc["paths"][op.path][op.method]
            lines += [f"### `{op.method.upper()} {op.path}`", "", op.summary, ""]
            lines.append(f"- 权限 Scope: `{op.scope}` (signed)" if op.scope else "- 公开 Public: no signature")
            if op.idempotent:
                lines.append("- `Idempotency-Key` header: a retry returns the first result; another body is 409")
            if op.paged:
                lines.append("- 分页 Paged: `limit` (1–100, default 20), `cursor`; the answer has `has_more`")
            lines += [
                "",
                f"**Request**: {_type(spec['requestBody']['content']['application/json']['schema'])}"
                if "requestBody" in spec
                else "**Request**: no body",
                "",
            ]
            for status, response in spec["responses"].items():
                schema = response["content"]["application/json"]["schema"]
                lines.append(
                    f"- `{status}` {_type(schema)}"
                    + (f" — {response['description']}" if not status.startswith("2") else "")
                )
            lines.append("")
    lines += ["## 数据结构 Schemas", ""]
    for name, schema in schemas.items():
        lines += [f"### {name}", "", *_fields(schema), ""]
    return "\n".join(lines)


def errors_page() -> str:
    lines = [
        "# 错误码 Error codes",
        "",
        'Every error has one shape, `{"error": {"code", "message", "field", "request_id"}}`, and a stable '
        "code; the HTTP status is mapped in one table in the code (`treatfirst.domain.errors`). 所有错误同一结构、"
        "错误码稳定。",
        "",
        "| Code | HTTP | 含义 Meaning |",
        "|---|---|---|",
        *[f"| `{c.code}` | {c.status} | {c.default_message} |" for c in all_error_classes()],
        "",
    ]
    return "\n".join(lines)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for name in CITIES:
        files.append(File.generated(config, f"cities/{name}.md", content=city_page(name)))
    files.append(File.generated(config, "reference/api.md", content=api_page()))
    files.append(File.generated(config, "reference/errors.md", content=errors_page()))
    files.append(
        File.generated(
            config, "reference/openapi.json", content=json.dumps(openapi.document(), ensure_ascii=False, indent=2)
        )
    )
    return files
