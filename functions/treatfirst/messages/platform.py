"""Platform messages: health, the policy, consent texts, caller keys and the error shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from treatfirst.domain.errors import all_error_classes
from treatfirst.messages.common import Request, Response, Text100, UtcTime, record_id_pattern
from treatfirst.services.callers import DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, MAX_REASON

CALLER_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{2,63}$"


class Health(Response):
    status: Literal["ok"]
    policy_city: str
    policy_version: str
    policy_sha256: str


class PolicyDocument(Response):
    policy_city: str
    policy_version: str
    policy_sha256: str
    policy: Annotated[dict[str, Any], Meta(description="the city policy file as data")]


class ConsentText(Response):
    kind: str
    version: str
    title: str
    title_en: str
    text: str
    text_sha256: str
    required: Annotated[
        bool,
        Meta(
            description="true: enrollment needs it (the service cannot work without it); false: the person may refuse"
        ),
    ] = True
    mode: Annotated[
        Literal["consent", "notice"], Meta(description="notice: a statutory basis; show it, the person is told")
    ] = "consent"


class Consents(Response):
    policy_city: str
    policy_version: str
    policy_sha256: str
    items: list[ConsentText]


class CallerRequest(Request):
    kind: Literal["hospital", "channel"]
    id: Annotated[
        str,
        Meta(pattern=CALLER_ID_PATTERN, description="3-64 characters of a-z, 0-9, _ and -, starting with a-z or 0-9"),
    ]
    name: Text100


class CallerKey(Response):
    key_id: Annotated[str, Meta(pattern=record_id_pattern("key"))]
    secret: Annotated[
        str | None,
        Meta(
            description="shown once; a retry with the same Idempotency-Key by the same operator key shows it again "
            "within 24 hours, null after that"
        ),
    ]
    kind: str
    id: str
    scopes: list[str]
    previous_secret_expires_at: Annotated[
        UtcTime | None, Meta(description="rotation only: until when the previous secret still works (null: not at all)")
    ] = None


Reason = Annotated[str, Meta(min_length=1, max_length=MAX_REASON, pattern=r"\S", description="kept in the audit log")]


class RotationRequest(Request):
    reason: Reason
    previous_valid_seconds: Annotated[
        int,
        Meta(ge=0, le=MAX_OVERLAP_SECONDS, description="how long the previous secret keeps working; 0 ends it at once"),
    ] = DEFAULT_OVERLAP_SECONDS


class RevocationRequest(Request):
    reason: Reason


class Revocation(Response):
    key_id: str
    kind: str
    id: str
    status: Literal["revoked"]
    revoked_at: UtcTime
    effective_within_seconds: Annotated[int, Meta(description="every server refuses the key within this many seconds")]


ErrorCode = Annotated[
    str,
    Meta(
        description="a stable error code (see the error-code page)",
        extra_json_schema={"enum": sorted({c.code for c in all_error_classes()})},
    ),
]


class ErrorDetail(Response):
    code: ErrorCode
    message: str
    field: Annotated[str | None, Meta(description="the request field at fault, when one is")]
    request_id: str
    details: dict[str, Any] | None = None


class Error(Response):
    error: ErrorDetail
