"""Collection messages: the outbox (SMS and phone tasks), an account's collection state, disputes, moratoriums,
aging, the test clock. Operator routes only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from treatfirst.messages.common import Request, Response, UtcTime

MessageKind = Literal["due_reminder", "step_reminder", "step", "cleared", "phone_task"]


class OutboxMessage(Response):
    """One outbox row: an SMS to the patient or a phone task for an operator, written with its cause."""

    message_id: str
    account_id: str
    kind: MessageKind
    channel: Literal["sms", "phone"]
    status: Literal["pending", "sending", "sent", "undeliverable", "open", "claimed", "done"]
    created_at: UtcTime
    params: dict[str, Any]
    text: str | None = None  # the exact SMS text (masked name, amount, dates, hotline; never an item)
    bill_id: str | None = None
    sent_at: UtcTime | None = None
    attempts: int = 0


class OutboxPage(Response):
    items: list[OutboxMessage]
    has_more: bool
    cursor: str | None


Reason = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S", description="kept in the audit log")]
Outcome = Literal["promised_to_pay", "paid_already", "disputed", "hardship", "not_reached", "wrong_number"]


class PhoneTask(Response):
    """A phone follow-up an operator makes, written with the ladder step that asked for it."""

    task_id: str
    account_id: str
    status: Literal["open", "claimed", "done"]
    created_at: UtcTime
    params: dict[str, Any]
    name_masked: str | None = None
    phone_masked: str | None = None
    claimed_by: str | None = None
    claimed_at: UtcTime | None = None
    outcome: Outcome | None = None
    done_at: UtcTime | None = None


class ClaimedTask(PhoneTask):
    phone: str | None = None  # the full number, for the operator who claimed the task (the claim is audited)


class PhoneTaskPage(Response):
    items: list[PhoneTask]
    has_more: bool
    cursor: str | None


class ClaimRequest(Request):
    reason: Reason


class OutcomeRequest(Request):
    outcome: Outcome
    note: Reason


class ClockAdvanceRequest(Request):
    reason: Reason
    days: Annotated[int, Meta(ge=0, le=3650, description="whole days to move forward")] = 0
    hours: Annotated[int, Meta(ge=0, le=23, description="hours to move forward")] = 0


class ClockState(Response):
    now: UtcTime
    offset_seconds: int


class ClockAdvanced(ClockState):
    ran: dict[str, dict[str, Any]]  # each scheduled function run at the new time, with its result


BillId = Annotated[str, Meta(pattern=r"^bil_[0-9A-HJKMNP-TV-Z]{26}$", description="a bill id")]
Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a date in the city's calendar")]


class DisputeRequest(Request):
    bill_id: BillId
    reason: Reason


class CloseRequest(Request):
    reason: Reason


class MoratoriumRequest(Request):
    reason: Reason


class PauseRecord(Response):
    """Days from `start` (inclusive) to `end` (exclusive; absent while open) do not age the debt."""

    pause_id: str
    start: Day
    reason: str
    end: Day | None = None
    bill_id: str | None = None


class Moratoriums(Response):
    items: list[PauseRecord]


class UnpaidBill(Response):
    bill_id: str
    due_date: Day
    outstanding_fen: int
    overdue: bool
    aging: Literal["N", "1", "2", "3", "4", "5", "6", "7"]  # the central bank's bands: N, then 30 days each
    disputed: bool = False  # under an open dispute: the ladder leaves it out until the dispute is closed


class Strikes(Response):
    in_window: int
    total: int
    rule_applied: bool


class CollectionState(Response):
    account_id: str
    status: str
    on: Day  # the city's date the state is computed for
    unpaid_fen: int
    unpaid: list[UnpaidBill]
    strikes: Strikes
    blocks: list[str]
    pauses: list[PauseRecord]
    moratoriums: list[PauseRecord]
    step: str | None = None
    days_overdue: int | None = None  # of the most overdue bill not under dispute, minus paused days
    earliest_due_date: Day | None = None
    next_step_at: str | None = None  # the business date the sweep looks at the account next


class AgingBand(Response):
    band: Literal["N", "1", "2", "3", "4", "5", "6", "7"]
    bills: int
    outstanding_fen: int


class AgingReport(Response):
    """Unpaid bills by the central bank's repayment-status band: N (not overdue), 1-6 by 30 days, 7 over 180."""

    on: Day
    bands: list[AgingBand]


class WriteOffRequest(Request):
    """An operator's write-off of one unpaid bill (the sweep writes off at the end of the ladder by itself)."""

    reason: Annotated[
        Literal["hardship", "deceased", "emergency_unidentified", "operator_decision"],
        Meta(
            description="hardship: the civil-affairs office certified the patient (低保、特困); its self-pay goes to "
            "the policy's hardship backstop; the others go to the first fund of the backstop order; any emergency "
            "part goes to the emergency backstop"
        ),
    ]
    note: Reason
