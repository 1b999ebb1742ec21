"""City policy as code: one YAML file per city, validated on load, versioned and hashed.

The same Policy object drives the limit decision, the due time of bills, the consent texts a patient signs
and the generated docs pages. Every decision that uses it records `version` and `sha256`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from treatfirst.domain.errors import PolicyInvalid

ELIGIBILITY_MODELS = ("zero_threshold", "score_banded")
LADDER_ACTIONS = ("sms_reminder", "phone_task", "restrict", "suspend", "blacklist", "write_off")
BLOCKABLE = ("new_charges", "new_visits", "limit_increase")
RELATIONS = ("spouse", "parent", "child", "sibling")
ConsentKind = Literal["service_agreement", "personal_information", "credit_reporting"]
CONSENT_KINDS: tuple[str, ...] = get_args(ConsentKind)
# 医保 insurance status as the channel reads it from the insurance system; the policy accepts some of them.
InsuranceStatus = Literal["normal", "suspended", "terminated", "uninsured"]
INSURANCE_STATUSES: tuple[str, ...] = get_args(InsuranceStatus)
FUNDING_MODELS = ("hospital_receivable", "financier_advance")
TRIAGE_LEVELS = (1, 2, 3, 4)  # 急诊预检分级: 1 濒危, 2 危重, 3 急症, 4 非急症
BACKSTOPS = ("credit_insurance", "municipal_fund", "emergency_aid_fund", "civil_affairs_aid", "hospital", "financier")
STRIKE_ACTIONS = ("suspend", "restrict", "blacklist")
# How the strike rule's actions are lifted: by the sweep once the rule no longer holds and nothing is unpaid, or only
# by an operator (an annulled strike or a credit repair).
STRIKE_LIFTS = ("rule_no_longer_met", "operator_only")
# How a threshold compares, as the Civil Code reads Chinese rules (民法典 art. 1259): 以上 includes the number,
# 超过 excludes it.
COMPARISONS: dict[str, tuple[str, str]] = {
    ">=": ("逾期 {n} 次以上（含 {n} 次）", "{n} or more overdue bills"),
    ">": ("逾期超过 {n} 次", "more than {n} overdue bills"),
}

# Human labels (Chinese, English) for policy codes: used by the consent templates and the docs.
LABELS: dict[str, tuple[str, str]] = {
    "sms_reminder": ("短信提醒", "SMS reminder"),
    "phone_task": ("电话回访", "phone follow-up"),
    "restrict": ("限制提额", "restriction"),
    "suspend": ("暂停服务", "suspension"),
    "blacklist": ("列入失信名单", "blacklist entry"),
    "write_off": ("核销并转托底", "write-off to the backstop"),
    "new_charges": ("新增记账", "new charges"),
    "new_visits": ("新开就诊", "new visits"),
    "limit_increase": ("额度提升", "limit increases"),
    "bailu": ("白鹭分", "Bailu"),
    "credit_insurance": ("信用保险", "credit insurance"),
    "municipal_fund": ("市级托底资金", "municipal fund"),
    "emergency_aid_fund": ("疾病应急救助基金", "emergency-aid fund"),
    "civil_affairs_aid": ("民政医疗救助", "civil-affairs medical aid"),
    "hospital": ("医疗机构", "hospital"),
    "financier": ("合作金融机构", "financier"),
    "hospital_receivable": ("医院应收", "hospital receivable"),
    "financier_advance": ("金融机构垫付", "financier advance"),
    "spouse": ("配偶", "spouse"),
    "parent": ("父母", "parents"),
    "child": ("子女", "children"),
    "sibling": ("兄弟姐妹", "siblings"),
}


def label(code: str, lang: str = "zh") -> str:
    zh, en = LABELS.get(code, (code, code))
    return zh if lang == "zh" else en


@dataclass(frozen=True)
class Tier:
    name: str
    min_score: int | None
    limit_fen: int


@dataclass(frozen=True)
class LadderStep:
    name: str
    day_offset: int  # days overdue (since the earliest unpaid due date, minus paused days) at least
    actions: tuple[str, ...]
    blocks: tuple[str, ...]
    remind_days_before: int | None = None  # an SMS this many days before the step, so paying in time avoids it
    min_unpaid_bills: int | None = None  # and at least this many unpaid bills
    min_unpaid_fen: int | None = None  # and at least this much unpaid in total


@dataclass(frozen=True)
class LegalBasis:
    """The legal basis of the city's blacklist: the document, its provision, and the text a record carries."""

    document: str  # e.g. 国办发〔2020〕49号
    title: str
    provision: str | None  # article or paragraph, when the city names one
    text: str  # what the record and the patient see

    def as_dict(self) -> dict[str, str]:
        out = {"document": self.document, "title": self.title, "text": self.text}
        if self.provision:
            out["provision"] = self.provision
        return out


@dataclass(frozen=True)
class BlacklistRule:
    """The internal blacklist's rule: its basis and periods (domain.blacklist.Timing holds the periods)."""

    legal_basis: LegalBasis
    publish_after_days: int  # objection period: days after listing before the record may be exported
    validity_days: int  # days a record stays on the list at most
    retention_days: int  # days a removed record is kept before it is purged


@dataclass(frozen=True)
class Financier:
    """A financier (资金方) of a financier_advance city: it pays its hospitals the posted self-pay at clearing and is
    repaid by the patients' payments. `hospitals` are the hospital ids assigned to it by the policy."""

    financier_id: str
    name: str
    name_en: str
    hospitals: tuple[str, ...]


