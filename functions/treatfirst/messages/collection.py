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
