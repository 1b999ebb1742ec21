"""What every message shares: the base structs, the field types (money, tokens, times) and strict decoding.

Each request and response is declared once, as a msgspec Struct in this package. The HTTP edge decodes a
request body straight from its raw bytes into its struct (unknown fields refused, money integer-only and
bounded, lengths and patterns checked); the OpenAPI components are generated from the same structs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, ClassVar, TypeVar

import msgspec
from msgspec import Meta

from treatfirst.domain.errors import (
    AccountNotFound,
    AppealNotFound,
    BillNotFound,
    BlacklistRecordNotFound,
    CallerNotFound,
    ChargeNotFound,
    ClearingNotFound,
    EndpointNotFound,
    EventNotFound,
    ExportNotFound,
    InvalidAmount,
    InvalidIdNumber,
    MalformedJson,
    PauseNotFound,
    ReviewNotFound,
    RightsRequestNotFound,
    SuspenseNotFound,
    TaskNotFound,
    TreatFirstError,
    ValidationFailed,
    VisitNotFound,
)
from treatfirst.domain.money import MAX_FEN

# ---- one source for each constant ----------------------------------------------------------------------------
TOKEN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"  # noqa: S105 (a pattern, not a password)
"""An external id (fee-line ids, transaction ids, HIS visit ids, check ids): 1-64 of A-Z a-z 0-9 _ . : -"""

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
"""What a field name looks like; only such names are echoed back in an error (never a value sent as a key)."""

Fen = Annotated[
    int,
    Meta(ge=0, le=MAX_FEN, description="amount in fen (分), an integer; never a float, a string or a boolean"),
]
PositiveFen = Annotated[int, Meta(ge=1, le=MAX_FEN, description="amount in fen (分), an integer greater than 0")]
Token = Annotated[str, Meta(pattern=TOKEN_PATTERN, description="1-64 characters of A-Z a-z 0-9 _ . : -")]
Time = Annotated[datetime, Meta(tz=True, description="RFC 3339 time with an offset (Z or ±hh:mm)")]
UtcTime = Annotated[
    str, Meta(description="RFC 3339 time in UTC with a Z suffix", extra_json_schema={"format": "date-time"})
]
Text64 = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"\S", description="1-64 characters, not blank")]
Text100 = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"\S", description="1-100 characters, not blank")]
Text200 = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S", description="1-200 characters, not blank")]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields are refused."""

    optional_body: ClassVar[bool] = False  # True: an empty body means every field at its default


class Response(msgspec.Struct, kw_only=True):
    """A response body."""


class Empty(Request):
    """No fields: send no body, or `{}`."""

    optional_body: ClassVar[bool] = True


# ---- decoding at the edge --------------------------------------------------------------------------------------
R = TypeVar("R", bound=Request)

# A field whose value is refused gets the code its rule has always had.
_FIELD_CODES: dict[str, type[ValidationFailed]] = {"id_number": InvalidIdNumber}


