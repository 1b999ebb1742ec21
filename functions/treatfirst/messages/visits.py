"""Visits (就诊), charges (记账), refunds, cancellation and closing."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from msgspec import Meta

from treatfirst.domain.errors import SplitMismatch
from treatfirst.messages.common import Fen, Request, Response, Text64, Text100, Text200, Time, Token, UtcTime
from treatfirst.messages.payments import Bill

PARTS = ("insurance_fen", "personal_account_fen", "self_pay_fen")


class Emergency(Request):
    """急危重症: the visit is declared an emergency; its charges may then be flagged emergency."""

    triage_level: Annotated[int, Meta(ge=1, le=4, description="triage level 1 (most urgent) to 4")]
    reason_code: Annotated[Token, Meta(description="the hospital's code for the emergency (e.g. its diagnosis code)")]


class VisitRequest(Request):
    account_id: Token
    kind: Literal["outpatient", "inpatient"] = "outpatient"
    department: Text64 | None = None
    his_visit_id: Token | None = None
    emergency: Annotated[
        Emergency | None,
        Meta(description="declare an emergency visit: it opens even when the account is suspended"),
    ] = None


class EmergencyDeclared(Response):
    triage_level: int
    reason_code: str
    declared_at: UtcTime


class Visit(Response):
    visit_id: str
    hospital_id: str
    account_id: str
    his_visit_id: str | None
    kind: Literal["outpatient", "inpatient"]
    department: str | None
    status: Literal["open", "closed"]
    opened_at: UtcTime
    closed_at: UtcTime | None
    held_fen: Fen
    emergency_held_fen: Fen
    charge_count: int
    bill_id: str | None
    emergency: EmergencyDeclared | None = None


class ChargeRequest(Request):
    fee_line_id: Annotated[Token, Meta(description="the hospital's own fee-line id (like 医保 feedetl_sn)")]
    item_code: Token
    item_name: Text100
    occurred_at: Time
    total_fen: Annotated[
        Fen, Meta(description="must equal insurance_fen + personal_account_fen + self_pay_fen (else SPLIT_MISMATCH)")
    ]
    insurance_fen: Annotated[Fen, Meta(description="医保统筹: paid by the insurance fund")]
    personal_account_fen: Annotated[Fen, Meta(description="个人账户: paid from the personal insurance account")]
    self_pay_fen: Annotated[Fen, Meta(description="自付: held on the credit line (the only part that uses credit)")]
    quantity: Annotated[int, Meta(ge=1, le=100_000)] = 1
    emergency: Annotated[
        bool, Meta(description="急危重症: accepted past the limit or a suspension, outside the limit, and flagged")
    ] = False

    def __post_init__(self) -> None:
        self.item_name = self.item_name.strip()
        if self.total_fen != self.insurance_fen + self.personal_account_fen + self.self_pay_fen:
            raise SplitMismatch(field="total_fen")


class Refund(Response):
    refund_id: str
    insurance_fen: Fen
    personal_account_fen: Fen
    self_pay_fen: Fen
    reason: str | None
    at: UtcTime
    cancel: bool


class Charge(Response):
    visit_id: str
    fee_line_id: str
    item_code: str
    item_name: str
    quantity: int
    occurred_at: UtcTime
    total_fen: Fen
    insurance_fen: Fen
    personal_account_fen: Fen
    self_pay_fen: Fen
    refunded_insurance_fen: Fen
    refunded_personal_account_fen: Fen
    refunded_self_pay_fen: Fen
    emergency: bool
    status: Literal["posted", "partially_refunded", "refunded", "cancelled"]
    posted_at: UtcTime
    refunds: list[Refund]


class CancelRequest(Request):
    """Cancel what remains of a charge; the body may be omitted."""

    optional_body: ClassVar[bool] = True
    reason: Text200 | None = None


class RefundRequest(Request):
    """Refund part of a charge: at least one fen in total, no part beyond what remains of it."""

    insurance_fen: Fen = 0
    personal_account_fen: Fen = 0
    self_pay_fen: Fen = 0
    reason: Text200 | None = None

    def amounts(self) -> dict[str, int]:
        return {
            "insurance_fen": self.insurance_fen,
            "personal_account_fen": self.personal_account_fen,
            "self_pay_fen": self.self_pay_fen,
        }


class Closed(Response):
    visit: Visit
    bill: Bill


class VisitPage(Response):
    items: list[Visit]
    has_more: bool
    cursor: str | None


class ChargePage(Response):
    items: list[Charge]
    has_more: bool
    cursor: str | None
