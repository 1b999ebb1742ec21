"""Signature headers and the Idempotency-Key are checked for format and length before anything is read, and keys
have a lifecycle (idempotent registration, one key per id, rotation with two secrets, revocation within 30 s)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from treatfirst.client import signed_headers
from treatfirst.services import callers
from treatfirst.services.ports import AUDIT, CALLERS

from tests.factories import charge
from tests.functional.conftest import PREFIX, Api, Key


def error_of(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    assert {"code", "message", "field", "request_id"} <= set(body["error"])
    assert body["error"]["request_id"].startswith("req_")
    assert response.headers["X-Request-Id"] == body["error"]["request_id"]
    return dict(body["error"])


class Reads:
    """Counts every call the runtime makes to its store (each one a DynamoDB request)."""

    def __init__(self, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("get", "query", "commit"):
            monkeypatch.setattr(store, name, self._counted(name, getattr(store, name)))

    def _counted(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return real(*args, **kwargs)

        return counted


@pytest.fixture
def snapshot(api: Api, hospital: Key, visit: dict[str, Any]) -> Callable[[], Any]:
    """What a charge could change: the visit and its charges (one charge already posted)."""
    path = f"/v1/visits/{visit['visit_id']}"
    assert api.post(hospital, f"{path}/charges", charge(500)).status_code == 201

    def read() -> Any:
        return json.loads(api.get(hospital, path).body), json.loads(api.get(hospital, f"{path}/charges").body)

    return read


def _send(api: Api, path: str, raw: bytes, headers: dict[str, str]) -> Any:
    return api.client.http.request("POST", path, headers={"Content-Type": "application/json", **headers}, body=raw)


BAD_HEADERS = [
    # (name, header, value, status, code)
    ("timestamp in Arabic-Indic digits", "X-TF-Timestamp", "١٧٦٤٠٠٠٠٠٠", 401, "CLOCK_SKEW"),
    ("timestamp in superscript digits", "X-TF-Timestamp", "²", 401, "CLOCK_SKEW"),
    ("timestamp of 5000 digits", "X-TF-Timestamp", "9" * 5000, 401, "CLOCK_SKEW"),
    ("negative timestamp", "X-TF-Timestamp", "-1764000000", 401, "CLOCK_SKEW"),
    ("key id of 3000 characters", "X-TF-Key-Id", "key_" + "A" * 2996, 401, "UNAUTHENTICATED"),
    ("key id not in Crockford base32", "X-TF-Key-Id", "key_" + "U" * 26, 401, "UNAUTHENTICATED"),
    ("key id in full-width characters", "X-TF-Key-Id", "ｋｅｙ_" + "０" * 26, 401, "UNAUTHENTICATED"),
    ("nonce of 5000 characters", "X-TF-Nonce", "n" * 5000, 401, "BAD_SIGNATURE"),
    ("nonce with a slash", "X-TF-Nonce", "abcdefgh/ijklmnop", 401, "BAD_SIGNATURE"),
    ("signature not hex", "X-TF-Signature", "z" * 64, 401, "BAD_SIGNATURE"),
    ("signature of 5000 characters", "X-TF-Signature", "a" * 5000, 401, "BAD_SIGNATURE"),
    ("signature in upper case", "X-TF-Signature", "A" * 64, 401, "BAD_SIGNATURE"),
    ("Idempotency-Key of 129 characters", "Idempotency-Key", "k" * 129, 400, "VALIDATION_FAILED"),
    ("Idempotency-Key not ASCII", "Idempotency-Key", "重试-1", 400, "VALIDATION_FAILED"),
]


class TestHeadersAreCheckedBeforeAnyRead:
    @pytest.mark.parametrize(
        ("name", "header", "value", "status", "code"), BAD_HEADERS, ids=[c[0] for c in BAD_HEADERS]
    )
    def test_malformed_header_is_a_4xx_that_reads_nothing(
        self,
        api: Api,
        hospital: Key,
        visit: dict[str, Any],
        snapshot: Callable[[], Any],
        platform: Any,
        monkeypatch: pytest.MonkeyPatch,
        name: str,
        header: str,
        value: str,
        status: int,
        code: str,
    ) -> None:
        # Given a visit with one charge, and a correctly signed charge whose one header is then spoilt
        before = snapshot()
        path = f"/v1/visits/{visit['visit_id']}/charges"
        raw = json.dumps(charge(300)).encode()
        headers = signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw)
        headers[header] = value
        reads = Reads(platform.store, monkeypatch)
        # When it is sent
        response = _send(api, path, raw, headers)
        # Then it is refused in the one error shape, naming the header, without a single DynamoDB request
        assert response.status_code == status, response.body
        error = error_of(response)
        assert (error["code"], error["field"]) == (code, header)
        assert value not in response.body.decode()
        assert reads.calls == []
        # And nothing changed
        assert snapshot() == before

    def test_missing_headers_read_nothing(self, api: Api, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        reads = Reads(platform.store, monkeypatch)
        response = _send(api, "/v1/visits", b"{}", {"X-TF-Key-Id": "key_" + "0" * 26})
        assert response.status_code == 401 and error_of(response)["code"] == "UNAUTHENTICATED"
        assert reads.calls == []

    def test_an_unknown_key_id_costs_one_read_then_none(
        self, api: Api, platform: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a well-formed key id that was never registered
        unknown = "key_01KAAAAAAAAAAAAAAAAAAAAAAA"
        reads = Reads(platform.store, monkeypatch)
        # When it is used again and again
        for _ in range(5):
            headers = signed_headers(unknown, "guess", "GET", "/v1/visits", None, b"")
            response = api.client.http.request("GET", "/v1/visits", headers=headers)
            assert response.status_code == 401 and error_of(response)["code"] == "UNAUTHENTICATED"
        # Then only the first attempt read the table
        assert reads.calls == ["get"]


def _keys_of(principal_id: str) -> list[dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(f"{PREFIX}{CALLERS}").scan()["Items"]
    return [i for i in items if i.get("principal_id") == principal_id and str(i["key_id"]).startswith("key_")]


def _body(response: Any) -> Any:
    return json.loads(response.body)


class Clocks:
    """The server's wall clock and the key cache's monotonic clock, both moved by the test."""

    def __init__(self, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        self.start = time.time()
        outer = self

        class Wall:
            def now(self) -> Any:
                from datetime import UTC, datetime

                return datetime.fromtimestamp(outer.wall(), UTC)

        monkeypatch.setattr(platform, "clock", Wall())
        monkeypatch.setattr(platform.auth, "monotonic", lambda: self.offset)

    def wall(self) -> float:
        return self.start + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clocks(platform: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clocks]:
    yield Clocks(platform, monkeypatch)


class TestKeyLifecycle:
    def test_registration_is_idempotent_and_refuses_an_existing_id(self, api: Api, operator: Key) -> None:
        body = {"kind": "hospital", "id": "county-hospital", "name": "县医院"}
        # Given a registration sent with an Idempotency-Key
        first = api.post(operator, "/v1/callers", body, idempotency_key="reg-county-1")
        assert first.status_code == 201
        # When it is retried with the same key, the first answer comes back, secret included, and no key is minted
        again = api.post(operator, "/v1/callers", body, idempotency_key="reg-county-1")
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
        assert _body(again) == _body(first) and _body(first)["secret"]
        assert len(_keys_of("county-hospital")) == 1
        # When the id is registered again under another Idempotency-Key, or with none, it is refused
        for key in ("reg-county-2", None):
            refused = api.post(operator, "/v1/callers", body, idempotency_key=key)
            assert refused.status_code == 409 and error_of(refused)["code"] == "CALLER_EXISTS"
        # And the same key with another body is a conflict
        other = api.post(operator, "/v1/callers", {**body, "name": "另一家"}, idempotency_key="reg-county-1")
        assert other.status_code == 409 and error_of(other)["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert len(_keys_of("county-hospital")) == 1
        # And the one key works
        made = _body(first)
        assert api.get(Key(made["key_id"], made["secret"], made["id"]), "/v1/visits").status_code == 200

    def test_the_replayed_secret_is_shown_only_to_the_same_operator_key(
        self, api: Api, operator: Key, platform: Any
    ) -> None:
        from tests.functional.conftest import _register

        other_operator = _register(platform, "operator", "second-operator")
        body = {"kind": "channel", "id": "union-pay", "name": "银联"}
        first = _body(api.post(operator, "/v1/callers", body, idempotency_key="reg-up"))
        # Another operator key using the same Idempotency-Key makes its own request: the id is taken
        refused = api.post(other_operator, "/v1/callers", body, idempotency_key="reg-up")
        assert refused.status_code == 409 and error_of(refused)["code"] == "CALLER_EXISTS"
        assert first["secret"] not in refused.body.decode()
        # and the secret is not stored in the clear anywhere
        dumped = json.dumps(boto3.resource("dynamodb").Table(f"{PREFIX}idempotency").scan()["Items"], default=str)
        assert first["secret"] not in dumped

    def test_rotation_keeps_two_secrets_until_the_previous_one_expires(
        self, api: Api, operator: Key, hospital: Key, clocks: Clocks
    ) -> None:
        def as_of(key: Key, secret: str) -> Any:
            headers = signed_headers(key.key_id, secret, "GET", "/v1/visits", None, b"", now=clocks.wall)
            return api.client.http.request("GET", "/v1/visits", headers=headers)

        # Given a hospital key in use (so this server process has it cached)
        assert as_of(hospital, hospital.secret).status_code == 200
        # When an operator rotates it with a one-hour overlap, in the same second
        rotated = api.post(
            operator,
            f"/v1/callers/{hospital.key_id}/rotation",
            {"reason": "annual rotation", "previous_valid_seconds": 3600},
            idempotency_key="rot-1",
        )
        assert rotated.status_code == 200, rotated.body
        new = _body(rotated)
        assert new["key_id"] == hospital.key_id and new["secret"] != hospital.secret
        assert new["previous_secret_expires_at"] is not None
        # And a retry (the answer was lost) of the rotation returns the same new secret instead of rotating again
        again = api.post(
            operator,
            f"/v1/callers/{hospital.key_id}/rotation",
            {"reason": "annual rotation", "previous_valid_seconds": 3600},
            idempotency_key="rot-1",
        )
        assert _body(again) == new
        # Then the new secret works at once, and the old one too
        assert as_of(hospital, new["secret"]).status_code == 200
        assert as_of(hospital, hospital.secret).status_code == 200
        # And after the overlap only the new one works
        clocks.advance(3600)
        old = as_of(hospital, hospital.secret)
        assert old.status_code == 401 and error_of(old)["code"] == "BAD_SIGNATURE"
        assert as_of(hospital, new["secret"]).status_code == 200

    def test_revocation_takes_effect_within_30_seconds_and_releases_the_id(
        self, api: Api, operator: Key, hospital: Key, clocks: Clocks, platform: Any
    ) -> None:
        def use() -> Any:
            headers = signed_headers(hospital.key_id, hospital.secret, "GET", "/v1/visits", None, b"", now=clocks.wall)
            return api.client.http.request("GET", "/v1/visits", headers=headers)

        # Given a hospital key in use, cached by this server process
        assert use().status_code == 200
        # When an operator revokes it
        revoked = api.post(
            operator, f"/v1/callers/{hospital.key_id}/revocation", {"reason": "contract ended"}, idempotency_key="rv"
        )
        assert revoked.status_code == 200, revoked.body
        assert _body(revoked)["effective_within_seconds"] == callers.REVOCATION_BOUND_SECONDS <= 30
        # Then within the documented bound every request with it is refused
        clocks.advance(callers.REVOCATION_BOUND_SECONDS)
        refused = use()
        assert refused.status_code == 401 and error_of(refused)["code"] == "UNAUTHENTICATED"
        # And the revocation is audited with the operator and the reason
        events = boto3.resource("dynamodb").Table(f"{PREFIX}{AUDIT}").scan()["Items"]
        audit = [e for e in events if e["subject"] == f"caller#{hospital.key_id}" and e["action"] == "caller.revoked"]
        assert [(e["actor_id"], json.loads(e["details"])["reason"]) for e in audit] == [
            ("city-operator", "contract ended")
        ]
        # And a retry replays the answer; without the Idempotency-Key it is a conflict
        again = api.post(
            operator, f"/v1/callers/{hospital.key_id}/revocation", {"reason": "contract ended"}, idempotency_key="rv"
        )
        assert again.status_code == 200 and _body(again) == _body(revoked)
        twice = api.post(operator, f"/v1/callers/{hospital.key_id}/revocation", {"reason": "again"})
        assert twice.status_code == 409 and error_of(twice)["code"] == "CALLER_REVOKED"
        # And the hospital id may be registered again, with a new key
        fresh = api.post(operator, "/v1/callers", {"kind": "hospital", "id": "hospital-a", "name": "A"})
        assert fresh.status_code == 201 and _body(fresh)["key_id"] != hospital.key_id

    @pytest.mark.parametrize(
        "key_id", ["key_" + "A" * 2996, "key_01KAAAAAAAAAAAAAAAAAAAAAAA", "principal%23hospital%23x"]
    )
    @pytest.mark.parametrize("action", ["rotation", "revocation"])
    def test_unknown_or_oversized_key_ids_are_404(self, api: Api, operator: Key, key_id: str, action: str) -> None:
        response = api.post(operator, f"/v1/callers/{key_id}/{action}", {"reason": "test"})
        assert response.status_code == 404 and error_of(response)["code"] == "CALLER_NOT_FOUND"

    def test_only_operators_rotate_or_revoke(self, api: Api, hospital: Key, other_hospital: Key) -> None:
        for action in ("rotation", "revocation"):
            response = api.post(hospital, f"/v1/callers/{other_hospital.key_id}/{action}", {"reason": "mine now"})
            assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
        assert api.get(other_hospital, "/v1/visits").status_code == 200
