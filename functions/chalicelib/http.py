"""One request pipeline for every route: size limit, signature, parameters, typed body, service call,
error mapping (the one status table, treatfirst.http_status), log."""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import Request, Response
from treatfirst.config import runtime
from treatfirst.domain.errors import (
    InvalidCursor,
    PayloadTooLarge,
    TreatFirstError,
    UnsupportedMediaType,
    ValidationFailed,
)
from treatfirst.domain.ids import new_id
from treatfirst.http_status import status_of
from treatfirst.messages.common import (
    CURSOR_PATTERN,
    FIELD_NAME,
    IDEMPOTENCY_KEY_PATTERN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    PATH_PARAMETERS,
    decode,
    decode_query,
)
from treatfirst.messages.common import (
    Request as Message,
)
from treatfirst.services.idempotency import FileOutcome, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery
from treatfirst.services.unit_of_work import Context

from chalicelib.logs import log

MAX_BODY_BYTES = 64 * 1024
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Text:
    """A success answered as text of another media type (a report's CSV), not JSON."""

    body: str
    content_type: str


Service = Callable[[Context, Caller, Any], Outcome | FileOutcome | dict[str, Any] | Text]
PublicService = Callable[[Context], dict[str, Any]]

_PATHS = {name: (re.compile(pattern), missing) for name, (pattern, missing) in PATH_PARAMETERS.items()}
_CURSOR = re.compile(CURSOR_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_LIMIT = re.compile(r"^[0-9]{1,3}$")


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
    headers: dict[str, str | list[str]] = {**JSON_HEADERS, "X-Request-Id": request_id, **(extra or {})}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status, headers=headers)


def _header(request: Request, name: str) -> str | None:
    headers = request.headers
    value = headers.get(name) if headers else None
    return str(value) if value is not None else None


def check_media_type(request: Request, raw: bytes) -> None:
    """A body must be labelled application/json (or not labelled); a bodiless request may carry any label,
    such as the application/x-www-form-urlencoded that Python's urllib and Java's HttpURLConnection send."""
    if not raw:
        return
    label = _header(request, "content-type") or "application/json"
    if label.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType()


def check_path(params: Mapping[str, str] | None) -> None:
    """Path ids of another form are not found, before any read (DynamoDB refuses keys over 1-2 KB)."""
    for name, value in (params or {}).items():
        pattern, missing = _PATHS[name]
        if not pattern.match(value):
            raise missing()


def check_query(query: Mapping[str, str] | None, paged: bool, declared: tuple[str, ...] = ()) -> PageQuery | None:
    """Only `limit` (ASCII digits, 1-100) and `cursor` (opaque) on lists, and the parameters a route declares
    (its query struct's fields); no other query parameter anywhere."""
    query = query or {}
    allowed = (("limit", "cursor") if paged else ()) + declared
    for name in sorted(query):
        if name not in allowed:
            shown = name if FIELD_NAME.match(name) else None
            raise ValidationFailed(f"{shown or 'a query parameter'} is not a known query parameter", field=shown)
    if not paged:
        return None
    raw_limit, cursor = query.get("limit"), query.get("cursor")
    limit = LIMIT_DEFAULT
    if raw_limit is not None:
        if not _LIMIT.match(raw_limit) or not 1 <= int(raw_limit) <= LIMIT_MAX:
            raise ValidationFailed(f"limit must be an integer from 1 to {LIMIT_MAX}", field="limit")
        limit = int(raw_limit)
    if cursor is not None and not _CURSOR.match(cursor):
        raise InvalidCursor(field="cursor")
    return PageQuery(limit, cursor or None)


def idempotency_key(request: Request) -> str | None:
    key = _header(request, "idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed("Idempotency-Key must be 1 to 128 printable ASCII characters", field="Idempotency-Key")
    return key


def _flush_after(ctx: Context, refused: TreatFirstError) -> TreatFirstError:
    """Record the request's nonce even though it failed; a replayed nonce outranks the first error."""
    try:
        ctx.flush()
    except TreatFirstError as replay:
        return replay
    return refused


def handle(
    request: Request,
    service: Service | None = None,
    public: PublicService | None = None,
    *,
    body: type[Message] | None = None,
    paged: bool = False,
    query: type[Message] | None = None,
    max_body: int = MAX_BODY_BYTES,
) -> Response:
    """Run one request. `service(ctx, caller, message)` for signed routes; `public(ctx)` for open ones.

    `message` is the body decoded into `body` (its struct), the PageQuery of a `paged` list, the query
    parameters decoded into `query` (its struct), or None.
    Everything is checked before the service runs: signature, path ids, query, Idempotency-Key, body.
    """
    started = time.perf_counter()
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy, request_id=request_id_of(request))
    caller: Caller | None = None
    status, code = 500, "INTERNAL_ERROR"
    try:
        raw_body = request.raw_body or b""
        raw = raw_body.encode() if isinstance(raw_body, str) else raw_body
        if len(raw) > max_body:
            raise PayloadTooLarge(
                None if max_body == MAX_BODY_BYTES else f"the body is larger than {max_body // 1024} KB"
            )
        check_media_type(request, raw)
        if public is not None:
            check_query(request.query_params, paged=False)
            result: Outcome | FileOutcome | dict[str, Any] | Text = public(ctx)
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
            check_path(request.uri_params)
            declared = query.__struct_encode_fields__ if query is not None else ()
            page = check_query(request.query_params, paged, declared)
            if request.method == "POST":
                idempotency_key(request)
            if body is not None:
                message: Any = decode(raw, body)
            elif raw.strip():
                raise ValidationFailed("this operation takes no body")
            elif query is not None:
                message = decode_query(request.query_params or {}, query)
            else:
                message = page
            result = service(ctx, caller, message)
            ctx.flush()
        if isinstance(result, Text):
            status, code = 200, "OK"
            headers: dict[str, str | list[str]] = {"Content-Type": result.content_type, "X-Request-Id": ctx.request_id}
            return Response(body=result.body, status_code=200, headers=headers)
        if isinstance(result, FileOutcome):  # a stored file, answered as it is (not JSON)
            status, code = 200, "OK"
            file_headers = {"Content-Type": result.content_type, "X-Request-Id": ctx.request_id, **result.headers}
            return Response(body=result.text, status_code=200, headers=dict(file_headers))
        outcome = result if isinstance(result, Outcome) else Outcome(200, result)
        status, code = outcome.status, "OK"
        extra = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return _json(outcome.status, outcome.body, ctx.request_id, extra)
    except TreatFirstError as refused:
        error = _flush_after(ctx, refused)
        status, code = status_of(error), error.code
        return _json(status, error_body(error, ctx.request_id), ctx.request_id)
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
