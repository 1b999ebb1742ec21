"""Consent and notice texts rendered with Jinja2 from the city policy and the data inventory: the exact text a
patient signs (or is shown).

The API records each answer with its version and the SHA-256 of this exact text; the docs site renders the same
function, so the published text and hash are the ones the API checks. The texts are plain text (no markup, no
ASCII quotes): what is hashed is what the person reads. Each carries the PIPL art. 17 items, and the arts. 23,
24, 28-31 items that apply, built from treatfirst.inventory and the policy's privacy section (`notice_items`);
`checklist` says which items a rendered text holds, and the tests require every one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treatfirst.domain.ids import mask_resident_id
from treatfirst.domain.money import format_yuan
from treatfirst.domain.policy import Policy, label
from treatfirst.inventory import category_text

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedConsent:
    kind: str
    version: str
    title: str
    title_en: str
    text: str
    sha256: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape  # first render only

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = format_yuan
    env.filters["zh"] = lambda codes, sep="、": sep.join(label(c, "zh") for c in codes)
    env.filters["en"] = lambda codes, sep=", ": sep.join(label(c, "en") for c in codes)
    env.filters["label_zh"] = lambda code: label(code, "zh")
    env.filters["label_en"] = lambda code: label(code, "en")
    env.filters["zh_number"] = zh_number
    return env


def id_example(policy: Policy) -> str:
    """How an ID number of this city shows once masked (the masking the API applies), e.g. 3207**********1234."""
    return mask_resident_id(f"{policy.city_code}19900101123X"[:14] + "1234")


def render_consent(policy: Policy, kind: str) -> RenderedConsent:
    spec = policy.consent(kind)
    template = environment().get_template(f"consent/{kind}.txt.j2")
    tz_zh, tz_en = zone_names(policy)
    text = template.render(
        policy=policy,
        consent=spec,
        id_example=id_example(policy),
        n=notice_items(policy, kind),
        tz_zh=tz_zh,
        tz_en=tz_en,
    )
    text = _tidy(text)
    return RenderedConsent(
        kind, spec.version, spec.title, spec.title_en, text, hashlib.sha256(text.encode()).hexdigest()
    )


def render_all(policy: Policy) -> list[RenderedConsent]:
    return [render_consent(policy, spec.kind) for spec in policy.consents]


# ---- the notice items of a text, from the inventory and the city policy ------------------------------------------
ZONE_NAMES: dict[str, tuple[str, str]] = {
    "Asia/Shanghai": ("北京时间", "Beijing time, UTC+8"),
    "Asia/Urumqi": ("乌鲁木齐时间", "Urumqi time, UTC+6"),
}
_ZH_NUMBERS = "一二三四五六七八九十"
ROLE_LABELS = {
    "controller": ("独立的个人信息处理者", "a personal information handler in its own right"),
    "processor": (
        "受托处理者，只按运营方的指示处理",
        "an entrusted processor acting only on the operator's instructions",
    ),
}
SHORT: dict[str, tuple[str, str]] = {
    "identity": ("身份证号码", "the ID number"),
    "eligibility": ("医保参保状态", "insurance status"),
    "credit_score": ("信用分", "the credit score"),
    "credit_line": ("信用额度和欠款", "the credit line and what you owe"),
    "collection": ("逾期记录", "late-payment records"),
    "medical": ("就诊和费用明细", "visits and charges"),
    "bills_payments": ("账单和还款", "bills and payments"),
    "blacklist": ("失信名单记录", "blacklist records"),
    "events": ("事件通知", "event notices"),
}
REFUSAL: dict[str, tuple[str, str]] = {
    "service_agreement": (
        "本协议是提供先诊疗后付费服务所必需的。不同意则不能签约，您仍可按常规方式在窗口缴费就医；签约后没有欠款时可随时解约。",
        "This agreement is necessary for treat-first care. Without it you cannot enroll, and you can still pay at the "
        "window as usual; once enrolled you may leave whenever nothing is owed.",
    ),
    "personal_information": (
        "本同意是提供服务所必需的：没有就诊费用、额度和身份信息，无法记账和出账单。不同意则不能签约，您仍可按常规方式缴费就医；"
        "撤回后平台停止为您提供先诊疗后付费服务，已发生的欠款仍须偿还，相关记录按上述期限保存后删除。",
        "This consent is necessary for the service: without charges, the credit line and your identity nothing can be "
        "recorded or billed. Without it you cannot enroll, and you can still pay at the window as usual; after a "
        "withdrawal the platform stops treat-first care for you, what you owe is still owed, and the records are kept "
        "for the periods above and then deleted.",
    ),
    "credit_reporting": (
        "本同意不是签约的条件。不同意或者撤回，不影响签约和使用服务，也不降低额度；您的逾期欠费不会报送信用平台，但仍按服务协议提醒和处理。",
        "This consent is not a condition of enrollment. Refusing or withdrawing it does not affect enrollment, the "
        "service or your limit; your overdue debts are then not reported to the credit platform, but reminders and the "
        "late-payment steps of the service agreement still apply.",
    ),
    "credit_reporting:notice": (
        "本事项依据法定职责处理，不以您的同意为前提，也不影响签约；您可以对报送记录提出异议，经核实有误的予以更正或移出。",
        "This rests on a statutory duty and does not depend on your consent or affect enrollment; you may object to a "
        "reported record, and a wrong one is corrected or removed.",
    ),
}


def zh_number(n: int) -> str:
    """1 -> 一, 12 -> 十二 (item numbers up to 99)."""
    if n <= 10:
        return _ZH_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _ZH_NUMBERS[tens - 1]) + "十" + (_ZH_NUMBERS[ones - 1] if ones else "")


def zone_names(policy: Policy) -> tuple[str, str]:
    return ZONE_NAMES.get(policy.timezone, (f"{policy.timezone} 时间", policy.timezone))


def notice_items(policy: Policy, kind: str) -> dict[str, Any]:
    """What the art. 17 block of a text says: categories, sensitive ones, recipients, rights, refusal."""
    from treatfirst.inventory import BASES, DELETION, PURPOSES, RECIPIENT_KINDS, RETENTION, consent_scope
    from treatfirst.inventory import categories as applying

    scope = consent_scope(policy, kind)
    spec = policy.consent(kind)
    pv = policy.privacy
    values = {
        "identity": pv.identity_days_after_close,
        "records": pv.records_years_after_close,
        "audit": pv.audit_days,
        "accounting": pv.accounting_years,
        "replay": 0,
        "blacklist": policy.blacklist.retention_days if policy.blacklist else 0,
    }
    cats: list[dict[str, Any]] = []
    for c in applying(policy):
        if c.code not in scope["categories"]:
            continue
        zh_ret, en_ret, _ = RETENTION[c.retention]
        basis = "statutory" if kind == "credit_reporting" and spec.mode == "notice" else c.basis
        if kind == "credit_reporting" and spec.mode == "consent":
            basis = "consent"
        purposes = [p for p in c.purposes if p in scope["purposes"]] or list(scope["purposes"])
        separate = c.sensitive and basis != "consent"
        cats.append(
            {
                "code": c.code,
                "zh": category_text(c, policy, "zh"),
                "en": category_text(c, policy, "en"),
                "purposes_zh": "；".join(PURPOSES[p][0] for p in purposes),
                "purposes_en": "; ".join(PURPOSES[p][1] for p in purposes),
                "basis_zh": f"《个人信息保护法》{BASES[basis][0]}，{BASES[basis][1]}"
                + ("；作为敏感个人信息，另经您的单独同意（第二十九条）" if separate else ""),
                "basis_en": f"PIPL art. 13 para. 1 item ({list(BASES).index(basis) + 1}), {BASES[basis][2]}"
                + ("; being sensitive, also your separate consent (art. 29)" if separate else ""),
                "retention_zh": zh_ret.format(n=values[c.retention]),
                "retention_en": en_ret.format(n=values[c.retention]),
                "deletion_zh": DELETION[c.deletion][0],
                "deletion_en": DELETION[c.deletion][1],
                "sensitive": c.sensitive,
                "short_zh": SHORT.get(c.code, (c.zh, c.en))[0],
                "short_en": SHORT.get(c.code, (c.zh, c.en))[1],
                "why_zh": c.why_zh,
                "why_en": c.why_en,
                "recipients": c.recipients,
            }
        )
    recipients: list[dict[str, Any]] = []
    for r in policy.privacy.recipients:
        if r.kind not in {x["kind"] for x in scope["recipients"]}:
            continue
        theirs = [c for c in cats if r.kind in c["recipients"]]
        basis = r.basis
        if r.kind == "credit_platform" and spec.mode == "notice":
            basis = "statutory"
        recipients.append(
            {
                "name": r.name,
                "name_en": r.name_en,
                "contact": r.contact,
                "role_zh": ROLE_LABELS[r.role][0],
                "role_en": ROLE_LABELS[r.role][1],
                "purpose": r.purpose,
                "purpose_en": r.purpose_en,
                "categories_zh": "、".join(c["short_zh"] if c["sensitive"] else c["zh"].split("：")[0] for c in theirs),
                "categories_en": ", ".join(c["short_en"] if c["sensitive"] else c["en"].split(":")[0] for c in theirs),
                "basis_zh": BASES[basis][1],
                "basis_en": BASES[basis][2],
                "kind_zh": RECIPIENT_KINDS[r.kind][0],
            }
        )
    automated = "credit_decision" in scope["purposes"] or kind == "service_agreement"
    platform = next((r for r in policy.privacy.recipients if r.kind == "credit_platform"), None)
    refusal = REFUSAL[f"{kind}:notice" if spec.mode == "notice" else kind]
    return {
        "categories": cats,
        "sensitive": [c for c in cats if c["sensitive"]],
        "recipients": recipients,
        "contact_name": pv.contact_name,
        "contact_name_en": pv.contact_name_en,
        "contact_phone": pv.contact_phone,
        "contact_email": pv.contact_email,
        "guardian_age": pv.guardian_consent_below_age,
        "answer_days": pv.rights_answer_days,
        "automated_zh": (
            "信用额度由系统按城市政策自动确定。您可以要求我们说明决定的理由，并有权拒绝仅由自动化决策作出的决定、要求由工作人员复核。"
            if automated
            else "本事项不作出仅由自动化决策决定的、对您有重大影响的决定。"
        ),
        "automated_en": (
            "The credit line is decided automatically under the city policy. You may ask for the reasons and refuse a "
            "decision made only by automated means, asking for a review by a person."
            if automated
            else "Nothing here is decided only by automated means with a significant effect on you."
        ),
        "refusal_zh": refusal[0],
        "refusal_en": refusal[1],
        "platform_name": platform.name if platform else "市公共信用信息平台",
        "platform_name_en": platform.name_en if platform else "city public credit platform",
    }


def _tidy(text: str) -> str:
    """One blank line at most between paragraphs, no trailing spaces, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out).replace("'", "\u2019") + "\n"  # an apostrophe, not an ASCII quote


