"""Operator review items (an emergency claim above the policy's threshold) and the emergency report."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from treatfirst.messages.common import Fen, Request, Response, Text200, UtcTime

Month = Annotated[str, Meta(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="a month of the city's calendar")]


class Review(Response):
    review_id: str
    kind: Annotated[
        Literal["emergency_charge", "emergency_visit"],
        Meta(
            description="emergency_charge: one emergency charge above the threshold; emergency_visit: a visit "
            "whose emergency self-pay total is above it when it closes"
        ),
    ]
    status: Literal["open", "confirmed", "rejected"]
    hospital_id: str
    visit_id: str
    account_id: str
    amount_fen: Fen
    threshold_fen: Annotated[Fen, Meta(description="the policy's review_above_fen when the item opened")]
    opened_at: UtcTime
    fee_line_id: Annotated[str | None, Meta(description="the charge (emergency_charge items)")] = None
    triage_level: Annotated[int | None, Meta(description="from the visit's declaration (emergency_visit items)")] = None
    reason_code: Annotated[str | None, Meta(description="from the visit's declaration (emergency_visit items)")] = None
    decided_at: UtcTime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None


class ReviewPage(Response):
    items: list[Review]
    has_more: bool
    cursor: str | None


class ReviewDecision(Request):
    outcome: Annotated[
        Literal["confirmed", "rejected"],
        Meta(
            description="confirmed: the emergency claim stands; rejected: the operator found it unfounded "
            "(the decision is recorded and audited; it changes no balance)"
        ),
    ]
    reason: Annotated[Text200, Meta(description="why, for the audit trail")]


class EmergencyReportQuery(Request):
    month: Month


class HospitalEmergencyTotals(Response):
    hospital_id: str
    charges: Annotated[int, Meta(description="emergency charges posted in the month")]
    visits: Annotated[int, Meta(description="visits those charges belong to")]
    self_pay_fen: Annotated[Fen, Meta(description="emergency self-pay posted")]
    refunded_self_pay_fen: Annotated[Fen, Meta(description="of which refunded or cancelled since")]
    net_self_pay_fen: Annotated[Fen, Meta(description="self_pay_fen - refunded_self_pay_fen: the claim on the fund")]


class EmergencyReport(Response):
    month: str
    timezone: Annotated[str, Meta(description="the month is counted in this zone (the city's)")]
    hospitals: list[HospitalEmergencyTotals]
    open_reviews: Annotated[int, Meta(description="review items still waiting for an operator")]
