"""Callers (hospitals, channels, operators): their keys, the keys' lifecycle, and signed-request authentication.

Lifecycle of a key
  register  a key for a principal (kind + id). One active key per principal: a guard item keyed by kind and
            id is written in the same transaction, so registering the id again is CALLER_EXISTS. The secret
            is returned once (a retry with the same Idempotency-Key by the same operator key, within the
            idempotency window, returns the same answer, secret included).
  rotate    a new secret for the same key id. The previous secret keeps working until its expiry (24 h by
            default, 0 to end it at once); a second rotation ends the first one's overlap.
  revoke    the key stops working and the principal id may be registered again. Servers cache keys for at
            most REVOCATION_BOUND_SECONDS, so a revocation takes effect everywhere within that bound.

Authentication checks the format and length of every signature header (and the Idempotency-Key) before any
read, so a malformed or oversized value costs nothing but a 4xx; unknown or revoked key ids are remembered
for a short time in a size-capped cache, so guessing them does not cost a read each time.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from treatfirst.domain import signing
from treatfirst.domain.clock import rfc3339, wall_now
from treatfirst.domain.errors import (
    BadSignature,
    CallerExists,
    CallerNotFound,
    CallerRevoked,
    ClockSkew,
    ConcurrentUpdate,
    Conflict,
    ReplayedNonce,
    Unauthenticated,
    ValidationFailed,
)
from treatfirst.domain.ids import new_id
from treatfirst.services.idempotency import IDEMPOTENCY_TTL, Idempotency, Outcome
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import CALLERS, NONCES, Delete, Item, Put, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9_-]{2,63}")
KEY_ID = re.compile(r"key_[0-9A-HJKMNP-TV-Z]{26}")  # new_id("key"): Crockford base32, 26 characters
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds, ASCII digits only
SIGNATURE = re.compile(r"[0-9a-f]{64}")  # lower-case hex of HMAC-SHA256
IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,128}")  # printable ASCII

REVOCATION_BOUND_SECONDS = 30  # a key is cached in a server process at most this long
UNKNOWN_KEY_SECONDS = 30  # an unknown or revoked key id is remembered this long
CACHE_SIZE = 1024  # keys remembered per process (each cache)
RELOAD_AFTER_SECONDS = 1.0  # failing signatures re-read their key at most this often (a rotation since cached)
DEFAULT_OVERLAP_SECONDS = 24 * 3600
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
MAX_REASON = 200


def guard_id(kind: str, principal_id: str) -> str:
    """The guard item that makes one active key per principal a conditional write."""
    return f"principal#{kind}#{principal_id}"


@dataclass(frozen=True)
class Registered:
    key_id: str
    secret: str | None  # shown once (and to a retry with the same Idempotency-Key)
    kind: str
    principal_id: str
    scopes: tuple[str, ...]
    replayed: bool = False
    rotated: bool = False
    previous_expires_at: str | None = None  # rotation: until when the previous secret still works (None: ended)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key_id": self.key_id,
            "secret": self.secret,
            "kind": self.kind,
            "id": self.principal_id,
            "scopes": list(self.scopes),
        }
        if self.rotated:
            out["previous_secret_expires_at"] = self.previous_expires_at
        return out


def _seal_key(ctx: Context, key_id: str, secret: str) -> str:
    return ctx.cipher.encrypt(base64.b64encode(signing.signing_key(secret)).decode(), context=f"caller:{key_id}")


def _replay_context(actor: Caller, key_id: str) -> str:
    return f"caller-secret:{actor.key_id}:{key_id}"


def _answer(
    ctx: Context,
    actor: Caller | None,
    made: Registered,
    key: str | None,
    operation: str,
    payload: Any,
    build: Callable[[], list[Write]],
) -> Registered:
    """Commit `build()` once per Idempotency-Key. The stored answer holds the secret encrypted, for the same
    operator key only, until the idempotency window ends; it is decrypted when a retry replays it."""
    if actor is None or key is None:
        ctx.commit(build())
        return made
    now = ctx.clock.now()
    stored = {
        **made.body(),
        "secret": None,
        "secret_enc": ctx.cipher.encrypt(made.secret or "", context=_replay_context(actor, made.key_id)),
        "secret_until": int((now + IDEMPOTENCY_TTL).timestamp()),  # then null, even before the record expires
    }
    idem = Idempotency(ctx, actor, key, operation, payload)
    outcome = idem.run(lambda: (build(), Outcome(201, stored)))
    if not outcome.replayed:
        return made
    body = outcome.body
    secret = None
    if body.get("secret_enc") and int(body.get("secret_until", 0)) > int(now.timestamp()):
        secret = ctx.cipher.decrypt(body["secret_enc"], context=_replay_context(actor, body["key_id"]))
    return Registered(
        body["key_id"],
        secret,
        body["kind"],
        body["id"],
        tuple(body["scopes"]),
        replayed=True,
        rotated="previous_secret_expires_at" in body,
        previous_expires_at=body.get("previous_secret_expires_at"),
    )


def register(
    ctx: Context,
    actor: Caller | None,
    *,
    kind: str,
    principal_id: str,
    name: str,
    idempotency_key: str | None = None,
) -> Registered:
    """Create the key of a hospital, channel or operator; CALLER_EXISTS when the id already has an active key."""
    if kind not in SCOPES:
        raise ValidationFailed(f"kind must be one of {', '.join(SCOPES)}", field="kind")
    if not isinstance(principal_id, str) or not _PRINCIPAL.fullmatch(principal_id):
        raise ValidationFailed("id must be 3-64 characters of a-z, 0-9, _ and -", field="id")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise ValidationFailed("name must be 1-100 characters", field="name")
    key_id = new_id("key")
    secret = secrets.token_urlsafe(32)
    made = Registered(key_id, secret, kind, principal_id, SCOPES[kind])

    def build() -> list[Write]:
        now = ctx.now_text()
        exists = CallerExists(f"a {kind} with this id already has an active key; rotate or revoke it", field="id")
        return [
            Put(
                CALLERS,
                {
                    "key_id": guard_id(kind, principal_id),
                    "kind": kind,
                    "principal_id": principal_id,
                    "status": "guard",
                    "active_key_id": key_id,
                    "created_at": now,
                },
                fail=lambda: exists,
            ),
            Put(
                CALLERS,
                {
                    "key_id": key_id,
                    "kind": kind,
                    "principal_id": principal_id,
                    "name": name.strip(),
                    "scopes": list(SCOPES[kind]),
                    "status": "active",
                    "created_at": now,
                    "signing_key_enc": _seal_key(ctx, key_id, secret),
                },
                fail=lambda: Conflict("key id collision; retry"),
            ),
            audit(ctx, actor, f"caller#{key_id}", "caller.registered", kind=kind, principal_id=principal_id),
        ]

    payload = {"kind": kind, "id": principal_id, "name": name}
    return _answer(ctx, actor, made, idempotency_key, "callers.register", payload, build)


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= MAX_REASON:
        raise ValidationFailed(f"reason must be 1-{MAX_REASON} characters", field="reason")
    return reason.strip()


def _active_key(ctx: Context, key_id: str) -> Item:
    """The key's item; the id's format is checked before the read (an oversized id never reaches the table)."""
    if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
        raise CallerNotFound()
    item = ctx.store.get(CALLERS, {"key_id": key_id})
    if item is None:
        raise CallerNotFound()
    if item.get("status") != "active":
        raise CallerRevoked()
    return item


def rotate(
    ctx: Context,
    actor: Caller | None,
    key_id: str,
    *,
    reason: str,
    previous_valid_seconds: int = DEFAULT_OVERLAP_SECONDS,
    idempotency_key: str | None = None,
) -> Registered:
    """A new secret for the key; the previous one keeps working for `previous_valid_seconds` (0: not at all)."""
    why = _reason(reason)
    if (
        isinstance(previous_valid_seconds, bool)
        or not isinstance(previous_valid_seconds, int)
        or not 0 <= previous_valid_seconds <= MAX_OVERLAP_SECONDS
    ):
        raise ValidationFailed(
            f"previous_valid_seconds must be an integer from 0 to {MAX_OVERLAP_SECONDS}", field="previous_valid_seconds"
        )
    item = _active_key(ctx, key_id)
    secret = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    until = now + timedelta(seconds=previous_valid_seconds)
    made = Registered(
        key_id,
        secret,
        item["kind"],
        item["principal_id"],
        tuple(item["scopes"]),
        rotated=True,
        previous_expires_at=rfc3339(until) if previous_valid_seconds else None,
    )

    def build() -> list[Write]:
        keep = previous_valid_seconds > 0
        change = Update(
            CALLERS,
            {"key_id": key_id},
            set={
                "signing_key_enc": _seal_key(ctx, key_id, secret),
                "previous_key_enc": item["signing_key_enc"] if keep else None,
                "previous_expires_at": int(until.timestamp()) if keep else None,
                "rotated_at": rfc3339(now),
            },
            expect={"status": "active", "signing_key_enc": item["signing_key_enc"]},
            fail=ConcurrentUpdate,
        )
        event = audit(
            ctx,
            actor,
            f"caller#{key_id}",
            "caller.rotated",
            reason=why,
            previous_valid_seconds=previous_valid_seconds,
        )
        return [change, event]

    payload = {"key_id": key_id, "reason": reason, "previous_valid_seconds": previous_valid_seconds}
    return _answer(ctx, actor, made, idempotency_key, "callers.rotate", payload, build)


def revoke(
    ctx: Context, actor: Caller | None, key_id: str, *, reason: str, idempotency_key: str | None = None
) -> Outcome:
    """The key stops working (everywhere within REVOCATION_BOUND_SECONDS); its principal id is released."""
    why = _reason(reason)
    payload = {"key_id": key_id, "reason": reason}

    def build() -> tuple[list[Write], Outcome]:
        item = _active_key(ctx, key_id)
        now = ctx.now_text()
        writes: list[Write] = [
            Update(
                CALLERS,
                {"key_id": key_id},
                set={"status": "revoked", "revoked_at": now, "previous_key_enc": None, "previous_expires_at": None},
                expect={"status": "active"},
                fail=CallerRevoked,
            ),
            audit(ctx, actor, f"caller#{key_id}", "caller.revoked", reason=why),
        ]
        guard = {"key_id": guard_id(item["kind"], item["principal_id"])}
        found = ctx.store.get(CALLERS, guard)
        if found is not None and found.get("active_key_id") == key_id:
            writes.append(Delete(CALLERS, guard, expect={"active_key_id": key_id}, fail=ConcurrentUpdate))
        body = {
            "key_id": key_id,
            "kind": item["kind"],
            "id": item["principal_id"],
            "status": "revoked",
            "revoked_at": now,
            "effective_within_seconds": REVOCATION_BOUND_SECONDS,
        }
        return writes, Outcome(200, body)

    if actor is None or idempotency_key is None:
        writes, outcome = build()
        ctx.commit(writes)
        return outcome
    return Idempotency(ctx, actor, idempotency_key, "callers.revoke", payload).run(build)


# ---- authentication -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    until: float  # monotonic
    loaded: float  # monotonic
    after_mismatch: bool  # loaded again because a signature did not match
    caller: Caller
    keys: tuple[tuple[bytes, int | None], ...]  # (signing key, valid until epoch seconds or None)


def _header(lower: Mapping[str, str], name: str) -> str | None:
    return lower.get(name.lower())


def check_headers(lower: Mapping[str, str]) -> tuple[str, str, str, str]:
    """Format and length of the signature headers and the Idempotency-Key, before anything is read."""
    key_id = _header(lower, signing.HEADER_KEY_ID)
    stamp = _header(lower, signing.HEADER_TIMESTAMP)
    nonce = _header(lower, signing.HEADER_NONCE)
    signature = _header(lower, signing.HEADER_SIGNATURE)
    if not (key_id and stamp and nonce and signature):
        raise Unauthenticated("the request must carry X-TF-Key-Id, X-TF-Timestamp, X-TF-Nonce and X-TF-Signature")
    if not KEY_ID.fullmatch(key_id):
        raise Unauthenticated("X-TF-Key-Id is not a key id (key_ and 26 characters)", field=signing.HEADER_KEY_ID)
    if not TIMESTAMP.fullmatch(stamp):
        raise ClockSkew("X-TF-Timestamp must be Unix seconds in ASCII digits", field=signing.HEADER_TIMESTAMP)
    if not signing.NONCE.fullmatch(nonce):
        raise BadSignature("the nonce must be 16-64 characters of A-Z, a-z, 0-9, _ and -", field=signing.HEADER_NONCE)
    if not SIGNATURE.fullmatch(signature):
        raise BadSignature("X-TF-Signature must be 64 lower-case hex characters", field=signing.HEADER_SIGNATURE)
    idempotency_key = lower.get("idempotency-key")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ValidationFailed("Idempotency-Key must be 1 to 128 printable ASCII characters", field="Idempotency-Key")
    return key_id, stamp, nonce, signature


class Authenticator:
    """Verifies signed requests.

    Keys are cached in the process for at most REVOCATION_BOUND_SECONDS, measured on `monotonic` (replaceable
    in tests); unknown and revoked key ids for UNKNOWN_KEY_SECONDS. Both caches hold at most CACHE_SIZE ids.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self._known: dict[str, _Known] = {}
        self._unknown: dict[str, float] = {}

    @staticmethod
    def _remember(cache: dict[str, Any], key_id: str, value: Any) -> None:
        cache.pop(key_id, None)
        while len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))  # the oldest entry: entries share one lifetime
        cache[key_id] = value

    def _load(self, ctx: Context, key_id: str, *, fresh: bool = False) -> _Known:
        now = self.monotonic()
        if not fresh:
            refused_until = self._unknown.get(key_id)
            if refused_until is not None and refused_until > now:
                raise Unauthenticated()
            known = self._known.get(key_id)
            if known is not None and known.until > now:
                return known
        item = ctx.store.get(CALLERS, {"key_id": key_id})
        if item is None or item.get("status") != "active":
            self._known.pop(key_id, None)
            self._remember(self._unknown, key_id, now + UNKNOWN_KEY_SECONDS)
            raise Unauthenticated()
        self._unknown.pop(key_id, None)
        keys: list[tuple[bytes, int | None]] = [(self._open(ctx, key_id, item["signing_key_enc"]), None)]
        if item.get("previous_key_enc") and item.get("previous_expires_at"):
            keys.append((self._open(ctx, key_id, item["previous_key_enc"]), int(item["previous_expires_at"])))
        # Scopes follow the kind from the code's access table (a new operation reaches existing keys); the
        # scopes stored at registration are a record of what was granted then.
        caller = Caller(key_id, item["kind"], item["principal_id"], SCOPES.get(item["kind"], ()))
        known = _Known(now + REVOCATION_BOUND_SECONDS, now, fresh, caller, tuple(keys))
        self._remember(self._known, key_id, known)
        return known

    @staticmethod
    def _open(ctx: Context, key_id: str, sealed: str) -> bytes:
        return base64.b64decode(ctx.cipher.decrypt(sealed, context=f"caller:{key_id}"))

    @staticmethod
    def _signed_by(known: _Known, now: int, sign: Callable[[bytes], str], signature: str) -> bool:
        return any(signing.matches(sign(key), signature) for key, until in known.keys if until is None or now < until)

    def verify(
        self,
        ctx: Context,
        *,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Caller:
        lower = {k.lower(): v for k, v in headers.items()}
        key_id, stamp, nonce, signature = check_headers(lower)
        now = int(wall_now(ctx.clock).timestamp())  # the callers' clocks: never the test clock's offset
        if abs(int(stamp) - now) > signing.MAX_SKEW_SECONDS:
            raise ClockSkew()
        known = self._load(ctx, key_id)

        def sign(key: bytes) -> str:
            return signing.sign(key, method, path, query, stamp, nonce, body)

        if not self._signed_by(known, now, sign, signature):
            # The key may have been rotated since it was cached: read it again at once, then at most once
            # every RELOAD_AFTER_SECONDS while signatures keep failing (a wrong secret costs few reads).
            if known.after_mismatch and self.monotonic() - known.loaded < RELOAD_AFTER_SECONDS:
                raise BadSignature()
            known = self._load(ctx, key_id, fresh=True)
            if not self._signed_by(known, now, sign, signature):
                raise BadSignature()
        # The nonce is written in the same transaction as the request's change (one write per request);
        # requests that change nothing write it alone when they finish (Context.flush).
        expires = now + 2 * signing.MAX_SKEW_SECONDS
        ctx.pending.append(Put(NONCES, {"nonce_key": f"{key_id}#{nonce}", "expires_at": expires}, fail=ReplayedNonce))
        return known.caller
