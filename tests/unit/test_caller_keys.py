"""The authenticator's caches (bounded in size and time, on a clock the test moves) and the key lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from treatfirst.client import signed_headers
from treatfirst.domain.errors import BadSignature, CallerExists, CallerRevoked, Unauthenticated
from treatfirst.domain.ids import new_id
from treatfirst.services import callers
from treatfirst.services.callers import Authenticator, register, revoke, rotate
from treatfirst.services.ports import CALLERS

from tests.unit.conftest import World


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingReads:
    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tables: list[str] = []
        real = world.store.get

        def get(table: str, key: Any) -> Any:
            self.tables.append(table)
            return real(table, key)

        monkeypatch.setattr(world.store, "get", get)


def _verify(world: World, auth: Authenticator, key_id: str, secret: str) -> Any:
    ctx = world.ctx()
    now = world.clock.now().timestamp
    headers = signed_headers(key_id, secret, "GET", "/v1/visits", None, b"", now=now)
    caller = auth.verify(ctx, method="GET", path="/v1/visits", query=None, headers=headers, body=b"")
    ctx.flush()
    return caller


def test_a_revoked_key_is_refused_once_the_cache_bound_has_passed(world: World) -> None:
    # Given a key in use and cached by a server process
    ticks = Ticks()
    auth = Authenticator(monotonic=ticks)
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A")
    assert made.secret is not None
    assert _verify(world, auth, made.key_id, made.secret).principal_id == "hospital-a"
    # When it is revoked (by another process) and the bound passes
    revoke(world.ctx(), None, made.key_id, reason="contract ended")
    ticks.now += callers.REVOCATION_BOUND_SECONDS
    # Then this process refuses it too
    assert callers.REVOCATION_BOUND_SECONDS <= 30
    with pytest.raises(Unauthenticated):
        _verify(world, auth, made.key_id, made.secret)


def test_unknown_key_ids_cost_one_read_per_bound_and_the_caches_stay_bounded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = Ticks()
    auth = Authenticator(monotonic=ticks)
    reads = CountingReads(world, monkeypatch)
    unknown = new_id("key")
    # Given an unknown key id tried many times
    for _ in range(10):
        with pytest.raises(Unauthenticated):
            _verify(world, auth, unknown, "guess")
    # Then the table was read once; after the negative cache's lifetime it is read again
    assert reads.tables == [CALLERS]
    ticks.now += callers.UNKNOWN_KEY_SECONDS
    with pytest.raises(Unauthenticated):
        _verify(world, auth, unknown, "guess")
    assert reads.tables == [CALLERS, CALLERS]
    # And a flood of distinct unknown ids never holds more than CACHE_SIZE of them
    for _ in range(callers.CACHE_SIZE + 50):
        with pytest.raises(Unauthenticated):
            _verify(world, auth, new_id("key"), "guess")
    assert len(auth._unknown) <= callers.CACHE_SIZE


def test_a_key_registered_after_its_id_was_refused_works_after_the_bound(world: World) -> None:
    # Given a registered key whose id this process had refused as unknown (cached) before the key existed
    ticks = Ticks()
    auth = Authenticator(monotonic=ticks)
    made = register(world.ctx(), None, kind="channel", principal_id="alipay", name="Alipay")
    assert made.secret is not None
    auth._unknown[made.key_id] = ticks.now + callers.UNKNOWN_KEY_SECONDS
    with pytest.raises(Unauthenticated):
        _verify(world, auth, made.key_id, made.secret)
    # When the negative cache's lifetime passes, the key works
    ticks.now += callers.UNKNOWN_KEY_SECONDS
    assert _verify(world, auth, made.key_id, made.secret).principal_id == "alipay"


def test_rotation_two_secrets_then_one(world: World) -> None:
    ticks = Ticks()
    auth = Authenticator(monotonic=ticks)
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A")
    assert made.secret is not None
    _verify(world, auth, made.key_id, made.secret)
    # When the key is rotated with a 10-minute overlap, at once (within the same second as its last use)
    new = rotate(world.ctx(), None, made.key_id, reason="leak suspected", previous_valid_seconds=600)
    assert new.secret is not None and new.secret != made.secret
    # Then both secrets work (the new one although this process had cached the key before the rotation)
    assert _verify(world, auth, made.key_id, new.secret).key_id == made.key_id
    assert _verify(world, auth, made.key_id, made.secret).key_id == made.key_id
    # And after the overlap only the new one
    world.clock.advance(seconds=600)
    with pytest.raises(BadSignature):
        _verify(world, auth, made.key_id, made.secret)
    _verify(world, auth, made.key_id, new.secret)
    # And a rotation with no overlap ends the previous secret at once
    newest = rotate(world.ctx(), None, made.key_id, reason="again", previous_valid_seconds=0)
    assert newest.secret is not None and newest.previous_expires_at is None
    ticks.now += callers.REVOCATION_BOUND_SECONDS
    with pytest.raises(BadSignature):
        _verify(world, auth, made.key_id, new.secret)
    _verify(world, auth, made.key_id, newest.secret)


def test_a_bad_signature_rereads_a_key_at_most_once_a_second(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = Ticks()
    auth = Authenticator(monotonic=ticks)
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A")
    assert made.secret is not None
    _verify(world, auth, made.key_id, made.secret)
    reads = CountingReads(world, monkeypatch)
    for _ in range(20):
        with pytest.raises(BadSignature):
            _verify(world, auth, made.key_id, "wrong")
    assert reads.tables == [CALLERS]  # the first failure reads the key again (it may have been rotated)
    ticks.now += callers.RELOAD_AFTER_SECONDS
    for _ in range(20):
        with pytest.raises(BadSignature):
            _verify(world, auth, made.key_id, "wrong")
    assert reads.tables == [CALLERS, CALLERS]


def test_one_active_key_per_principal_and_revoked_keys_stay_revoked(world: World) -> None:
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A")
    with pytest.raises(CallerExists):
        register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A again")
    # the same id as another kind is another principal
    register(world.ctx(), None, kind="channel", principal_id="hospital-a", name="not a hospital")
    revoke(world.ctx(), None, made.key_id, reason="off-boarded")
    with pytest.raises(CallerRevoked):
        revoke(world.ctx(), None, made.key_id, reason="twice")
    with pytest.raises(CallerRevoked):
        rotate(world.ctx(), None, made.key_id, reason="too late")
    assert register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A").key_id != made.key_id


def test_a_replayed_registration_shows_the_secret_only_within_the_idempotency_window(world: World) -> None:
    from treatfirst.services.idempotency import IDEMPOTENCY_TTL
    from treatfirst.services.identity import SCOPES, Caller

    operator = Caller(new_id("key"), "operator", "city-operator", SCOPES["operator"])
    # Given a registration made with an Idempotency-Key
    first = register(world.ctx(), operator, kind="hospital", principal_id="hospital-a", name="A", idempotency_key="r1")
    # When it is retried within the window, the same answer comes back, secret included
    again = register(world.ctx(), operator, kind="hospital", principal_id="hospital-a", name="A", idempotency_key="r1")
    assert (again.key_id, again.secret, again.replayed) == (first.key_id, first.secret, True)
    # And once the window has passed (the record may outlive it until DynamoDB deletes it), without the secret
    world.clock.advance(seconds=IDEMPOTENCY_TTL.total_seconds())
    late = register(world.ctx(), operator, kind="hospital", principal_id="hospital-a", name="A", idempotency_key="r1")
    assert (late.key_id, late.secret, late.replayed) == (first.key_id, None, True)
