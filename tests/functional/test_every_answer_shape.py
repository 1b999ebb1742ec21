"""Every answer is in the one error shape with a request id, also those Chalice and its local gateway would give
before any view runs: unknown routes, other methods, and bodies that are not JSON; a bodiless POST works
whatever Content-Type its client puts on it."""

from __future__ import annotations

import json
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
