"""Signed webhooks: endpoints each hospital and channel registers, and the dispatcher that delivers every event
row (services/events.py) to them, at least once, signed per Standard Webhooks (treatfirst.domain.webhooks).

Endpoints (table webhook_endpoints, key (owner, endpoint_id), owner = the caller "<kind>:<id>"): a URL, the event
kinds wanted, a `whsec_` secret shown once and stored encrypted; rotation keeps the previous secret valid for a
chosen overlap, during which every delivery carries two signatures. At most MAX_ENDPOINTS per caller.

The dispatcher (scheduled every minute) reads only the sparse `events_due` index, shard by shard, up to now:
- an event row still due is FANNED OUT in one transaction: one delivery row ("to#<endpoint>") per enabled
  endpoint of its receiver that wants its kind, and the event row leaves the index (guarded by its due time, so
  two dispatchers never fan out twice); endpoints registered later get it by replay or the pull list;
- a delivery row is CLAIMED (the SMS dispatcher's pattern, services/dispatch.py): a conditional write moves it to
  `sending` with a fresh lease id and sets its due time to the lease's end, so a dispatcher that dies mid-attempt
  leaves a row that is due again when the lease runs out; the attempt is sent with the event id as `webhook-id`
  (the same on every attempt and replay); then ONE transaction writes the attempt's log row ("try#...") and
  moves the delivery on — delivered, retried at the schedule's next time, failed after the last attempt — guarded
  by the lease id. A 410 Gone disables the endpoint; its other deliveries then end as `endpoint_disabled`.
- an endpoint that failed once in a run is not called again in that run (its other deliveries stay due), and
  the run stops claiming when its time budget would not cover another attempt's timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from treatfirst.domain import webhooks as wh
from treatfirst.domain.clock import rfc3339, wall_now
from treatfirst.domain.errors import (
    ConcurrentUpdate,
    EndpointLimit,
    EndpointNotFound,
    EndpointUrlRefused,
    EventKindNotAllowed,
    TreatFirstError,
)
from treatfirst.domain.events import kinds_for
from treatfirst.domain.ids import new_id
from treatfirst.messages import webhooks as msg
from treatfirst.messages.common import to_item
from treatfirst.services.events import DUE_SHARDS, EVENT_PART, own_event, payload
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.ports import ENDPOINTS, EVENTS, Delete, Item, Put, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

MAX_ENDPOINTS = 10
TIMEOUT_SECONDS = 15.0  # per attempt (connect, send, answer); the specification suggests 15-30 s
LEASE_SLACK_SECONDS = 60  # a claimed row is due again this long after the attempt's timeout
RUN_BUDGET_SECONDS = 240.0  # the scheduled function's timeout is 300 s
LOOPBACK_ENV = "TF_WEBHOOK_LOOPBACK"  # "1": the local stack; endpoints may be http://127.0.0.1 (never on AWS)


def allow_loopback() -> bool:
    return os.environ.get(LOOPBACK_ENV) == "1"


# ---- ports -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What one attempt got: the status (None: no answer) and a short error code."""

    status: int | None
    error: str | None = None
    retry_after: int | None = None
    latency_ms: int = 0


class Sender(Protocol):
    """POSTs one delivery. Resolves the URL's host, refuses it unless every address is allowed, connects to a
    checked address (no second resolution), follows no redirect, and gives up after `timeout` seconds."""

    def send(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float, allow_loopback: bool
    ) -> Answer: ...


Resolver = Callable[[str, int], list[str]]


def default_resolver() -> Resolver:
    from treatfirst.adapters.webhook_http import resolve

    return resolve


def default_sender() -> Sender:
    from treatfirst.adapters.webhook_http import HttpSender

    return HttpSender()


# ---- endpoints -------------------------------------------------------------------------------------------------
def _secret_context(owner: str, endpoint_id: str) -> str:
    return f"webhook-secret:{owner}:{endpoint_id}"


def endpoint_view(item: Item) -> dict[str, Any]:
    return to_item(
        msg.Endpoint(
            endpoint_id=item["endpoint_id"],
            url=item["url"],
            events=list(item["events"]),
            status=item["status"],
            created_at=item["created_at"],
            description=item.get("description"),
            rotated_at=item.get("rotated_at"),
            previous_secret_expires_at=item.get("previous_expires_at"),
            disabled_at=item.get("disabled_at"),
            disabled_reason=item.get("disabled_reason"),
        )
    )


