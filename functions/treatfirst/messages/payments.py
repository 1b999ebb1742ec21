"""Bills (账单) and payments (还款)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from treatfirst.domain.errors import ValidationFailed
from treatfirst.messages.common import Fen, PositiveFen, Request, Response, Time, Token, UtcTime

MAX_BILLS_PER_PAYMENT = 20


class Payer(Request):
    kind: Literal["self", "family", "proxy"]


class Allocation(Request):
    bill_id: Token
    amount_fen: PositiveFen


class PaymentRequest(Request):
    channel_txn_id: Annotated[
        Token, Meta(description="the channel's transaction id; a retry with it returns the first payment")
    ]
    amount_fen: Annotated[PositiveFen, Meta(description="must equal the sum of allocations[].amount_fen")]
    paid_at: Time
    allocations: Annotated[
        list[Allocation],
        Meta(
            min_length=1,
            max_length=MAX_BILLS_PER_PAYMENT,
            description="each bill at most once; the amounts must add up to amount_fen (else VALIDATION_FAILED "
            "on allocations)",
        ),
    ]
    payer: Payer | None = None

    def __post_init__(self) -> None:
        if len({a.bill_id for a in self.allocations}) != len(self.allocations):
            raise ValidationFailed("each bill may appear once in allocations", field="allocations")
        if sum(a.amount_fen for a in self.allocations) != self.amount_fen:
            raise ValidationFailed("allocations must add up to amount_fen", field="allocations")


class PaidAllocation(Response):
    bill_id: str
    amount_fen: Fen


class PaidBy(Response):
    kind: Literal["self", "family", "proxy"]


class Payment(Response):
    payment_id: str
    channel_id: str
    channel_txn_id: str
    amount_fen: Fen
    paid_at: Annotated[
        str,
        Meta(
            description="the instant and offset the channel sent (RFC 3339)", extra_json_schema={"format": "date-time"}
        ),
    ]
    received_at: UtcTime
    payer: PaidBy
    allocations: list[PaidAllocation]


class Bill(Response):
    """What the patient owes for a closed visit. Payments apply to the credit part first, then the emergency part."""

    bill_id: str
    visit_id: str
    hospital_id: str
    account_id: str
    status: Literal["issued", "overdue", "paid", "written_off"]
    issued_at: UtcTime
    due_at: Annotated[
        str,
        Meta(description="RFC 3339 in the city's time zone (e.g. +08:00)", extra_json_schema={"format": "date-time"}),
    ]
    amount_fen: Annotated[Fen, Meta(description="the self-pay posted on credit")]
    emergency_amount_fen: Annotated[
        Fen,
        Meta(
            description="emergency self-pay: owed by the patient too, outside the limit; written off to the "
            "policy's emergency backstop if it stays unpaid to the end of the ladder"
        ),
    ]
    refunded_fen: Fen
    paid_fen: Fen
    outstanding_fen: Fen
    paid_at: UtcTime | None
    policy_version: str
    policy_sha256: str
    write_off: WriteOffRecord | None = None  # present once the bill is written off (a terminal state)


class WriteOffRecord(Response):
    """Why and to which funds a bill was written off; money received afterwards is a recovery for those funds."""

    reason: Annotated[
        Literal["ladder_exhausted", "hardship", "deceased", "emergency_unidentified", "operator_decision"],
        Meta(description="ladder_exhausted by the sweep; the others by an operator, with a note"),
    ]
    on: Annotated[str, Meta(description="the city's business date of the write-off (YYYY-MM-DD)")]
    credit_fen: Fen
    emergency_fen: Fen
    credit_fund: str | None = None
    emergency_fund: str | None = None
    recovered_fen: Fen = 0


class BillPage(Response):
    items: list[Bill]
    has_more: bool
    cursor: str | None
