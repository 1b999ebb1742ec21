"""Functional tier: HTTP -> Chalice -> services -> DynamoDB, on moto's in-process mock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client
from treatfirst.adapters.dynamo import MODELS
from treatfirst.client import signed_headers
from treatfirst.domain import ledger
from treatfirst.services.callers import register
from treatfirst.services.ports import ACCOUNTS, LEDGER
from treatfirst.services.unit_of_work import Context

from tests.factories import enrollment
from tests.stacks import moto_platform

PREFIX = "tf-test-"


@pytest.fixture(params=["lianyungang"])
def city(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def platform(city: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto with the tables that moto's CloudFormation creates from infra/tables.yaml, and a fresh runtime."""
    with moto_platform(monkeypatch, PREFIX, city) as rt:
        assert len(boto3.client("dynamodb").list_tables()["TableNames"]) == len(MODELS)
        yield rt
        assert_every_line_sound(rt.store)


def assert_every_line_sound(store: Any) -> None:
    """After every scenario: each credit line keeps its invariant and equals its ledger recomputed."""
    accounts = boto3.resource("dynamodb").Table(f"{PREFIX}{ACCOUNTS}").scan()["Items"]
    for account in (a for a in accounts if str(a["account_id"]).startswith("acc_")):
        line = store.get(ACCOUNTS, {"account_id": account["account_id"]})
        balances = {k: line[k] for k in ("limit_fen", *ledger.BUCKETS)}
        assert ledger.invariant_violations(balances) == []
        entries = store.query(LEDGER, account["account_id"], limit=100).items
        assert len(entries) < 100, "a scenario with more entries needs paging here"
        assert ledger.recompute(entries) == balances


@dataclass
class Key:
    key_id: str
    secret: str
    principal_id: str


class Api:
    """Signs requests like a real caller and sends them through Chalice's test client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        key: Key | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        idempotency_key: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body, ensure_ascii=False).encode())
        sent = {"Content-Type": "application/json"}
        if key is not None:
            sent.update(signed_headers(key.key_id, key.secret, method, path, query, data))
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        sent.update(headers or {})
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(query.items())) if query else "")
        return self.client.http.request(method, url, headers=sent, body=data)

    def post(self, key: Key, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call(key, "POST", path, body, **kw)

    def get(self, key: Key | None, path: str, **kw: Any) -> Any:
        return self.call(key, "GET", path, **kw)


@pytest.fixture
def api(platform: Any) -> Iterator[Api]:
    from app import app

    with Client(app) as client:
        yield Api(client)


def _register(platform: Any, kind: str, principal: str) -> Key:
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)
    made = register(ctx, None, kind=kind, principal_id=principal, name=f"{principal} name")
    return Key(made.key_id, made.secret, principal)


@pytest.fixture
def hospital(platform: Any) -> Key:
    return _register(platform, "hospital", "hospital-a")


@pytest.fixture
def other_hospital(platform: Any) -> Key:
    return _register(platform, "hospital", "hospital-b")


@pytest.fixture
def channel(platform: Any) -> Key:
    return _register(platform, "channel", "wechat-pay")


@pytest.fixture
def operator(platform: Any) -> Key:
    return _register(platform, "operator", "city-operator")


@pytest.fixture
def enrolled(api: Api, hospital: Key, platform: Any) -> dict[str, Any]:
    """An enrolled account (through the API)."""
    response = api.post(hospital, "/v1/enrollments", enrollment(platform.policy))
    assert response.status_code == 201, response.body
    return dict(json.loads(response.body))


@pytest.fixture
def visit(api: Api, hospital: Key, enrolled: dict[str, Any]) -> dict[str, Any]:
    response = api.post(hospital, "/v1/visits", {"account_id": enrolled["account_id"]})
    assert response.status_code == 201, response.body
    return dict(json.loads(response.body))
