"""HMAC request signatures: what is covered, and the authenticator's refusals."""

from __future__ import annotations

import pytest
from treatfirst.client import signed_headers
from treatfirst.domain import signing
from treatfirst.domain.errors import BadSignature, ClockSkew, ReplayedNonce, Unauthenticated
from treatfirst.services.callers import Authenticator, register

from tests.unit.conftest import World


def _verify(world: World, headers: dict[str, str], body: bytes = b"{}", path: str = "/v1/visits") -> object:
    ctx = world.ctx()
    caller = Authenticator().verify(ctx, method="POST", path=path, query=None, headers=headers, body=body)
    ctx.flush()
    return caller


def test_signature_covers_method_path_query_time_nonce_and_body() -> None:
    key = signing.signing_key("s3cret")
    base = signing.sign(key, "POST", "/v1/visits", {"b": "2", "a": "1"}, "100", "n" * 16, b"{}")
    assert base == signing.sign(key, "post", "/v1/visits", {"a": "1", "b": "2"}, "100", "n" * 16, b"{}")
    for changed in (
        signing.sign(key, "GET", "/v1/visits", {"a": "1", "b": "2"}, "100", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visit", {"a": "1", "b": "2"}, "100", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1"}, "100", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1", "b": "2"}, "101", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1", "b": "2"}, "100", "m" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1", "b": "2"}, "100", "n" * 16, b"{ }"),
    ):
        assert changed != base


def test_authenticator_accepts_once_and_refuses_replays_skew_and_tampering(world: World) -> None:
    # Given a registered hospital key
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A")
    now = lambda: world.clock.now().timestamp()  # noqa: E731
    headers = signed_headers(made.key_id, made.secret, "POST", "/v1/visits", None, b"{}", now=now)

    # When the signed request arrives, it is accepted; the same request again is a replay
    assert _verify(world, headers).principal_id == "hospital-a"  # type: ignore[attr-defined]
    with pytest.raises(ReplayedNonce):
        _verify(world, headers)

    # And a changed body, a wrong secret, a stale clock or an unknown key are refused
    fresh = signed_headers(made.key_id, made.secret, "POST", "/v1/visits", None, b"{}", now=now)
    with pytest.raises(BadSignature):
        _verify(world, fresh, body=b'{"x":1}')
    wrong = signed_headers(made.key_id, "not-the-secret", "POST", "/v1/visits", None, b"{}", now=now)
    with pytest.raises(BadSignature):
        _verify(world, wrong)
    stale = signed_headers(made.key_id, made.secret, "POST", "/v1/visits", None, b"{}", now=lambda: now() - 301)
    with pytest.raises(ClockSkew):
        _verify(world, stale)
    unknown = signed_headers("key_nope", made.secret, "POST", "/v1/visits", None, b"{}", now=now)
    with pytest.raises(Unauthenticated):
        _verify(world, unknown)


def test_the_secret_is_never_stored(world: World) -> None:
    made = register(world.ctx(), None, kind="channel", principal_id="alipay", name="Alipay")
    stored = repr(world.store.tables)
    assert made.secret not in stored
    assert signing.signing_key(made.secret).hex() not in stored
