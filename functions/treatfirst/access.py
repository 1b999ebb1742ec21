"""Who may do what (PIPL's minimum-necessary rule), in one table: caller kind × resource × operation → view.

The services ask `authorise(caller, resource, operation)` before they act and build the answer the grant
names; the scopes a key is minted with (SCOPES) are derived from the same table, and the docs page
"access" is generated from it. A kind with no grant (the city credit platform, until its
operations exist) can do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from treatfirst.domain.errors import Forbidden

CallerKind = Literal["hospital", "channel", "operator", "financier", "credit_platform"]
KINDS: tuple[tuple[str, str, str], ...] = (
    ("hospital", "医院（HIS）", "hospital (its HIS)"),
    ("channel", "渠道（患者端、支付）", "channel (patient-facing app, payment)"),
    ("operator", "运营方", "operator"),
    ("financier", "资金方", "financier"),
    ("credit_platform", "城市信用平台", "city credit platform"),
)
REGISTRABLE = ("hospital", "channel")  # what POST /v1/callers mints; operators are made with treatfirst-admin

# The views an answer can take; each is one response struct (treatfirst.messages.accounts).
VIEWS: dict[str, tuple[str, str]] = {
    "credit": (
        "账户编号、状态、可用额度、是否仅限急诊；不含姓名、证件号、手机号",
        "account id, status, available credit, whether only emergency care is open; no name, ID number or phone",
    ),
    "payer": (
        "账户编号、状态、脱敏姓名和证件号、额度与欠款；不含手机号",
        "account id, status, masked name and ID number, credit and amounts owed; no phone",
    ),
    "masked": ("全部字段，身份信息脱敏", "every field, identifiers masked"),
    "enrolled": (
        "签约结果：全部字段（脱敏）及额度决定与理由",
        "the enrollment: every field (masked) with the limit decision and its reasons",
    ),
    "own": ("仅本院的记录", "its own records only"),
    "any": ("全部记录", "every record"),
    "key": ("新密钥（密钥只显示一次）", "the new key (the secret is shown once)"),
    "person": (
        "本人的数据：需本人 10 分钟内的实名核验凭证",
        "the person's own data: needs their real-name check from the last 10 minutes",
    ),
}


@dataclass(frozen=True)
class Grant:
    kind: str
    resource: str
    operation: str
    scope: str
    view: str
    note_zh: str = ""
    note_en: str = ""


FRESH = (
    "需同一人 10 分钟内的实名核验凭证；有未结束就诊或欠款时拒绝",
    "needs the person's real-name check from the "
    "last 10 minutes; refused while a visit is open or anything is held or owed",
)

APPEAL_FRESH = (
    "需本人 10 分钟内的实名核验凭证；异议期间暂停对外报送",
    "needs the person's real-name check from the last 10 minutes; export of the record pauses meanwhile",
)

ACCESS: tuple[Grant, ...] = (
    # hospitals: their own visits, charges and bills; of an account only what opening a visit needs
    Grant(
        "hospital",
        "accounts",
        "enroll",
        "enrollments:write",
        "enrolled",
        "窗口、自助机签约",
        "enrollment at a desk or kiosk",
    ),
    Grant("hospital", "accounts", "lookup", "accounts:read", "credit"),
    Grant("hospital", "accounts", "read", "accounts:read", "credit"),
    Grant("hospital", "visits", "open", "visits:write", "own"),
    Grant("hospital", "visits", "read", "visits:read", "own"),
    Grant("hospital", "visits", "list", "visits:read", "own"),
    Grant("hospital", "visits", "close", "visits:write", "own"),
    Grant("hospital", "charges", "post", "visits:write", "own"),
    Grant("hospital", "charges", "list", "visits:read", "own"),
    Grant("hospital", "charges", "refund", "visits:write", "own", "含撤销", "cancellation too"),
    Grant("hospital", "bills", "read", "bills:read", "own", "本院就诊产生的账单", "bills of its own visits"),
    # channels: the patient's side — enrollment, withdrawal, what a payer needs
    Grant("channel", "accounts", "enroll", "enrollments:write", "enrolled"),
    Grant("channel", "accounts", "lookup", "accounts:read", "payer"),
    Grant("channel", "accounts", "read", "accounts:read", "payer"),
    Grant("channel", "accounts", "withdraw", "enrollments:write", "payer", *FRESH),
    Grant("channel", "bills", "read", "bills:read", "any"),
    Grant("channel", "bills", "list", "bills:read", "any", "某账户的全部账单", "an account's bills"),
    Grant(
        "channel",
        "payments",
        "pay",
        "payments:write",
        "any",
        "按渠道交易号幂等",
        "idempotent by channel transaction id",
    ),
    # operators: administration and reports
    Grant("operator", "callers", "register", "callers:write", "key", "每个编号一个有效密钥", "one active key per id"),
    Grant(
        "operator",
        "callers",
        "rotate",
        "callers:write",
        "key",
        "旧密钥在过渡期内仍可用",
        "the previous secret works until its expiry",
    ),
    Grant("operator", "callers", "revoke", "callers:write", "key"),
    Grant("operator", "accounts", "lookup", "accounts:read", "masked"),
    Grant("operator", "accounts", "read", "accounts:read", "masked"),
    Grant("operator", "visits", "read", "visits:read", "any"),
    Grant("operator", "charges", "list", "visits:read", "any"),
    Grant("operator", "bills", "read", "bills:read", "any"),
    Grant("operator", "bills", "list", "bills:read", "any"),
    Grant(
        "operator",
        "bills",
        "write_off",
        "collection:write",
        "any",
        "核销一张未还账单，须写明原因，审计",
        "write off an unpaid bill, with a reason, audited",
    ),
    Grant(
        "operator", "test_clock", "read", "collection:write", "any", "仅本地与沙箱", "local stack and sandboxes only"
    ),
    Grant(
        "operator",
        "test_clock",
        "advance",
        "collection:write",
        "any",
        "仅本地与沙箱；随后运行定时任务",
        "local stack and sandboxes only; then runs the scheduled functions",
    ),
    Grant(
        "operator",
        "collection",
        "read",
        "collection:read",
        "any",
        "阶段、逾期天数、账龄、违约记录、暂停",
        "step, days overdue, aging, strikes, pauses",
    ),
    Grant("operator", "collection", "pause", "collection:write", "any", "争议暂停（记入审计）", "disputes (audited)"),
    Grant("operator", "moratoriums", "list", "collection:read", "any"),
    Grant("operator", "aging", "read", "collection:read", "any", "按账龄分组的未还账单", "unpaid bills by aging band"),
    Grant("operator", "moratoriums", "open", "collection:write", "any", "全市暂停（记入审计）", "city-wide (audited)"),
    Grant("operator", "moratoriums", "close", "collection:write", "any"),
    Grant("operator", "tasks", "list", "collection:write", "any", "待办电话回访", "open and claimed phone tasks"),
    Grant(
        "operator",
        "tasks",
        "claim",
        "collection:write",
        "any",
        "领取后可见完整手机号（记入审计）",
        "the claimer sees the full phone number (audited)",
    ),
    Grant("operator", "tasks", "outcome", "collection:write", "any", "记录结果与说明", "outcome and a note"),
    Grant(
        "operator",
        "messages",
        "list",
        "collection:read",
        "any",
        "某账户的短信与电话任务",
        "an account's SMS and phone tasks",
    ),
    # daily clearing files: each party its own (the financier's only operation), operators any party's
    Grant("hospital", "clearing", "read", "clearing:read", "own", "本院的日清算文件", "its own daily clearing files"),
    Grant("financier", "clearing", "read", "clearing:read", "own", "本方的日清算文件", "its own daily clearing files"),
    Grant("channel", "clearing", "read", "clearing:read", "own", "本渠道的日清算文件", "its own daily clearing files"),
    Grant(
        "operator",
        "clearing",
        "read",
        "clearing:read",
        "any",
        "任一清算方的文件（须指明清算方）",
        "any party's files (the party named)",
    ),
    Grant("operator", "reviews", "list", "reviews:read", "any", "待复核的急诊项", "open emergency review items"),
    Grant("operator", "reviews", "read", "reviews:read", "any"),
    Grant("operator", "reviews", "decide", "reviews:write", "any", "须写明理由，审计", "with a reason, audited"),
    # the blacklist (services/blacklist.py): the patient's status and appeal through a channel; operators run it;
    # the credit platform sees none of this (it receives exports only)
    Grant(
        "channel",
        "blacklist",
        "status",
        "accounts:read",
        "any",
        "本人的失信记录、理由、依据与移出方式",
        "the person's records, reasons, basis and the way off the list",
    ),
    Grant("channel", "blacklist_appeals", "file", "blacklist:write", "any", *APPEAL_FRESH),
    Grant("operator", "blacklist", "status", "accounts:read", "any"),
    Grant("operator", "blacklist", "list", "blacklist:read", "any", "名单上的记录（含异议中）", "records on the list"),
    Grant("operator", "blacklist", "read", "blacklist:read", "any", "含其异议", "with its appeals"),
    Grant("operator", "blacklist", "correct", "blacklist:write", "any", "更正移出，须写明理由，审计", "with a reason"),
    Grant(
        "operator",
        "blacklist",
        "waiting",
        "blacklist:read",
        "any",
        "等待告知短信送达的列入",
        "listings waiting for a delivered notice",
    ),
    Grant(
        "operator",
        "blacklist_appeals",
        "file",
        "blacklist:write",
        "any",
        "代本人提出（审计）",
        "on the patient's behalf",
    ),
    Grant("operator", "blacklist_appeals", "list", "blacklist:read", "any", "待处理的异议", "appeals waiting"),
    Grant("operator", "blacklist_appeals", "decide", "blacklist:write", "any", "须写明理由，审计", "with a reason"),
    Grant(
        "operator",
        "collection",
        "annul_strike",
        "collection:write",
        "any",
        "撤销一条逾期记录，须写明理由（追加记录）",
        "annul one strike with a reason (a new log row)",
    ),
    # privacy (PIPL rights): the person through a channel; the operator's queue
    Grant(
        "channel",
        "privacy",
        "consents",
        "privacy:write",
        "person",
        "查看并记录同意（重新同意）",
        "consents on record; re-consent",
    ),
    Grant(
        "channel",
        "privacy",
        "request",
        "privacy:write",
        "person",
        "查阅复制、更正、撤回同意、删除、解释、人工复核（审计）",
        "access, correction, withdrawal, erasure, explanation, human review (audited)",
    ),
    Grant("operator", "privacy", "queue", "privacy:read", "any", "待答复的个人信息请求", "privacy requests to answer"),
    Grant("operator", "privacy", "answer", "privacy:write", "any", "须写明理由，审计", "with a reason, audited"),
    # webhooks: each hospital and channel manages its own endpoints and reads its own events (services/webhooks.py)
    *(
        Grant(kind, resource, operation, scope, "own", zh, en)
        for kind in ("hospital", "channel")
        for resource, operation, scope, zh, en in (
            ("webhooks", "create", "webhooks:write", "密钥只显示一次", "the secret is shown once"),
            ("webhooks", "list", "webhooks:read", "", ""),
            ("webhooks", "delete", "webhooks:write", "", ""),
            ("webhooks", "rotate", "webhooks:write", "旧密钥过渡期内仍签名", "old secret signs until expiry"),
            ("events", "list", "webhooks:read", "拉取（无法接收回调时）", "pull, for callers that cannot take calls"),
            ("events", "deliveries", "webhooks:read", "每次投递尝试的记录", "one entry per delivery attempt"),
            ("events", "replay", "webhooks:write", "同一 webhook-id 重投", "sent again, same webhook-id"),
        )
    ),
    Grant(
        "operator",
        "reports",
        "emergency",
        "reviews:read",
        "any",
        "各医院每月急诊合计",
        "each hospital's emergency totals per month",
    ),
    Grant(
        "operator",
        "reports",
        "read",
        "collection:read",
        "any",
        "日期区间的运营报表（JSON/CSV）",
        "the operator report of a date range (JSON or CSV)",
    ),
    # the city credit platform: the blacklist export's deliveries, and nothing else
    Grant(
        "credit_platform",
        "exports",
        "list",
        "exports:read",
        "any",
        "每日交付，最新的在前",
        "daily deliveries, newest first",
    ),
    Grant("credit_platform", "exports", "read", "exports:read", "any", "文件、行数、SHA-256", "files, rows, SHA-256"),
    Grant(
        "credit_platform",
        "exports",
        "download",
        "exports:read",
        "any",
        "含完整身份证号（唯一出现之处）",
        "holds full ID numbers (their one lawful place)",
    ),
    Grant(
        "credit_platform",
        "exports",
        "acknowledge",
        "exports:write",
        "any",
        "写明已核验的清单 SHA-256；记入审计",
        "names the manifest SHA-256 it verified; audited",
    ),
    # reconciliation (对账): each hospital and channel against its own part of the ledger's days
    Grant(
        "hospital",
        "reconciliations",
        "totals",
        "reconciliation:write",
        "own",
        "本院当日合计（对总账）",
        "its own day totals (level 1)",
    ),
    Grant(
        "hospital",
        "reconciliations",
        "lines",
        "reconciliation:write",
        "own",
        "本院当日明细（对明细账）",
        "its own day's detail lines (level 2)",
    ),
    Grant(
        "channel",
        "statements",
        "upload",
        "reconciliation:write",
        "own",
        "本渠道的日对账单；差异进入挂账",
        "its own daily statement; breaks go to suspense",
    ),
    Grant("operator", "suspense", "list", "reconciliation:read", "any", "未了结的挂账", "open suspense items"),
    Grant("operator", "suspense", "read", "reconciliation:read", "any"),
    Grant(
        "operator",
        "suspense",
        "resolve",
        "reconciliation:write",
        "any",
        "须写明理由，审计",
        "with a reason, audited",
    ),
)

# (resource, operation) -> the API operations (OpenAPI operationId) it covers; a test holds this against the
# document in both directions, so every signed route is in the table and the table names no route that is not.
ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("accounts", "enroll"): ("enroll",),
    ("accounts", "lookup"): ("lookupAccount",),
    ("accounts", "read"): ("getAccount",),
    ("accounts", "withdraw"): ("withdraw",),
    ("visits", "open"): ("openVisit",),
    ("visits", "read"): ("getVisit",),
    ("visits", "list"): ("listVisits",),
    ("visits", "close"): ("closeVisit",),
    ("charges", "post"): ("postCharge",),
    ("charges", "list"): ("listCharges",),
    ("charges", "refund"): ("cancelCharge", "refundCharge"),
    ("bills", "read"): ("getBill",),
    ("bills", "list"): ("listAccountBills",),
    ("bills", "write_off"): ("writeOffBill",),
    ("payments", "pay"): ("notifyPayment",),
    ("callers", "register"): ("registerCaller",),
    ("callers", "rotate"): ("rotateCaller",),
    ("callers", "revoke"): ("revokeCaller",),
    ("messages", "list"): ("listAccountMessages",),
    ("tasks", "list"): ("listPhoneTasks",),
    ("tasks", "claim"): ("claimPhoneTask",),
    ("tasks", "outcome"): ("recordPhoneTaskOutcome",),
    ("collection", "read"): ("getCollectionState",),
    ("collection", "pause"): ("openDispute", "closeDispute"),
    ("moratoriums", "list"): ("listMoratoriums",),
    ("aging", "read"): ("getAging",),
    ("moratoriums", "open"): ("openMoratorium",),
    ("moratoriums", "close"): ("closeMoratorium",),
    ("test_clock", "read"): ("getTestClock",),
    ("test_clock", "advance"): ("advanceTestClock",),
    ("reviews", "list"): ("listReviews",),
    ("reviews", "read"): ("getReview",),
    ("reviews", "decide"): ("decideReview",),
    ("reports", "emergency"): ("emergencyReport",),
    ("reports", "read"): ("operatorReport",),
    ("exports", "list"): ("listExports",),
    ("exports", "read"): ("getExport",),
    ("exports", "download"): ("downloadExportFile",),
    ("exports", "acknowledge"): ("acknowledgeExport",),
    ("blacklist", "status"): ("getBlacklistStatus",),
    ("blacklist", "list"): ("listBlacklist",),
    ("blacklist", "read"): ("getBlacklistRecord",),
    ("blacklist", "correct"): ("correctBlacklistRecord",),
    ("blacklist", "waiting"): ("listBlacklistWaiting",),
    ("blacklist_appeals", "file"): ("fileBlacklistAppeal",),
    ("blacklist_appeals", "list"): ("listBlacklistAppeals",),
    ("blacklist_appeals", "decide"): ("decideBlacklistAppeal",),
    ("collection", "annul_strike"): ("annulStrike",),
    ("privacy", "consents"): ("getConsentStates", "answerConsents"),
    ("privacy", "request"): ("privacyRequest",),
    ("privacy", "queue"): ("listPrivacyRequests",),
    ("privacy", "answer"): ("answerPrivacyRequest",),
    ("webhooks", "create"): ("createWebhookEndpoint",),
    ("webhooks", "list"): ("listWebhookEndpoints",),
    ("webhooks", "delete"): ("deleteWebhookEndpoint",),
    ("webhooks", "rotate"): ("rotateWebhookSecret",),
    ("events", "list"): ("listEvents",),
    ("events", "deliveries"): ("listEventDeliveries",),
    ("events", "replay"): ("replayEvent",),
    ("clearing", "read"): ("getClearing", "getClearingFile"),
    ("reconciliations", "totals"): ("reconcileTotals",),
    ("reconciliations", "lines"): ("reconcileLines",),
    ("statements", "upload"): ("uploadStatement",),
    ("suspense", "list"): ("listSuspense",),
    ("suspense", "read"): ("getSuspense",),
    ("suspense", "resolve"): ("resolveSuspense",),
}
assert {(g.resource, g.operation) for g in ACCESS} == set(ROUTES), "every grant names a route, every route a grant"

_BY_KEY = {(g.kind, g.resource, g.operation): g for g in ACCESS}
assert len(_BY_KEY) == len(ACCESS), "one grant per caller kind, resource and operation"

# The scopes a key of each kind is minted with; a kind with no grant yet gets no key.
SCOPES: dict[str, tuple[str, ...]] = {
    kind: scopes for kind, _, _ in KINDS if (scopes := tuple(dict.fromkeys(g.scope for g in ACCESS if g.kind == kind)))
}


class Principal(Protocol):
    """The part of a caller this module reads (services.identity.Caller)."""

    @property
    def kind(self) -> str: ...

    @property
    def scopes(self) -> tuple[str, ...]: ...


def grant_for(kind: str, resource: str, operation: str) -> Grant | None:
    return _BY_KEY.get((kind, resource, operation))


def authorise(caller: Principal, resource: str, operation: str) -> str:
    """The view `caller` gets for this operation, or FORBIDDEN (403). The key must carry the scope too."""
    grant = grant_for(caller.kind, resource, operation)
    if grant is None:
        raise Forbidden(f"a {caller.kind} key may not {operation} {resource}")
    if grant.scope not in caller.scopes:
        raise Forbidden(f"this key lacks the {grant.scope} scope")
    return grant.view
