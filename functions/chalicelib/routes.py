"""The /v1 routes. Each one names its service; chalicelib.http does the rest."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from treatfirst import openapi
from treatfirst.consents import render_all
from treatfirst.domain.inputs import Body
from treatfirst.services import callers, enrollment, payments, visits
from treatfirst.services.context import Caller, Context, Outcome

from chalicelib.http import handle

api = Blueprint(__name__)


def _request() -> Any:
    return api.current_request


def _key() -> str | None:
    headers = _request().headers
    return headers.get("idempotency-key") if headers else None


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})


# ---- public ----
@api.route("/v1/health", methods=["GET"])
def health() -> Response:
    return handle(_request(), public=lambda ctx: {"status": "ok", **ctx.policy.stamp})


@api.route("/v1/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return handle(_request(), public=lambda ctx: openapi.document())


@api.route("/v1/policy", methods=["GET"])
def policy() -> Response:
    return handle(_request(), public=lambda ctx: {**ctx.policy.stamp, "policy": ctx.policy.raw})


@api.route("/v1/consents", methods=["GET"])
def consents() -> Response:
    def texts(ctx: Context) -> dict[str, Any]:
        items = [
            {
                "kind": c.kind,
                "version": c.version,
                "title": c.title,
                "title_en": c.title_en,
                "text": c.text,
                "text_sha256": c.sha256,
            }
            for c in render_all(ctx.policy)
        ]
        return {**ctx.policy.stamp, "items": items}

    return handle(_request(), public=texts)


# ---- callers: keys and their lifecycle ----
@api.route("/v1/callers", methods=["POST"])
def register_caller() -> Response:
    def run(ctx: Context, caller: Caller, body: Any) -> Outcome:
        caller.require("callers:write")
        b = Body(body)
        kind = b.choice("kind", ("hospital", "channel"))
        principal_id, name = b.text("id", max_len=64), b.text("name", max_len=100)
        b.done()
        made = callers.register(ctx, caller, kind=kind, principal_id=principal_id, name=name, idempotency_key=_key())
        return Outcome(201, made.body(), replayed=made.replayed)

    return handle(_request(), run)


@api.route("/v1/callers/{key_id}/rotation", methods=["POST"])
def rotate_caller(key_id: str) -> Response:
    def run(ctx: Context, caller: Caller, body: Any) -> Outcome:
        caller.require("callers:write")
        b = Body(body)
        reason = b.text("reason", max_len=callers.MAX_REASON)
        seconds = b.integer("previous_valid_seconds", minimum=0, maximum=callers.MAX_OVERLAP_SECONDS, required=False)
        b.done()
        overlap = callers.DEFAULT_OVERLAP_SECONDS if seconds is None else seconds
        made = callers.rotate(
            ctx, caller, key_id, reason=reason, previous_valid_seconds=overlap, idempotency_key=_key()
        )
        return Outcome(200, made.body(), replayed=made.replayed)

    return handle(_request(), run)


@api.route("/v1/callers/{key_id}/revocation", methods=["POST"])
def revoke_caller(key_id: str) -> Response:
    def run(ctx: Context, caller: Caller, body: Any) -> Outcome:
        caller.require("callers:write")
        b = Body(body)
        reason = b.text("reason", max_len=callers.MAX_REASON)
        b.done()
        return callers.revoke(ctx, caller, key_id, reason=reason, idempotency_key=_key())

    return handle(_request(), run)


# ---- enrollment and accounts ----
@api.route("/v1/enrollments", methods=["POST"])
def enroll() -> Response:
    return handle(_request(), lambda ctx, caller, body: enrollment.enroll(ctx, caller, body, _key()))


@api.route("/v1/accounts/lookup", methods=["POST"])
def lookup_account() -> Response:
    return handle(_request(), lambda ctx, caller, body: enrollment.lookup_account(ctx, caller, body))


@api.route("/v1/accounts/{account_id}", methods=["GET"])
def get_account(account_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: enrollment.get_account(ctx, caller, account_id))


@api.route("/v1/accounts/{account_id}/withdrawal", methods=["POST"])
def withdraw(account_id: str) -> Response:
    def run(ctx: Context, caller: Caller, body: Any) -> Outcome:
        Body(body if body is not None else {}).done()
        return enrollment.withdraw(ctx, caller, account_id, _key())

    return handle(_request(), run)


@api.route("/v1/accounts/{account_id}/bills", methods=["GET"])
def account_bills(account_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: payments.list_account_bills(ctx, caller, account_id, _query()))


# ---- visits and charges ----
@api.route("/v1/visits", methods=["POST"])
def open_visit() -> Response:
    return handle(_request(), lambda ctx, caller, body: visits.open_visit(ctx, caller, body, _key()))


@api.route("/v1/visits", methods=["GET"])
def list_visits() -> Response:
    return handle(_request(), lambda ctx, caller, body: visits.list_visits(ctx, caller, _query()))


@api.route("/v1/visits/{visit_id}", methods=["GET"])
def get_visit(visit_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: visits.get_visit(ctx, caller, visit_id))


@api.route("/v1/visits/{visit_id}/charges", methods=["POST"])
def post_charge(visit_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: visits.post_charge(ctx, caller, visit_id, body, _key()))


@api.route("/v1/visits/{visit_id}/charges", methods=["GET"])
def list_charges(visit_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: visits.list_charges(ctx, caller, visit_id, _query()))


@api.route("/v1/visits/{visit_id}/charges/{fee_line_id}/cancel", methods=["POST"])
def cancel_charge(visit_id: str, fee_line_id: str) -> Response:
    return handle(
        _request(),
        lambda ctx, caller, body: visits.refund_charge(ctx, caller, visit_id, fee_line_id, body, _key(), cancel=True),
    )


@api.route("/v1/visits/{visit_id}/charges/{fee_line_id}/refunds", methods=["POST"])
def refund_charge(visit_id: str, fee_line_id: str) -> Response:
    return handle(
        _request(), lambda ctx, caller, body: visits.refund_charge(ctx, caller, visit_id, fee_line_id, body, _key())
    )


@api.route("/v1/visits/{visit_id}/close", methods=["POST"])
def close_visit(visit_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: visits.close_visit(ctx, caller, visit_id, body, _key()))


# ---- bills and payments ----
@api.route("/v1/bills/{bill_id}", methods=["GET"])
def get_bill(bill_id: str) -> Response:
    return handle(_request(), lambda ctx, caller, body: payments.get_bill(ctx, caller, bill_id))


@api.route("/v1/payments", methods=["POST"])
def notify_payment() -> Response:
    return handle(_request(), lambda ctx, caller, body: payments.notify_payment(ctx, caller, body, _key()))
