"""Through HTTP -> Chalice -> services -> DynamoDB Local: signed requests, one charge per retried post."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.client import signed_headers
from treatfirst.config import runtime
from treatfirst.services.callers import register
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, enrollment
from tests.integration.conftest import Platform, line_of


@pytest.fixture
def http(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Client, Any]]:
    monkeypatch.setenv("TF_TABLE_PREFIX", platform.prefix)
    monkeypatch.setenv("TF_POLICY", "lianyungang")
    monkeypatch.setenv("TF_KEY_MODE", "local")
    monkeypatch.setenv("TF_LOCAL_KEY", LocalCipher.new_key())
    runtime.cache_clear()
    rt = runtime()
    made = register(
        Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy),
        None,
        kind="hospital",
        principal_id="hospital-http",
        name="HTTP hospital",
    )
    from app import app

    with Client(app) as client:
        yield client, made
    runtime.cache_clear()


def _post(client: Client, made: Any, path: str, body: Any, key: str | None = None) -> Any:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed_headers(made.key_id, made.secret, "POST", path, None, raw)}
    if key:
        headers["Idempotency-Key"] = key
    return client.http.request("POST", path, headers=headers, body=raw)


def test_retried_signed_posts_charge_once(http: tuple[Client, Any], platform: Platform) -> None:
    client, made = http
    # Given an enrolled patient with a visit, through the API
    account = json.loads(_post(client, made, "/v1/enrollments", enrollment(platform.policy)).body)
    visit = json.loads(_post(client, made, "/v1/visits", {"account_id": account["account_id"]}).body)
    path = f"/v1/visits/{visit['visit_id']}/charges"
    body = charge(1234)

    # When the same post is sent three times (fresh signatures, same Idempotency-Key)
    responses = [_post(client, made, path, body, key="his-retry-1") for _ in range(3)]

    # Then all three answer the first result, the later ones marked as replays, and the line holds it once
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.body for r in responses}) == 1
    assert [r.headers.get("Idempotent-Replayed") for r in responses] == [None, "true", "true"]
    assert line_of(platform, account["account_id"])["held_fen"] == 1234
    other = _post(client, made, path, charge(99), key="his-retry-1")
    assert other.status_code == 409 and json.loads(other.body)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
