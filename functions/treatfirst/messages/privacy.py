"""Privacy: the consents on record and a person's requests (PIPL arts. 15, 24, 44-47), and the operator's answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from treatfirst.domain.policy import ConsentKind
from treatfirst.messages.accounts import NAME_PATTERN, ConsentGiven, Phone, Verification
from treatfirst.messages.common import Fen, Request, Response, Text200, UtcTime

FRESH_TEXT = (
    "the channel's real-name check of this person, passed at most 10 minutes ago (and not more than 5 minutes in "
    "the future), else VERIFICATION_STALE"
)


class ConsentState(Response):
    kind: str
    mode: Annotated[Literal["consent", "notice"], Meta(description="notice: a statutory basis, the person is told")]
    required: Annotated[bool, Meta(description="true only for what the service cannot work without")]
    current_version: str
    on_record: Annotated[bool, Meta(description="the latest answer stands and covers the current text's scope")]
    needs_answer: Annotated[
        bool,
        Meta(
            description="true when the city policy changed what this consent covers (purposes, categories, "
            "recipients) since the person's answer, or the person never answered: show the text again"
        ),
    ]
    accepted_version: str | None = None
    accepted_at: UtcTime | None = None
    withdrawn_at: UtcTime | None = None


class ConsentStates(Response):
    account_id: str
    items: list[ConsentState]


class ConsentAnswer(Request):
    """Record the person's answers to the current texts (a re-consent after a policy change, or a later consent)."""

    verification: Annotated[Verification, Meta(description=FRESH_TEXT)]
    consents: Annotated[list[ConsentGiven], Meta(min_length=1, max_length=10)]


class Correction(Request):
    """What to correct: the phone number or the name (an ID number is the person: an operator handles it)."""

    phone: Phone | None = None
    name: Annotated[str, Meta(min_length=1, max_length=40, pattern=NAME_PATTERN)] | None = None


class PrivacyRequest(Request):
    """A person's request, sent by a channel with fresh real-name evidence of that person."""

    kind: Annotated[
        Literal["access", "correction", "withdraw_consent", "erasure", "explanation", "human_review"],
        Meta(
            description="access: a machine-readable copy of the person's own records (answered at once); "
            "correction: a new phone or name (at once); withdraw_consent: withdraw `consent_kind` (at once, with its "
            "consequence); erasure: erase the identity once nothing is owed or held (at once, or refused with the "
            "reason); explanation: the reasons of the limit decision (at once); human_review: a person reviews the "
            "automated limit decision (queued for an operator, answered within the policy's deadline)"
        ),
    ]
    verification: Annotated[Verification, Meta(description=FRESH_TEXT)]
    consent_kind: ConsentKind | None = None
    correction: Correction | None = None
    reason: Annotated[Text200 | None, Meta(description="the person's words (human_review)")] = None


class PrivacyRequestRecord(Response):
    request_id: str
    account_id: str
    kind: str
    status: Annotated[Literal["answered", "open", "refused"], Meta(description="open: waiting for an operator")]
    opened_at: UtcTime
    due_at: Annotated[UtcTime, Meta(description="the answer is due by then (privacy.rights_answer_days)")]
    answered_at: UtcTime | None = None
    answered_by: str | None = None
    outcome: str | None = None
    answer: Annotated[dict[str, Any] | None, Meta(description="what was done, or the copy of the data")] = None
    overdue: Annotated[
        bool | None,
        Meta(description="in the operator queue: true when the request is still open after due_at"),
    ] = None


class PrivacyRequestPage(Response):
    items: list[PrivacyRequestRecord]
    has_more: bool
    cursor: str | None
    overdue: Annotated[
        int | None,
        Meta(description="how many requests of the whole queue are open past their due_at (the documented deadline)"),
    ] = None


class PrivacyAnswer(Request):
    """An operator's answer to an open request (a human review of a limit decision)."""

    outcome: Annotated[
        Literal["upheld", "changed"],
        Meta(description="upheld: the decision stands; changed: the limit is set to limit_fen"),
    ]
    reason: Annotated[Text200, Meta(description="the explanation the person receives; audited")]
    limit_fen: Annotated[Fen | None, Meta(description="the new limit (changed); at most the policy's top tier")] = None