@dataclass(frozen=True)
class ConsentSpec:
    kind: str
    version: str
    title: str
    title_en: str
    mode: str = "consent"  # "consent" (the person may refuse or withdraw) or "notice" (a statutory basis: told)

    @property
    def required(self) -> bool:
        """Whether enrollment needs it: only what the service cannot work without (PIPL art. 16)."""
        return self.kind in NECESSARY_CONSENTS


# ---- privacy: recipients, retention, age rules, legal bases (PIPL; the texts and pages render these) ------------
CONSENT_MODES = ("consent", "notice")
# The consents without which the service cannot work: the agreement itself and the processing of the sensitive
# data every charge is (PIPL arts. 16, 29). Any other consent is optional and never gates enrollment.
NECESSARY_CONSENTS = ("service_agreement", "personal_information")
RECIPIENT_ROLES = ("controller", "processor")
RECIPIENT_BASES = ("contract", "statutory", "consent")
GUARDIAN_AGE_FLOOR = 14  # PIPL art. 31: a person under 14 is a minor whose guardian consents


@dataclass(frozen=True)
class Citation:
    """A citation as structured data (title, issuing body, 文号, article, source URL); `example` marks a placeholder
    (示例) that the packager refuses to deploy as a real city."""

    id: str
    title: str
    issuer: str
    number: str  # 文号
    article: str
    url: str
    example: bool

    @property
    def citation(self) -> str:
        marker = "（示例）" if self.example else ""
        return f"{marker}《{self.title}》（{self.number}）{self.article}"


@dataclass(frozen=True)
class Recipient:
    kind: str
    name: str
    name_en: str
    contact: str
    role: str
    basis: str
    purpose: str
    purpose_en: str


@dataclass(frozen=True)
class Privacy:
    contact_name: str
    contact_name_en: str
    contact_phone: str
    contact_email: str
    guardian_consent_below_age: int
    rights_answer_days: int
    identity_days_after_close: int
    records_years_after_close: int
    audit_days: int
    recipients: tuple[Recipient, ...]
    retention_basis: tuple[str, ...]  # ids of legal_bases (Citation)
    accounting_years: int  # bills, payments and the ledger: accounting records, kept 30 years at least


@dataclass(frozen=True)
class Policy:
    city_code: str
    city_name: str
    city_name_en: str
    version: str
    sha256: str
    timezone: str
    operator_name: str
    operator_name_en: str
    hotline: str
    eligibility_model: str
    min_age: int
    insurance_statuses: tuple[str, ...]
    score_sources: tuple[str, ...]
    tiers: tuple[Tier, ...]
    due_days_after: int
    due_at: time
    emergency_backstop: str
    emergency_triage_levels: tuple[int, ...]
    emergency_review_above_fen: int
    collection_ladder: tuple[LadderStep, ...]
    strike_count: int
    strike_comparison: str
    strike_window_months: int | None
    strike_actions: tuple[str, ...]
    strike_lift: str
    remind_before_due_days: int | None
    daily_statement: bool  # 信用日账: an SMS each morning of the day before's charges and what is owed
    blacklist_export_enabled: bool
    blacklist_legal_basis: str | None
    blacklist_export_basis: LegalBasis | None  # export needs it: a text-only basis exports nothing
    blacklist_export_consent_required: bool  # deliver only persons whose credit-reporting consent is on record
    repair_cooling_days: int
    repair_appeal_allowed: bool
    blacklist: BlacklistRule | None
    upgrade_after_on_time: int
    downgrade_after_late: int
    family_relations: tuple[str, ...]
    family_sub_limits: bool
    inpatient_hold_fen: int
    backstop_order: tuple[str, ...]
    hardship_backstop: str  # the fund an operator's hardship write-off goes to (e.g. civil-affairs medical aid)
    funding_model: str
    financiers: tuple[Financier, ...]
    default_financier: str | None
    consents: tuple[ConsentSpec, ...]
    privacy: Privacy
    legal_bases: tuple[Citation, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)

    def citation(self, basis_id: str) -> Citation:
        for basis in self.legal_bases:
            if basis.id == basis_id:
                return basis
        raise KeyError(basis_id)

    @property
    def examples(self) -> tuple[str, ...]:
        """The ids of placeholder citations (示例): a policy holding any may not be deployed as a real city."""
        found = [b.id for b in self.legal_bases if b.example]
        if self.blacklist_legal_basis and "示例" in self.blacklist_legal_basis:
            found.append("blacklist_export.legal_basis")
        if self.blacklist is not None and "示例" in self.blacklist.legal_basis.text:
            found.append("blacklist.legal_basis")
        found += [f"privacy.recipients.{r.kind}" for r in self.privacy.recipients if "示例" in r.name]
        if "示例" in self.privacy.contact_name or self.privacy.contact_email.endswith(".invalid"):
            found.append("privacy.contact")
        return tuple(found)

    @property
    def stamp(self) -> dict[str, str]:
        """What every decision records about the policy that made it."""
        return {"policy_city": self.city_code, "policy_version": self.version, "policy_sha256": self.sha256}

    @property
    def blacklist_day_offset(self) -> int | None:
        """Days overdue at which the ladder lists a debtor, or None when no step does."""
        return next((s.day_offset for s in self.collection_ladder if "blacklist" in s.actions), None)

    @property
    def due_at_text(self) -> str:
        """The due time of day exactly as the policy sets it: 23:00, or 23:59:59 when it has seconds."""
        return self.due_at.strftime("%H:%M:%S" if self.due_at.second else "%H:%M")

    def strike_threshold(self, lang: str = "zh") -> str:
        """The strike threshold in words, its comparison explicit: 逾期 3 次以上（含 3 次） / 3 or more."""
        zh, en = COMPARISONS[self.strike_comparison]
        return (zh if lang == "zh" else en).format(n=self.strike_count)

    def financier_for(self, hospital_id: str) -> str | None:
        """The financier that advances this hospital's posted self-pay, or None under hospital_receivable: the
        financier whose `hospitals` list names it, else the policy's default financier."""
        if self.funding_model != "financier_advance":
            return None
        for financier in self.financiers:
            if hospital_id in financier.hospitals:
                return financier.financier_id
        return self.default_financier

    def consent(self, kind: str) -> ConsentSpec:
        for spec in self.consents:
            if spec.kind == kind:
                return spec
        raise KeyError(kind)


