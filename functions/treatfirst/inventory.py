"""The data inventory: every category of personal information the platform stores, as structured data.

Each category names the stored fields (`table.attribute`, the PynamoDB models of treatfirst.adapters.dynamo), its
purposes, its legal basis (PIPL art. 13), whether it is sensitive (arts. 28-29) and why it is needed, who receives
it (recipient kinds; the city policy names the bodies and their contacts), how long it is kept (a retention rule
whose value comes from the city policy) and how it is deleted. The consent texts, the privacy page, the PIA
worksheet and the compliance page are rendered from it; tests/unit/test_inventory.py fails when a model stores a
field that is neither here nor in NOT_PERSONAL, and when this lists a field no model stores.

No AWS or Chalice import: the docs build and the domain read it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from treatfirst.domain.policy import Policy

# Purposes (code -> Chinese, English).
PURPOSES: dict[str, tuple[str, str]] = {
    "service": (
        "提供先诊疗后付费服务：记账、结算、生成账单、收款",
        "treat-first care: charges, settlement, bills, payments",
    ),
    "credit_decision": ("确定信用额度（自动化决策）", "deciding the credit line (an automated decision)"),
    "collection": ("还款提醒、逾期处理和失信记录", "reminders, late-payment steps and the blacklist record"),
    "credit_reporting": ("向市公共信用信息平台报送逾期记录", "reporting overdue records to the city credit platform"),
    "emergency": ("急危重症救治费用的记录和托底", "recording emergency care and its backstop"),
    "security": ("身份核验、防止冒用和安全审计", "identity checks, fraud prevention and security audit"),
    "rights": ("处理您的查阅、复制、更正、删除等请求", "answering your requests to access, copy, correct or delete"),
    "consent_proof": ("证明您作出的同意或收到的告知", "proving what you consented to or were told"),
}

# PIPL art. 13 para. 1: the legal bases this platform relies on (code -> item, Chinese, English).
BASES: dict[str, tuple[str, str, str]] = {
    "consent": ("第十三条第一款第（一）项", "取得您的同意", "your consent"),
    "contract": (
        "第十三条第一款第（二）项",
        "为订立、履行您作为一方当事人的合同（服务协议）所必需",
        "necessary to conclude and perform the service agreement you are a party to",
    ),
    "statutory": ("第十三条第一款第（三）项", "为履行法定职责或者法定义务所必需", "necessary for a statutory duty"),
    "emergency": (
        "第十三条第一款第（四）项",
        "紧急情况下为保护自然人的生命健康和财产安全所必需",
        "necessary in an emergency to protect a person's life, health and property",
    ),
}

# Recipient kinds; the policy names each body with its contact. "processor" = entrusted (art. 21, acts only on the
# operator's instructions); "controller" = another personal information handler (art. 23).
RECIPIENT_KINDS: dict[str, tuple[str, str, str]] = {
    "hospital": ("定点医疗机构", "participating hospitals", "controller"),
    "payment_channel": ("支付渠道", "payment channels", "controller"),
    "financier": ("合作金融机构（垫付资金）", "financiers (advance the money)", "controller"),
    "credit_insurer": ("信用保险机构", "credit insurer", "controller"),
    "score_provider": ("信用分提供方", "credit score provider", "controller"),
    "backstop_fund": ("托底资金管理机构", "backstop fund administrators", "controller"),
    "credit_platform": ("市公共信用信息平台", "city public credit platform", "controller"),
    "sms_gateway": ("短信服务商（受托处理）", "SMS gateway (entrusted processor)", "processor"),
    "cloud": ("云服务商（受托处理）", "cloud provider (entrusted processor)", "processor"),
}

# How a category is deleted (code -> Chinese, English).
DELETION: dict[str, tuple[str, str]] = {
    "crypto_shred": (
        "销毁该账户的专属数据密钥（加密删除），所有副本（含备份）中的密文从此无法解密；脱敏值和检索索引同时删除",
        "the account's own data key is destroyed (crypto-shredding): every copy of the ciphertext, backups included, "
        "can no longer be decrypted; masked values and look-up indexes go at the same time",
    ),
    "delete": ("删除记录", "the records are deleted"),
    "ttl": ("到期自动删除", "deleted automatically when they expire"),
    "pseudonymised": (
        "身份信息删除后仅以账户编号关联，保存期满后删除",
        "after the identity is erased they stay linked to an account number only, and are deleted at the end of "
        "their retention period",
    ),
}

# Retention rules (code -> Chinese and English with {n} from the policy, the policy field that sets n).
RETENTION: dict[str, tuple[str, str, str]] = {
    "identity": (
        "服务期间；解约（且无欠款）后 {n} 天内删除",
        "while you use the service; erased within {n} days after you leave (with nothing owed)",
        "privacy.retention.identity_days_after_close",
    ),
    "records": (
        "服务期间及解约后 {n} 年",
        "while you use the service and {n} years after you leave",
        "privacy.retention.records_years_after_close",
    ),
    "audit": ("{n} 天", "{n} days", "privacy.retention.audit_days"),
    "accounting": (
        "作为会计档案，自解约当年年度终了后保存 {n} 年",
        "kept as accounting records for {n} years from the end of the year you leave",
        "privacy.retention.accounting_years",
    ),
    "blacklist": ("移出名单后 {n} 天", "{n} days after the record leaves the list", "blacklist.retention_days"),
    "replay": ("24 小时", "24 hours", ""),
}


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    fields: tuple[str, ...]  # "table.attribute"
    purposes: tuple[str, ...]
    basis: str  # a BASES code
    recipients: tuple[str, ...]  # RECIPIENT_KINDS codes (those the policy names receive it)
    retention: str  # a RETENTION code
    deletion: str  # a DELETION code
    sensitive: bool = False
    why_zh: str = ""  # why a sensitive category is necessary and what processing it means for the person (art. 30)
    why_en: str = ""
    only_if: str = ""  # a Policy attribute that must be true for the category to apply (e.g. score_sources)
    # The code that deletes the category at the end of its retention (a dotted path; tests/unit/test_purge_records.py
    # checks each one), or "" where the deletion is not automatic yet (the pages say so).
    deleted_by: str = ""
    # Fields of the category the deletion above does not reach yet (the pages name them); tests check the rest.
    not_automatic: tuple[str, ...] = ()


_PURGE = "treatfirst.services.purge.purge_records"  # the scheduled purge of records after their retention
_ERASE = "treatfirst.services.purge.purge"  # the scheduled erasure of identities (crypto-shredding)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "identity",
        "身份信息：姓名、居民身份证号码、手机号码",
        "identity: name, resident ID number, mobile number",
        (
            "accounts.name_enc",
            "accounts.id_enc",
            "accounts.phone_enc",
            "accounts.name_masked",
            "accounts.id_masked",
            "accounts.phone_masked",
            "accounts.key_scheme",
            "data_keys.account_id",
            "data_keys.wrapped_key",
            "data_keys.key_scheme",
            "data_keys.created_at",
            "data_keys.erase_shard",
            "data_keys.erase_on",
        ),
        ("service", "collection", "credit_reporting", "security"),
        "contract",
        ("payment_channel", "financier", "credit_platform", "sms_gateway", "cloud"),
        "identity",
        "crypto_shred",
        deleted_by=_ERASE,
        sensitive=True,
        why_zh="身份证号码用于确认一人只签约一次并核对医保身份；泄露可能导致冒用身份，因此加密存储、仅脱敏展示",
        why_en="the ID number makes sure one person enrolls once and matches the insurance record; a leak could "
        "let someone impersonate you, so it is stored encrypted and shown only masked",
    ),
    Category(
        "lookup_index",
        "检索索引：身份证号码和手机号码的密钥散列值",
        "look-up index: keyed hashes of the ID number and the phone number",
        ("accounts.id_hash", "accounts.phone_hash", "accounts.ref_account_id"),
        ("service", "security"),
        "contract",
        ("cloud",),
        "identity",
        "delete",
        deleted_by=_ERASE,
    ),
    Category(
        "verification",
        "实名核验记录：核验方式、核验编号、时间和渠道",
        "real-name checks: method, check id, time and channel",
        ("accounts.verification", "accounts.withdrawal", "rights.verification"),
        ("security",),
        "contract",
        ("payment_channel",),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
    ),
    Category(
        "eligibility",
        "参保状态和额度决定：医保参保状态、额度档次、决定理由",
        "eligibility: insurance status, tier, the limit decision and its reasons",
        ("accounts.insurance_status", "accounts.decision", "accounts.tier"),
        ("credit_decision", "service"),
        "contract",
        ("hospital", "payment_channel", "cloud"),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
        sensitive=True,
        why_zh="医保参保状态属于医疗健康相关信息，用于判断能否签约；额度决定影响您可先诊疗的金额",
        why_en="insurance status is health-related and decides whether you may enroll; the decision sets how much "
        "care you may receive before paying",
    ),
    Category(
        "credit_score",
        "信用分：{score_sources}分值",
        "credit score: the {score_sources} score",
        ("accounts.decision",),
        ("credit_decision",),
        "contract",
        ("score_provider",),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
        sensitive=True,
        why_zh="额度按信用分分档确定；信用分反映您的信用状况，属于金融相关信息",
        why_en="the limit follows score bands; a score describes your creditworthiness and is financial",
        only_if="score_sources",
    ),
    Category(
        "credit_line",
        "信用额度与余额：额度、可用、占用、欠款、签约和解约时间",
        "credit line: limit, available, held, owed, enrollment and withdrawal times",
        (
            "accounts.limit_fen",
            "accounts.available_fen",
            "accounts.held_fen",
            "accounts.owed_fen",
            "accounts.emergency_held_fen",
            "accounts.emergency_owed_fen",
            "accounts.open_visits",
            "accounts.enrolled_at",
            "accounts.enrolled_by",
            "accounts.updated_at",
            "accounts.withdrawn_at",
            "accounts.erased_at",
            "accounts.policy",
            "accounts.account_id",
            "accounts.city_code",
            "accounts.status",
            "accounts.purge_shard",
            "accounts.purge_on",
            "accounts.purge_stage",
        ),
        ("service",),
        "contract",
        ("hospital", "payment_channel", "financier", "cloud"),
        "accounting",
        "pseudonymised",
        deleted_by=_PURGE,
        sensitive=True,
        why_zh="额度和欠款属于金融账户相关信息；医院据此判断能否记账，处理不当可能影响您的信用",
        why_en="the credit line and what you owe are financial; hospitals rely on them to accept charges, and "
        "mishandling them could harm your credit",
    ),
    Category(
        "collection",
        "逾期与催收记录：逾期账单、逾期天数、已执行措施、逾期笔数、暂停期间",
        "late-payment records: unpaid bills, days overdue, steps taken, overdue-bill count, paused periods",
        (
            "accounts.unpaid",
            "accounts.step",
            "accounts.anchor",
            "accounts.applied",
            "accounts.reminded",
            "accounts.strikes",
            "accounts.strike_blocked",
            "accounts.pauses",
            "accounts.blocks",
            "accounts.collect_shard",
            "accounts.next_step_at",
            "accounts.collect_version",
            "accounts.blacklist_open",
            "accounts.blacklist_pending",
            "accounts.strikes_reset_on",
        ),
        ("collection",),
        "contract",
        ("credit_platform", "backstop_fund", "cloud"),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
        sensitive=True,
        why_zh="逾期记录属于信用信息，可能导致暂停服务或列入失信名单，因此只按政策规则处理，并可申诉",
        why_en="late-payment records are credit information and can lead to a suspension or a blacklist entry; "
        "they are processed only by the policy's rules, and you may appeal",
    ),
    Category(
        "medical",
        "就诊与费用明细：医院、科室、就诊类型、急诊标记、项目编码和名称、数量、费用及医保分担",
        "visits and charges: hospital, department, visit kind, emergency flag, item codes and names, quantities, "
        "amounts and the insurance split",
        (
            "visits.visit_id",
            "visits.hospital_id",
            "visits.channel_id",
            "visits.opened_at",
            "visits.account_id",
            "visits.his_visit_id",
            "visits.kind",
            "visits.department",
            "visits.status",
            "visits.closed_at",
            "visits.bill_id",
            "visits.held_fen",
            "visits.emergency_held_fen",
            "visits.charge_count",
            "visits.emergency_declared",
            "visits.emergency",
            "visits.policy",
            "visits.stay_start",
            "accounts.stays",
            "charges.visit_id",
            "charges.fee_line_id",
            "charges.emergency_month",
            "charges.posted_at",
            "charges.hospital_id",
            "charges.account_id",
            "charges.item_code",
            "charges.item_name",
            "charges.occurred_at",
            "charges.status",
            "charges.request_hash",
            "charges.quantity",
            "charges.total_fen",
            "charges.insurance_fen",
            "charges.personal_account_fen",
            "charges.self_pay_fen",
            "charges.refunded_insurance_fen",
            "charges.refunded_personal_account_fen",
            "charges.refunded_self_pay_fen",
            "charges.emergency",
            "charges.refunds",
            "charges.policy",
            "reviews.review_id",
            "reviews.queue",
            "reviews.opened_at",
            "reviews.kind",
            "reviews.status",
            "reviews.hospital_id",
            "reviews.visit_id",
            "reviews.account_id",
            "reviews.fee_line_id",
            "reviews.reason_code",
            "reviews.decided_at",
            "reviews.decided_by",
            "reviews.outcome",
            "reviews.decision_reason",
            "reviews.request_id",
            "reviews.amount_fen",
            "reviews.threshold_fen",
            "reviews.triage_level",
            "reviews.policy",
        ),
        ("service", "emergency"),
        "contract",
        ("hospital", "financier", "backstop_fund", "cloud"),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
        sensitive=True,
        why_zh="费用明细能反映您的疾病和诊疗情况，属于医疗健康信息；没有它无法记账和出账单。医院只看到本院的记录",
        why_en="itemised charges reveal your illness and treatment (health information); without them no charge can "
        "be recorded or billed. A hospital sees only its own records",
    ),
    Category(
        "bills_payments",
        "账单、还款和账务记录：金额、到期时间、还款渠道和流水号、代付人、核销",
        "bills, payments and the ledger: amounts, due times, payment channel and transaction id, payer, write-offs",
        (
            "bills.bill_id",
            "bills.account_id",
            "bills.issued_at",
            "bills.due_shard",
            "bills.due_at",
            "bills.visit_id",
            "bills.hospital_id",
            "bills.channel_id",
            "bills.status",
            "bills.due_local",
            "bills.paid_at",
            "bills.amount_fen",
            "bills.emergency_amount_fen",
            "bills.refunded_fen",
            "bills.paid_fen",
            "bills.outstanding_fen",
            "bills.credit_outstanding_fen",
            "bills.emergency_outstanding_fen",
            "bills.policy",
            "bills.written_off_at",
            "bills.write_off",
            "bills.written_off_fen",
            "bills.recovered_fen",
            "payments.payment_key",
            "payments.payment_id",
            "payments.channel_id",
            "payments.channel_txn_id",
            "payments.paid_at",
            "payments.received_at",
            "payments.request_hash",
            "payments.amount_fen",
            "payments.allocations",
            "payments.payer",
            "ledger.account_id",
            "ledger.entry_id",
            "ledger.kind",
            "ledger.ref_type",
            "ledger.ref_id",
            "ledger.at",
            "ledger.request_id",
            "ledger.actor",
            "ledger.amount_fen",
            "ledger.delta",
            "ledger.business_date",
            "ledger.day_shard",
            "ledger.hospital_id",
            "ledger.channel_id",
            "ledger.channel_txn_id",
            "ledger.financier_id",
            "ledger.fund_id",
            # a reconciliation break (suspense item, a statement's list of breaks): the channel's transaction id or
            # refund id with each side's amount, and the operator's reason for closing it
            "reconciliation.ref",
            "reconciliation.platform_fen",
            "reconciliation.counterparty_fen",
            "reconciliation.break_list",
            "reconciliation.resolution",
        ),
        ("service", "collection"),
        "contract",
        ("hospital", "payment_channel", "financier", "credit_insurer", "backstop_fund", "cloud"),
        "accounting",
        "pseudonymised",
        deleted_by=_PURGE,
        # reconciliation records belong to a hospital's or channel's day, not to one person: not deleted per person
        not_automatic=(
            "reconciliation.ref",
            "reconciliation.platform_fen",
            "reconciliation.counterparty_fen",
            "reconciliation.break_list",
            "reconciliation.resolution",
        ),
        sensitive=True,
        why_zh="账单和还款属于金融账户相关信息，用于收款、清算和对账",
        why_en="bills and payments are financial, used to collect, clear and reconcile",
    ),
    Category(
        "blacklist",
        "失信名单记录：列入原因、欠费金额和账单、决定依据、事先告知、异议、移出和有效期",
        "blacklist records: reason, amount and bills, decision basis, prior notice, appeals, removal and validity",
        (
            "blacklist.account_id",
            "blacklist.amount_fen",
            "blacklist.appeal_id",
            "blacklist.appeal_status",
            "blacklist.at",
            "blacklist.basis",
            "blacklist.bills",
            "blacklist.business_date",
            "blacklist.cause",
            "blacklist.change_count",
            "blacklist.change_day",
            "blacklist.change_id",
            "blacklist.change_kind",
            "blacklist.change_seq",
            "blacklist.changes",
            "blacklist.city_code",
            "blacklist.decided_at",
            "blacklist.decided_by",
            "blacklist.due_shard",
            "blacklist.filed_at",
            "blacklist.filed_by",
            "blacklist.holder",
            "blacklist.item_id",
            "blacklist.kind",
            "blacklist.list_state",
            "blacklist.listed_at",
            "blacklist.listed_on",
            "blacklist.next_due",
            "blacklist.notice",
            "blacklist.open",
            "blacklist.opened_at",
            "blacklist.publish_on",
            "blacklist.published_on",
            "blacklist.purge_on",
            "blacklist.purged_at",
            "blacklist.reason",
            "blacklist.record_id",
            "blacklist.removal",
            "blacklist.removed_at",
            "blacklist.removed_on",
            "blacklist.repaid_on",
            "blacklist.request_id",
            "blacklist.state",
            "blacklist.state_version",
            "blacklist.strike_bills",
            "blacklist.valid_until",
            "blacklist.verification",
            "blacklist.annul_strikes",
            "blacklist.appeal_ids",
            "blacklist.decision_reason",
            "blacklist.filed_by_kind",
            "blacklist.statement",
            "blacklist.updated_at",
            "blacklist.verification_method",
        ),
        ("collection", "credit_reporting"),
        "contract",
        ("credit_platform", "cloud"),
        "blacklist",
        "delete",
        deleted_by="treatfirst.services.blacklist.sweep_due",
        sensitive=True,
        why_zh="失信名单记录属于信用信息，会限制您使用服务；您可以提出异议，结清或期满后移出",
        why_en="a blacklist record is credit information: it restricts the service; you may appeal, and it is removed "
        "once paid or expired",
        only_if="blacklist",
    ),
    Category(
        "events",
        "事件通知：发给医院和支付渠道的账单、还款、退款、逾期事件（账户编号、账单编号、金额，不含身份信息）及投递记录",
        "events: bill, payment, refund and overdue events sent to hospitals and channels (account and bill ids, "
        "amounts, no identity) and their delivery log",
        (
            "events.at",
            "events.attempt",
            "events.attempts",
            "events.tries",
            "events.audience",
            "events.created_at",
            "events.data",
            "events.delivered_at",
            "events.due_at",
            "events.due_shard",
            "events.endpoint_id",
            "events.endpoints",
            "events.error",
            "events.event_id",
            "events.fanned_out_at",
            "events.kind",
            "events.last_error",
            "events.last_status_code",
            "events.latency_ms",
            "events.lease_id",
            "events.lease_until",
            "events.next_at",
            "events.outcome",
            "events.owner",
            "events.part",
            "events.replay",
            "events.request_id",
            "events.seq",
            "events.status",
            "events.status_code",
            "events.subject",
        ),
        ("service", "collection"),
        "contract",
        ("hospital", "payment_channel", "cloud"),
        "records",
        "pseudonymised",
        sensitive=True,
        why_zh="事件载有账单金额和逾期状态，属于金融相关信息；每家医院只收到本院账单的事件",
        why_en="events carry bill amounts and overdue states (financial); each hospital receives only its own bills' "
        "events",
    ),
    Category(
        "consents",
        "同意与告知记录：文本版本、文本哈希、时间、渠道、撤回",
        "consent and notice records: text version and hash, time, channel, withdrawal",
        (
            "consents.account_id",
            "consents.consent_key",
            "consents.kind",
            "consents.version",
            "consents.title",
            "consents.text_sha256",
            "consents.accepted_at",
            "consents.accepted_via",
            "consents.policy",
            "consents.mode",
            "consents.scope_sha256",
            "consents.withdrawn_at",
            "consents.withdrawal",
            "accounts.consent_scopes",
            "accounts.consent_keys",
        ),
        ("consent_proof",),
        "statutory",
        ("cloud",),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
    ),
    Category(
        "messages",
        "短信与电话回访：发送内容、时间、结果",
        "SMS and phone follow-ups: text, times, outcome",
        (
            "outbox.message_id",
            "outbox.account_id",
            "outbox.created_at",
            "outbox.queue",
            "outbox.kind",
            "outbox.channel",
            "outbox.dedupe_key",
            "outbox.status",
            "outbox.text",
            "outbox.request_id",
            "outbox.policy_version",
            "outbox.bill_id",
            "outbox.sent_via",
            "outbox.lease_id",
            "outbox.lease_until",
            "outbox.sent_at",
            "outbox.claimed_by",
            "outbox.claimed_at",
            "outbox.done_at",
            "outbox.outcome",
            "outbox.attempts",
            "outbox.params",
            "outbox.history",
        ),
        ("collection",),
        "contract",
        ("sms_gateway", "cloud"),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
    ),
    Category(
        "rights_requests",
        "个人信息权利请求：请求类型、时间、答复",
        "privacy requests: kind, times, answer",
        (
            "rights.request_id",
            "rights.account_id",
            "rights.opened_at",
            "rights.queue",
            "rights.due_at",
            "rights.kind",
            "rights.status",
            "rights.channel",
            "rights.consent_kind",
            "rights.answered_at",
            "rights.answered_by",
            "rights.outcome",
            "rights.details",
            "rights.answer",
            "rights.policy",
        ),
        ("rights",),
        "statutory",
        ("payment_channel", "cloud"),
        "records",
        "pseudonymised",
        deleted_by=_PURGE,
    ),
    Category(
        "audit",
        "操作日志：谁在何时对您的账户做了什么（不含身份证号码和手机号码）",
        "audit log: who did what to your account and when (no ID or phone number)",
        (
            "audit.subject",
            "audit.event_id",
            "audit.action",
            "audit.actor_kind",
            "audit.actor_id",
            "audit.at",
            "audit.request_id",
            "audit.details",
            "audit.expires_at",
        ),
        ("security",),
        "statutory",
        ("cloud",),
        "audit",
        "ttl",
        deleted_by="treatfirst.services.records.audit",
    ),
    Category(
        "replay",
        "请求重放缓存：同一请求重试时返回第一次的结果（含脱敏身份）",
        "retry cache: the first answer to a request, returned to its retries (masked identity)",
        (
            "idempotency.idem_key",
            "idempotency.request_hash",
            "idempotency.created_at",
            "idempotency.status_code",
            "idempotency.response",
            "idempotency.expires_at",
        ),
        ("service",),
        "contract",
        ("cloud",),
        "replay",
        "ttl",
        deleted_by="treatfirst.services.idempotency.Idempotency",
    ),
)

# Stored fields that are not personal information, each with why.
NOT_PERSONAL: dict[str, str] = {
    **{
        f"callers.{a}": "caller keys of hospitals, channels and operators (organisations), not of patients"
        for a in (
            "key_id",
            "kind",
            "principal_id",
            "name",
            "status",
            "created_at",
            "signing_key_enc",
            "scopes",
            "previous_key_enc",
            "rotated_at",
            "revoked_at",
            "active_key_id",
            "previous_expires_at",
        )
    },
    **{
        f"webhook_endpoints.{a}": "webhook endpoints of hospitals and channels (organisations), not of patients"
        for a in (
            "created_at",
            "description",
            "disabled_at",
            "disabled_reason",
            "endpoint_id",
            "events",
            "owner",
            "previous_expires_at",
            "previous_secret_enc",
            "request_id",
            "rotated_at",
            "secret_enc",
            "status",
            "url",
        )
    },
    **{
        f"reports.{a}": "the city's per-day aggregate counters and closing balances (no account id, no person)"
        for a in ("day_shard", "counter", "n", "fen", "lent_fen", "lent_n", "cohorts", "written_at")
    },
    **{
        f"exports.{a}": "a delivery to the credit platform: window, counts, file names and hashes (no identity; the "
        "files themselves hold the reported persons, see the blacklist category)"
        for a in (
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement_note",
            "counts",
            "export_id",
            "files",
            "item_key",
            "manifest_sha256",
            "previous_manifest_sha256",
            "request_id",
            "sequence",
            "status",
            "stream",
            "window",
            "window_from",
            "window_to",
            "written_at",
        )
    },
    **{
        f"reconciliation.{a}": "reconciliations of hospitals and channels (organisations): dates, levels, verdicts, "
        "counts, file hashes and the suspense list's state (the breaks' transaction ids and amounts are listed "
        "with bills and payments)"
        for a in (
            "recon_id",
            "queue",
            "opened_at",
            "party",
            "business_date",
            "level",
            "result",
            "request_hash",
            "created_at",
            "channel_id",
            "format",
            "sha256",
            "kind",
            "status",
            "owner",
            "opened_on",
            "last_seen_on",
            "settled_on",
            "resolved_at",
            "resolved_by",
            "breaks",
            "lines",
            "platform_lines",
            "version",
            "statements",
            "counts",
            "breaks_truncated",
        )
    },
    "nonces.nonce_key": "a signed request's nonce (replay protection of callers)",
    "nonces.expires_at": "a signed request's nonce (replay protection of callers)",
    "accounts.swept_through": "the collection sweep's watermark item (sys#watermark#<shard>)",
    "accounts.cleared_through": "the daily clearing's watermark item (sys#clearing#<city>)",
    "accounts.clock_offset_seconds": "the test clock's item (sys#clock), local stack and sandboxes only",
}


def categories(policy: Policy) -> list[Category]:
    """The categories that apply in this city (a score category only where limits follow a score)."""
    return [c for c in CATEGORIES if not c.only_if or getattr(policy, c.only_if)]


def listed_fields() -> set[str]:
    return {f for c in CATEGORIES for f in c.fields}


def personal_fields() -> set[str]:
    """Every `table.attribute` the inventory lists as personal information."""
    return listed_fields()


def category_text(category: Category, policy: Policy, lang: str) -> str:
    from treatfirst.domain.policy import label

    text = category.zh if lang == "zh" else category.en
    return text.format(score_sources="、".join(label(s, lang) for s in policy.score_sources))


# ---- what each consent or notice covers (its scope): a change re-asks the person --------------------------------
# Which categories and purposes each consent kind covers; the recipients follow from the categories and the policy.
CONSENT_SCOPE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "service_agreement": (
        ("credit_line", "eligibility", "credit_score", "collection", "bills_payments", "blacklist"),
        ("service", "credit_decision", "collection"),
    ),
    "personal_information": (
        tuple(c.code for c in CATEGORIES if c.code not in ("replay",)),
        tuple(dict.fromkeys(p for c in CATEGORIES for p in c.purposes if p != "credit_reporting")),
    ),
    "credit_reporting": (("identity", "collection", "bills_payments", "blacklist"), ("credit_reporting",)),
}


def consent_scope(policy: Policy, kind: str) -> dict[str, Any]:
    """What a consent of this kind covers in this city: categories, purposes and recipients (named bodies).

    KeyError for a kind the city does not ask."""
    policy.consent(kind)
    cats, purposes = CONSENT_SCOPE[kind]
    applying = [c for c in categories(policy) if c.code in cats]
    kinds = {r for c in applying for r in c.recipients}
    if kind != "credit_reporting":
        kinds.discard("credit_platform")
    recipients = [
        {"kind": r.kind, "name": r.name, "contact": r.contact} for r in policy.privacy.recipients if r.kind in kinds
    ]
    return {
        "kind": kind,
        "categories": [c.code for c in applying],
        # what the person is told each category holds, not the attributes that store it: a new attribute inside a
        # described category (a reconciliation id, a delivery counter) is no new processing to consent to again
        "described": [{"zh": c.zh, "en": c.en} for c in applying],
        "purposes": list(purposes),
        "recipients": recipients,
    }


def consent_scope_sha256(policy: Policy, kind: str) -> str:
    """The hash a consent record keeps: equal scopes, equal hashes; a new purpose, category or recipient changes it."""
    encoded = json.dumps(consent_scope(policy, kind), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


# ---- re-consent at the next interaction: what an account carries against what the policy now covers -------------
def gating_kinds(policy: Policy) -> tuple[str, ...]:
    """The consents and notices a person must have answered under their current scope before a new visit opens:
    the necessary consents and the notices. An optional consent (withdrawn, refused or out of date) never gates."""
    return tuple(s.kind for s in policy.consents if s.required or s.mode == "notice")


_SCOPES: dict[int, tuple[Policy, dict[str, str]]] = {}


def gating_scopes(policy: Policy) -> dict[str, str]:
    """The current scope hash of each gating kind, computed once per loaded policy (no request, no rendering)."""
    cached = _SCOPES.get(id(policy))
    if cached is None or cached[0] is not policy:
        if len(_SCOPES) > 64:  # policies are loaded once per process; tests load many
            _SCOPES.clear()
        cached = (policy, {kind: consent_scope_sha256(policy, kind) for kind in gating_kinds(policy)})
        _SCOPES[id(policy)] = cached
    return cached[1]


def reconsent_due(policy: Policy, carried: dict[str, str] | None) -> list[str]:
    """The gating kinds whose answer on record (the account's `consent_scopes`: kind -> scope hash of the standing
    answer) does not cover what the policy now says. None (an account written before the map) is checked after
    the `consent-scopes` migration has filled it in."""
    if carried is None:
        return []
    return [kind for kind, sha in gating_scopes(policy).items() if carried.get(kind) != sha]
