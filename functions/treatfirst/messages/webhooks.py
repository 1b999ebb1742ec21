"""Webhook endpoints, events (the pull fallback), delivery logs and replays."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from msgspec import Meta

from treatfirst.domain.events import CATALOGUE
from treatfirst.domain.webhooks import URL_MAX_LENGTH
from treatfirst.messages.common import CURSOR_PATTERN, LIMIT_DEFAULT, LIMIT_MAX, Request, Response, Text100, UtcTime

EventKindName = Literal[
    "bill.issued",
    "bill.paid",
    "bill.overdue",
    "charge.refunded",
    "collection.step",
    "clearing.ready",
    "reconciliation.result",
]
assert set(get_args(EventKindName)) == {k.name for k in CATALOGUE}, "the kinds a request may name are the catalogue's"

MAX_PREVIOUS_VALID_SECONDS = 7 * 24 * 3600


class EndpointRequest(Request):
    url: Annotated[
        str,
        Meta(
            min_length=8,
            max_length=URL_MAX_LENGTH,
            description="https:// URL that resolves only to public addresses (the local stack also takes "
            "http://127.0.0.1:<port>/...)",
        ),
    ]
    events: Annotated[
        list[EventKindName],
        Meta(min_length=1, max_length=len(CATALOGUE), description="the event kinds to deliver to this endpoint"),
    ]
    description: Text100 | None = None


class SecretRotationRequest(Request):
    previous_valid_seconds: Annotated[
        int,
        Meta(
            ge=0,
            le=MAX_PREVIOUS_VALID_SECONDS,
            description="how long deliveries still carry a signature with the previous secret too (0: not at all)",
        ),
    ] = 86400


class Endpoint(Response):
    endpoint_id: str
    url: str
    events: list[str]
    status: Annotated[
        Literal["enabled", "disabled"], Meta(description="disabled: the endpoint answered 410 Gone; register anew")
    ]
    created_at: UtcTime
    description: str | None = None
    rotated_at: UtcTime | None = None
    previous_secret_expires_at: Annotated[
        UtcTime | None, Meta(description="until then deliveries carry two signatures (current secret first)")
    ] = None
    disabled_at: UtcTime | None = None
    disabled_reason: str | None = None


class EndpointWithSecret(Response):
    endpoint: Endpoint
    secret: Annotated[
        str,
        Meta(description="whsec_ + base64 of 32 bytes: shown once (and to a retry with the same Idempotency-Key)"),
    ]


class EndpointList(Response):
    items: list[Endpoint]


class EventsQuery(Request):
    after: (
        Annotated[
            str,
            Meta(
                pattern=CURSOR_PATTERN, description="the `after` of the previous answer; absent: from the first event"
            ),
        ]
        | None
    ) = None
    limit: Annotated[int, Meta(ge=1, le=LIMIT_MAX, description="events per page")] = LIMIT_DEFAULT


class Event(Response):
    id: Annotated[str, Meta(description="the event id, also the webhook-id header of its deliveries")]
    type: str
    timestamp: UtcTime
    data: dict[str, Any]


class EventPage(Response):
    items: list[Event]
    has_more: bool
    after: Annotated[
        str | None,
        Meta(description="send it back as ?after= to continue; kept even when the page is empty (None: no event yet)"),
    ]


class Attempt(Response):
    attempt: int
    at: UtcTime
    outcome: Literal["delivered", "failed", "gone"]
    status_code: Annotated[int | None, Meta(description="the endpoint's HTTP status; None: no answer")] = None
    error: Annotated[str | None, Meta(description="timeout, connection, tls, address_refused, ...")] = None
    latency_ms: int | None = None
    next_at: Annotated[UtcTime | None, Meta(description="when the next attempt is due (None: none)")] = None
    replay: bool = False


class Delivery(Response):
    endpoint_id: str
    status: Literal["pending", "sending", "delivered", "failed", "endpoint_disabled", "endpoint_deleted"]
    attempts: int
    log: list[Attempt]
    next_at: UtcTime | None = None
    delivered_at: UtcTime | None = None


class DeliveryLog(Response):
    event_id: str
    type: str
    deliveries: list[Delivery]


class Replay(Response):
    event_id: str
    endpoints: Annotated[int, Meta(description="endpoints of the caller the event is scheduled to, now")]
