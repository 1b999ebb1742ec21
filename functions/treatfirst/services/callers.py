"""Callers (hospitals, channels, operators): registration with a secret shown once, and authentication."""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from treatfirst.domain import signing
from treatfirst.domain.errors import (
    BadSignature,
    ClockSkew,
    Conflict,
    ReplayedNonce,
    Unauthenticated,
    ValidationFailed,
)
from treatfirst.domain.ids import new_id
from treatfirst.services.context import SCOPES, Caller, Context
from treatfirst.services.ports import CALLERS, NONCES, Put

_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9_-]{2,63}$")
_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Registered:
    key_id: str
    secret: str  # shown once
    kind: str
    principal_id: str
    scopes: tuple[str, ...]


def register(ctx: Context, actor: Caller | None, *, kind: str, principal_id: str, name: str) -> Registered:
    """Create a key for a hospital, channel or operator. The secret is returned here and never again."""
    if kind not in SCOPES:
        raise ValidationFailed(f"kind must be one of {', '.join(SCOPES)}", field="kind")
    if not isinstance(principal_id, str) or not _PRINCIPAL.match(principal_id):
        raise ValidationFailed("id must be 3-64 characters of a-z, 0-9, _ and -", field="id")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise ValidationFailed("name must be 1-100 characters", field="name")
    key_id = new_id("key")
    secret = secrets.token_urlsafe(32)
    sealed = ctx.cipher.encrypt(base64.b64encode(signing.signing_key(secret)).decode(), context=f"caller:{key_id}")
    item = {
        "key_id": key_id,
        "kind": kind,
        "principal_id": principal_id,
        "name": name.strip(),
        "scopes": list(SCOPES[kind]),
        "status": "active",
        "created_at": ctx.now_text(),
        "signing_key_enc": sealed,
    }
    ctx.commit(
        [
            Put(CALLERS, item, fail=lambda: Conflict("key id collision; retry")),
            ctx.audit(actor, f"caller#{key_id}", "caller.registered", kind=kind, principal_id=principal_id),
        ]
    )
    return Registered(key_id, secret, kind, principal_id, SCOPES[kind])


class Authenticator:
    """Verifies signed requests. Caller keys are cached in the process for a few minutes."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, Caller, bytes]] = {}

    def _load(self, ctx: Context, key_id: str) -> tuple[Caller, bytes]:
        cached = self._cache.get(key_id)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        item = ctx.store.get(CALLERS, {"key_id": key_id})
        if item is None or item.get("status") != "active":
            raise Unauthenticated()
        key = base64.b64decode(ctx.cipher.decrypt(item["signing_key_enc"], context=f"caller:{key_id}"))
        caller = Caller(key_id, item["kind"], item["principal_id"], tuple(item["scopes"]))
        self._cache[key_id] = (time.monotonic() + _CACHE_SECONDS, caller, key)
        return caller, key

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
        key_id = lower.get(signing.HEADER_KEY_ID.lower())
        stamp = lower.get(signing.HEADER_TIMESTAMP.lower())
        nonce = lower.get(signing.HEADER_NONCE.lower())
        signature = lower.get(signing.HEADER_SIGNATURE.lower())
        if not (key_id and stamp and nonce and signature):
            raise Unauthenticated("the request must carry X-TF-Key-Id, X-TF-Timestamp, X-TF-Nonce and X-TF-Signature")
        if not stamp.isdigit() or abs(int(stamp) - int(ctx.clock.now().timestamp())) > signing.MAX_SKEW_SECONDS:
            raise ClockSkew()
        if not signing.NONCE.match(nonce):
            raise BadSignature("the nonce must be 16-64 characters of A-Z, a-z, 0-9, _ and -")
        caller, key = self._load(ctx, key_id)
        expected = signing.sign(key, method, path, query, stamp, nonce, body)
        if not signing.matches(expected, signature):
            raise BadSignature()
        # The nonce is written in the same transaction as the request's change (one write per request);
        # requests that change nothing write it alone when they finish (Context.flush).
        expires = int(ctx.clock.now().timestamp()) + 2 * signing.MAX_SKEW_SECONDS
        ctx.pending.append(Put(NONCES, {"nonce_key": f"{key_id}#{nonce}", "expires_at": expires}, fail=ReplayedNonce))
        return caller
