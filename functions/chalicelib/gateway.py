"""Answers Chalice (and, locally, its imitation of API Gateway) would give before any view runs, in the one error
shape with a request id: unknown routes 404 ROUTE_NOT_FOUND, other methods 405 METHOD_NOT_ALLOWED, and no 415
for a bodiless request whatever its Content-Type (chalicelib.http refuses a real body that is not JSON).

On AWS, API Gateway itself answers unknown routes and methods; the gateway responses of infra/platform.yaml give
those answers the same shape (there both are 404 ROUTE_NOT_FOUND: the gateway cannot tell them apart).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Chalice, Request, Response
from treatfirst.domain.errors import (
    MethodNotAllowed,
    RouteNotFound,
    TreatFirstError,
    UnsupportedMediaType,
    ValidationFailed,
)
from treatfirst.http_status import status_of

from chalicelib.http import JSON_HEADERS, error_body, request_id_of

ANY_CONTENT_TYPE = ["*/*"]

# Chalice's own error codes (chalice.app.error_response) -> ours
_CHALICE_CODES: dict[str, type[TreatFirstError]] = {
    "MethodNotAllowedError": MethodNotAllowed,
    "UnsupportedMediaType": UnsupportedMediaType,
}


def _answer(error: TreatFirstError, request_id: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "status": status_of(error),
        "body": json.dumps(error_body(error, request_id), ensure_ascii=False),
        "headers": {**JSON_HEADERS, "X-Request-Id": request_id, **(extra or {})},
    }


def in_our_shape(request: Request, response: Response) -> Response:
    """A response Chalice built itself ({"Code": ..., "Message": ...}) rewritten in the one error shape."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or body.get("Code") not in _CHALICE_CODES:
        return response
    error = _CHALICE_CODES[body["Code"]]()
    allow = {k: v for k, v in (response.headers or {}).items() if k.lower() == "allow"}
    answer = _answer(error, request_id_of(request), allow)
    return Response(body=answer["body"], status_code=answer["status"], headers=answer["headers"])


def install(app: Chalice) -> None:
    """Every route takes any Content-Type (checked by chalicelib.http only when a body is sent), Chalice's own
    error answers are reshaped, and the local gateway answers unknown routes in the one shape."""
    for methods in app.routes.values():
        for entry in methods.values():
            entry.content_types = ANY_CONTENT_TYPE

    @app.middleware("http")
    def one_error_shape(event: Request, get_response: Callable[[Request], Response]) -> Response:
        return in_our_shape(event, get_response(event))

    _install_local_gateway()


def _install_local_gateway() -> None:
    """`chalice local` and chalice.test.Client answer an unknown route with API Gateway's 403 "Missing
    Authentication Token"; answer 404 ROUTE_NOT_FOUND instead. Not on Lambda (chalice.local is not packaged)."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    try:
        from chalice import local
    except ImportError:  # pragma: no cover - a packaged function carries chalice.app only
        return
    original = local.LocalGateway.handle_request
    if getattr(original, "treatfirst", False):
        return

    def handle_request(self: Any, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return original(self, method, path, headers, body)
        except local.ForbiddenError:  # no authorizers here: the route does not exist
            from treatfirst.domain.ids import new_id

            answer = _answer(RouteNotFound(), new_id("req"))
            return {
                "statusCode": answer["status"],
                "headers": answer["headers"],
                "multiValueHeaders": {},
                "body": answer["body"],
            }

    handle_request.treatfirst = True  # type: ignore[attr-defined]
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]

    def send_error(self: Any, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The HTTP server's own refusals (a method it has no handler for, a request line or headers too
        long or malformed) in the one shape, instead of its HTML page."""
        from treatfirst.domain.ids import new_id

        error: TreatFirstError = (
            MethodNotAllowed()
            if code == 501
            else ValidationFailed("the request line or its headers are malformed or too large")
        )
        answer = _answer(error, new_id("req"))
        body = answer["body"].encode()
        self.close_connection = True
        self.send_response(status_of(error))
        for name, value in answer["headers"].items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    local.ChaliceRequestHandler.send_error = send_error
    local.ChaliceRequestHandler.do_TRACE = local.ChaliceRequestHandler._generic_handle
