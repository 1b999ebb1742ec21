"""Idempotency: an Idempotency-Key (scoped to the caller's key and the operation) or a natural key (a fee-line
id, a channel transaction id) makes a retry return the first result; the record is written in the SAME
transaction as the change, so an accepted request is still one write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec

from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    IdempotencyKeyReused,
    TreatFirstError,
    Unauthenticated,
    Unprocessable,
)
from treatfirst.services.identity import Caller
from treatfirst.services.ports import IDEMPOTENCY, Item, Put, Write
from treatfirst.services.unit_of_work import Context

IDEMPOTENCY_TTL = timedelta(hours=24)


def request_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request (a message struct or plain data): retries must match it."""
    canonical = json.dumps(msgspec.to_builtins(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class FileOutcome:
    """A file answered as it is stored (not JSON): UTF-8 text, its content type and extra headers."""

    text: str
    content_type: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Item
    replayed: bool = False


class Idempotency:
    """Idempotency-Key handling: the record is written in the SAME transaction as the change itself."""

    def __init__(self, ctx: Context, caller: Caller, key: str | None, operation: str, payload: Any) -> None:
        # The key's form (1-128 printable ASCII characters) is checked at the HTTP edge.
        self.ctx = ctx
        self.key = f"{caller.key_id}#{operation}#{key}" if key else None
        self.hash = request_hash(payload)

    def replay(self) -> Outcome | None:
        """The stored outcome of an earlier request with this key, or None; a different body is a 409."""
        if self.key is None:
            return None
        found = self.ctx.store.get(IDEMPOTENCY, {"idem_key": self.key})
        if found is None:
            return None
        if found["request_hash"] != self.hash:
            raise IdempotencyKeyReused()
        return Outcome(int(found["status_code"]), found["response"], replayed=True)

    def record(self, outcome: Outcome) -> list[Write]:
        if self.key is None:
            return []
        now = self.ctx.clock.now()
        return [
            Put(
                IDEMPOTENCY,
                {
                    "idem_key": self.key,
                    "request_hash": self.hash,
                    "status_code": outcome.status,
                    "response": outcome.body,
                    "created_at": rfc3339(now),
                    "expires_at": int((now + IDEMPOTENCY_TTL).timestamp()),
                },
                fail=self._raced,
            )
        ]

    def _raced(self) -> Exception:
        """Another request with the same key committed first: a conflict the retry resolves by replay."""
        return _Replay()

    def run(self, build: Callable[[], tuple[list[Write], Outcome]]) -> Outcome:
        """Build the change and commit it with its idempotency record: no read on the way (one request).

        The record's conditional put fails when the key was used before; only then is the stored outcome
        read and returned (or a 409 when the body differs). A retry that now fails for another reason (the
        visit closed since) also returns the first outcome. Authentication errors are never absorbed.
        """
        if self.key is None:
            writes, outcome = build()
            self.ctx.commit(writes)
            return outcome
        try:
            writes, outcome = build()
            self.ctx.commit([*self.record(outcome), *writes])
            return outcome
        except Unauthenticated:
            raise
        except (_Replay, TreatFirstError) as refused:
            stored = self.replay()
            if stored is not None:
                return stored
            if isinstance(refused, _Replay):
                raise ConcurrentUpdate() from refused
            raise


class _Replay(Exception):
    """Internal: the idempotency record appeared between our read and our commit."""


class NaturalKeyTaken(Exception):
    """The item keyed by the request's own id (a fee-line id, a channel transaction id) already exists."""


def run_once(
    ctx: Context,
    idem: Idempotency,
    build: Callable[[], tuple[list[Write], Outcome]],
    *,
    table: str,
    key: Item,
    fingerprint: str,
    conflict: Callable[[], TreatFirstError],
    view: Callable[[Item], Item],
) -> Outcome:
    """Run `build` once per natural key: a retry returns the first result, another body under the key conflicts.

    A retry may also fail for another reason (the visit closed, the line filled since), so every state refusal
    first looks for the earlier item. Authentication errors are never absorbed.
    """
    try:
        return idem.run(build)
    except IdempotencyKeyReused:
        raise
    except (NaturalKeyTaken, Conflict, Unprocessable) as refused:
        existing = ctx.store.get(table, key)
        if existing is None:
            if not isinstance(refused, NaturalKeyTaken):
                raise
            raise ConcurrentUpdate() from refused
        if existing["request_hash"] != fingerprint:
            raise conflict() from refused
        return Outcome(201, view(existing), replayed=True)
