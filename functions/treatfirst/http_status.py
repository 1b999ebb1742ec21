"""The one table from error class to HTTP status, read by the HTTP edge, the OpenAPI document and the docs.

The domain's errors carry a stable code, a message and their place in the hierarchy, never a status: the
status belongs to HTTP. Each class takes the status of its nearest ancestor in STATUS, so every code sits
under exactly one status. It lives in the package, not in chalicelib/, because `treatfirst.openapi` and the
docs build read it too (chalicelib/ is the app's edge and is not importable from the package).
"""

from __future__ import annotations

from treatfirst.domain import errors

STATUS: dict[type[errors.TreatFirstError], int] = {
    errors.TreatFirstError: 500,
    errors.ValidationFailed: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.MethodNotAllowed: 405,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Unprocessable: 422,
    errors.Throttled: 429,
    errors.PolicyInvalid: 500,
}


def status_of(error: errors.TreatFirstError | type[errors.TreatFirstError]) -> int:
    """The HTTP status of an error or error class: its nearest ancestor's entry in STATUS."""
    cls = error if isinstance(error, type) else type(error)
    for ancestor in cls.__mro__:
        if ancestor in STATUS:
            return STATUS[ancestor]
    raise KeyError(cls.__name__)  # unreachable: TreatFirstError is in the table


def by_status() -> dict[int, list[type[errors.TreatFirstError]]]:
    """Every error class grouped under its one status, in code order."""
    grouped: dict[int, list[type[errors.TreatFirstError]]] = {}
    for cls in errors.all_error_classes():
        grouped.setdefault(status_of(cls), []).append(cls)
    return dict(sorted(grouped.items()))
