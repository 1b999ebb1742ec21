"""The OpenAPI 3.1 document of the /v1 API, served at GET /v1/openapi.json and published on the site.

The components are generated from the message structs (treatfirst.messages), the same types the HTTP edge
decodes request bodies into; the statuses come from the one error table (treatfirst.http_status). The
operations are declared here once; tests/functional/test_openapi.py checks them against the app's real
routes in both directions, so the document cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec

from treatfirst import __version__
from treatfirst.domain.errors import all_error_classes
from treatfirst.http_status import status_of
from treatfirst.messages import (
    accounts,
    blacklist,
    collection,
    exports,
    payments,
    platform,
    privacy,
    reconciliation,
    reports,
    reviews,
    visits,
    webhooks,
)
from treatfirst.messages import clearing as clearing_messages
from treatfirst.messages.common import (
    CURSOR_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    PATH_PARAMETERS,
    Empty,
    Request,
    Response,
)
from treatfirst.services.callers import REVOCATION_BOUND_SECONDS

REF = "#/components/schemas/{name}"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    scope: str | None  # None: public, unsigned
    response: type[Response] | tuple[type[Response], ...] | None  # a tuple: one per caller kind; None: any object
    status: int = 200
    request: type[Request] | None = None
    idempotent: bool = False  # an Idempotency-Key makes a retry return the first result
    paged: bool = False
    query: type[Request] | None = None  # a struct of the operation's own query parameters
    errors: tuple[str, ...] = field(default=())
    description: str = ""
    csv: bool = False  # also answers text/csv (format=csv or Accept: text/csv)
    files: tuple[str, ...] = ()  # a file download: its media types instead of a JSON body


PRIVACY_TEXT = (
    "needs_answer is true when the city policy changed the purposes, categories or recipients a consent covers "
    "since the person's answer (or the person never answered a required one): show the new text and record the "
    "answer with POST. An optional consent left unanswered costs nothing."
)

WEBHOOKS_TEXT = (
    "Deliveries are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 "
    "HMAC-SHA256 of id.timestamp.body>), retried on the specification's schedule; 410 Gone disables the endpoint. "
    "The URL must be https and resolve only to public addresses, checked now and at every delivery."
)

RECONCILIATION_TEXT = (
    "Your own entries of the business date only (from the platform's per-day ledger index, no scan). "
    "A closed date never changes, so the same request always gets the same answer."
)

REVIEWS_TEXT = (
    "An emergency charge whose self-pay is above the city policy's emergency.review_above_fen, and a visit whose "
    "emergency self-pay total is above it when it closes, each open one review item, written in the same "
    "transaction as the charge or the closing."
)

EXPORTS_TEXT = (
    "One delivery per business day of the city: the additions to and removals from the blacklist in the window "
    "[window_from, window_to), as JSON Lines and CSV, with SHA256SUMS, the signing key, the manifest's signature "
    "and the manifest. Each manifest names the previous day's by its SHA-256, so a missing delivery is detectable. "
    "Only the city credit platform's key reaches these operations."
)

SIGNED_ERRORS = (
    "VALIDATION_FAILED",
    "UNAUTHENTICATED",
    "BAD_SIGNATURE",
    "CLOCK_SKEW",
    "REPLAYED_NONCE",
    "FORBIDDEN",
    "PAYLOAD_TOO_LARGE",
    "INTERNAL_ERROR",
)
PUBLIC_ERRORS = ("VALIDATION_FAILED", "PAYLOAD_TOO_LARGE", "INTERNAL_ERROR")
BODY_ERRORS = ("MALFORMED_JSON",)
WRITE_ERRORS = ("IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE")

ACCOUNT_VIEWS = (accounts.AccountCredit, accounts.AccountForPayer, accounts.Account)
ACCOUNT_VIEWS_TEXT = (
    "What a caller sees depends on its kind (PIPL minimum necessary; see the access page): a hospital gets "
    "AccountCredit (id, status, available credit, whether only emergency care is open: no name, ID number or "
    "phone); a channel gets AccountForPayer (masked name and ID number, amounts; no phone); an operator gets "
    "Account (every field, masked)."
)

BILLS_READ = (
    "`bills:read` for a hospital means its own bills only (bills of visits it opened); channels and operators "
    "read any bill and list an account's bills."
)

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/v1/health", "health", "Liveness and the policy in force", "Platform", None, platform.Health),
    Operation("get", "/v1/openapi.json", "openapi", "This document", "Platform", None, None),
    Operation(
        "get",
        "/v1/policy",
        "getPolicy",
        "The city policy in force, with version and SHA-256",
        "Platform",
        None,
        platform.PolicyDocument,
    ),
    Operation(
        "get",
        "/v1/consents",
        "listConsents",
        "Consent texts to show before enrollment, with SHA-256",
        "Enrollment",
        None,
        platform.Consents,
    ),
    Operation(
        "post",
        "/v1/callers",
        "registerCaller",
        "Register a hospital or channel key (secret shown once); one active key per id",
        "Operators",
        "callers:write",
        platform.CallerKey,
        201,
        platform.CallerRequest,
        True,
        errors=("CALLER_EXISTS",),
    ),
    Operation(
        "post",
        "/v1/callers/{key_id}/rotation",
        "rotateCaller",
        "Rotate a key's secret; the previous secret keeps working until its expiry",
        "Operators",
        "callers:write",
        platform.CallerKey,
        200,
        platform.RotationRequest,
        True,
        errors=("CALLER_NOT_FOUND", "CALLER_REVOKED"),
    ),
    Operation(
        "post",
        "/v1/callers/{key_id}/revocation",
        "revokeCaller",
        f"Revoke a key: refused everywhere within {REVOCATION_BOUND_SECONDS} seconds",
        "Operators",
        "callers:write",
        platform.Revocation,
        200,
        platform.RevocationRequest,
        True,
        errors=("CALLER_NOT_FOUND", "CALLER_REVOKED"),
    ),
    Operation(
        "post",
        "/v1/enrollments",
        "enroll",
        "Enroll a resident: identity, verification, consents, decision",
        "Enrollment",
        "enrollments:write",
        accounts.Account,
        201,
        accounts.EnrollmentRequest,
        True,
        errors=("INVALID_ID_NUMBER", "CONSENT_REQUIRED", "NOT_ELIGIBLE", "ALREADY_ENROLLED"),
    ),
    Operation(
        "post",
        "/v1/accounts/lookup",
        "lookupAccount",
        "Find an account by resident ID number",
        "Enrollment",
        "accounts:read",
        ACCOUNT_VIEWS,
        200,
        accounts.LookupRequest,
        errors=("INVALID_ID_NUMBER", "ACCOUNT_NOT_FOUND"),
        description="The ID number travels in the body, never in the URL. A look-up changes nothing: an "
        "Idempotency-Key is checked for its format and has no other effect. " + ACCOUNT_VIEWS_TEXT,
    ),
    Operation(
        "get",
        "/v1/accounts/{account_id}",
        "getAccount",
        "Read an account (identifiers masked)",
        "Enrollment",
        "accounts:read",
        ACCOUNT_VIEWS,
        errors=("ACCOUNT_NOT_FOUND",),
        description=ACCOUNT_VIEWS_TEXT,
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/withdrawal",
        "withdraw",
        "Withdraw, on fresh real-name evidence, when no visit is open and nothing is owed",
        "Enrollment",
        "enrollments:write",
        accounts.AccountForPayer,
        200,
        accounts.WithdrawalRequest,
        True,
        errors=("ACCOUNT_NOT_FOUND", "VISIT_OPEN", "AMOUNT_OWED", "VERIFICATION_STALE"),
        description="Only a channel (the patient's side) may withdraw an account; hospitals and operators get 403. "
        "The body carries the channel's real-name check of the person, passed within the last 10 minutes. "
        "Refused while any visit of the account is open (VISIT_OPEN) or anything is held or owed (AMOUNT_OWED).",
    ),
    Operation(
        "get",
        "/v1/accounts/{account_id}/bills",
        "listAccountBills",
        "An account's bills, newest first",
        "Bills",
        "bills:read",
        payments.BillPage,
        paged=True,
        errors=("ACCOUNT_NOT_FOUND", "INVALID_CURSOR"),
        description=BILLS_READ + " Hospitals get 403 here.",
    ),
    Operation(
        "get",
        "/v1/accounts/{account_id}/messages",
        "listAccountMessages",
        "An account's SMS messages and phone tasks, newest first",
        "Collection",
        "collection:read",
        collection.OutboxPage,
        paged=True,
        errors=("ACCOUNT_NOT_FOUND", "INVALID_CURSOR"),
        description="Operators only. Each row was written in the same transaction as the step that caused it; "
        "an SMS row holds its exact text.",
    ),
    Operation(
        "get",
        "/v1/tasks",
        "listPhoneTasks",
        "Open and claimed phone tasks, oldest first",
        "Collection",
        "collection:write",
        collection.PhoneTaskPage,
        paged=True,
        errors=("INVALID_CURSOR",),
        description="Operators only. A task is written by the ladder step that asks for a call (action `phone_task`).",
    ),
    Operation(
        "post",
        "/v1/tasks/{task_id}/claim",
        "claimPhoneTask",
        "Claim a phone task; the answer carries the number to call",
        "Collection",
        "collection:write",
        collection.ClaimedTask,
        200,
        collection.ClaimRequest,
        errors=("TASK_NOT_FOUND", "TASK_NOT_CLAIMABLE", "CONCURRENT_UPDATE"),
        description="Operators only. Two operators never hold one task (a conditional write); claiming a task "
        "you hold again answers it again. The claim is audited with the operator and the reason.",
    ),
    Operation(
        "post",
        "/v1/tasks/{task_id}/outcome",
        "recordPhoneTaskOutcome",
        "Record the outcome of a call you claimed; the task is done",
        "Collection",
        "collection:write",
        collection.PhoneTask,
        200,
        collection.OutcomeRequest,
        errors=("TASK_NOT_FOUND", "TASK_NOT_CLAIMABLE", "CONCURRENT_UPDATE"),
        description="Operators only. Audited with the operator, the outcome and the note.",
    ),
    Operation(
        "get",
        "/v1/test-clock",
        "getTestClock",
        "The test clock's time and offset (local stack and sandboxes only)",
        "Test clock",
        "collection:write",
        collection.ClockState,
        errors=("TEST_CLOCK_DISABLED",),
        description="Operators only. A deployment without the test clock answers 404 TEST_CLOCK_DISABLED; the "
        "packaged production template cannot enable it.",
    ),
    Operation(
        "post",
        "/v1/test-clock/advance",
        "advanceTestClock",
        "Move the platform's clock forward and run the scheduled functions at the new time",
        "Test clock",
        "collection:write",
        collection.ClockAdvanced,
        200,
        collection.ClockAdvanceRequest,
        errors=("TEST_CLOCK_DISABLED", "CONCURRENT_UPDATE"),
        description="Operators only, local stack and sandboxes only (404 TEST_CLOCK_DISABLED elsewhere). Time only "
        "moves forward; the move is audited with the operator and the reason; then each scheduled function runs "
        "once at the new time and `ran` holds its result.",
    ),
    Operation(
        "get",
        "/v1/accounts/{account_id}/collection",
        "getCollectionState",
        "An account's collection state: step, days overdue, aging, strikes, pauses, next step date",
        "Collection",
        "collection:read",
        collection.CollectionState,
        errors=("ACCOUNT_NOT_FOUND",),
        description="Operators only. Days overdue count from the earliest unpaid due date, minus paused days "
        "(a dispute pauses its own bill; a moratorium every bill); `aging` is the central bank's band (N, then "
        "1-7 by 30 days); `disputed` marks a bill the ladder leaves out until its dispute is closed.",
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/disputes",
        "openDispute",
        "Dispute one unpaid bill: the ladder leaves it out until the dispute is closed",
        "Collection",
        "collection:write",
        collection.PauseRecord,
        201,
        collection.DisputeRequest,
        errors=("ACCOUNT_NOT_FOUND", "BILL_NOT_FOUND", "ALREADY_DISPUTED", "CONCURRENT_UPDATE"),
        description="Operators only; audited with the operator and the reason. From today until closed the "
        "ladder counts the account's other bills only (days, number and amount), and no day ages the disputed bill.",
    ),
    Operation(
        "post",
        "/v1/bills/{bill_id}/write-off",
        "writeOffBill",
        "Write off one unpaid bill: hardship, deceased, unidentified emergency patient or an operator's decision",
        "Collection",
        "collection:write",
        payments.Bill,
        200,
        collection.WriteOffRequest,
        True,
        errors=("BILL_NOT_FOUND", "BILL_NOT_PAYABLE", "CONCURRENT_UPDATE"),
        description="Operators only; audited with the operator, the reason and the note. One transaction: the bill "
        "becomes `written_off` (terminal), its debt leaves the account and the ledger moves it to the funds (self-pay "
        "to the policy's `hardship_backstop` for hardship, otherwise to the first fund of `backstop_order`; the "
        "emergency part to the emergency backstop); the credit part shrinks the line. Money received afterwards is a "
        "recovery for those funds.",
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/disputes/{pause_id}/close",
        "closeDispute",
        "Close a dispute; the days it covered stay paused",
        "Collection",
        "collection:write",
        collection.PauseRecord,
        200,
        collection.CloseRequest,
        errors=("ACCOUNT_NOT_FOUND", "PAUSE_NOT_FOUND", "CONCURRENT_UPDATE"),
        description="Operators only; audited with the operator and the reason.",
    ),
    Operation(
        "get",
        "/v1/aging",
        "getAging",
        "Unpaid bills by aging band (the central bank's N, 1-7 by 30 days), counted and summed",
        "Collection",
        "collection:read",
        collection.AgingReport,
        description="Operators only. Days overdue per bill since its due date, minus paused days; reads the "
        "accounts in collection from their sparse index, never a scan.",
    ),
    Operation(
        "get",
        "/v1/moratoriums",
        "listMoratoriums",
        "The city's moratoriums, open and closed",
        "Collection",
        "collection:read",
        collection.Moratoriums,
        description="Operators only.",
    ),
    Operation(
        "post",
        "/v1/moratoriums",
        "openMoratorium",
        "Open a city-wide moratorium: from today no debt ages",
        "Collection",
        "collection:write",
        collection.PauseRecord,
        201,
        collection.MoratoriumRequest,
        errors=("CONCURRENT_UPDATE",),
        description="Operators only; audited with the operator and the reason.",
    ),
    Operation(
        "post",
        "/v1/moratoriums/{pause_id}/close",
        "closeMoratorium",
        "Close a moratorium",
        "Collection",
        "collection:write",
        collection.PauseRecord,
        200,
        collection.CloseRequest,
        errors=("PAUSE_NOT_FOUND", "CONCURRENT_UPDATE"),
        description="Operators only; audited with the operator and the reason.",
    ),
    Operation(
        "post",
        "/v1/visits",
        "openVisit",
        "Open a visit for an enrolled patient",
        "Visits",
        "visits:write",
        visits.Visit,
        201,
        visits.VisitRequest,
        True,
        errors=("ACCOUNT_NOT_FOUND", "ACCOUNT_NOT_ACTIVE", "EMERGENCY_NOT_COVERED", "RECONSENT_REQUIRED"),
    ),
    Operation(
        "get",
        "/v1/visits",
        "listVisits",
        "This hospital's visits, newest first",
        "Visits",
        "visits:read",
        visits.VisitPage,
        paged=True,
        errors=("INVALID_CURSOR",),
    ),
    Operation(
        "get",
        "/v1/visits/{visit_id}",
        "getVisit",
        "Read a visit",
        "Visits",
        "visits:read",
        visits.Visit,
        errors=("VISIT_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/charges",
        "postCharge",
        "Post a charge; self-pay is held on the credit line atomically",
        "Visits",
        "visits:write",
        visits.Charge,
        201,
        visits.ChargeRequest,
        True,
        errors=(
            "INVALID_AMOUNT",
            "SPLIT_MISMATCH",
            "VISIT_NOT_FOUND",
            "VISIT_CLOSED",
            "EMERGENCY_NOT_DECLARED",
            "CREDIT_LIMIT_EXCEEDED",
            "ACCOUNT_NOT_FOUND",
            "ACCOUNT_NOT_ACTIVE",
            "FEE_LINE_CONFLICT",
        ),
        description="A retry with the same fee_line_id (or Idempotency-Key) returns the first result (201, "
        "`Idempotent-Replayed: true`) and charges nothing more; the same fee_line_id with other contents is "
        "FEE_LINE_CONFLICT.",
    ),
    Operation(
        "get",
        "/v1/visits/{visit_id}/charges",
        "listCharges",
        "A visit's charges",
        "Visits",
        "visits:read",
        visits.ChargePage,
        paged=True,
        errors=("VISIT_NOT_FOUND", "INVALID_CURSOR"),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/charges/{fee_line_id}/cancel",
        "cancelCharge",
        "Cancel a charge, restoring credit",
        "Visits",
        "visits:write",
        visits.Charge,
        200,
        visits.CancelRequest,
        True,
        errors=("VISIT_NOT_FOUND", "CHARGE_NOT_FOUND", "CHARGE_NOT_REFUNDABLE", "REFUND_EXCEEDS_OUTSTANDING"),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/charges/{fee_line_id}/refunds",
        "refundCharge",
        "Refund part of a charge, restoring credit",
        "Visits",
        "visits:write",
        visits.Charge,
        200,
        visits.RefundRequest,
        True,
        errors=(
            "INVALID_AMOUNT",
            "VISIT_NOT_FOUND",
            "CHARGE_NOT_FOUND",
            "CHARGE_NOT_REFUNDABLE",
            "REFUND_EXCEEDS_OUTSTANDING",
        ),
        description="At least one fen in total (else VALIDATION_FAILED on self_pay_fen); no part beyond what "
        "remains of the charge.",
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/close",
        "closeVisit",
        "Close the visit: holds become a bill due per the city policy",
        "Visits",
        "visits:write",
        visits.Closed,
        201,
        Empty,
        True,
        errors=("VISIT_NOT_FOUND", "VISIT_CLOSED"),
    ),
    Operation(
        "get",
        "/v1/bills/{bill_id}",
        "getBill",
        "Read a bill",
        "Bills",
        "bills:read",
        payments.Bill,
        errors=("BILL_NOT_FOUND",),
        description=BILLS_READ + " Another hospital's bill is 404.",
    ),
    Operation(
        "post",
        "/v1/payments",
        "notifyPayment",
        "Notify a payment against one or more bills (idempotent by channel_txn_id)",
        "Payments",
        "payments:write",
        payments.Payment,
        201,
        payments.PaymentRequest,
        True,
        errors=(
            "INVALID_AMOUNT",
            "ACCOUNT_NOT_FOUND",
            "BILL_NOT_FOUND",
            "BILL_NOT_PAYABLE",
            "OVERPAYMENT",
            "TRANSACTION_ID_CONFLICT",
        ),
        description="Each allocation's amount applies to the bill's credit part first, then to its emergency part.",
    ),
    Operation(
        "get",
        "/v1/reviews",
        "listReviews",
        "Open emergency review items, oldest first (operators)",
        "Emergency",
        "reviews:read",
        reviews.ReviewPage,
        paged=True,
        errors=("INVALID_CURSOR",),
        description=REVIEWS_TEXT,
    ),
    Operation(
        "get",
        "/v1/reviews/{review_id}",
        "getReview",
        "Read a review item (operators)",
        "Emergency",
        "reviews:read",
        reviews.Review,
        errors=("REVIEW_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/reviews/{review_id}/decision",
        "decideReview",
        "Confirm or reject an open review item, with a reason (operators; audited)",
        "Emergency",
        "reviews:write",
        reviews.Review,
        200,
        reviews.ReviewDecision,
        True,
        errors=("REVIEW_NOT_FOUND", "REVIEW_ALREADY_DECIDED"),
        description="The item leaves the open queue; the decision is recorded and audited and changes no balance.",
    ),
    # ---- the blacklist record, appeals and strike annulment (services/blacklist.py) ----
    Operation(
        "get",
        "/v1/accounts/{account_id}/blacklist",
        "getBlacklistStatus",
        "A person's blacklist records, the reasons, the basis and the way off the list (channels, operators)",
        "Collection",
        "accounts:read",
        blacklist.BlacklistStatus,
        errors=("ACCOUNT_NOT_FOUND",),
        description="PIPL art. 24: the person may learn the reason for an automated decision. Each record names its "
        "bills, dates, the policy's legal basis, whether it was reported, and how it leaves the list.",
    ),
    Operation(
        "post",
        "/v1/blacklist/{record_id}/appeals",
        "fileBlacklistAppeal",
        "Appeal a blacklist record: the patient through a channel (fresh real-name check) or an operator",
        "Collection",
        "blacklist:write",
        blacklist.Appeal,
        201,
        blacklist.AppealRequest,
        True,
        errors=(
            "BLACKLIST_RECORD_NOT_FOUND",
            "RECORD_NOT_LISTED",
            "APPEAL_PENDING",
            "APPEAL_NOT_ALLOWED",
            "VERIFICATION_STALE",
        ),
        description="The record is not reported (exported) while the appeal waits. An operator may file without a "
        "verification (on the patient's behalf); a channel must send one.",
    ),
    Operation(
        "get",
        "/v1/blacklist",
        "listBlacklist",
        "Records on the blacklist now (listed or under appeal), oldest first (operators)",
        "Collection",
        "blacklist:read",
        blacklist.BlacklistPage,
        paged=True,
        errors=("INVALID_CURSOR",),
    ),
    Operation(
        "get",
        "/v1/blacklist/waiting-for-notice",
        "listBlacklistWaiting",
        "Listings the ladder called for that wait for a delivered notice, the longest waiting first (operators)",
        "Collection",
        "blacklist:read",
        blacklist.WaitingListings,
        description="Operators only. No record is made until a message that warned the patient was delivered "
        "(proof of prior notice); meanwhile the account is swept again every day, and the listing is dropped if the "
        "arrears are paid first. Reads the accounts in collection from their sparse index, never a scan.",
    ),
    Operation(
        "get",
        "/v1/blacklist/{record_id}",
        "getBlacklistRecord",
        "Read a blacklist record with its appeals (operators)",
        "Collection",
        "blacklist:read",
        blacklist.RecordWithAppeals,
        errors=("BLACKLIST_RECORD_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/blacklist/{record_id}/correction",
        "correctBlacklistRecord",
        "Remove a record made in error, with a reason (operators; audited)",
        "Collection",
        "blacklist:write",
        blacklist.BlacklistRecord,
        200,
        blacklist.CorrectionRequest,
        True,
        errors=("BLACKLIST_RECORD_NOT_FOUND", "RECORD_NOT_LISTED"),
    ),
    Operation(
        "get",
        "/v1/appeals",
        "listBlacklistAppeals",
        "Blacklist appeals waiting for a decision, oldest first (operators)",
        "Collection",
        "blacklist:read",
        blacklist.AppealPage,
        paged=True,
        errors=("INVALID_CURSOR",),
    ),
    Operation(
        "post",
        "/v1/appeals/{appeal_id}/decision",
        "decideBlacklistAppeal",
        "Accept or reject a blacklist appeal, with a reason (operators; audited)",
        "Collection",
        "blacklist:write",
        blacklist.Appeal,
        200,
        blacklist.AppealDecision,
        True,
        errors=("APPEAL_NOT_FOUND", "APPEAL_ALREADY_DECIDED"),
        description="Accepted: the record leaves the list (the next export delta says so if it had been reported) "
        "and, with annul_strikes, the strikes it rested on are annulled. Rejected: the record is listed again.",
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/strikes/{bill_id}/annulment",
        "annulStrike",
        "Annul one overdue record (strike) with a reason (operators; audited)",
        "Collection",
        "collection:write",
        blacklist.StrikeAnnulled,
        200,
        blacklist.StrikeAnnulment,
        True,
        errors=("ACCOUNT_NOT_FOUND", "STRIKE_NOT_FOUND", "STRIKE_ALREADY_ANNULLED"),
        description="The strike log is append-only: the annulment is a row of its own. The strike count and the "
        "strike rule's suspension honour it at once (policy strikes.lift).",
    ),
    Operation(
        "get",
        "/v1/reports/emergency",
        "emergencyReport",
        "Per-hospital emergency totals of one month (operators)",
        "Emergency",
        "reviews:read",
        reviews.EmergencyReport,
        query=reviews.EmergencyReportQuery,
        description="The month is counted in the city's time zone. Read from a sparse index of emergency charges: "
        "the cost grows with the month's emergency charges, not with all charges.",
    ),
    # ---- operator reports (reports engineer's block) ----
    Operation(
        "get",
        "/v1/reports",
        "operatorReport",
        "Operator report of a date range: arrears, aging bands, roll and cure rates, write-offs, backstop draws",
        "Collection",
        "collection:read",
        reports.OperatorReport,
        query=reports.ReportQuery,
        errors=("INVALID_DATE_RANGE",),
        csv=True,
        description="Operators only. Business dates `from`..`to` (both closed; at most 366). JSON, or CSV "
        "(UTF-8 with a byte order mark) with `format=csv` or `Accept: text/csv`. Every figure's exact definition is "
        "on the reports page. Read from per-day counters kept in the events' own transactions (never a charge post) "
        "and each business date's closing balances; never a scan. Aging bands, past-due unpaid and roll rates count "
        "calendar days past due (paused days are not taken off, unlike getAging and the ladder).",
    ),
    # ---- the city credit platform: the blacklist export's deliveries (see the export page) ----
    Operation(
        "get",
        "/v1/exports",
        "listExports",
        "Deliveries of the blacklist export, newest first (credit platform)",
        "Credit platform",
        "exports:read",
        exports.ExportPage,
        paged=True,
        errors=("INVALID_CURSOR",),
        description=EXPORTS_TEXT,
    ),
    Operation(
        "get",
        "/v1/exports/{export_id}",
        "getExport",
        "One delivery: its window, counts, manifest SHA-256 and files (credit platform)",
        "Credit platform",
        "exports:read",
        exports.ExportDetail,
        errors=("EXPORT_NOT_FOUND",),
    ),
    Operation(
        "get",
        "/v1/exports/{export_id}/files/{file_name}",
        "downloadExportFile",
        "Download one file of a delivery as stored, with its SHA-256 in X-Content-SHA256 (credit platform)",
        "Credit platform",
        "exports:read",
        None,
        errors=("EXPORT_NOT_FOUND",),
        files=(
            "application/x-ndjson; charset=utf-8",
            "text/csv; charset=utf-8",
            "application/json; charset=utf-8",
            "text/plain; charset=utf-8",
        ),
        description="Data parts are at most 4 MiB, so each downloads in one answer. The CSV starts with a UTF-8 "
        "byte-order mark. Check each file against SHA256SUMS and the manifest, and the manifest's signature, "
        "before using it.",
    ),
    Operation(
        "post",
        "/v1/exports/{export_id}/acknowledgement",
        "acknowledgeExport",
        "Acknowledge a verified delivery, naming its manifest SHA-256 (credit platform; audited)",
        "Credit platform",
        "exports:write",
        exports.ExportSummary,
        request=exports.AcknowledgementRequest,
        errors=("EXPORT_NOT_FOUND", "EXPORT_MANIFEST_MISMATCH"),
        description="A second acknowledgement of the same manifest returns the first (Idempotent-Replayed: true); "
        "another SHA-256 is EXPORT_MANIFEST_MISMATCH (409) and changes nothing.",
    ),
    # ---- privacy (PIPL rights; services/rights.py) ----
    Operation(
        "get",
        "/v1/accounts/{account_id}/consents",
        "getConsentStates",
        "The consents and notices on record for an account, and which need an answer again (channels)",
        "Privacy",
        "privacy:write",
        privacy.ConsentStates,
        errors=("ACCOUNT_NOT_FOUND",),
        description=PRIVACY_TEXT,
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/consents",
        "answerConsents",
        "Record the person's answers to the current texts, on fresh real-name evidence (channels)",
        "Privacy",
        "privacy:write",
        privacy.ConsentStates,
        201,
        privacy.ConsentAnswer,
        True,
        errors=("ACCOUNT_NOT_FOUND", "CONSENT_REQUIRED", "VERIFICATION_STALE"),
        description="Each answer is a new record: earlier answers, of earlier versions, stay on record.",
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/privacy-requests",
        "privacyRequest",
        "A person's privacy request: access, correction, withdraw a consent, erasure, explanation, human review",
        "Privacy",
        "privacy:write",
        privacy.PrivacyRequestRecord,
        201,
        privacy.PrivacyRequest,
        True,
        errors=(
            "ACCOUNT_NOT_FOUND",
            "VERIFICATION_STALE",
            "CONSENT_REQUIRED",
            "AMOUNT_OWED",
            "VISIT_OPEN",
            "ERASURE_REFUSED",
            "IDENTITY_ERASED",
            "INVALID_PHONE",
        ),
        description="Sent by a channel with the person's real-name check from the last 10 minutes; recorded and "
        "audited. Access (the copy is in `answer`, never stored; a retry asks again), correction, consent "
        "withdrawal, erasure and explanation are answered at once; human_review waits for an operator, due "
        "within the policy's privacy.rights_answer_days.",
    ),
    Operation(
        "get",
        "/v1/privacy-requests",
        "listPrivacyRequests",
        "Privacy requests waiting for an operator, the earliest deadline first (operators)",
        "Privacy",
        "privacy:read",
        privacy.PrivacyRequestPage,
        paged=True,
        errors=("INVALID_CURSOR",),
    ),
    Operation(
        "post",
        "/v1/privacy-requests/{request_id}/answer",
        "answerPrivacyRequest",
        "Answer an open privacy request: the limit decision upheld or the limit raised, with a reason (operators)",
        "Privacy",
        "privacy:write",
        privacy.PrivacyRequestRecord,
        200,
        privacy.PrivacyAnswer,
        True,
        errors=("RIGHTS_REQUEST_NOT_FOUND", "RIGHTS_REQUEST_CLOSED", "ACCOUNT_NOT_FOUND"),
        description="Audited; a raised limit is a ledger entry (open_line) like the enrollment's.",
    ),
    # ---- webhooks: endpoints, the pull fallback, the delivery log and replay (services/webhooks.py) ----
    Operation(
        "post",
        "/v1/webhook-endpoints",
        "createWebhookEndpoint",
        "Register a webhook endpoint for some event kinds; its whsec_ secret is shown once",
        "Webhooks",
        "webhooks:write",
        webhooks.EndpointWithSecret,
        201,
        webhooks.EndpointRequest,
        True,
        errors=("WEBHOOK_URL_REFUSED", "EVENT_KIND_NOT_ALLOWED", "WEBHOOK_ENDPOINT_LIMIT"),
        description=WEBHOOKS_TEXT,
    ),
    Operation(
        "get",
        "/v1/webhook-endpoints",
        "listWebhookEndpoints",
        "The caller's webhook endpoints (never their secrets)",
        "Webhooks",
        "webhooks:read",
        webhooks.EndpointList,
    ),
    Operation(
        "delete",
        "/v1/webhook-endpoints/{endpoint_id}",
        "deleteWebhookEndpoint",
        "Remove a webhook endpoint; nothing more is delivered to it",
        "Webhooks",
        "webhooks:write",
        webhooks.Endpoint,
        errors=("WEBHOOK_ENDPOINT_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/webhook-endpoints/{endpoint_id}/secret-rotation",
        "rotateWebhookSecret",
        "A new secret; deliveries carry a signature with the previous one too until it expires",
        "Webhooks",
        "webhooks:write",
        webhooks.EndpointWithSecret,
        200,
        webhooks.SecretRotationRequest,
        True,
        errors=("WEBHOOK_ENDPOINT_NOT_FOUND",),
    ),
    Operation(
        "get",
        "/v1/events",
        "listEvents",
        "The caller's own events, oldest first, after a position (the pull fallback)",
        "Webhooks",
        "webhooks:read",
        webhooks.EventPage,
        query=webhooks.EventsQuery,
        errors=("INVALID_CURSOR",),
        description="For callers that cannot receive calls: poll with the `after` of the previous answer. An event "
        "is listed 30 seconds after it was written, so one committed late is never skipped. Each item is the "
        "webhook body, and `id` is the `webhook-id` of its deliveries.",
    ),
    Operation(
        "get",
        "/v1/events/{event_id}/deliveries",
        "listEventDeliveries",
        "The delivery log of one of the caller's events: each endpoint, each attempt",
        "Webhooks",
        "webhooks:read",
        webhooks.DeliveryLog,
        errors=("EVENT_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/events/{event_id}/replay",
        "replayEvent",
        "Deliver one of the caller's events again now, with the same webhook-id",
        "Webhooks",
        "webhooks:write",
        webhooks.Replay,
        202,
        None,
        True,
        errors=("EVENT_NOT_FOUND",),
    ),
    # ---- daily clearing files (services/clearing.py) ----
    Operation(
        "get",
        "/v1/clearing/{business_date}",
        "getClearing",
        "A party's daily clearing manifest: its files with SHA-256 and size, its net position",
        "Clearing",
        "clearing:read",
        clearing_messages.ClearingManifest,
        query=clearing_messages.ClearingQuery,
        errors=("CLEARING_NOT_FOUND",),
        description="Hospitals, financiers and channels read their own party's files (another party's are not "
        "found); operators name the party. The day is there once its clearing ran (hourly, after the city's "
        "cut-off); its files never change afterwards.",
    ),
    Operation(
        "get",
        "/v1/clearing/{business_date}/files/{clearing_file}",
        "getClearingFile",
        "One piece of a party's clearing file (clearing.csv, clearing.json or manifest.json), base64",
        "Clearing",
        "clearing:read",
        clearing_messages.ClearingFile,
        query=clearing_messages.ClearingFileQuery,
        errors=("CLEARING_NOT_FOUND",),
        description="At most 4 MiB per answer: ask again from next_offset until it is null, join the decoded "
        "pieces and compare their SHA-256 with the manifest's.",
    ),
    # ---- reconciliation (对账) ----
    Operation(
        "post",
        "/v1/reconciliations/totals",
        "reconcileTotals",
        "Reconcile a closed business date's totals by kind (hospitals; level 1, like 3201)",
        "Reconciliation",
        "reconciliation:write",
        reconciliation.TotalsResult,
        200,
        reconciliation.TotalsRequest,
        True,
        errors=("BUSINESS_DATE_OPEN",),
        description=RECONCILIATION_TEXT,
    ),
    Operation(
        "post",
        "/v1/reconciliations/lines",
        "reconcileLines",
        "Reconcile a closed business date line by line (hospitals; level 2, like 3202)",
        "Reconciliation",
        "reconciliation:write",
        reconciliation.LinesResult,
        200,
        reconciliation.LinesRequest,
        True,
        errors=("BUSINESS_DATE_OPEN",),
        description=f"{RECONCILIATION_TEXT} At most {reconciliation.MAX_DETAIL_LINES} lines and "
        f"{reconciliation.MAX_BODY_BYTES // 1024} KB per request.",
    ),
    Operation(
        "post",
        "/v1/statements",
        "uploadStatement",
        "Upload a channel's daily statement; breaks go to the suspense list (channels)",
        "Reconciliation",
        "reconciliation:write",
        reconciliation.StatementResult,
        201,
        reconciliation.StatementRequest,
        True,
        errors=("BUSINESS_DATE_OPEN", "STATEMENT_MALFORMED", "STATEMENT_CONFLICT"),
        description="One statement per channel and business date: the same file again returns the first result; "
        "another file for that date is STATEMENT_CONFLICT. A malformed file is refused whole (the message names "
        f"the line). At most {reconciliation.MAX_BODY_BYTES // 1024} KB per request.",
    ),
    Operation(
        "get",
        "/v1/suspense",
        "listSuspense",
        "Open suspense items, oldest first (operators)",
        "Reconciliation",
        "reconciliation:read",
        reconciliation.SuspensePage,
        paged=True,
        errors=("INVALID_CURSOR",),
    ),
    Operation(
        "get",
        "/v1/suspense/{suspense_id}",
        "getSuspense",
        "Read a suspense item (operators)",
        "Reconciliation",
        "reconciliation:read",
        reconciliation.SuspenseItem,
        errors=("SUSPENSE_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/suspense/{suspense_id}/resolve",
        "resolveSuspense",
        "Close an open suspense item with a reason (operators; audited)",
        "Reconciliation",
        "reconciliation:write",
        reconciliation.SuspenseItem,
        200,
        reconciliation.Resolution,
        True,
        errors=("SUSPENSE_NOT_FOUND", "SUSPENSE_ALREADY_RESOLVED"),
    ),
)

IDEMPOTENT_OPERATIONS = tuple(op.operation_id for op in OPERATIONS if op.idempotent)


def error_codes(op: Operation) -> tuple[str, ...]:
    """Every code the operation can answer with."""
    codes = [*(SIGNED_ERRORS if op.scope else PUBLIC_ERRORS)]
    if op.request is not None:
        codes += BODY_ERRORS
    if op.method == "post":  # a body that is not labelled application/json
        codes += ("UNSUPPORTED_MEDIA_TYPE",)
    if op.idempotent:
        codes += WRITE_ERRORS
    return tuple(dict.fromkeys([*codes, *op.errors]))


PATH_MAX_LENGTH = {"review_id": 100, "suspense_id": 36}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in (part[1:-1] for part in op.path.split("/") if part.startswith("{")):
        pattern, missing = PATH_PARAMETERS[name]
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": f"a value of another form is {missing.code}",
                "schema": {"type": "string", "pattern": pattern, "maxLength": PATH_MAX_LENGTH.get(name, 64)},
            }
        )
    if op.method == "post":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": (
                    "1-128 printable ASCII characters, scoped to the caller's key and this route. A retry with "
                    "the same key returns the first result (with `Idempotent-Replayed: true`); the same key with "
                    "another body is IDEMPOTENCY_KEY_REUSED (409). Records are kept 24 hours."
                    if op.idempotent
                    else "1-128 printable ASCII characters; checked for its format, otherwise without effect here."
                ),
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN, "minLength": 1, "maxLength": 128},
            }
        )
    if op.query is not None:
        _, defined = msgspec.json.schema_components([op.query], ref_template=REF)
        schema = defined[op.query.__name__]
        for name, prop in schema["properties"].items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "description": prop.get("description", ""),
                    "schema": {k: v for k, v in prop.items() if k != "description"},
                }
            )
    if op.paged:
        params += [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "ASCII digits only",
                "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "opaque: the `cursor` of the previous page, bound to this list and this caller "
                "(another list's or caller's cursor is INVALID_CURSOR)",
                "schema": {"type": "string", "pattern": CURSOR_PATTERN},
            },
        ]
    return params


def _operation(op: Operation) -> dict[str, Any]:
    if op.response is None:
        success: dict[str, Any] = {"type": "object"}
    elif isinstance(op.response, tuple):
        success = {"anyOf": [{"$ref": REF.format(name=t.__name__)} for t in op.response]}
    else:
        success = {"$ref": REF.format(name=op.response.__name__)}
    content: dict[str, Any] = (
        {media: {"schema": {"type": "string"}} for media in op.files}
        if op.files
        else {"application/json": {"schema": success}}
    )
    if op.csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(op.status): {"description": "success", "content": content}}
    by_status: dict[int, list[str]] = {}
    statuses = {c.code: status_of(c) for c in all_error_classes()}
    for code in error_codes(op):
        by_status.setdefault(statuses[code], []).append(code)
    for status, names in sorted(by_status.items()):
        responses[str(status)] = {
            "description": "error codes: " + ", ".join(sorted(set(names))),
            "x-treatfirst-error-codes": sorted(set(names)),
            "content": {"application/json": {"schema": {"$ref": REF.format(name="Error")}}},
        }
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": responses,
        "security": [{"TF1HmacSignature": []}] if op.scope else [],
    }
    if op.description:
        out["description"] = op.description
    if op.scope:
        out["x-treatfirst-scope"] = op.scope
    if op.request is not None:
        out["requestBody"] = {
            "required": not op.request.optional_body,
            "description": "JSON (`Content-Type: application/json`); unknown fields are refused",
            "content": {"application/json": {"schema": {"$ref": REF.format(name=op.request.__name__)}}},
        }
    return out


def components() -> dict[str, Any]:
    """Schemas of every message the operations name, generated from the structs."""
    kinds: list[Any] = [platform.Error]
    for op in OPERATIONS:
        responses = op.response if isinstance(op.response, tuple) else (op.response,)
        kinds += [t for t in (op.request, *responses) if t is not None]
    _, schemas = msgspec.json.schema_components(list(dict.fromkeys(kinds)), ref_template=REF)
    return dict(sorted(schemas.items()))


DESCRIPTION = (
    "先医后付 / treat first, pay later. Amounts are integer fen. Times are RFC 3339: requests may use any "
    "offset; responses give times in UTC with a `Z` suffix, except a bill's `due_at`, which is in the city's "
    "time zone, and a payment's `paid_at`, which comes back as the channel sent it. Errors are "
    '{"error": {code, message, field, request_id}}; a refused request changes nothing. A body, when sent, is '
    "JSON with `Content-Type: application/json`; bodies over 64 KB are refused with 413. Unknown fields and "
    "unknown query parameters are refused (400). Idempotency-Keys are scoped to the caller's key and the route; "
    "these operations return IDEMPOTENCY_KEY_REUSED when a key is reused with another body: "
    + ", ".join(IDEMPOTENT_OPERATIONS)
    + ". "
    + BILLS_READ
)


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    _add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "TreatFirst API", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "TF1HmacSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-TF-Signature",
                    "description": "HMAC-SHA256 over method, path, query, X-TF-Timestamp, X-TF-Nonce and the body's "
                    "SHA-256, keyed with SHA-256('TF1:' + secret); send X-TF-Key-Id too. Requests more "
                    "than 5 minutes off the server clock or with a used nonce are refused.",
                }
            },
        },
    }


# ---- Links: which response value feeds which next request (the stateful fuzzing tier follows them) ----
# The close is linked from a charge, the order a hospital follows (open, post charges, close); a visit with no
# charge can still be closed, but a link straight from the open would mostly make empty bills.
def _account_links(account_id: str) -> dict[str, Any]:
    return {
        "GetAccount": {"operationId": "getAccount", "parameters": {"account_id": account_id}},
        "ListAccountBills": {"operationId": "listAccountBills", "parameters": {"account_id": account_id}},
        "OpenVisit": {"operationId": "openVisit", "requestBody": {"account_id": account_id}},
        "Withdraw": {"operationId": "withdraw", "parameters": {"account_id": account_id}},
    }


def _visit_links(visit_id: str) -> dict[str, Any]:
    return {
        "GetVisit": {"operationId": "getVisit", "parameters": {"visit_id": visit_id}},
        "PostCharge": {"operationId": "postCharge", "parameters": {"visit_id": visit_id}},
        "ListCharges": {"operationId": "listCharges", "parameters": {"visit_id": visit_id}},
    }


def _bill_links(bill: str) -> dict[str, Any]:
    return {
        "GetBill": {"operationId": "getBill", "parameters": {"bill_id": f"$response.body#{bill}/bill_id"}},
        "PayBill": {
            "operationId": "notifyPayment",
            "description": "pay what the bill still owes",
            "requestBody": {
                "allocations": [
                    {
                        "bill_id": f"$response.body#{bill}/bill_id",
                        "amount_fen": f"$response.body#{bill}/outstanding_fen",
                    }
                ]
            },
        },
    }


_CHARGE = {"visit_id": "$response.body#/visit_id", "fee_line_id": "$response.body#/fee_line_id"}

LINKS: dict[str, dict[str, Any]] = {
    "enroll": _account_links("$response.body#/account_id"),
    "lookupAccount": _account_links("$response.body#/account_id"),
    "openVisit": _visit_links("$response.body#/visit_id"),
    "postCharge": {
        "CancelCharge": {"operationId": "cancelCharge", "parameters": _CHARGE},
        "RefundCharge": {"operationId": "refundCharge", "parameters": _CHARGE},
        "CloseVisit": {"operationId": "closeVisit", "parameters": {"visit_id": "$response.body#/visit_id"}},
    },
    "closeVisit": _bill_links("/bill"),
    "getBill": {"PayBill": _bill_links("")["PayBill"]},
}


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    """Put LINKS on each source operation's success response (OpenAPI 3.1 Link Objects)."""
    by_id = {op["operationId"]: op for methods in paths.values() for op in methods.values()}
    for source, links in LINKS.items():
        responses = by_id[source]["responses"]
        success = next(status for status in responses if status.startswith("2"))
        responses[success]["links"] = links
