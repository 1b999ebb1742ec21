"""The privacy pages of the site, generated from the data inventory, the city policies and the compliance registry.

- privacy.md: per city, every category of personal information (fields, purposes, legal basis, sensitive or not,
  recipients, retention, deletion), the named recipients, the legal bases (placeholders marked 示例), and the PIPL
  checklist of every consent and notice text;
- pia.md: the personal information protection impact assessment worksheet (PIPL arts. 55-56) a city operator
  fills in before processing sensitive data, deciding automatically or providing data to others;
- compliance.md: each legal duty -> the code that meets it -> the test that proves it (treatfirst.compliance).
Each page is written in one language (Chinese or English) from the same source.
"""

from __future__ import annotations

from treatfirst.compliance import REGISTRY
from treatfirst.consents import CHECKLIST_ITEMS, checklist, notice_items, render_all
from treatfirst.domain.policy import Policy
from treatfirst.inventory import (
    BASES,
    DELETION,
    NOT_PERSONAL,
    PURPOSES,
    RECIPIENT_KINDS,
    RETENTION,
    Category,
    categories,
    category_text,
    gating_kinds,
    listed_fields,
)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _retention(policy: Policy, code: str, lang: str) -> str:
    values = {
        "identity": policy.privacy.identity_days_after_close,
        "records": policy.privacy.records_years_after_close,
        "audit": policy.privacy.audit_days,
        "accounting": policy.privacy.accounting_years,
        "replay": 0,
        "blacklist": policy.blacklist.retention_days if policy.blacklist else 0,
    }
    zh, en, _ = RETENTION[code]
    return (zh if lang == "zh" else en).format(n=values[code])


# What deletes a category at the end of its retention (treatfirst.inventory.Category.deleted_by), in words.
DELETED_BY: dict[str, tuple[str, str]] = {
    "treatfirst.services.purge.purge": ("每日删除任务：到期销毁数据密钥", "the daily erasure: the data key destroyed"),
    "treatfirst.services.purge.purge_records": (
        "每日删除任务：保存期满的记录逐条删除",
        "the daily purge: the records deleted when their period ends",
    ),
    "treatfirst.services.blacklist.sweep_due": ("每日失信名单任务", "the daily blacklist sweep"),
    "treatfirst.services.records.audit": (
        "数据库到期自动删除（写入时设定）",
        "the table's time to live, set when written",
    ),
    "treatfirst.services.idempotency.Idempotency": (
        "数据库到期自动删除（写入时设定）",
        "the table's time to live, set when written",
    ),
    "": ("尚未自动删除", "not automatic yet"),
}


def _not_automatic(category: Category, zh: bool) -> str:
    if not category.not_automatic:
        return ""
    tables = sorted({f.split(".")[0] for f in category.not_automatic})
    names = "、".join(f"`{t}`" for t in tables) if zh else ", ".join(f"`{t}`" for t in tables)
    return f"；{names} 表中的字段尚未自动删除" if zh else f"; the fields in {names} are not deleted automatically yet"


