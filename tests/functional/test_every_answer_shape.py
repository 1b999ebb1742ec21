"""Every answer is in the one error shape with a request id, also those Chalice and its local gateway would give
before any view runs: unknown routes, other methods, and bodies that are not JSON; a bodiless POST works
whatever Content-Type its client puts on it."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from treatfirst.client import signed_headers

from tests.factories import charge
from tests.functional.conftest import Api, Key


def error_of(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    assert set(body["error"]) >= {"code", "message", "field", "request_id"}
    assert body["error"]["request_id"].startswith("req_")
    assert response.headers["X-Request-Id"] == body["error"]["request_id"]
    return dict(body["error"])


UNKNOWN = [
    ("GET", "/v1/nothing-here"),
    ("GET", "/"),
    ("POST", "/v2/visits"),
    ("GET", "/v1/visits/vis_1/charges/FL1/cancel/more"),
    ("DELETE", "/v1/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), UNKNOWN)
def test_unknown_routes_are_404_route_not_found(api: Api, hospital: Key, method: str, path: str) -> None:
    # Given a signed request to a route the API does not have
    headers = signed_headers(hospital.key_id, hospital.secret, method, path, None, b"")
    # When it is sent
    response = api.client.http.request(method, path, headers=headers, body=b"")
    # Then it is a 404 in the one error shape
    assert response.status_code == 404
    assert error_of(response)["code"] == "ROUTE_NOT_FOUND"


OTHER_METHODS = [
    ("PUT", "/v1/visits"),
    ("DELETE", "/v1/health"),
    ("PATCH", "/v1/visits/vis_1"),
    ("GET", "/v1/payments"),
]


@pytest.mark.parametrize(("method", "path"), OTHER_METHODS)
def test_other_methods_are_405_method_not_allowed(api: Api, method: str, path: str) -> None:
    response = api.client.http.request(method, path, headers={}, body=b"")
    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers.get("Allow")


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/octet-stream", None]
)
def test_a_bodiless_post_works_whatever_its_content_type(
    api: Api, hospital: Key, visit: dict[str, Any], content_type: str | None
) -> None:
    # Given an open visit and a bodiless close labelled as urllib or HttpURLConnection label it (or not at all)
    path = f"/v1/visits/{visit['visit_id']}/close"
    headers = signed_headers(hospital.key_id, hospital.secret, "POST", path, None, b"")
    if content_type is not None:
        headers["Content-Type"] = content_type
    # When it is sent
    response = api.client.http.request("POST", path, headers=headers, body=b"")
    # Then the visit is closed
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["visit"]["status"] == "closed"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_not_labelled_json_is_415_and_changes_nothing(
    api: Api, hospital: Key, visit: dict[str, Any], content_type: str
) -> None:
    path = f"/v1/visits/{visit['visit_id']}/charges"
    raw = json.dumps(charge(300)).encode()
    headers = {
        **signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw),
        "Content-Type": content_type,
    }
    response = api.client.http.request("POST", path, headers=headers, body=raw)
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    # nothing changed: the visit holds nothing
    assert json.loads(api.get(hospital, f"/v1/visits/{visit['visit_id']}").body)["held_fen"] == 0


def test_json_with_a_charset_is_json(api: Api, hospital: Key, visit: dict[str, Any]) -> None:
    path = f"/v1/visits/{visit['visit_id']}/charges"
    raw = json.dumps(charge(300)).encode()
    headers = {
        **signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw),
        "Content-Type": "Application/JSON; charset=UTF-8",
    }
    assert api.client.http.request("POST", path, headers=headers, body=raw).status_code == 201


@pytest.fixture
def local_server(platform: Any) -> Iterator[int]:
    """`chalice local`'s own HTTP server (as tools/serve.py runs it), in a thread on a free port."""
    from app import app
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from tools.ddblocal import free_port

    port = free_port()
    server = LocalDevServer(app, Config(chalice_stage="local"), "127.0.0.1", port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(timeout=10)


def _raw(port: int, request: bytes) -> tuple[int, dict[str, Any]]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "ROUTE_NOT_FOUND"),
        (b"TRACE /v1/visits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
        (b"BREW /v1/visits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "METHOD_NOT_ALLOWED"),
        (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 400, "VALIDATION_FAILED"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400, "VALIDATION_FAILED"),
    ],
    ids=["unknown route", "TRACE", "unknown method", "header too long", "request line too long"],
)
def test_the_local_http_server_answers_in_the_one_shape(
    local_server: int, request_bytes: bytes, status: int, code: str
) -> None:
    # Given the local API server, when a request its HTTP layer or its gateway refuses arrives
    got, body = _raw(local_server, request_bytes)
    # Then the answer is in the one error shape with a request id
    assert got == status
    assert body["error"]["code"] == code and body["error"]["request_id"].startswith("req_")