# ---- the PIPL checklist of a rendered text ------------------------------------------------------------------------
# (code, article, Chinese, English): the items every text must hold; `checklist` says which a text holds.
CHECKLIST_ITEMS: tuple[tuple[str, str, str, str], ...] = (
    ("handler", "第十七条第一款第（一）项", "处理者名称和联系方式", "handler's name and contact"),
    ("purposes", "第十七条第一款第（二）项", "处理目的", "purposes"),
    ("methods", "第十七条第一款第（二）项", "处理方式", "ways of processing"),
    ("categories", "第十七条第一款第（二）项", "个人信息种类", "categories"),
    ("retention", "第十七条第一款第（二）项", "保存期限", "retention"),
    ("rights", "第十七条第一款第（三）项、第四十四条至第四十七条", "行使权利的方式和程序", "how to use your rights"),
    ("changes", "第十七条第二款、第十四条第二款", "变更告知和重新同意", "changes told and consented again"),
    ("withdrawal", "第十五条", "撤回同意及其效力", "withdrawal and its effect"),
    ("refusal", "第十六条", "拒绝的后果", "what refusing costs"),
    (
        "recipients",
        "第二十三条",
        "接收方名称、联系方式、目的、方式和种类",
        "recipients with contact, purpose, categories",
    ),
    ("automated", "第二十四条", "自动化决策的说明和拒绝", "automated decisions: explanation and refusal"),
    ("sensitive", "第二十八条至第三十条", "敏感个人信息的必要性和影响", "sensitive data: necessity and effect"),
    ("minors", "第三十一条", "不满十四周岁未成年人", "minors under 14"),
    ("chinese_prevails", "", "中英文对照以中文为准", "the Chinese text prevails"),
    ("affirmative", "", "本人已阅读并同意（告知为知悉）", "an affirmative closing line"),
    ("plain_text", "", "签署文本无 ASCII 引号和 Markdown 标记", "no ASCII quotes or Markdown in the signed bytes"),
    ("beijing_time", "", "时间以北京时间表述", "times in Beijing time"),
)
_MARKUP = ("#", "**", "- ", "* ", "---", "`", "> ")