def privacy_page(policies: dict[str, Policy], lang: str) -> str:
    zh = lang == "zh"
    out = [
        "# 个人信息保护" if zh else "# Personal information protection",
        "",
        (
            "本页由代码中的数据清单 `treatfirst.inventory` 和各城市政策的 `privacy` 部分生成；"
            "签约文本、影响评估表和本页出自同一来源。测试保证：代码存储的每个字段都在清单中（否则测试失败），每份文本都包含下表列出的全部法定告知事项。"
            if zh
            else "Generated from the data inventory in code (`treatfirst.inventory`) and each city policy's `privacy` "
            "section; the consent texts, the impact assessment worksheet and this page come from the same source. "
            "Tests make sure every field the code stores is in the inventory (or they fail) and every text holds each "
            "item of the checklist below."
        ),
        "",
        (
            f"代码存储的个人信息字段：{len(listed_fields())} 个，全部列入清单；"
            f"另有 {len(NOT_PERSONAL)} 个非个人信息字段（调用方密钥、请求随机数、系统记录），各注明理由。"
            if zh
            else f"Personal-data fields the code stores: {len(listed_fields())}, every one listed; "
            f"{len(NOT_PERSONAL)} more fields are not personal information (caller keys, nonces, system items), "
            "each with its reason."
        ),
        "",
    ]
    for policy in policies.values():
        city = policy.city_name if zh else policy.city_name_en
        pv = policy.privacy
        out += [
            f"## {city}",
            "",
            (
                f"个人信息处理者：{policy.operator_name}；个人信息保护负责人：{pv.contact_name}，"
                f"电话 {pv.contact_phone}，邮箱 {pv.contact_email}。权利请求在 {pv.rights_answer_days} 日内答复。"
                f"不满 {pv.guardian_consent_below_age} 周岁的签约被拒绝（GUARDIAN_REQUIRED）；"
                f"年满 {policy.min_age} 周岁方可签约。"
                if zh
                else f"Handler: {policy.operator_name_en}; data protection officer: {pv.contact_name_en}, telephone "
                f"{pv.contact_phone}, email {pv.contact_email}. Privacy requests are answered within "
                f"{pv.rights_answer_days} days. Enrollment under {pv.guardian_consent_below_age} is refused "
                f"(GUARDIAN_REQUIRED); the service starts at {policy.min_age}."
            ),
            "",
            f"### {'数据清单' if zh else 'Data inventory'}",
            "",
            "| 类别 | 字段数 | 目的 | 法律依据 | 敏感 | 接收方 | 保存期限 | 删除方式 | 到期删除由 |"
            if zh
            else "| Category | Fields | Purposes | Legal basis | Sensitive | Recipients | Retention | Deletion | "
            "Deleted by |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        named = {r.kind for r in policy.privacy.recipients}
        for c in categories(policy):
            purposes = ("；" if zh else "; ").join(PURPOSES[p][0 if zh else 1] for p in c.purposes)
            basis = BASES[c.basis]
            recipients = ("、" if zh else ", ").join(
                RECIPIENT_KINDS[r][0 if zh else 1] for r in c.recipients if r in named
            )
            out.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        category_text(c, policy, lang),
                        len(c.fields),
                        purposes,
                        f"{basis[0]} {basis[1]}" if zh else basis[2],
                        ("是" if zh else "yes") if c.sensitive else ("否" if zh else "no"),
                        recipients,
                        _retention(policy, c.retention, lang),
                        DELETION[c.deletion][0 if zh else 1],
                        DELETED_BY[c.deleted_by][0 if zh else 1] + _not_automatic(c, zh),
                    )
                )
                + " |"
            )
        out += [
            "",
            f"### {'接收方' if zh else 'Recipients'}",
            "",
            "| 接收方 | 联系方式 | 身份 | 依据 | 目的 |" if zh else "| Recipient | Contact | Role | Basis | Purpose |",
            "|---|---|---|---|---|",
        ]
        for r in policy.privacy.recipients:
            role = {"controller": ("独立处理者", "handler"), "processor": ("受托处理者", "entrusted processor")}[r.role]
            out.append(
                f"| {_cell(r.name if zh else r.name_en)} | {_cell(r.contact)} | {role[0 if zh else 1]} | "
                f"{BASES[r.basis][1 if zh else 2]} | {_cell(r.purpose if zh else r.purpose_en)} |"
            )
        out += [
            "",
            f"### {'法律依据' if zh else 'Legal bases'}",
            "",
            "| 名称 | 发文机关 | 文号 | 条款 | 来源 | 示例 |"
            if zh
            else "| Title | Issued by | Number | Article | Source | Example |",
            "|---|---|---|---|---|---|",
        ]
        for b in policy.legal_bases:
            mark = ("是（部署前必须替换）" if zh else "yes (replace before deploying)") if b.example else ""
            out.append(
                f"| {_cell(b.title)} | {_cell(b.issuer)} | {_cell(b.number)} | {_cell(b.article)} "
                f"| <{b.url}> | {mark} |"
            )
        if policy.examples:
            out += [
                "",
                (
                    f"本示例政策含占位内容：{'、'.join(policy.examples)}。"
                    "打包工具 `tools/package.py` 拒绝将其作为真实城市构建，"
                    "只在明确要求时（`--example`）用于试用和测试。"
                    if zh
                    else f"This example policy holds placeholders: {', '.join(policy.examples)}. The packager "
                    "`tools/package.py` refuses to build it as a real city; it builds only on request (`--example`), "
                    "for trials and tests."
                ),
            ]
        out += [
            "",
            f"### {'文本逐项核对（个人信息保护法）' if zh else 'PIPL checklist of every text'}",
            "",
        ]
        rendered = render_all(policy)
        header = ["事项" if zh else "Item", "条款" if zh else "Article"] + [
            c.title if zh else c.title_en for c in rendered
        ]
        out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        results = [checklist(policy, c) for c in rendered]
        for code, article, item_zh, item_en in CHECKLIST_ITEMS:
            marks = ["✓" if r[code] else "✗" for r in results]
            out.append(f"| {item_zh if zh else item_en} | {article} | " + " | ".join(marks) + " |")
        out += [""]
        for text in rendered:
            spec = policy.consent(text.kind)
            gate = (
                ("签约必需" if zh else "needed to enroll")
                if spec.required
                else (
                    ("告知（法定职责）" if zh else "a notice (statutory)")
                    if spec.mode == "notice"
                    else ("可选" if zh else "optional")
                )
            )
            refusal = notice_items(policy, text.kind)["refusal_zh" if zh else "refusal_en"]
            out.append(
                f"- **{text.title}**（{gate}）：{refusal}" if zh else f"- **{text.title_en}** ({gate}): {refusal}"
            )
        gating = [t for t in rendered if t.kind in gating_kinds(policy)]
        out += [
            "",
            (
                "政策变更后的重新同意：新版本政策改变了"
                + "、".join(f"《{t.title}》" for t in gating)
                + "所涉的处理目的、个人信息种类或接收方时，本人在支付渠道重新同意（`POST /v1/accounts/{id}/consents`）"
                "之前，医院开立新的就诊会被拒绝（409 `RECONSENT_REQUIRED`，`details.kinds` 列出须重新同意的文本）；"
                "急诊、还款和个人信息权利请求不受影响，可选的同意（未同意、已撤回或已过期）也不影响就诊。"
                "仅措辞变化、范围不变的新版本无须重新同意。新旧版本的答复均留存。"
                if zh
                else "Re-consent after a policy change: when a new policy version changes the purposes, categories or "
                "recipients of "
                + ", ".join(f"the {t.title_en}" for t in gating)
                + ", a hospital's new visit is refused (409 `RECONSENT_REQUIRED`, `details.kinds` naming the texts "
                "to accept again) until the person answers again through a channel (`POST /v1/accounts/{id}/consents`)"
                "; emergency care, payments and privacy requests are never held up, and an optional consent (refused, "
                "withdrawn or out of date) never stops a visit. A new wording with the same scope needs no new answer. "
                "Old and new answers are both kept."
            ),
        ]
        out.append("")
    return "\n".join(out) + "\n"


