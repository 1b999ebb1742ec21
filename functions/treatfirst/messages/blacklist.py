"""The blacklist record, its appeals, strike annulment and the patient's status (services/blacklist.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from treatfirst.messages.accounts import Verification
from treatfirst.messages.common import Fen, Request, Response, Text200, UtcTime

Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a business date of the city (YYYY-MM-DD)")]
RecordState = Literal["listed", "appealing", "removed", "purged"]
RemovalReason = Literal["repaid", "appeal_accepted", "expired", "corrected"]


class ListedBill(Response):
    bill_id: str
    amount_fen: Annotated[Fen, Meta(description="what was unpaid on it when the record was made")]
    due_at: UtcTime | None = None


class LegalBasisRef(Response):
    document: str
    title: str
    provision: str | None = None


class Basis(Response):
    """The decision basis: the policy that made the record and the legal basis it names."""

    policy_version: str
    policy_sha256: str
    legal_basis: Annotated[str, Meta(description="the text of the policy's blacklist.legal_basis")]
    legal_basis_ref: LegalBasisRef


class Cause(Response):
    source: Annotated[Literal["ladder", "strikes"], Meta(description="a ladder step, or the strike rule")]
    step: str
    days_overdue: int
    anchor: Annotated[Day | None, Meta(description="the earliest unpaid due date (ladder)")] = None
    rule_on: Annotated[Day | None, Meta(description="the date the strike rule applied (strikes)")] = None


class Notice(Response):
    """Proof of prior notice: the SMS that warned the patient, delivered to the gateway before the listing."""

    message_ids: list[str]
    sent_at: list[UtcTime]


class Removal(Response):
    reason: RemovalReason
    on: Day
    at: UtcTime
    by: Annotated[str, Meta(description="the operator, or system for the daily sweep")]


class BlacklistRecord(Response):
    """A blacklist record as operators see it (the account's identifiers are never in it)."""

    record_id: str
    state: RecordState
    account_id: str | None = None
    reason: str | None = None
    amount_fen: Fen | None = None
    bills: list[ListedBill] | None = None
    basis: Basis | None = None
    cause: Cause | None = None
    notice: Notice | None = None
    strike_bills: list[str] | None = None
    listed_at: UtcTime | None = None
    listed_on: Day | None = None
    publish_on: Annotated[Day | None, Meta(description="first date it may be exported (objection period)")] = None
    published_on: Annotated[Day | None, Meta(description="when the export's 'added' change was written")] = None
    valid_until: Annotated[Day | None, Meta(description="last business date on the list")] = None
    repaid_on: Annotated[Day | None, Meta(description="all overdue bills found paid: the cooling days run")] = None
    next_due: Annotated[Day | None, Meta(description="the next scheduled transition")] = None
    removed_on: Day | None = None
    removal: Removal | None = None
    purge_on: Day | None = None
    appeal_id: Annotated[str | None, Meta(description="the latest appeal")] = None


class Appeal(Response):
    appeal_id: str
    record_id: str
    status: Literal["pending", "accepted", "rejected", "closed"]
    statement: str
    filed_at: UtcTime
    filed_by_kind: Literal["channel", "operator"]
    filed_by: str
    verification_method: Literal["face", "sms"] | None = None
    decided_at: UtcTime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    annul_strikes: bool | None = None


class RecordWithAppeals(Response):
    record: BlacklistRecord
    appeals: list[Appeal]


class BlacklistPage(Response):
    items: list[BlacklistRecord]
    has_more: bool
    cursor: str | None


class AppealPage(Response):
    items: list[Appeal]
    has_more: bool
    cursor: str | None


class AppealRequest(Request):
    """An appeal (异议): by the patient through a channel (fresh real-name check) or by an operator for them."""

    statement: Annotated[Text200, Meta(description="the grounds of the appeal, kept with it and in the audit log")]
    verification: Annotated[
        Verification | None,
        Meta(
            description="required from a channel: the channel's real-name check of this person, passed at most 10 "
            "minutes ago, else VALIDATION_FAILED (missing) or VERIFICATION_STALE"
        ),
    ] = None


class AppealDecision(Request):
    outcome: Annotated[
        Literal["accepted", "rejected"],
        Meta(description="accepted: the record leaves the list (appeal_accepted); rejected: it stays listed"),
    ]
    reason: Annotated[Text200, Meta(description="why, for the patient and the audit trail")]
    annul_strikes: Annotated[
        bool,
        Meta(description="accepted only: also annul the overdue records (strikes) the listing rested on"),
    ] = False


class CorrectionRequest(Request):
    reason: Annotated[Text200, Meta(description="the error corrected, kept in the audit log")]


class StrikeAnnulment(Request):
    reason: Annotated[Text200, Meta(description="why the overdue record is annulled, kept in the strike log")]


class StrikeAnnulled(Response):
    account_id: str
    bill_id: str
    on: Annotated[Day, Meta(description="the business date the bill went overdue")]
    annulled_at: UtcTime
    reason: str
    strikes_counted: Annotated[int, Meta(description="strikes that still count under the policy's rule")]
    strike_rule_applied: Annotated[bool, Meta(description="whether the strike rule's actions still hold")]


class StatusRecord(Response):
    """One record as the patient sees it: what, why, on which basis, and the way off it (PIPL art. 24)."""

    record_id: str
    state: RecordState
    reason_text: Annotated[str, Meta(description="why the record was made, in Chinese")]
    amount_fen: Fen
    bills: list[ListedBill]
    listed_on: Day
    valid_until: Day
    legal_basis: str
    policy_version: str
    exported: Annotated[bool, Meta(description="whether it was reported to the city credit platform's delta")]
    how_to_leave: Annotated[str, Meta(description="the ways off the list under the city's policy, in Chinese")]
    repaid_on: Day | None = None
    repair_on: Annotated[Day | None, Meta(description="removed on this date if nothing falls overdue")] = None
    removed_on: Day | None = None
    removal_reason: RemovalReason | None = None
    appeal_status: Literal["pending", "accepted", "rejected", "closed"] | None = None


class BlacklistStatus(Response):
    account_id: str
    listed: Annotated[bool, Meta(description="a record is on the list now (listed or under appeal)")]
    waiting_for_notice: Annotated[
        bool, Meta(description="the ladder called for a listing that waits until the warning SMS is delivered")
    ]
    records: list[StatusRecord]


# ---- listings waiting for a delivered notice (operators) ---------------------------------------------------------
class WaitingListing(Response):
    """A listing called for and not made yet: the record waits until a warning message is delivered."""

    account_id: str
    source: Annotated[Literal["ladder", "strikes"], Meta(description="a ladder step, or the strike rule")]
    step: str
    since: Annotated[Day, Meta(description="the business date the listing was called for")]
    messages: Annotated[
        list[str], Meta(description="the warning messages (outbox ids); the record is made once one is delivered")
    ]


class WaitingListings(Response):
    """Every listing waiting for a delivered notice, the longest waiting first."""

    items: list[WaitingListing]
