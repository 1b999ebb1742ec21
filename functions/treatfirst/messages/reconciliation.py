"""Reconciliation (对账): a hospital's day totals and detail lines, a channel's statement, the suspense list (挂账)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from treatfirst.domain.errors import ValidationFailed
from treatfirst.domain.reconciliation import CHANNEL_KIND_NAMES, HOSPITAL_KIND_NAMES
from treatfirst.domain.statements import FORMATS
from treatfirst.messages.common import Fen, PositiveFen, Request, Response, Text200, UtcTime

MAX_DETAIL_LINES = 2000
MAX_STATEMENT_CHARS = 1_000_000
MAX_BODY_BYTES = 1536 * 1024  # these uploads' body limit (the HTTP edge's default is 64 KB)
MAX_STORED_BREAKS = 500
MAX_COUNT = 10_000_000

BusinessDate = Annotated[
    str,
    Meta(
        pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="a business date of the city (YYYY-MM-DD), closed already (after its cut-off)",
    ),
]
HospitalKind = Literal["self_pay_posted", "self_pay_refunded"]
ChannelKind = Literal["payment", "refund"]
Result = Literal["matched", "platform_only", "counterparty_only", "amount_mismatch"]
Ref = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,129}$",
        description="the line's reference: `<visit_id>/<fee_line_id>` for self_pay_posted, the refund_id for "
        "self_pay_refunded",
    ),
]
Count = Annotated[int, Meta(ge=0, le=MAX_COUNT, description="number of distinct references")]
SignedFen = Annotated[int, Meta(description="amount in fen; counterparty - platform, so it may be negative")]

assert HospitalKind.__args__ == HOSPITAL_KIND_NAMES  # type: ignore[attr-defined]
assert ChannelKind.__args__ == CHANNEL_KIND_NAMES  # type: ignore[attr-defined]


# ---- level 1: the hospital's day totals (like 医保 3201) ---------------------------------------------------------
class KindTotal(Request):
    kind: HospitalKind
    count: Count
    amount_fen: Fen


class TotalsRequest(Request):
    business_date: BusinessDate
    totals: Annotated[
        list[KindTotal],
        Meta(
            min_length=1,
            max_length=len(HOSPITAL_KIND_NAMES),
            description="each kind at most once; a kind left out counts as 0 lines and 0 fen",
        ),
    ]

    def __post_init__(self) -> None:
        if len({t.kind for t in self.totals}) != len(self.totals):
            raise ValidationFailed("each kind may appear once in totals", field="totals")


class KindResult(Response):
    kind: HospitalKind
    status: Literal["balanced", "different"]
    platform_count: int
    platform_amount_fen: Fen
    counterparty_count: int
    counterparty_amount_fen: Fen
    difference_fen: SignedFen


class TotalsResult(Response):
    reconciliation_id: str
    hospital_id: str
    business_date: str
    level: Literal["totals"]
    result: Literal["balanced", "unbalanced"]
    kinds: list[KindResult]


# ---- level 2: the hospital's detail lines (like 医保 3202) -------------------------------------------------------
class DetailLine(Request):
    kind: HospitalKind
    ref: Ref
    amount_fen: PositiveFen


class LinesRequest(Request):
    business_date: BusinessDate
    lines: Annotated[
        list[DetailLine],
        Meta(max_length=MAX_DETAIL_LINES, description="every self-pay line of the day; each (kind, ref) once"),
    ]

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for i, line in enumerate(self.lines):
            if (line.kind, line.ref) in seen:
                raise ValidationFailed("each (kind, ref) may appear once in lines", field=f"lines[{i}].ref")
            seen.add((line.kind, line.ref))


class LineResult(Response):
    kind: str
    ref: str
    result: Result
    platform_amount_fen: Fen | None
    counterparty_amount_fen: Fen | None
    difference_fen: SignedFen


class Counts(Response):
    matched: int
    platform_only: int
    counterparty_only: int
    amount_mismatch: int


class LinesResult(Response):
    reconciliation_id: str
    hospital_id: str
    business_date: str
    level: Literal["lines"]
    result: Literal["balanced", "unbalanced"]
    counts: Counts
    lines: Annotated[list[LineResult], Meta(description="the hospital's lines in its order, then the platform's")]


# ---- channel statements -----------------------------------------------------------------------------------------
class StatementRequest(Request):
    business_date: BusinessDate
    format: Annotated[Literal["generic_csv", "wechat_bill"], Meta(description="see the reconciliation page")]
    content: Annotated[
        str,
        Meta(max_length=MAX_STATEMENT_CHARS, description="the statement file's text (UTF-8; a leading BOM is fine)"),
    ]


assert set(FORMATS) == {"generic_csv", "wechat_bill"}, "StatementRequest.format lists every format"


class Break(Response):
    kind: ChannelKind
    ref: Annotated[str, Meta(description="channel_txn_id for a payment, the channel's refund id for a refund")]
    result: Result
    platform_amount_fen: Fen | None
    counterparty_amount_fen: Fen | None
    difference_fen: SignedFen
    suspense_id: str
    suspense_status: Literal["open", "matched"]


class StatementCounts(Response):
    matched: int
    breaks: Annotated[int, Meta(description="references that did not match within the day")]
    settled_from_suspense: Annotated[int, Meta(description="breaks that settle an open suspense item")]
    open_suspense: Annotated[int, Meta(description="suspense items this statement leaves open")]


class StatementResult(Response):
    statement_id: str
    channel_id: str
    business_date: str
    format: str
    sha256: Annotated[str, Meta(description="SHA-256 of the content as received")]
    lines: Annotated[int, Meta(description="detail lines in the statement")]
    platform_lines: Annotated[int, Meta(description="the platform's references for the channel and day")]
    result: Literal["balanced", "unbalanced"]
    counts: StatementCounts
    breaks: list[Break]
    breaks_truncated: Annotated[
        bool, Meta(description=f"more than {MAX_STORED_BREAKS} breaks: the rest are in the suspense list")
    ]
    received_at: UtcTime


# ---- suspense (挂账) ----------------------------------------------------------------------------------------------
class SuspenseItem(Response):
    suspense_id: str
    channel_id: str
    kind: ChannelKind
    ref: str
    status: Literal["open", "matched", "resolved"]
    result: Annotated[Result, Meta(description="where the two sides stand now")]
    platform_amount_fen: Fen | None
    counterparty_amount_fen: Fen | None
    difference_fen: SignedFen
    owner: Annotated[str, Meta(description="who must act: `operator`, or `channel:<id>`")]
    opened_on: Annotated[str, Meta(description="the business date of the statement that opened it")]
    last_seen_on: Annotated[str, Meta(description="the business date of the last statement that touched it")]
    age_days: Annotated[int, Meta(description="calendar days in the city's zone since opened_on")]
    opened_at: UtcTime
    settled_on: Annotated[str | None, Meta(description="matched: the business date whose file settled it")] = None
    resolved_at: UtcTime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


class SuspensePage(Response):
    items: list[SuspenseItem]
    has_more: bool
    cursor: str | None


class Resolution(Request):
    reason: Annotated[Text200, Meta(description="why the break is closed (refund confirmed, fee deducted, ...)")]
