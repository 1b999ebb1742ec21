"""On DynamoDB Local: concurrent registrations of one id make one key; concurrent retries of one registration
(same operator key, same Idempotency-Key) all get the first answer, secret included."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from treatfirst.domain.errors import CallerExists, ConcurrentUpdate
from treatfirst.services import callers
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import CALLERS

from tests.integration.conftest import Platform

OPERATOR = Caller("key_01KOPERATORAAAAAAAAAAAAAAA", "operator", "city-operator", SCOPES["operator"])


def keys_of(platform: Platform, principal_id: str) -> list[dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(f"{platform.prefix}{CALLERS}").scan(ConsistentRead=True)["Items"]
    return [i for i in items if i.get("principal_id") == principal_id and str(i["key_id"]).startswith("key_")]


def test_concurrent_registrations_of_one_id_make_one_key(platform: Platform) -> None:
    # Given ten operators' consoles registering the same hospital id at once
    def attempt(n: int) -> object:
        try:
            return callers.register(platform.ctx(), OPERATOR, kind="hospital", principal_id="race-1", name=f"R{n}")
        except (CallerExists, ConcurrentUpdate) as refused:
            return refused

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(attempt, range(10)))
    # Then exactly one key was made, and every other attempt was refused
    made = [r for r in results if isinstance(r, callers.Registered)]
    assert len(made) == 1
    assert all(isinstance(r, (CallerExists, ConcurrentUpdate)) for r in results if r not in made)
    assert [k["key_id"] for k in keys_of(platform, "race-1")] == [made[0].key_id]


def test_concurrent_retries_of_one_registration_get_the_first_answer(platform: Platform) -> None:
    # Given one registration retried eight times at once with the same Idempotency-Key
    def retry(_: int) -> object:
        try:
            return callers.register(
                platform.ctx(), OPERATOR, kind="channel", principal_id="race-2", name="R", idempotency_key="reg-race-2"
            )
        except ConcurrentUpdate as busy:
            return busy

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(retry, range(8)))
    answers = {(r.key_id, r.secret) for r in results if isinstance(r, callers.Registered)}
    # Then every answer is the one key, with its secret, and one key exists
    assert len(answers) == 1
    key_id, secret = answers.pop()
    assert secret and [k["key_id"] for k in keys_of(platform, "race-2")] == [key_id]
