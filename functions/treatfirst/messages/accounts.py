"""Enrollment (签约), account look-up, withdrawal and the account views."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from treatfirst.domain.policy import ConsentKind, InsuranceStatus
from treatfirst.messages.common import Fen, Request, Response, Text64, Time, Token, UtcTime

NAME_PATTERN = r"^[\u4e00-\u9fffA-Za-z·.\-][\u4e00-\u9fffA-Za-z·.\- ]{0,39}$"

IdNumber = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description="resident ID number (GB 11643): 17 digits and a check character (0-9 or X), checksum checked",
        extra_json_schema={"pattern": "^[0-9]{17}[0-9Xx]$"},
    ),
]
Phone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        description="an 11-digit mainland mobile number, optionally after +86",
        extra_json_schema={"pattern": "^(\\+86)?1[3-9][0-9]{9}$"},
    ),
]


class Verification(Request):
    """Evidence of the channel's real-name check of this person (face or SMS)."""

    method: Literal["face", "sms"]
    check_id: Annotated[Token, Meta(description="the verification provider's id of the check")]
    verified_at: Annotated[Time, Meta(description="when the check passed (RFC 3339 with offset)")]


class CreditScore(Request):
    source: Text64
    value: Annotated[int, Meta(ge=0, le=1000)]


class ConsentGiven(Request):
    kind: ConsentKind
    version: Annotated[str, Meta(min_length=1, max_length=20, pattern=r"\S")]
    text_sha256: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            description="SHA-256 (hex) of the exact text shown, from GET /v1/consents; must match the current text",
        ),
    ]


class EnrollmentRequest(Request):
    """Enroll a resident: identity, real-name verification, separate consents."""

    name: Annotated[str, Meta(min_length=1, max_length=40, pattern=NAME_PATTERN)]
    id_number: IdNumber
    phone: Phone
    insurance_status: Annotated[
        InsuranceStatus, Meta(description="医保 status; the city policy accepts some values (GET /v1/policy)")
    ]
    verification: Verification
    consents: Annotated[
        list[ConsentGiven],
        Meta(
            min_length=1,
            max_length=10,
            description="every consent the city policy requires, each once, at its current version and text SHA-256",
        ),
    ]
    credit_score: CreditScore | None = None


class LookupRequest(Request):
    id_number: IdNumber


class WithdrawalRequest(Request):
    """Withdrawal needs fresh real-name evidence of the person (only a channel, the patient's side, sends it)."""

    verification: Annotated[
        Verification,
        Meta(
            description="the channel's real-name check of this person, passed at most 10 minutes ago (and not "
            "more than 5 minutes in the future), else VERIFICATION_STALE"
        ),
    ]


class CreditLine(Response):
    """limit_fen == available_fen + held_fen + owed_fen; emergency amounts sit outside the limit."""

    limit_fen: Fen
    available_fen: Fen
    held_fen: Fen
    owed_fen: Fen
    emergency_held_fen: Fen
    emergency_owed_fen: Fen


class Reason(Response):
    code: str
    message: str


class Decision(Response):
    """The limit decision with its reasons and the policy that made it (PIPL art. 24)."""

    eligible: bool
    limit_fen: Fen
    tier: str | None
    reasons: list[Reason]
    automated: bool
    human_review: str
    decided_at: UtcTime
    policy_city: str
    policy_version: str
    policy_sha256: str


class AccountCredit(Response):
    """A hospital's view of an account: what opening a visit needs, no identity (PIPL minimum necessary)."""

    account_id: str
    status: Literal["active", "suspended", "withdrawn"]
    available_fen: Annotated[Fen, Meta(description="credit available for self-pay now")]
    emergency_only: Annotated[
        bool, Meta(description="true when only a visit declared an emergency may be opened (the account is suspended)")
    ]


class AccountForPayer(Response):
    """A channel's view of an account: what a payer needs (masked identity and amounts), no phone."""

    account_id: str
    status: Literal["active", "suspended", "withdrawn"]
    city_code: str
    name: Annotated[str, Meta(description="masked, e.g. 张*")]
    id_number: Annotated[str, Meta(description="masked, e.g. 3207**********1234")]
    credit_line: CreditLine
    withdrawn_at: UtcTime | None = None


class Account(Response):
    """An account, every field (the operator's view, and the answer to the enrollment); identifiers masked."""

    account_id: str
    status: Literal["active", "suspended", "withdrawn"]
    city_code: str
    name: Annotated[str, Meta(description="masked, e.g. 张*")]
    id_number: Annotated[str, Meta(description="masked, e.g. 3207**********1234")]
    phone: Annotated[str, Meta(description="masked, e.g. 138****5678")]
    tier: str | None
    credit_line: CreditLine
    decision: Decision
    enrolled_at: UtcTime
    withdrawn_at: UtcTime | None = field(default=None)