PIA_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "第五十六条第一款第（一）项",
        "处理目的、处理方式等是否合法、正当、必要",
        "are the purposes and ways lawful, legitimate and necessary",
    ),
    (
        "第五十六条第一款第（二）项",
        "对个人权益的影响及安全风险",
        "the effect on the person's rights and the security risks",
    ),
    (
        "第五十六条第一款第（三）项",
        "所采取的保护措施是否合法、有效并与风险程度相适应",
        "are the safeguards lawful, effective and proportionate",
    ),
)


def pia_page(policies: dict[str, Policy], lang: str) -> str:
    zh = lang == "zh"
    out = [
        "# 个人信息保护影响评估表" if zh else "# Personal information protection impact assessment worksheet",
        "",
        (
            "依据《个人信息保护法》第五十五条，处理敏感个人信息、利用个人信息进行自动化决策、向其他个人信息处理者提供个人信息前，"
            "城市运营方应当事前进行个人信息保护影响评估，并对处理情况进行记录；评估报告和处理情况记录至少保存三年（第五十六条第二款）。"
            "下表由数据清单生成，列出本平台触发评估的每项处理及平台已有的保护措施；“评估结论”“负责人”“日期”由运营方填写。"
            if zh
            else "PIPL art. 55 requires the city operator to assess the impact before processing sensitive personal "
            "information, making automated decisions or providing personal information to other handlers, and to keep "
            "the report and the processing record for at least three years (art. 56 para. 2). The rows below come "
            "from the data inventory: each processing of this platform that needs an assessment, with the safeguards "
            "the platform has; the operator fills in the conclusion, the person responsible and the date."
        ),
        "",
    ]
    for policy in policies.values():
        out += [f"## {policy.city_name if zh else policy.city_name_en}", ""]
        rows: list[tuple[str, str, str]] = []
        for c in categories(policy):
            if c.sensitive:
                rows.append(
                    (
                        ("处理敏感个人信息：" if zh else "sensitive data: ") + category_text(c, policy, lang),
                        c.why_zh if zh else c.why_en,
                        DELETION[c.deletion][0 if zh else 1],
                    )
                )
        rows.append(
            (
                "自动化决策：信用额度" if zh else "automated decision: the credit line",
                "额度由政策规则自动确定；可要求说明理由和人工复核"
                if zh
                else "set by the policy's rules; reasons and a human review on request",
                "决定记录理由和政策版本；人工复核进入运营方队列"
                if zh
                else "reasons and policy version recorded; reviews queue for an operator",
            )
        )
        for r in policy.privacy.recipients:
            if r.role == "controller":
                rows.append(
                    (
                        ("向其他处理者提供：" if zh else "provided to: ") + (r.name if zh else r.name_en),
                        r.purpose if zh else r.purpose_en,
                        "按调用方类型只提供最少必要的视图（见访问权限页）"
                        if zh
                        else "each caller kind gets only its minimal view (see the access page)",
                    )
                )
        head = (
            ["处理活动", "必要性和影响", "已有保护措施", *[q[1] for q in PIA_QUESTIONS], "评估结论", "负责人", "日期"]
            if zh
            else [
                "Processing",
                "Necessity and effect",
                "Safeguards in place",
                *[q[2] for q in PIA_QUESTIONS],
                "Conclusion",
                "Responsible",
                "Date",
            ]
        )
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for what, why, safeguard in rows:
            out.append(f"| {_cell(what)} | {_cell(why)} | {_cell(safeguard)} |" + " |" * (len(PIA_QUESTIONS) + 3))
        out.append("")
    return "\n".join(out) + "\n"


def compliance_page(lang: str) -> str:
    zh = lang == "zh"
    out = [
        "# 合规对照" if zh else "# Compliance map",
        "",
        (
            "每项法定义务 → 满足它的代码 → 证明它的测试。本表由代码中的登记表 `treatfirst.compliance.REGISTRY` 生成；"
            "测试检查每个代码路径都能导入、每个测试都存在。"
            if zh
            else "Each legal duty -> the code that meets it -> the test that proves it. Generated from the registry "
            "`treatfirst.compliance.REGISTRY`; a test checks every code path imports and every test exists."
        ),
        "",
        "| 法律 | 条款 | 义务 | 代码 | 测试 |" if zh else "| Law | Article | Duty | Code | Test |",
        "|---|---|---|---|---|",
    ]
    for d in REGISTRY:
        code = "<br>".join(f"`{c}`" for c in d.code)
        tests = "<br>".join(f"`{t}`" for t in d.tests)
        out.append(f"| {d.law} | {d.article} | {_cell(d.duty_zh if zh else d.duty_en)} | {code} | {tests} |")
    return "\n".join(out) + "\n"
