"""What every use case receives: its ports, the policy, and who is calling."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import msgspec

from treatfirst.domain import ledger
from treatfirst.domain.clock import Clock, rfc3339
from treatfirst.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    TreatFirstError,
    Unauthenticated,
    Unprocessable,
)
from treatfirst.domain.ids import new_id
from treatfirst.domain.policy import Policy
from treatfirst.services.ports import (
    AUDIT,
    IDEMPOTENCY,
    LEDGER,
    Cipher,
    CommitFailed,
    Item,
    Put,
    Store,
    Write,
)

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_ATTEMPTS = 12

SCOPES: dict[str, tuple[str, ...]] = {
    "hospital": ("enrollments:write", "accounts:read", "visits:write", "visits:read", "bills:read"),
    "channel": ("enrollments:write", "accounts:read", "bills:read", "payments:write"),
    "operator": ("callers:write", "accounts:read", "visits:read", "bills:read"),
}


@dataclass(frozen=True)
class Caller:
    key_id: str
    kind: str  # hospital | channel | operator
    principal_id: str  # hospital id, channel id or operator id
    scopes: tuple[str, ...]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this key lacks the {scope} scope")

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.principal_id}"


@dataclass
class Context:
    store: Store
    cipher: Cipher
    clock: Clock
    policy: Policy
    request_id: str = field(default_factory=lambda: new_id("req"))
    pending: list[Write] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep

    def now_text(self) -> str:
        return rfc3339(self.clock.now())

    def audit(self, caller: Caller | None, subject: str, action: str, **details: Any) -> Put:
        """An append-only audit event (who, what, when, request id). Details never hold identifiers."""
        return Put(
            AUDIT,
            {
                "subject": subject,
                "event_id": new_id("evt"),
                "action": action,
                "actor_kind": caller.kind if caller else "system",
                "actor_id": caller.principal_id if caller else "system",
                "at": self.now_text(),
                "request_id": self.request_id,
                "details": details,
            },
        )

    def entry(self, account_id: str, kind: str, amount_fen: int, ref_type: str, ref_id: str, actor: str) -> Put:
        """One ledger entry; its `delta` is derived from the movement kind (domain.ledger)."""
        return Put(
            LEDGER,
            {
                "account_id": account_id,
                "entry_id": new_id("led"),
                "kind": kind,
                "amount_fen": amount_fen,
                "delta": ledger.delta(kind, amount_fen),
                "ref_type": ref_type,
                "ref_id": ref_id,
                "at": self.now_text(),
                "request_id": self.request_id,
                "actor": actor,
            },
        )

    def commit(self, writes: Sequence[Write]) -> None:
        """Commit all-or-nothing, together with any pending writes (the request's nonce).

        Transaction conflicts are retried with jittered backoff. A write's `fail` names the domain error
        when its own condition is what failed; the first failing write in list order wins, so callers put
        the most telling check first. When the change fails, the pending writes are still committed alone,
        so a signed request that failed cannot be replayed later.
        """
        try:
            self._commit([*self.pending, *writes])
        except Exception:
            self.flush()
            raise
        self.pending.clear()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self._commit(batch)

    def _commit(self, writes: Sequence[Write]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.store.commit(writes)
                return
            except CommitFailed as failed:
                if failed.conflict and "ConditionalCheckFailed" not in failed.reasons:
                    self.sleep(random.uniform(0, min(0.4, 0.005 * 2**attempt)))
                    continue
                for write, reason in zip(writes, failed.reasons, strict=False):
                    if reason == "ConditionalCheckFailed" and write.fail is not None:
                        raise write.fail() from failed
                raise ConcurrentUpdate() from failed
        raise ConcurrentUpdate("the resource is busy; retry with the same Idempotency-Key")


def request_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request (a message struct or plain data): retries must match it."""
    canonical = json.dumps(msgspec.to_builtins(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