@lru_cache(maxsize=64)
def _decoder(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode(raw: bytes, kind: type[R]) -> R:
    """The body as its struct, or a 400 naming the field (MALFORMED_JSON when it is not JSON at all).

    Typed decoding never recurses into values it does not expect: 2 KB of `[[[[` is one type error.
    """
    if not raw.strip():
        if kind.optional_body:
            return kind()
        raise ValidationFailed("the body must be a JSON object")
    try:
        decoded: R = _decoder(kind).decode(raw)
    except msgspec.ValidationError as exc:
        raise refusal(str(exc)) from None
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise MalformedJson() from None
    _times_in_range(decoded)
    return decoded


def _times_in_range(value: Any, path: str = "") -> None:
    """Every time must have a UTC equivalent: 0001-01-01T00:00:00+05:00 is a valid RFC 3339 text whose instant
    falls before the year 1, which Python cannot represent (it was a 500)."""
    if isinstance(value, datetime):
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValidationFailed(f"{path} is out of range", field=path) from None
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _times_in_range(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _times_in_range(item, f"{path}[{index}]")


def convert(data: Any, kind: type[R]) -> R:
    """The same strict rules for a value already parsed (tests, the command line)."""
    try:
        converted = msgspec.convert(data, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise refusal(str(exc)) from None
    _times_in_range(converted)
    return converted


_UNKNOWN = "Object contains unknown field `"
_MISSING = "Object missing required field `"


def refusal(message: str) -> TreatFirstError:
    """Translate msgspec's message (`... - at `$.consents[0].kind``) into our code, field and words.

    No value the client sent is repeated: an unknown key is named only when it looks like a field name.
    """
    where = ""
    head, sep, tail = message.rpartition(" - at `")
    if sep and tail.endswith("`"):
        message, where = head, tail[:-1]
    path = where.removeprefix("$").removeprefix(".")
    if message.startswith(_UNKNOWN) and message.endswith("`"):
        name = message[len(_UNKNOWN) : -1]
        if not FIELD_NAME.match(name):
            return ValidationFailed(f"{path or 'the body'} has an unknown field")
        field = f"{path}.{name}" if path else name
        return ValidationFailed(f"{field} is not a known field", field=field)
    if message.startswith(_MISSING) and message.endswith("`"):
        name = message[len(_MISSING) : -1]
        field = f"{path}.{name}" if path else name
        return ValidationFailed(f"{field} is required", field=field)
    if message.startswith("Invalid enum value"):
        message = "Invalid value"  # msgspec quotes the value; we never echo one
    if not path:
        return ValidationFailed(f"the body is not valid: {message}")
    last = path.rsplit(".", 1)[-1]
    if last.endswith("_fen"):
        return InvalidAmount(f"{path} must be an integer number of fen from the allowed range: {message}", field=path)
    code = _FIELD_CODES.get(last, ValidationFailed)
    return code(f"{path} is not valid: {message}", field=path)


def decode_query(params: Mapping[str, str], kind: type[R]) -> R:
    """Query parameters as their struct (values arrive as text; integers are converted), or a 400 naming one."""
    try:
        decoded: R = msgspec.convert(dict(params), kind, strict=False)
    except msgspec.ValidationError as exc:
        raise refusal(str(exc)) from None
    return decoded


def to_item(message: Response) -> dict[str, Any]:
    """A response as plain JSON data (what is stored for an idempotent replay, then sent)."""
    data: dict[str, Any] = msgspec.to_builtins(message)
    return data


# ---- path, query and header parameters ---------------------------------------------------------------------
def record_id_pattern(prefix: str) -> str:
    """The platform's own ids: a prefix, `_` and 26 Crockford base32 characters (domain.ids.new_id)."""
    return f"^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$"


# path parameter -> (pattern, the not-found code a malformed value gets, before any read)
PATH_PARAMETERS: dict[str, tuple[str, type[TreatFirstError]]] = {
    "account_id": (record_id_pattern("acc"), AccountNotFound),
    "visit_id": (record_id_pattern("vis"), VisitNotFound),
    "bill_id": (record_id_pattern("bil"), BillNotFound),
    "fee_line_id": (TOKEN_PATTERN, ChargeNotFound),
    "key_id": (record_id_pattern("key"), CallerNotFound),
    "task_id": (r"^msg_[0-9a-f]{32}$", TaskNotFound),
    "pause_id": (record_id_pattern("pau"), PauseNotFound),
    "record_id": (record_id_pattern("blr"), BlacklistRecordNotFound),
    "appeal_id": (record_id_pattern("bla"), AppealNotFound),
    "suspense_id": (r"^sus_[0-9a-f]{32}$", SuspenseNotFound),
    "review_id": (
        "^rev_" + record_id_pattern("vis")[1:-1] + "(_" + TOKEN_PATTERN[1:-1] + ")?$",
        ReviewNotFound,
    ),
    "export_id": (r"^exp_20[0-9]{6}$", ExportNotFound),
    "file_name": (r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", ExportNotFound),
    "request_id": (record_id_pattern("prq"), RightsRequestNotFound),
    "endpoint_id": (record_id_pattern("whe"), EndpointNotFound),
    "event_id": (r"^evt_[0-9a-f]{32}$", EventNotFound),
    "business_date": (r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", ClearingNotFound),
    "clearing_file": (r"^(clearing\.csv|clearing\.json|manifest\.json)$", ClearingNotFound),
}

LIMIT_DEFAULT, LIMIT_MAX = 20, 100
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,1024}$"
IDEMPOTENCY_KEY_PATTERN = r"^[ -~]{1,128}$"
"""Idempotency-Key: 1-128 printable ASCII characters."""