class _Reader:
    """Walks the parsed YAML and names the exact field that is wrong (`tiers[2].limit_fen`)."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise PolicyInvalid(f"{path or 'policy'} must be a mapping", field=path or None)
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise PolicyInvalid(f"{self._name(key)} is required", field=self._name(key))
            return default
        return self.data[key]

    def text(self, key: str, default: Any = ..., pattern: str | None = None) -> Any:
        value = self._get(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise PolicyInvalid(f"{self._name(key)} must be a non-empty string", field=self._name(key))
        if pattern and not re.fullmatch(pattern, value):
            raise PolicyInvalid(f"{self._name(key)} must match {pattern}", field=self._name(key))
        return value

    def integer(self, key: str, default: Any = ..., minimum: int = 0) -> Any:
        value = self._get(key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise PolicyInvalid(f"{self._name(key)} must be an integer >= {minimum}", field=self._name(key))
        return value

    def boolean(self, key: str, default: Any = ...) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise PolicyInvalid(f"{self._name(key)} must be true or false", field=self._name(key))
        return value

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        value = self._get(key, default)
        if value not in options:
            raise PolicyInvalid(f"{self._name(key)} must be one of {', '.join(options)}", field=self._name(key))
        return str(value)

    def choices(self, key: str, options: tuple[str, ...], default: Any = ...) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list):
            raise PolicyInvalid(f"{self._name(key)} must be a list", field=self._name(key))
        for i, item in enumerate(value):
            if item not in options:
                raise PolicyInvalid(
                    f"{self._name(key)}[{i}] must be one of {', '.join(options)}",
                    field=f"{self._name(key)}[{i}]",
                )
        return tuple(value)

    def strs(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise PolicyInvalid(f"{self._name(key)} must be a list of strings", field=self._name(key))
        return tuple(value)

    def section(self, key: str) -> _Reader:
        return _Reader(self._get(key), self._name(key))

    def sections(self, key: str) -> list[_Reader]:
        value = self._get(key)
        if not isinstance(value, list) or not value:
            raise PolicyInvalid(f"{self._name(key)} must be a non-empty list", field=self._name(key))
        return [_Reader(item, f"{self._name(key)}[{i}]") for i, item in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise PolicyInvalid(f"{self._name(unknown[0])} is not a known policy field", field=self._name(unknown[0]))


def _time_of_day(text: str, name: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise PolicyInvalid(f"{name} must be a time of day like 23:00", field=name) from exc


def _financiers(r: _Reader, funding_model: str) -> tuple[tuple[Financier, ...], str | None]:
    """`financiers` (each hospital assigned to at most one) and `default_financier` (for hospitals no financier
    lists): required under financier_advance, absent or empty under hospital_receivable."""
    value = r._get("financiers", [])
    if not isinstance(value, list):
        raise PolicyInvalid("financiers must be a list", field="financiers")
    financiers: list[Financier] = []
    assigned: dict[str, str] = {}
    for i, item in enumerate(value):
        f = _Reader(item, f"financiers[{i}]")
        financier = Financier(
            f.text("id", pattern=r"[a-z0-9][a-z0-9_.-]{1,62}"),
            f.text("name"),
            f.text("name_en"),
            f.strs("hospitals", []),
        )
        f.done()
        for hospital in financier.hospitals:
            if hospital in assigned:
                raise PolicyInvalid(
                    f"hospital {hospital} is assigned to {assigned[hospital]} and {financier.financier_id}",
                    field=f"financiers[{i}].hospitals",
                )
            assigned[hospital] = financier.financier_id
        financiers.append(financier)
    ids = [f.financier_id for f in financiers]
    if len(set(ids)) != len(ids):
        raise PolicyInvalid("financiers lists an id twice", field="financiers")
    default = r.text("default_financier", None)
    if funding_model == "financier_advance":
        if not financiers:
            raise PolicyInvalid("financier_advance needs at least one financier", field="financiers")
        if default not in ids:
            raise PolicyInvalid("default_financier must be one of the financiers' ids", field="default_financier")
    elif financiers or default is not None:
        raise PolicyInvalid("financiers are only set when funding_model is financier_advance", field="financiers")
    return tuple(financiers), default


def yaml_data(raw_bytes: bytes) -> Any:
    """The policy file's YAML as plain data (the safe subset)."""
    import yaml  # only when a policy is parsed: keeps the functions' cold import small

    try:
        # libyaml's loader when the wheel carries it (the Lambda wheels do): the same safe subset, parsed in C
        return yaml.load(raw_bytes, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        raise PolicyInvalid(f"policy is not valid YAML: {exc}") from exc


def parse_policy(text: str | bytes, data: Any = None) -> Policy:
    """Check a policy file and build its Policy. `data`, when given, is the file's YAML already parsed (the
    packaged sidecar, see load_policy); the file's bytes still give the policy its SHA-256."""
    raw_bytes = text.encode() if isinstance(text, str) else text
    if data is None:
        data = yaml_data(raw_bytes)
    r = _Reader(data, "")
    city_code = r.text("city_code", pattern=r"\d{6}")
    zone = r.text("timezone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyInvalid("timezone is not a known IANA time zone", field="timezone") from exc

    op = r.section("operator")
    operator = (op.text("name"), op.text("name_en"), op.text("hotline"))
    op.done()

    el = r.section("eligibility")
    model = el.choice("model", ELIGIBILITY_MODELS)
    min_age = el.integer("min_age")
    statuses = el.strs("insurance_statuses")
    if not set(statuses) <= set(INSURANCE_STATUSES):
        raise PolicyInvalid(
            f"eligibility.insurance_statuses must be among {', '.join(INSURANCE_STATUSES)}",
            field="eligibility.insurance_statuses",
        )
    sources = el.strs("score_sources", default=[])
    el.done()
    if model == "score_banded" and not sources:
        raise PolicyInvalid(
            "eligibility.score_sources must name a source for score_banded", field="eligibility.score_sources"
        )

    tiers: list[Tier] = []
    for t in r.sections("tiers"):
        tiers.append(Tier(t.text("name"), t.integer("min_score", default=None), t.integer("limit_fen", minimum=1)))
        t.done()
    if model == "zero_threshold" and (len(tiers) != 1 or tiers[0].min_score is not None):
        raise PolicyInvalid("tiers must hold exactly one tier without min_score for zero_threshold", field="tiers")
    if model == "score_banded":
        for i, tier in enumerate(tiers):
            if tier.min_score is None:
                raise PolicyInvalid(f"tiers[{i}].min_score is required for score_banded", field=f"tiers[{i}].min_score")
            if i and tier.min_score <= (tiers[i - 1].min_score or 0):
                raise PolicyInvalid(f"tiers[{i}].min_score must rise from tier to tier", field=f"tiers[{i}].min_score")
            if i and tier.limit_fen < tiers[i - 1].limit_fen:
                raise PolicyInvalid(
                    f"tiers[{i}].limit_fen must not fall as the score rises", field=f"tiers[{i}].limit_fen"
                )

    due = r.section("due")
    due_days = due.integer("days_after", minimum=0)
    due_at = _time_of_day(due.text("at"), "due.at")
    due.done()
    if due_days == 0 and due_at == time(0):
        raise PolicyInvalid("due.at must leave time to pay when days_after is 0", field="due.at")

    em = r.section("emergency")
    emergency_backstop = em.choice("backstop", BACKSTOPS)
    triage = em._get("covered_triage_levels")
    if not isinstance(triage, list) or not triage or not all(t in TRIAGE_LEVELS for t in triage):
        raise PolicyInvalid(
            "emergency.covered_triage_levels must be a non-empty list of triage levels 1-4",
            field="emergency.covered_triage_levels",
        )
    emergency_review_above = em.integer("review_above_fen", minimum=0)
    em.done()

    ladder: list[LadderStep] = []
    for s in r.sections("collection_ladder"):
        ladder.append(
            LadderStep(
                s.text("name"),
                s.integer("day_offset"),
                s.choices("actions", LADDER_ACTIONS),
                s.choices("blocks", BLOCKABLE, default=[]),
                s.integer("remind_days_before", default=None, minimum=1),
                s.integer("min_unpaid_bills", default=None, minimum=1),
                s.integer("min_unpaid_fen", default=None, minimum=1),
            )
        )
        s.done()
    for i, step in enumerate(ladder):
        if "write_off" in step.actions and i != 0:
            raise PolicyInvalid(
                f"collection_ladder[{i}] writes off: it must be the most severe step (first)",
                field=f"collection_ladder[{i}].actions",
            )
    if len({s.name for s in ladder}) != len(ladder):
        raise PolicyInvalid("collection_ladder names a step twice", field="collection_ladder")
    for i in range(1, len(ladder)):
        if ladder[i].day_offset >= ladder[i - 1].day_offset:
            raise PolicyInvalid(
                f"collection_ladder[{i}].day_offset must be lower than the step before (most severe first)",
                field=f"collection_ladder[{i}].day_offset",
            )

    st = r.section("strikes")
    strikes = (
        st.integer("count", minimum=1),
        st.choice("comparison", tuple(COMPARISONS)),
        st.integer("window_months", default=None, minimum=1),
        st.choices("actions", STRIKE_ACTIONS),
        st.choice("lift", STRIKE_LIFTS),
    )
    st.done()
    if not strikes[3]:
        raise PolicyInvalid("strikes.actions must name at least one action", field="strikes.actions")

    rem = r.section("reminders")
    remind_before_due = rem.integer("before_due_days", default=None, minimum=0)
    daily_statement = rem.boolean("daily_statement", default=False)
    rem.done()

    bl = r.section("blacklist_export")
    export_enabled = bl.boolean("enabled")
    export_basis: LegalBasis | None = None
    if isinstance(bl.data.get("legal_basis"), dict):
        lb = bl.section("legal_basis")
        export_basis = LegalBasis(
            lb.text("document"), lb.text("title"), lb.text("provision", default=None), lb.text("text")
        )
        lb.done()
        legal_basis = export_basis.text
    else:
        legal_basis = bl.text("legal_basis", default=None)
    export_consent_required = bl.boolean("consent_required", default=True)
    bl.done()
    if export_enabled and not legal_basis:
        raise PolicyInvalid(
            "blacklist_export.legal_basis is required when export is enabled",
            field="blacklist_export.legal_basis",
        )

    cr = r.section("credit_repair")
    repair = (cr.integer("cooling_days"), cr.boolean("appeal_allowed"))
    cr.done()

    blacklist_rule: BlacklistRule | None = None
    lists = any("blacklist" in s.actions for s in ladder) or "blacklist" in strikes[3]
    if "blacklist" in r.data:
        b = r.section("blacklist")
        lb = b.section("legal_basis")
        basis = LegalBasis(lb.text("document"), lb.text("title"), lb.text("provision", default=None), lb.text("text"))
        lb.done()
        blacklist_rule = BlacklistRule(
            basis,
            b.integer("publish_after_days"),
            b.integer("validity_days", minimum=1),
            b.integer("retention_days", minimum=1),
        )
        b.done()
    if lists and blacklist_rule is None:
        raise PolicyInvalid(
            "blacklist (legal basis and periods) is required when a ladder step or the strike rule lists",
            field="blacklist",
        )

    tr = r.section("tier_rules")
    tier_rules = (tr.integer("upgrade_after_on_time", minimum=1), tr.integer("downgrade_after_late", minimum=1))
    tr.done()

    fam = r.section("family")
    family = (fam.choices("relations", RELATIONS), fam.boolean("sub_limits"))
    fam.done()

    inpatient_hold = r.integer("inpatient_hold_fen", minimum=1)
    backstop_order = r.choices("backstop_order", BACKSTOPS)
    hardship_backstop = r.choice("hardship_backstop", BACKSTOPS)
    funding_model = r.choice("funding_model", FUNDING_MODELS)
    financiers, default_financier = _financiers(r, funding_model)

    consents: list[ConsentSpec] = []
    for c in r.sections("consents"):
        consents.append(
            ConsentSpec(
                c.choice("kind", CONSENT_KINDS),
                c.text("version"),
                c.text("title"),
                c.text("title_en"),
                c.choice("mode", CONSENT_MODES, default="consent"),
            )
        )
        c.done()
    for i, spec in enumerate(consents):
        if spec.kind == "credit_reporting" and (spec.mode == "consent") != export_consent_required:
            raise PolicyInvalid(
                f"consents[{i}].mode must be consent exactly when blacklist_export.consent_required is true "
                "(the export delivers only persons whose consent is on record)",
                field=f"consents[{i}].mode",
            )
        if spec.mode == "notice" and spec.kind != "credit_reporting":
            raise PolicyInvalid(
                f"consents[{i}].mode: only credit_reporting may be a notice (a statutory basis)",
                field=f"consents[{i}].mode",
            )
    kinds = [c.kind for c in consents]
    for needed in ("service_agreement", "personal_information"):
        if needed not in kinds:
            raise PolicyInvalid(f"consents must include {needed}", field="consents")
    if export_enabled != ("credit_reporting" in kinds):
        raise PolicyInvalid(
            "consents must include credit_reporting exactly when blacklist_export.enabled is true",
            field="consents",
        )
    if len(set(kinds)) != len(kinds):
        raise PolicyInvalid("consents lists a kind twice", field="consents")

    legal_bases = _legal_bases(r)
    privacy = _privacy(r, {b.id for b in legal_bases})
    if privacy.guardian_consent_below_age > min_age:
        raise PolicyInvalid(
            "privacy.guardian_consent_below_age must not exceed eligibility.min_age",
            field="privacy.guardian_consent_below_age",
        )
    for i, recipient in enumerate(privacy.recipients):
        if recipient.basis == "consent" and not (
            recipient.kind == "credit_platform" and any(c.kind == "credit_reporting" for c in consents)
        ):
            raise PolicyInvalid(
                f"privacy.recipients[{i}].basis: consent needs its own consent kind (only the credit platform has one)",
                field=f"privacy.recipients[{i}].basis",
            )
    version = r.text("version", pattern=r"[0-9A-Za-z.\-]{1,40}")
    city_name, city_name_en = r.text("city_name"), r.text("city_name_en")
    r.done()
    return Policy(
        city_code=city_code,
        city_name=city_name,
        city_name_en=city_name_en,
        version=version,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        timezone=zone,
        operator_name=operator[0],
        operator_name_en=operator[1],
        hotline=operator[2],
        eligibility_model=model,
        min_age=min_age,
        insurance_statuses=statuses,
        score_sources=sources,
        tiers=tuple(tiers),
        due_days_after=due_days,
        due_at=due_at,
        emergency_backstop=emergency_backstop,
        emergency_triage_levels=tuple(sorted(set(triage))),
        emergency_review_above_fen=emergency_review_above,
        collection_ladder=tuple(ladder),
        strike_count=strikes[0],
        strike_comparison=strikes[1],
        strike_window_months=strikes[2],
        strike_actions=strikes[3],
        strike_lift=strikes[4],
        remind_before_due_days=remind_before_due,
        daily_statement=daily_statement,
        blacklist_export_enabled=export_enabled,
        blacklist_legal_basis=legal_basis,
        blacklist_export_basis=export_basis,
        blacklist_export_consent_required=export_consent_required,
        repair_cooling_days=repair[0],
        repair_appeal_allowed=repair[1],
        blacklist=blacklist_rule,
        upgrade_after_on_time=tier_rules[0],
        downgrade_after_late=tier_rules[1],
        family_relations=family[0],
        family_sub_limits=family[1],
        inpatient_hold_fen=inpatient_hold,
        backstop_order=backstop_order,
        hardship_backstop=hardship_backstop,
        funding_model=funding_model,
        financiers=financiers,
        default_financier=default_financier,
        consents=tuple(consents),
        privacy=privacy,
        legal_bases=legal_bases,
        raw=data,
    )


def _legal_bases(r: _Reader) -> tuple[Citation, ...]:
    out: list[Citation] = []
    for b in r.sections("legal_bases"):
        out.append(
            Citation(
                b.text("id", pattern=r"[a-z0-9_]{1,40}"),
                b.text("title"),
                b.text("issuer"),
                b.text("number"),
                b.text("article"),
                b.text("url", pattern=r"https?://\S+"),
                b.boolean("example"),
            )
        )
        b.done()
        if out[-1].example and "示例" not in out[-1].title:
            raise PolicyInvalid(
                f"{b.path}.title: a placeholder citation must say 示例 in its title", field=f"{b.path}.title"
            )
    if len({b.id for b in out}) != len(out):
        raise PolicyInvalid("legal_bases names an id twice", field="legal_bases")
    return tuple(out)


def _privacy(r: _Reader, basis_ids: set[str]) -> Privacy:
    from treatfirst.inventory import RECIPIENT_KINDS  # the inventory names the kinds; the city names the bodies

    pr = r.section("privacy")
    contact = pr.section("contact")
    contact_fields = (contact.text("name"), contact.text("name_en"), contact.text("phone"), contact.text("email"))
    contact.done()
    age = pr.integer("guardian_consent_below_age", minimum=GUARDIAN_AGE_FLOOR)
    answer_days = pr.integer("rights_answer_days", minimum=1)
    if answer_days > 30:
        raise PolicyInvalid("privacy.rights_answer_days must be 30 or fewer", field="privacy.rights_answer_days")
    ret = pr.section("retention")
    retention = (
        ret.integer("identity_days_after_close"),
        ret.integer("records_years_after_close", minimum=1),
        ret.integer("audit_days", minimum=180),  # 网络安全法 art. 21 (3): logs kept no less than six months
        ret.strs("basis"),
    )
    # accounting vouchers and books (bills, payments, the ledger) are kept 30 years (会计档案管理办法, its table of
    # retention periods), counted from the end of the accounting year: a city may keep them longer, never shorter
    accounting_years = ret.integer("accounting_years", minimum=30)
    ret.done()
    for i, ref in enumerate(retention[3]):
        if ref not in basis_ids:
            raise PolicyInvalid(
                f"privacy.retention.basis[{i}] names no entry of legal_bases", field=f"privacy.retention.basis[{i}]"
            )
    recipients: list[Recipient] = []
    for x in pr.sections("recipients"):
        recipients.append(
            Recipient(
                x.choice("kind", tuple(RECIPIENT_KINDS)),
                x.text("name"),
                x.text("name_en"),
                x.text("contact"),
                x.choice("role", RECIPIENT_ROLES),
                x.choice("basis", RECIPIENT_BASES),
                x.text("purpose"),
                x.text("purpose_en"),
            )
        )
        x.done()
    pr.done()
    return Privacy(
        *contact_fields,
        age,
        answer_days,
        *retention[:3],
        tuple(recipients),
        tuple(retention[3]),
        accounting_years=accounting_years,
    )


POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"


PARSED_SUFFIX = ".parsed.json"


def sidecar_path(policy_path: Path) -> Path:
    """Where a policy file's parsed form is kept: beside it, `<city>.parsed.json`."""
    return policy_path.with_name(policy_path.stem + PARSED_SUFFIX)


def parsed_sidecar(raw_bytes: bytes) -> bytes | None:
    """What the packager writes beside a packaged policy: its YAML as JSON, keyed by the SHA-256 of the file. None
    when the YAML holds a value JSON would change (a date, a tuple): that policy is parsed from YAML as before."""
    data = yaml_data(raw_bytes)
    try:
        if json.loads(json.dumps(data, ensure_ascii=False)) != data:
            return None
    except TypeError:  # a value JSON has no form for
        return None
    parse_policy(raw_bytes, data)  # only a valid policy is packaged
    body = {"sha256": hashlib.sha256(raw_bytes).hexdigest(), "data": data}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def load_policy(path: str | Path) -> Policy:
    """The policy file at `path`. A packaged function finds the file's parsed sidecar beside it and skips the YAML
    parser (and the import of PyYAML) at its cold start; a sidecar whose hash is not the file's is ignored."""
    path = Path(path)
    raw_bytes = path.read_bytes()
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        parsed = json.loads(sidecar.read_bytes())
        if parsed.get("sha256") == hashlib.sha256(raw_bytes).hexdigest():
            return parse_policy(raw_bytes, parsed["data"])
    return parse_policy(raw_bytes)


def example_policy(name: str) -> Policy:
    """A policy shipped with the package: `lianyungang` or `xiamen`."""
    return load_policy(POLICY_DIR / f"{name}.yaml")


# ---- which code enforces each policy field --------------------------------------------------------------------
@dataclass(frozen=True)
class Enforced:
    """The field drives code: `function` (module.qualname) reads the Policy attribute(s) `reads`."""

    function: str
    reads: tuple[str, ...]

    def __str__(self) -> str:
        return f"enforced by {self.function}"


@dataclass(frozen=True)
class DocumentationOnly:
    """The field is shown in texts and pages but drives no code yet."""

    reason: str

    def __str__(self) -> str:
        return f"documentation-only: {self.reason}"


_NO_TIER_RULES = "limits do not change after enrollment yet"
_NO_FAMILY = "family pools are not built yet"
_NO_INPATIENT_HOLD = "no hold is taken when an inpatient visit opens yet (a stay pauses the debt; see collection)"
_DISPLAY = "descriptive text shown in the consents and on the pages"

# Every field of a policy file (list items as `[]`), and the code that enforces it or why it enforces nothing yet.
# tests/unit/test_policy.py fails when a policy file has a field missing here, and checks each Enforced entry's
# function exists and reads its attributes; the city pages mark the documentation-only fields.
POLICY_FIELDS: dict[str, Enforced | DocumentationOnly] = {
    "city_code": Enforced("treatfirst.services.enrollment.enroll", ("city_code",)),
    "city_name": DocumentationOnly(_DISPLAY),
    "city_name_en": DocumentationOnly(_DISPLAY),
    "version": Enforced("treatfirst.domain.policy.Policy.stamp", ("version",)),
    "timezone": Enforced("treatfirst.services.closing.close_visit", ("timezone",)),
    "operator.name": DocumentationOnly(_DISPLAY),
    "operator.name_en": Enforced("treatfirst.domain.eligibility.Decision.as_record", ("operator_name_en",)),
    "operator.hotline": Enforced("treatfirst.domain.eligibility.Decision.as_record", ("hotline",)),
    "eligibility.model": Enforced("treatfirst.domain.eligibility.decide", ("eligibility_model",)),
    "eligibility.min_age": Enforced("treatfirst.domain.eligibility.decide", ("min_age",)),
    "eligibility.insurance_statuses": Enforced("treatfirst.domain.eligibility.decide", ("insurance_statuses",)),
    "eligibility.score_sources": Enforced("treatfirst.domain.eligibility.decide", ("score_sources",)),
    "tiers[].name": Enforced("treatfirst.domain.eligibility.decide", ("tiers", "name")),
    "tiers[].min_score": Enforced("treatfirst.domain.eligibility.decide", ("tiers", "min_score")),
    "tiers[].limit_fen": Enforced("treatfirst.domain.eligibility.decide", ("tiers", "limit_fen")),
    "due.days_after": Enforced("treatfirst.services.closing.close_visit", ("due_days_after",)),
    "due.at": Enforced("treatfirst.services.closing.close_visit", ("due_at",)),
    "emergency.backstop": Enforced("treatfirst.services.collection._write_off_writes", ("emergency_backstop",)),
    "emergency.covered_triage_levels": Enforced("treatfirst.services.visits.open_visit", ("emergency_triage_levels",)),
    "emergency.review_above_fen": Enforced(
        "treatfirst.services.reviews.emergency_reviews", ("emergency_review_above_fen",)
    ),
    "collection_ladder[].name": Enforced("treatfirst.domain.collection.plan", ("collection_ladder", "name")),
    "collection_ladder[].day_offset": Enforced("treatfirst.domain.collection.step_holds", ("day_offset",)),
    "collection_ladder[].actions": Enforced("treatfirst.domain.collection.plan", ("actions",)),
    "collection_ladder[].blocks": Enforced("treatfirst.domain.collection.step_blocks", ("blocks",)),
    "collection_ladder[].remind_days_before": Enforced("treatfirst.domain.collection.plan", ("remind_days_before",)),
    "collection_ladder[].min_unpaid_fen": Enforced("treatfirst.domain.collection.step_holds", ("min_unpaid_fen",)),
    "reminders.before_due_days": Enforced("treatfirst.domain.collection.plan", ("remind_before_due_days",)),
    "reminders.daily_statement": Enforced("treatfirst.services.statements.send_statements", ("daily_statement",)),
    "strikes.count": Enforced("treatfirst.domain.collection.plan", ("strike_count",)),
    "strikes.comparison": Enforced("treatfirst.domain.collection.plan", ("strike_comparison",)),
    "strikes.window_months": Enforced("treatfirst.domain.collection.plan", ("strike_window_months",)),
    "strikes.actions": Enforced("treatfirst.domain.collection.strike_blocks", ("strike_actions",)),
    "strikes.lift": Enforced("treatfirst.domain.collection.plan", ("strike_lift",)),
    "blacklist_export.enabled": Enforced("treatfirst.services.export.export_basis", ("blacklist_export_enabled",)),
    "blacklist_export.legal_basis.document": Enforced(
        "treatfirst.services.export.export_basis", ("blacklist_export_basis",)
    ),
    "blacklist_export.legal_basis.title": Enforced(
        "treatfirst.services.export.export_basis", ("blacklist_export_basis",)
    ),
    "blacklist_export.legal_basis.text": Enforced(
        "treatfirst.services.export.export_basis", ("blacklist_export_basis",)
    ),
    "blacklist_export.consent_required": Enforced(
        "treatfirst.services.export.consent_required", ("blacklist_export_consent_required",)
    ),
    "credit_repair.cooling_days": Enforced("treatfirst.services.blacklist.timing", ("repair_cooling_days",)),
    "credit_repair.appeal_allowed": Enforced("treatfirst.services.blacklist.file_appeal", ("repair_appeal_allowed",)),
    "blacklist.legal_basis.document": Enforced("treatfirst.domain.policy.LegalBasis.as_dict", ("document",)),
    "blacklist.legal_basis.title": Enforced("treatfirst.domain.policy.LegalBasis.as_dict", ("title",)),
    "blacklist.legal_basis.text": Enforced("treatfirst.services.blacklist.basis", ("blacklist", "legal_basis", "text")),
    "blacklist.publish_after_days": Enforced("treatfirst.services.blacklist.timing", ("publish_after_days",)),
    "blacklist.validity_days": Enforced("treatfirst.services.blacklist.timing", ("validity_days",)),
    "blacklist.retention_days": Enforced("treatfirst.services.blacklist.timing", ("retention_days",)),
    "tier_rules.upgrade_after_on_time": DocumentationOnly(_NO_TIER_RULES),
    "tier_rules.downgrade_after_late": DocumentationOnly(_NO_TIER_RULES),
    "family.relations": DocumentationOnly(_NO_FAMILY),
    "family.sub_limits": DocumentationOnly(_NO_FAMILY),
    "inpatient_hold_fen": DocumentationOnly(_NO_INPATIENT_HOLD),
    "backstop_order": Enforced("treatfirst.services.collection._write_off_writes", ("backstop_order",)),
    "hardship_backstop": Enforced("treatfirst.services.writeoffs.credit_fund", ("hardship_backstop",)),
    "funding_model": Enforced("treatfirst.domain.policy.Policy.financier_for", ("funding_model",)),
    "financiers": Enforced("treatfirst.domain.policy.Policy.financier_for", ("financiers",)),
    "financiers[].id": Enforced("treatfirst.domain.policy.Policy.financier_for", ("financiers", "financier_id")),
    "financiers[].name": DocumentationOnly(_DISPLAY),
    "financiers[].name_en": DocumentationOnly(_DISPLAY),
    "financiers[].hospitals": Enforced("treatfirst.domain.policy.Policy.financier_for", ("hospitals",)),
    "default_financier": Enforced("treatfirst.domain.policy.Policy.financier_for", ("default_financier",)),
    "consents[].kind": Enforced("treatfirst.services.enrollment.check_consents", ("consents", "kind")),
    "consents[].version": Enforced("treatfirst.consents.render_consent", ("version",)),
    "consents[].title": Enforced("treatfirst.consents.render_consent", ("title",)),
    "consents[].title_en": Enforced("treatfirst.consents.render_consent", ("title_en",)),
    # ---- privacy (engineer privacy) ----
    "consents[].mode": Enforced("treatfirst.services.enrollment.check_consents", ("mode",)),
    "privacy.contact.name": DocumentationOnly(_DISPLAY),
    "privacy.contact.name_en": DocumentationOnly(_DISPLAY),
    "privacy.contact.phone": DocumentationOnly(_DISPLAY),
    "privacy.contact.email": DocumentationOnly(_DISPLAY),
    "privacy.guardian_consent_below_age": Enforced(
        "treatfirst.services.enrollment.enroll", ("privacy", "guardian_consent_below_age")
    ),
    "privacy.rights_answer_days": Enforced(
        "treatfirst.services.rights.open_request", ("privacy", "rights_answer_days")
    ),
    "privacy.retention.identity_days_after_close": Enforced(
        "treatfirst.services.purge.erase_after", ("privacy", "identity_days_after_close")
    ),
    "privacy.retention.records_years_after_close": Enforced(
        "treatfirst.services.purge.records_due", ("privacy", "records_years_after_close")
    ),
    "privacy.retention.audit_days": Enforced("treatfirst.services.records.audit", ("privacy", "audit_days")),
    "privacy.retention.accounting_years": Enforced(
        "treatfirst.services.purge.accounting_due", ("privacy", "accounting_years")
    ),
    "privacy.retention.basis": DocumentationOnly(_DISPLAY),
    "privacy.recipients[].kind": Enforced("treatfirst.inventory.consent_scope", ("recipients", "kind")),
    "privacy.recipients[].name": Enforced("treatfirst.inventory.consent_scope", ("recipients", "name")),
    "privacy.recipients[].name_en": DocumentationOnly(_DISPLAY),
    "privacy.recipients[].contact": Enforced("treatfirst.inventory.consent_scope", ("recipients", "contact")),
    "privacy.recipients[].role": DocumentationOnly(_DISPLAY),
    "privacy.recipients[].basis": DocumentationOnly(_DISPLAY + "; a consent basis needs its own consent kind"),
    "privacy.recipients[].purpose": DocumentationOnly(_DISPLAY),
    "privacy.recipients[].purpose_en": DocumentationOnly(_DISPLAY),
    "legal_bases[].id": DocumentationOnly(_DISPLAY),
    "legal_bases[].title": DocumentationOnly(_DISPLAY),
    "legal_bases[].issuer": DocumentationOnly(_DISPLAY),
    "legal_bases[].number": DocumentationOnly(_DISPLAY),
    "legal_bases[].article": DocumentationOnly(_DISPLAY),
    "legal_bases[].url": DocumentationOnly(_DISPLAY),
    "legal_bases[].example": Enforced("treatfirst.domain.policy.Policy.examples", ("legal_bases", "example")),
}


def field_paths(data: Any, prefix: str = "") -> set[str]:
    """Every field path of a parsed policy file: `due.at`, `tiers[].limit_fen`, ..."""
    paths: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            inner = field_paths(value, path)
            paths |= inner or {path}
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                paths |= field_paths(item, f"{prefix}[]")
    return paths


def enforcement(path: str) -> Enforced | DocumentationOnly:
    """How the field at `path` is enforced; KeyError for a field nobody has classified."""
    return POLICY_FIELDS[path]