def check_endpoint_url(url: str, *, loopback: bool, resolver: Resolver | None = None) -> None:
    """EndpointUrlRefused unless the URL may receive deliveries: https, and every address of its host public (the
    local stack also allows loopback, http included). Checked again at every delivery (DNS can change)."""
    try:
        _, host, port = wh.check_url(url, allow_loopback=loopback)  # an address literal is checked there
        if not wh.is_address(host):
            wh.allowed_addresses((resolver or default_resolver())(host, port), allow_loopback=loopback)
    except wh.UrlRefused as refused:
        raise EndpointUrlRefused(str(refused), field="url") from None


def _seal(ctx: Context, caller: Caller, outcome: Outcome) -> Outcome:
    """The answer with its secret encrypted, as the idempotency record keeps it (for this caller's key only)."""
    body = dict(outcome.body)
    secret = body.pop("secret")
    body["secret_enc"] = ctx.cipher.encrypt(secret, context=f"webhook-answer:{caller.key_id}")
    return Outcome(outcome.status, body, outcome.replayed)


def _unseal(ctx: Context, caller: Caller, outcome: Outcome) -> Outcome:
    body = dict(outcome.body)
    body["secret"] = ctx.cipher.decrypt(body.pop("secret_enc"), context=f"webhook-answer:{caller.key_id}")
    return Outcome(outcome.status, body, outcome.replayed)


def create_endpoint(
    ctx: Context,
    caller: Caller,
    command: msg.EndpointRequest,
    idempotency_key: str | None,
    *,
    resolver: Resolver | None = None,
) -> Outcome:
    """Register an endpoint for some of the caller's event kinds; the secret is in the answer, once."""
    caller.may("webhooks", "create")
    allowed = kinds_for(caller.kind)
    for i, kind in enumerate(command.events):
        if kind not in allowed:
            raise EventKindNotAllowed(
                f"a {caller.kind} receives {', '.join(allowed) or 'no events'}, not {kind}", field=f"events[{i}]"
            )
    check_endpoint_url(command.url, loopback=allow_loopback(), resolver=resolver)
    idem = Idempotency(ctx, caller, idempotency_key, "webhook-endpoint", command)

    def build() -> tuple[list[Write], Outcome]:
        if len(ctx.store.query(ENDPOINTS, caller.actor, limit=MAX_ENDPOINTS).items) >= MAX_ENDPOINTS:
            raise EndpointLimit(f"at most {MAX_ENDPOINTS} endpoints per caller")
        endpoint_id = new_id("whe")
        secret = wh.new_secret(secrets.token_bytes(wh.SECRET_BYTES))
        item: Item = {
            "owner": caller.actor,
            "endpoint_id": endpoint_id,
            "url": command.url,
            "events": sorted(dict.fromkeys(command.events)),
            "status": "enabled",
            "description": command.description,
            "secret_enc": ctx.cipher.encrypt(secret, context=_secret_context(caller.actor, endpoint_id)),
            "created_at": ctx.now_text(),
            "request_id": ctx.request_id,
        }
        item = {k: v for k, v in item.items() if v is not None}
        writes: list[Write] = [
            Put(ENDPOINTS, item, fail=ConcurrentUpdate),
            audit(ctx, caller, f"webhook#{endpoint_id}", "webhook.endpoint.created", events=item["events"]),
        ]
        return writes, _seal(ctx, caller, Outcome(201, {"endpoint": endpoint_view(item), "secret": secret}))

    return _unseal(ctx, caller, idem.run(build))


def list_endpoints(ctx: Context, caller: Caller) -> dict[str, Any]:
    caller.may("webhooks", "list")
    items = ctx.store.query(ENDPOINTS, caller.actor, limit=MAX_ENDPOINTS).items
    return to_item(msg.EndpointList(items=[msg.Endpoint(**endpoint_view(i)) for i in items]))


def _own_endpoint(ctx: Context, caller: Caller, endpoint_id: str) -> Item:
    item = ctx.store.get(ENDPOINTS, {"owner": caller.actor, "endpoint_id": endpoint_id})
    if item is None:
        raise EndpointNotFound()
    return item