def checklist(policy: Policy, rendered: RenderedConsent) -> dict[str, bool]:
    """Which PIPL items the rendered text holds, each checked against the values it must show."""
    from treatfirst.inventory import PURPOSES, consent_scope

    text, n = rendered.text, notice_items(policy, rendered.kind)
    scope = consent_scope(policy, rendered.kind)
    pv = policy.privacy
    spec = policy.consent(rendered.kind)

    def has(*parts: object) -> bool:
        return all(str(p) in text for p in parts)

    retention_ok = all(has(c["retention_zh"], c["retention_en"]) for c in n["categories"])
    return {
        "handler": has(policy.operator_name, policy.hotline, pv.contact_name, pv.contact_phone, pv.contact_email),
        "purposes": all(has(PURPOSES[p][0], PURPOSES[p][1]) for p in scope["purposes"]),
        "methods": has("收集、存储、使用、加工", "collect, store, use, process"),
        "categories": all(has(c["zh"], c["en"]) for c in n["categories"]) and bool(n["categories"]),
        "retention": retention_ok,
        "rights": has(
            "查阅、复制", "要求更正", "撤回同意", "要求删除", "人工复核", f"{pv.rights_answer_days} 日内答复"
        ),
        "changes": has("重新征求您的同意", "新旧文本版本及您的答复均留存记录"),
        "withdrawal": has("撤回不影响撤回前基于您的同意已进行的处理"),
        "refusal": has(n["refusal_zh"], n["refusal_en"]),
        "recipients": all(has(r["name"], r["contact"], r["purpose"], r["categories_zh"]) for r in n["recipients"]),
        "automated": has("拒绝仅由自动化决策作出的决定") or not n["automated_zh"].startswith("信用额度"),
        "sensitive": all(has(c["short_zh"], c["why_zh"]) for c in n["sensitive"])
        and (not n["sensitive"] or has("单独同意")),
        "minors": has(f"不满 {pv.guardian_consent_below_age} 周岁", "监护人", f"年满 {policy.min_age} 周岁"),
        "chinese_prevails": has("如有不一致，以中文为准", "the Chinese text prevails"),
        "affirmative": has("本人已阅读并知悉") if spec.mode == "notice" else has("本人已阅读并同意"),
        "plain_text": '"' not in text
        and "'" not in text
        and not any(line.lstrip().startswith(_MARKUP) for line in text.splitlines()),
        "beijing_time": policy.timezone not in text
        and (rendered.kind != "service_agreement" or has(zone_names(policy)[0])),
    }
