"""The event catalogue: every event kind the platform emits to hospitals and channels, in ONE place.

Each kind names who may receive it (caller kinds), what its subject is (the cause; the event id is derived from
kind, audience and subject, so a retried cause adds nothing), and the ONLY data fields it carries: thin events
(ids, amounts in fen, dates, codes), never a name, an ID number, a phone, an item or a diagnosis. The docs page
"event catalogue" is generated from this table (tools/mkdocs_events.py), and services/events.py refuses a field
that is not declared here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# data field -> (type, Chinese, English). Types: "id", "fen" (integer), "date" (YYYY-MM-DD), "time" (RFC 3339),
# "code" (a short ASCII code), "codes" (a list of codes), "ids" (a list of ids), "bool", "count" (integer >= 0).
FIELDS: dict[str, tuple[str, str, str]] = {
    "bill_id": ("id", "账单编号", "bill id"),
    "visit_id": ("id", "就诊编号", "visit id"),
    "account_id": ("id", "账户编号", "account id"),
    "fee_line_id": ("id", "医院费用明细号", "the hospital's fee-line id"),
    "refund_id": ("id", "退款编号", "refund id"),
    "payment_id": ("id", "还款编号", "payment id"),
    "amount_fen": ("fen", "账单金额（分，信用部分）", "bill amount in fen (credit part)"),
    "emergency_amount_fen": ("fen", "急诊金额（分）", "emergency amount in fen"),
    "outstanding_fen": ("fen", "未还金额（分）", "amount still owed in fen"),
    "paid_fen": ("fen", "已还金额（分）", "amount paid in fen"),
    "self_pay_fen": ("fen", "退回的自付金额（分）", "self-pay returned, fen"),
    "insurance_fen": ("fen", "退回的医保统筹金额（分）", "insurance share returned, fen"),
    "personal_account_fen": ("fen", "退回的个人账户金额（分）", "personal-account share returned, fen"),
    "cancel": ("bool", "是否为整笔撤销", "whether the whole charge was cancelled"),
    "status": ("code", "状态", "status"),
    "due_at": ("time", "到期时间（城市时区）", "due time (city time zone)"),
    "due_date": ("date", "到期日（城市时区）", "due date (city time zone)"),
    "paid_at": ("time", "结清时间", "time settled"),
    "settled_by": ("code", "结清方式：payment 或 refund", "settled by: payment or refund"),
    "step": ("code", "催收阶段（政策中的名称）", "collection step (its name in the policy)"),
    "days_overdue": ("count", "逾期天数（扣除暂停）", "days overdue (pauses excluded)"),
    "blocks": ("codes", "该阶段限制的操作", "what the step blocks"),
    "bills": ("ids", "本院相关的未还账单", "the receiver's own unpaid bills concerned"),
    "business_date": ("date", "业务日期", "business date"),
    "party": ("code", "清算方（医院、资金方、渠道）编号", "the clearing party's id"),
    "files": ("count", "文件数", "number of files"),
    "net_fen": ("fen", "净额（分，可为负）", "net position in fen (may be negative)"),
    "level": (
        "code",
        "对账层级：totals（对总账）、lines（对明细账）或 statement（渠道对账单）",
        "reconciliation level: totals, lines or statement (a channel's statement)",
    ),
    "result": ("code", "对账结论", "reconciliation verdict"),
    "reconciliation_id": ("id", "对账编号", "reconciliation id"),
    "breaks": ("count", "差异条数", "number of breaks"),
}


@dataclass(frozen=True)
class EventKind:
    name: str  # the `type` of the payload, "<noun>.<verb>"
    zh: str
    en: str
    audiences: tuple[str, ...]  # caller kinds that may receive it
    subject_zh: str
    subject_en: str
    fields: tuple[str, ...]
    emitted_by: str  # the code path that writes it, in its own transaction


CATALOGUE: tuple[EventKind, ...] = (
    EventKind(
        "bill.issued",
        "就诊结束，账单已出",
        "a visit closed and its bill was issued",
        ("hospital", "channel"),
        "账单编号",
        "the bill id",
        ("bill_id", "visit_id", "account_id", "status", "amount_fen", "emergency_amount_fen", "due_at"),
        "treatfirst.services.closing.close_visit",
    ),
    EventKind(
        "bill.paid",
        "账单已结清",
        "a bill was settled",
        ("hospital", "channel"),
        "账单编号",
        "the bill id",
        ("bill_id", "visit_id", "account_id", "paid_fen", "paid_at", "settled_by", "payment_id"),
        "treatfirst.services.payments.notify_payment, treatfirst.services.refunds",
    ),
    EventKind(
        "bill.overdue",
        "账单逾期",
        "a bill became overdue",
        ("hospital", "channel"),
        "账单编号",
        "the bill id",
        ("bill_id", "account_id", "outstanding_fen", "due_date"),
        "treatfirst.services.collection.step_account",
    ),
    EventKind(
        "charge.refunded",
        "记账已退款或撤销",
        "a charge was refunded or cancelled",
        ("hospital",),
        "退款编号",
        "the refund id",
        (
            "visit_id",
            "fee_line_id",
            "refund_id",
            "cancel",
            "status",
            "self_pay_fen",
            "insurance_fen",
            "personal_account_fen",
        ),
        "treatfirst.services.refunds",
    ),
    EventKind(
        "collection.step",
        "患者进入催收阶段",
        "a patient reached a collection step",
        ("hospital",),
        "账户、阶段与起算日",
        "the account, the step and its anchor date",
        ("account_id", "step", "days_overdue", "blocks", "bills"),
        "treatfirst.services.collection.step_account",
    ),
    EventKind(
        "clearing.ready",
        "日清算结果与文件就绪",
        "a day's clearing position and files are ready",
        ("hospital", "financier", "channel"),
        "清算方与业务日期",
        "the party and the business date",
        ("business_date", "party", "net_fen", "files"),
        "treatfirst.services.clearing.emit_ready",
    ),
    EventKind(
        "reconciliation.result",
        "对账结果",
        "a reconciliation's result",
        ("hospital", "channel"),
        "对账编号",
        "the reconciliation id",
        ("reconciliation_id", "business_date", "level", "result", "breaks"),
        "treatfirst.services.reconciliation (reconcile_totals, reconcile_lines, reconcile_statement)",
    ),
)

KINDS: dict[str, EventKind] = {k.name: k for k in CATALOGUE}
SUBSCRIBERS: tuple[str, ...] = tuple(dict.fromkeys(a for k in CATALOGUE for a in k.audiences))


def event_id(kind: str, audience: str, subject: str) -> str:
    """The stable id of the event a cause produces for one receiver: the same cause always gives the same id.

    Also the `webhook-id` of every delivery of it (Standard Webhooks: no '.' in it)."""
    return "evt_" + hashlib.sha256(f"{kind}\n{audience}\n{subject}".encode()).hexdigest()[:32]


def kinds_for(caller_kind: str) -> tuple[str, ...]:
    """The event kinds a caller kind may subscribe to and read."""
    return tuple(k.name for k in CATALOGUE if caller_kind in k.audiences)