def delete_endpoint(ctx: Context, caller: Caller, endpoint_id: str) -> dict[str, Any]:
    """Remove an endpoint: nothing more is delivered to it (its pending deliveries end as endpoint_deleted)."""
    caller.may("webhooks", "delete")
    item = _own_endpoint(ctx, caller, endpoint_id)
    ctx.commit(
        [
            Delete(ENDPOINTS, {"owner": caller.actor, "endpoint_id": endpoint_id}, fail=EndpointNotFound),
            audit(ctx, caller, f"webhook#{endpoint_id}", "webhook.endpoint.deleted"),
        ]
    )
    return endpoint_view(item)


def rotate_secret(
    ctx: Context, caller: Caller, endpoint_id: str, command: msg.SecretRotationRequest, idempotency_key: str | None
) -> Outcome:
    """A new secret; deliveries carry a signature with the previous one too for `previous_valid_seconds`."""
    caller.may("webhooks", "rotate")
    idem = Idempotency(ctx, caller, idempotency_key, f"webhook-rotation:{endpoint_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        item = _own_endpoint(ctx, caller, endpoint_id)
        secret = wh.new_secret(secrets.token_bytes(wh.SECRET_BYTES))
        now = ctx.clock.now()
        changes: dict[str, Any] = {
            "secret_enc": ctx.cipher.encrypt(secret, context=_secret_context(caller.actor, endpoint_id)),
            "rotated_at": rfc3339(now),
            "previous_secret_enc": item["secret_enc"] if command.previous_valid_seconds else None,
            "previous_expires_at": rfc3339(now + timedelta(seconds=command.previous_valid_seconds))
            if command.previous_valid_seconds
            else None,
        }
        writes: list[Write] = [
            Update(
                ENDPOINTS,
                {"owner": caller.actor, "endpoint_id": endpoint_id},
                set=changes,
                expect={"secret_enc": item["secret_enc"]},
                fail=ConcurrentUpdate,
            ),
            audit(
                ctx,
                caller,
                f"webhook#{endpoint_id}",
                "webhook.secret.rotated",
                previous_valid_seconds=command.previous_valid_seconds,
            ),
        ]
        after = {**item, **{k: v for k, v in changes.items() if v is not None}}
        if not command.previous_valid_seconds:
            after.pop("previous_expires_at", None)
        return writes, _seal(ctx, caller, Outcome(200, {"endpoint": endpoint_view(after), "secret": secret}))

    return _unseal(ctx, caller, idem.run(build))


def secrets_of(ctx: Context, endpoint: Item, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, then the previous one while it is valid."""
    context = _secret_context(endpoint["owner"], endpoint["endpoint_id"])
    out = [ctx.cipher.decrypt(endpoint["secret_enc"], context=context)]
    if endpoint.get("previous_secret_enc") and endpoint.get("previous_expires_at", "") > rfc3339(now):
        out.append(ctx.cipher.decrypt(endpoint["previous_secret_enc"], context=context))
    return out


# ---- the delivery log and replay -------------------------------------------------------------------------------
def _rows(ctx: Context, event_id: str) -> list[Item]:
    rows: list[Item] = []
    start = None
    while True:
        page = ctx.store.query(EVENTS, event_id, limit=100, start=start)
        rows += page.items
        if page.cursor is None:
            return rows
        start = page.cursor


def delivery_log(ctx: Context, caller: Caller, event_id: str) -> dict[str, Any]:
    """Every delivery of one of the caller's events, with one entry per attempt."""
    caller.may("events", "deliveries")
    event = own_event(ctx, caller, event_id)
    rows = _rows(ctx, event_id)
    deliveries = []
    for row in (r for r in rows if r["part"].startswith("to#")):
        tries = sorted((r for r in rows if r["part"].startswith(f"try#{row['endpoint_id']}#")), key=lambda r: r["part"])
        deliveries.append(
            msg.Delivery(
                endpoint_id=row["endpoint_id"],
                status=row["status"],
                attempts=int(row.get("attempts", 0)),
                next_at=row.get("due_at") if row["status"] == "pending" else None,
                delivered_at=row.get("delivered_at"),
                log=[
                    msg.Attempt(
                        attempt=int(t["attempt"]),
                        at=t["at"],
                        outcome=t["outcome"],
                        status_code=t.get("status_code"),
                        error=t.get("error"),
                        latency_ms=t.get("latency_ms"),
                        next_at=t.get("next_at"),
                        replay=bool(t.get("replay", False)),
                    )
                    for t in tries
                ],
            )
        )
    return to_item(msg.DeliveryLog(event_id=event_id, type=event["kind"], deliveries=deliveries))


def replay_event(ctx: Context, caller: Caller, event_id: str, idempotency_key: str | None) -> Outcome:
    """Deliver one of the caller's events again, now, to each of its enabled endpoints that wants the kind, with
    the same webhook-id and a fresh retry schedule. An event not yet handed out is delivered by the next run."""
    caller.may("events", "replay")
    idem = Idempotency(ctx, caller, idempotency_key, f"event-replay:{event_id}", {"event_id": event_id})

    def build() -> tuple[list[Write], Outcome]:
        event = own_event(ctx, caller, event_id)
        endpoints = [
            e
            for e in ctx.store.query(ENDPOINTS, caller.actor, limit=MAX_ENDPOINTS).items
            if e["status"] == "enabled" and event["kind"] in e["events"]
        ]
        if "due_at" in event:  # not fanned out yet: the next run delivers to every endpoint that wants it
            return [], Outcome(202, to_item(msg.Replay(event_id=event_id, endpoints=len(endpoints))))
        existing = {r["endpoint_id"]: r for r in _rows(ctx, event_id) if r["part"].startswith("to#")}
        now = ctx.now_text()
        writes: list[Write] = []
        for endpoint in endpoints:
            row = existing.get(endpoint["endpoint_id"])
            due = {"status": "pending", "tries": 0, "replay": True, "due_shard": _shard(event_id), "due_at": now}
            if row is None:
                writes.append(Put(EVENTS, {**_delivery_row(event, endpoint), **due}, fail=ConcurrentUpdate))
            elif row["status"] != "sending":  # one being sent now is delivered anyway
                writes.append(
                    Update(
                        EVENTS,
                        {"event_id": event_id, "part": row["part"]},
                        set=due,
                        expect={"status": row["status"]},
                        fail=ConcurrentUpdate,
                    )
                )
        writes.append(audit(ctx, caller, f"event#{event_id}", "webhook.event.replayed", endpoints=len(writes)))
        return writes, Outcome(202, to_item(msg.Replay(event_id=event_id, endpoints=len(writes) - 1)))

    return idem.run(build)


# ---- the dispatcher --------------------------------------------------------------------------------------------
@dataclass
class DeliveryResult:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0  # attempts that failed (retried later, or given up)
    given_up: int = 0
    disabled: int = 0  # endpoints disabled by 410 Gone
    dropped: int = 0  # deliveries whose endpoint was disabled or deleted
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "fanned_out": self.fanned_out,
            "delivered": self.delivered,
            "failed": self.failed,
            "given_up": self.given_up,
            "disabled": self.disabled,
            "dropped": self.dropped,
            "skipped": self.skipped,
        }


def _shard(event_id: str) -> str:
    return str(int(event_id[4:12], 16) % DUE_SHARDS)


def _delivery_row(event: Item, endpoint: Item) -> Item:
    """A delivery of the event to one endpoint: it carries what the body needs (no read of the event later)."""
    return {
        "event_id": event["event_id"],
        "part": f"to#{endpoint['endpoint_id']}",
        "owner": endpoint["owner"],
        "endpoint_id": endpoint["endpoint_id"],
        "kind": event["kind"],
        "created_at": event["created_at"],
        "data": event["data"],
        "status": "pending",
        "attempts": 0,
        "tries": 0,
        "due_shard": _shard(event["event_id"]),
        "due_at": event["created_at"],
    }


def body_of(row: Item) -> bytes:
    """The exact bytes sent (and signed): compact JSON of the payload, UTF-8."""
    import json

    return json.dumps(payload(row), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _jitter(row: Item, attempt: int) -> float:
    digest = hashlib.sha256(f"{row['event_id']}#{row['part']}#{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


class _Run:
    def __init__(
        self, ctx: Context, sender: Sender, *, timeout: float, budget: float, monotonic: Callable[[], float]
    ) -> None:
        self.ctx = ctx
        self.sender = sender
        self.timeout = timeout
        self.deadline = monotonic() + budget
        self.monotonic = monotonic
        self.result = DeliveryResult()
        self.endpoints: dict[str, list[Item]] = {}
        self.failed_endpoints: set[str] = set()
        self.loopback = allow_loopback()

    def endpoints_of(self, owner: str) -> list[Item]:
        if owner not in self.endpoints:
            self.endpoints[owner] = self.ctx.store.query(ENDPOINTS, owner, limit=MAX_ENDPOINTS).items
        return self.endpoints[owner]

    def endpoint(self, owner: str, endpoint_id: str) -> Item | None:
        return next((e for e in self.endpoints_of(owner) if e["endpoint_id"] == endpoint_id), None)

    def out_of_time(self) -> bool:
        return self.monotonic() + self.timeout > self.deadline

    # an event row: hand it to the endpoints that want it
    def fan_out(self, event: Item) -> list[Item]:
        wanted = [
            e for e in self.endpoints_of(event["audience"]) if e["status"] == "enabled" and event["kind"] in e["events"]
        ]
        rows = [_delivery_row(event, e) for e in wanted]
        writes: list[Write] = [Put(EVENTS, r, fail=ConcurrentUpdate) for r in rows]
        writes.append(
            Update(
                EVENTS,
                {"event_id": event["event_id"], "part": EVENT_PART},
                set={"fanned_out_at": self.ctx.now_text(), "endpoints": len(rows)},
                remove=("due_shard", "due_at"),
                expect={"due_at": event["due_at"]},
                fail=ConcurrentUpdate,
            )
        )
        try:
            self.ctx.commit(writes)
        except TreatFirstError:
            self.result.skipped += 1  # another run fanned it out
            return []
        self.result.fanned_out += 1
        return rows

    # a delivery row: one attempt
    def attempt(self, row: Item) -> None:
        ctx, now = self.ctx, self.ctx.clock.now()
        key = {"event_id": row["event_id"], "part": row["part"]}
        endpoint = self.endpoint(row["owner"], row["endpoint_id"])
        if endpoint is None or endpoint["status"] != "enabled":
            status = "endpoint_deleted" if endpoint is None else "endpoint_disabled"
            with contextlib.suppress(TreatFirstError):
                ctx.commit(
                    [
                        Update(
                            EVENTS,
                            key,
                            set={"status": status},
                            remove=("due_shard", "due_at", "lease_id", "lease_until"),
                            expect={"due_at": row["due_at"]},
                        )
                    ]
                )
                self.result.dropped += 1
            return
        if endpoint["endpoint_id"] in self.failed_endpoints or self.out_of_time():
            self.result.skipped += 1
            return
        lease = new_id("lse")
        lease_until = now + timedelta(seconds=self.timeout + LEASE_SLACK_SECONDS)
        attempt_no = int(row.get("attempts", 0)) + 1
        try:
            ctx.commit(
                [
                    Update(
                        EVENTS,
                        key,
                        set={
                            "status": "sending",
                            "lease_id": lease,
                            "lease_until": rfc3339(lease_until),
                            "due_at": rfc3339(lease_until),  # due again if this run dies mid-attempt
                        },
                        add={"attempts": 1, "tries": 1},
                        expect={"due_at": row["due_at"], "status": row["status"]},
                        fail=ConcurrentUpdate,
                    )
                ]
            )
        except TreatFirstError:
            self.result.skipped += 1  # claimed or finished meanwhile
            return
        body = body_of(row)
        stamp = int(wall_now(ctx.clock).timestamp())
        headers = {
            **wh.headers(secrets_of(ctx, endpoint, now), row["event_id"], stamp, body),
            "user-agent": "TreatFirst-Webhooks/1",
        }
        started = self.monotonic()
        try:
            answer = self.sender.send(
                endpoint["url"], headers, body, timeout=self.timeout, allow_loopback=self.loopback
            )
        except Exception as exc:  # a sender bug must not lose the row: it is retried like a failure
            answer = Answer(None, f"sender:{type(exc).__name__}")
            self.result.errors.append(type(exc).__name__)
        latency = answer.latency_ms or int((self.monotonic() - started) * 1000)
        self.finish(row, endpoint, lease, attempt_no, int(row.get("tries", 0)) + 1, answer, latency)

    def finish(
        self, row: Item, endpoint: Item, lease: str, attempt_no: int, tries: int, answer: Answer, latency: int
    ) -> None:
        ctx, now = self.ctx, self.ctx.clock.now()
        key = {"event_id": row["event_id"], "part": row["part"]}
        outcome = wh.outcome_of(answer.status)
        log: Item = {
            "event_id": row["event_id"],
            "part": f"try#{row['endpoint_id']}#{attempt_no:04d}",
            "endpoint_id": row["endpoint_id"],
            "attempt": attempt_no,
            "at": rfc3339(now),
            "outcome": outcome,
            "status_code": answer.status,
            "error": answer.error,
            "latency_ms": latency,
            "replay": bool(row.get("replay")) or None,
        }
        done = ("due_shard", "due_at", "lease_id", "lease_until")
        if outcome == "delivered":
            change: dict[str, Any] = {"status": "delivered", "delivered_at": rfc3339(now)}
            remove: tuple[str, ...] = done
            self.result.delivered += 1
        elif outcome == "gone":
            change, remove = {"status": "endpoint_disabled"}, done
        else:
            self.result.failed += 1
            self.failed_endpoints.add(row["endpoint_id"])
            delay = wh.next_delay(tries, _jitter(row, attempt_no), answer.retry_after)
            if delay is None:
                change, remove = {"status": "failed"}, done
                self.result.given_up += 1
            else:
                next_at = rfc3339(now + timedelta(seconds=delay))
                log["next_at"] = next_at
                change, remove = {"status": "pending", "due_at": next_at}, ("lease_id", "lease_until")
        change["last_status_code"] = answer.status
        if answer.error:
            change["last_error"] = answer.error
        with contextlib.suppress(TreatFirstError):  # the lease ran out and another run took the row: it goes again
            ctx.commit(
                [
                    Put(EVENTS, {k: v for k, v in log.items() if v is not None}),
                    Update(
                        EVENTS,
                        key,
                        set=change,
                        remove=remove,
                        expect={"lease_id": lease},
                        fail=ConcurrentUpdate,
                    ),
                ]
            )
        if outcome == "gone":
            self.disable(endpoint)

    def disable(self, endpoint: Item) -> None:
        """410 Gone: the endpoint stops receiving (its owner registers a new one when ready)."""
        with contextlib.suppress(TreatFirstError):  # disabled by another delivery meanwhile
            self.ctx.commit(
                [
                    Update(
                        ENDPOINTS,
                        {"owner": endpoint["owner"], "endpoint_id": endpoint["endpoint_id"]},
                        set={
                            "status": "disabled",
                            "disabled_at": self.ctx.now_text(),
                            "disabled_reason": "the endpoint answered 410 Gone",
                        },
                        expect={"status": "enabled"},
                        fail=ConcurrentUpdate,
                    ),
                    audit(
                        self.ctx, None, f"webhook#{endpoint['endpoint_id']}", "webhook.endpoint.disabled", status=410
                    ),
                ]
            )
            self.result.disabled += 1
        endpoint["status"] = "disabled"


def dispatch_events(
    ctx: Context,
    sender: Sender | None = None,
    *,
    page_size: int = 50,
    timeout: float = TIMEOUT_SECONDS,
    budget: float = RUN_BUDGET_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> DeliveryResult:
    """One run: every event and delivery due at the clock's now, shard by shard (reads only the sparse index).
    Rerunning delivers nothing twice while a lease holds; a delivery is retried until delivered or given up."""
    run = _Run(ctx, sender or default_sender(), timeout=timeout, budget=budget, monotonic=monotonic)
    until = rfc3339(ctx.clock.now())
    for shard in range(DUE_SHARDS):
        start = None
        while True:
            page = ctx.store.query(EVENTS, str(shard), index="events_due", limit=page_size, start=start, until=until)
            for row in page.items:
                if row["part"] == EVENT_PART:
                    for delivery in run.fan_out(row):
                        run.attempt(delivery)
                elif row["part"].startswith("to#"):
                    if row.get("status") == "sending" and row.get("lease_until", "") > until:
                        run.result.skipped += 1
                        continue
                    run.attempt(row)
            if page.cursor is None:
                break
            start = page.cursor
    return run.result
