"""One error hierarchy with a stable code per leaf. HTTP statuses are not here: see treatfirst.http_status."""

from __future__ import annotations

from typing import Any, ClassVar


class TreatFirstError(Exception):
    """Base of every error the platform reports to a caller."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.field = field
        self.details = details


# invalid requests -------------------------------------------------------------------------------------------------
class ValidationFailed(TreatFirstError):
    code = "VALIDATION_FAILED"
    default_message = "the request is not valid"


class MalformedJson(ValidationFailed):
    code = "MALFORMED_JSON"
    default_message = "the body is not valid JSON"


class InvalidAmount(ValidationFailed):
    code = "INVALID_AMOUNT"
    default_message = "amounts are non-negative integers in fen"


class SplitMismatch(ValidationFailed):
    code = "SPLIT_MISMATCH"
    default_message = "total_fen must equal insurance_fen + personal_account_fen + self_pay_fen"


class InvalidIdNumber(ValidationFailed):
    code = "INVALID_ID_NUMBER"
    default_message = "the resident ID number is not valid"


class InvalidPhone(ValidationFailed):
    code = "INVALID_PHONE"
    default_message = "the phone number is not a mainland mobile number"


class InvalidCursor(ValidationFailed):
    code = "INVALID_CURSOR"
    default_message = "the cursor is not valid"


class InvalidDateRange(ValidationFailed):
    code = "INVALID_DATE_RANGE"
    default_message = "the date range is not one a report can cover"


class ConsentMissing(ValidationFailed):
    code = "CONSENT_REQUIRED"
    default_message = "a required consent was not given"


class PolicyInvalid(TreatFirstError):
    code = "POLICY_INVALID"
    default_message = "the city policy is not valid"


# who is calling -------------------------------------------------------------------------------------------
class Unauthenticated(TreatFirstError):
    code = "UNAUTHENTICATED"
    default_message = "the request is not signed by a known key"


class BadSignature(Unauthenticated):
    code = "BAD_SIGNATURE"
    default_message = "the signature does not match the request"


class ClockSkew(Unauthenticated):
    code = "CLOCK_SKEW"
    default_message = "the request timestamp is more than 5 minutes from the server's clock"


class ReplayedNonce(Unauthenticated):
    code = "REPLAYED_NONCE"
    default_message = "this nonce was already used"


class Forbidden(TreatFirstError):
    code = "FORBIDDEN"
    default_message = "the key lacks the scope this operation needs"


# not found ---------------------------------------------------------------------------------------------------
class NotFound(TreatFirstError):
    code = "NOT_FOUND"
    default_message = "not found"


class AccountNotFound(NotFound):
    code = "ACCOUNT_NOT_FOUND"
    default_message = "no such account"


class VisitNotFound(NotFound):
    code = "VISIT_NOT_FOUND"
    default_message = "no such visit"


class ChargeNotFound(NotFound):
    code = "CHARGE_NOT_FOUND"
    default_message = "no such charge"


class BillNotFound(NotFound):
    code = "BILL_NOT_FOUND"
    default_message = "no such bill"


class ClockDisabled(NotFound):
    code = "TEST_CLOCK_DISABLED"
    default_message = "this deployment has no test clock (only the local stack and sandboxes enable it)"


class PauseNotFound(NotFound):
    code = "PAUSE_NOT_FOUND"
    default_message = "no open pause with this id"


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"
    default_message = "no such phone task"


class ReviewNotFound(NotFound):
    code = "REVIEW_NOT_FOUND"
    default_message = "no such review item"


class ExportNotFound(NotFound):
    code = "EXPORT_NOT_FOUND"
    default_message = "no such export (or no such file in it)"


class ClearingUnbalanced(TreatFirstError):
    """The daily clearing found its totals differ from the ledger (never expected): it stops before any file."""

    code = "CLEARING_UNBALANCED"
    default_message = "the day's clearing does not reconcile to the ledger"


class ClearingNotFound(NotFound):
    code = "CLEARING_NOT_FOUND"
    default_message = "no clearing file of this party for this business date"


class CallerNotFound(NotFound):
    code = "CALLER_NOT_FOUND"
    default_message = "no such caller key"


class RouteNotFound(NotFound):
    code = "ROUTE_NOT_FOUND"
    default_message = "no such route"


class MethodNotAllowed(TreatFirstError):
    code = "METHOD_NOT_ALLOWED"
    default_message = "this route does not take this method"


# conflicts and refusals ---------------------------------------------------------------------------------------
class Conflict(TreatFirstError):
    code = "CONFLICT"
    default_message = "the request conflicts with the current state"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "this Idempotency-Key was used with a different request"


class FeeLineConflict(Conflict):
    code = "FEE_LINE_CONFLICT"
    default_message = "this fee line id was already posted with different contents"


class TransactionIdConflict(Conflict):
    code = "TRANSACTION_ID_CONFLICT"
    default_message = "this channel transaction id was already used for a different payment"


class VisitClosed(Conflict):
    code = "VISIT_CLOSED"
    default_message = "the visit is closed"


class ChargeNotRefundable(Conflict):
    code = "CHARGE_NOT_REFUNDABLE"
    default_message = "the refund exceeds what remains of the charge"


class RefundExceedsOutstanding(Conflict):
    code = "REFUND_EXCEEDS_OUTSTANDING"
    default_message = "the bill is already paid beyond this refund; refund the money through the channel"


class AlreadyEnrolled(Conflict):
    code = "ALREADY_ENROLLED"
    default_message = "this resident is already enrolled"


class AmountOwed(Conflict):
    code = "AMOUNT_OWED"
    default_message = "the account still has held or owed amounts"


class VisitOpen(Conflict):
    code = "VISIT_OPEN"
    default_message = "the account has an open visit; close it first"


class AccountNotActive(Conflict):
    code = "ACCOUNT_NOT_ACTIVE"
    default_message = "the account is not active"


class AccountRestricted(Conflict):
    code = "ACCOUNT_RESTRICTED"
    default_message = "the account is restricted by the collection ladder or the strike rule"


class CallerExists(Conflict):
    code = "CALLER_EXISTS"
    default_message = "a caller of this kind with this id already has an active key"


class CallerRevoked(Conflict):
    code = "CALLER_REVOKED"
    default_message = "the caller key is revoked"


class AlreadyDisputed(Conflict):
    code = "ALREADY_DISPUTED"
    default_message = "this bill has an open dispute"


class TaskNotClaimable(Conflict):
    code = "TASK_NOT_CLAIMABLE"
    default_message = "the phone task is claimed by another operator or already done"


class ReviewAlreadyDecided(Conflict):
    code = "REVIEW_ALREADY_DECIDED"
    default_message = "this review item was already decided"


class ExportManifestMismatch(Conflict):
    code = "EXPORT_MANIFEST_MISMATCH"
    default_message = "manifest_sha256 is not the SHA-256 of this export's manifest"


class ConcurrentUpdate(Conflict):
    code = "CONCURRENT_UPDATE"
    default_message = "the resource changed while the request ran; retry"


class PayloadTooLarge(TreatFirstError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = "the body is larger than 64 KB"


class UnsupportedMediaType(TreatFirstError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "a request body must be sent as application/json"


class Unprocessable(TreatFirstError):
    code = "UNPROCESSABLE"
    default_message = "the request is valid but the rules refuse it"


class CreditLimitExceeded(Unprocessable):
    code = "CREDIT_LIMIT_EXCEEDED"
    default_message = "the self-pay amount exceeds the available credit"


class NotEligible(Unprocessable):
    code = "NOT_ELIGIBLE"
    default_message = "the resident is not eligible under the city policy"


class Overpayment(Unprocessable):
    code = "OVERPAYMENT"
    default_message = "the payment is more than the bill's outstanding amount"


class VerificationStale(Unprocessable):
    code = "VERIFICATION_STALE"
    default_message = "the real-name verification is not recent enough; verify the person again"


class EmergencyNotDeclared(Unprocessable):
    code = "EMERGENCY_NOT_DECLARED"
    default_message = "an emergency charge needs a visit opened with an emergency declaration"


class EmergencyNotCovered(Unprocessable):
    code = "EMERGENCY_NOT_COVERED"
    default_message = "the city policy does not cover this triage level as an emergency (急危重症)"


class BillNotPayable(Unprocessable):
    code = "BILL_NOT_PAYABLE"
    default_message = "the bill cannot take payments in its state"


class Throttled(TreatFirstError):
    code = "THROTTLED"
    default_message = "too many requests; retry later with the same Idempotency-Key"


# webhooks and events (services/events.py, services/webhooks.py) ------------------------------------------------
class EventNotFound(NotFound):
    code = "EVENT_NOT_FOUND"
    default_message = "no such event"


class EndpointNotFound(NotFound):
    code = "WEBHOOK_ENDPOINT_NOT_FOUND"
    default_message = "no such webhook endpoint"


class EndpointUrlRefused(ValidationFailed):
    code = "WEBHOOK_URL_REFUSED"
    default_message = "the endpoint URL must be https and resolve only to public addresses"


class EventKindNotAllowed(ValidationFailed):
    code = "EVENT_KIND_NOT_ALLOWED"
    default_message = "this caller cannot subscribe to this event kind"


class EndpointLimit(Unprocessable):
    code = "WEBHOOK_ENDPOINT_LIMIT"
    default_message = "this caller already has the most webhook endpoints allowed"


# reconciliation (对账) -------------------------------------------------------------------------------------------
class StatementMalformed(ValidationFailed):
    code = "STATEMENT_MALFORMED"
    default_message = "the statement file is not in its declared format"


class SuspenseNotFound(NotFound):
    code = "SUSPENSE_NOT_FOUND"
    default_message = "no such suspense item"


class SuspenseAlreadyResolved(Conflict):
    code = "SUSPENSE_ALREADY_RESOLVED"
    default_message = "the suspense item is no longer open"


class StatementConflict(Conflict):
    code = "STATEMENT_CONFLICT"
    default_message = "a different statement of this channel and business date was already reconciled"


class BusinessDateOpen(Unprocessable):
    code = "BUSINESS_DATE_OPEN"
    default_message = "the business date is not closed yet; reconcile it after its cut-off"


# blacklist, appeals and strikes (services/blacklist.py) ----------------------------------------------------------
class BlacklistRecordNotFound(NotFound):
    code = "BLACKLIST_RECORD_NOT_FOUND"
    default_message = "no such blacklist record"


class AppealNotFound(NotFound):
    code = "APPEAL_NOT_FOUND"
    default_message = "no such appeal"


class StrikeNotFound(NotFound):
    code = "STRIKE_NOT_FOUND"
    default_message = "the account has no such overdue record (strike)"


class RecordNotListed(Conflict):
    code = "RECORD_NOT_LISTED"
    default_message = "the record is no longer on the list"


class AppealPending(Conflict):
    code = "APPEAL_PENDING"
    default_message = "the record already has an appeal waiting for a decision"


class AppealAlreadyDecided(Conflict):
    code = "APPEAL_ALREADY_DECIDED"
    default_message = "this appeal was already decided or closed"


class StrikeAlreadyAnnulled(Conflict):
    code = "STRIKE_ALREADY_ANNULLED"
    default_message = "this overdue record (strike) was already annulled"


class AppealNotAllowed(Unprocessable):
    code = "APPEAL_NOT_ALLOWED"
    default_message = "the city policy does not provide for appeals"


# privacy (consents, rights, erasure) --------------------------------------------------------------------------------
class IdentityErased(NotFound):
    code = "IDENTITY_ERASED"
    default_message = "this person's identity was erased (its data key is destroyed)"


class GuardianRequired(Unprocessable):
    code = "GUARDIAN_REQUIRED"
    default_message = (
        "the person is under 14: a guardian must consent with evidence of guardianship, which this platform "
        "cannot take yet"
    )


class ErasureRefused(Conflict):
    code = "ERASURE_REFUSED"
    default_message = "the account cannot be erased yet (something is owed or held, or a visit is open)"


class ReconsentRequired(Conflict):
    code = "RECONSENT_REQUIRED"
    default_message = (
        "the city's policy changed what a necessary consent or notice covers: the person must answer the current "
        "texts again before a new visit opens"
    )


class RightsRequestNotFound(NotFound):
    code = "RIGHTS_REQUEST_NOT_FOUND"
    default_message = "no such privacy request"


class RightsRequestClosed(Conflict):
    code = "RIGHTS_REQUEST_CLOSED"
    default_message = "the privacy request is already answered"


def all_error_classes() -> list[type[TreatFirstError]]:
    """Every concrete error class, for the error-code reference page and the OpenAPI document."""
    seen: list[type[TreatFirstError]] = []
    stack: list[type[TreatFirstError]] = [TreatFirstError]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
        stack.extend(cls.__subclasses__())
    codes: dict[str, type[TreatFirstError]] = {}
    for cls in seen:
        codes.setdefault(cls.code, cls)
    return sorted(codes.values(), key=lambda c: c.code)
