"""One request pipeline for every route: size limit, signature, JSON, service call, error mapping, log."""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import Request
from treatfirst.config import runtime
from treatfirst.domain.errors import MalformedJson, PayloadTooLarge, TreatFirstError, UnsupportedMediaType
from treatfirst.domain.ids import new_id
from treatfirst.services.context import Caller, Context, Outcome

from chalicelib.logs import log

MAX_BODY_BYTES = 64 * 1024
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}

Service = Callable[[Context, Caller, Any], Outcome | dict[str, Any]]
PublicService = Callable[[Context], dict[str, Any]]


def request_id_of(request: Request) -> str:
    lambda_context = getattr(request, "lambda_context", None)
    aws_id = getattr(lambda_context, "aws_request_id", None)
    return f"req_{aws_id}" if isinstance(aws_id, str) and aws_id else new_id("req")


def signed_path(request: Request) -> str:
    """The request path without any stage prefix, rebuilt from the route and its parameters."""
    path: str = request.context.get("resourcePath", "")
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return path


def error_body(error: TreatFirstError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "field": error.field,
        "request_id": request_id,
    }
    if error.details:
        body["details"] = error.details
    return {"error": body}


def _json(status: int, body: Any, request_id: str, extra: dict[str, str] | None = None) -> Response:
    headers = {**JSON_HEADERS, "X-Request-Id": request_id, **(extra or {})}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status, headers=headers)


def check_media_type(request: Request, raw: bytes) -> None:
    """A body must be labelled application/json (or not labelled); a bodiless request may carry any label,
    such as the application/x-www-form-urlencoded that Python's urllib and Java's HttpURLConnection send."""
    if not raw:
        return
    label = (request.headers or {}).get("content-type") or "application/json"
    if label.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType()


def parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedJson() from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _flush_after(ctx: Context, refused: TreatFirstError) -> TreatFirstError:
    """Record the request's nonce even though it failed; a replayed nonce outranks the first error."""
    try:
        ctx.flush()
    except TreatFirstError as replay:
        return replay
    return refused


def handle(request: Request, service: Service | None = None, public: PublicService | None = None) -> Response:
    """Run one request. `service(ctx, caller, body)` for signed routes; `public(ctx)` for open ones."""
    started = time.perf_counter()
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy, request_id=request_id_of(request))
    caller: Caller | None = None
    status, code = 500, "INTERNAL_ERROR"
    try:
        raw = request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        check_media_type(request, raw)
        if public is not None:
            result: Outcome | dict[str, Any] = public(ctx)
        else:
            assert service is not None
            caller = rt.auth.verify(
                ctx,
                method=request.method,
                path=signed_path(request),
                query=request.query_params,
                headers=dict(request.headers),
                body=raw,
            )
            result = service(ctx, caller, parse_json(raw))
            ctx.flush()
        outcome = result if isinstance(result, Outcome) else Outcome(200, result)
        status, code = outcome.status, "OK"
        extra = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return _json(outcome.status, outcome.body, ctx.request_id, extra)
    except TreatFirstError as refused:
        error = _flush_after(ctx, refused)
        status, code = error.status, error.code
        return _json(error.status, error_body(error, ctx.request_id), ctx.request_id)
    except Exception as exc:
        # The type and the failing line only: an exception message may quote personal data.
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else None
        log(logging.ERROR, "unhandled error", request_id=ctx.request_id, exception=type(exc).__name__, where=where)
        internal = TreatFirstError("internal error; quote the request id")
        return _json(500, error_body(internal, ctx.request_id), ctx.request_id)
    finally:
        log(
            logging.INFO,
            "request",
            request_id=ctx.request_id,
            method=request.method,
            route=request.context.get("resourcePath"),
            status=status,
            code=code,
            caller=caller.key_id if caller else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
