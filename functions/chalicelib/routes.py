"""The /v1 routes. Each one names its message struct and its service, imported inside the route: a cold start
loads only what its first request uses. chalicelib.http does the rest."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response
from treatfirst.config import runtime
from treatfirst.messages.common import Empty, to_item
from treatfirst.services.idempotency import Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.unit_of_work import Context

from chalicelib.http import Text, handle, idempotency_key

api = Blueprint(__name__)


def _request() -> Any:
    return api.current_request


def _key() -> str | None:
    return idempotency_key(_request())


# ---- public ----
@api.route("/v1/health", methods=["GET"])
def health() -> Response:
    from treatfirst.messages import platform

    return handle(_request(), public=lambda ctx: to_item(platform.Health(status="ok", **ctx.policy.stamp)))


@api.route("/v1/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    from treatfirst import openapi  # built on first request only: no cost at a cold start

    return handle(_request(), public=lambda ctx: openapi.document())


@api.route("/v1/policy", methods=["GET"])
def policy() -> Response:
    from treatfirst.messages import platform

    return handle(
        _request(), public=lambda ctx: to_item(platform.PolicyDocument(**ctx.policy.stamp, policy=ctx.policy.raw))
    )


@api.route("/v1/consents", methods=["GET"])
def consents() -> Response:
    from treatfirst.consents import render_all
    from treatfirst.messages import platform

    def texts(ctx: Context) -> dict[str, Any]:
        items = [
            platform.ConsentText(
                kind=c.kind,
                version=c.version,
                title=c.title,
                title_en=c.title_en,
                text=c.text,
                text_sha256=c.sha256,
                required=ctx.policy.consent(c.kind).required,
                mode=ctx.policy.consent(c.kind).mode,  # type: ignore[arg-type]
            )
            for c in render_all(ctx.policy)
        ]
        return to_item(platform.Consents(**ctx.policy.stamp, items=items))

    return handle(_request(), public=texts)


# ---- callers: keys and their lifecycle ----
@api.route("/v1/callers", methods=["POST"])
def register_caller() -> Response:
    from treatfirst.messages import platform
    from treatfirst.services import callers

    def run(ctx: Context, caller: Caller, command: platform.CallerRequest) -> Outcome:
        caller.may("callers", "register")
        made = callers.register(
            ctx, caller, kind=command.kind, principal_id=command.id, name=command.name, idempotency_key=_key()
        )
        return Outcome(201, to_item(platform.CallerKey(**made.body())), replayed=made.replayed)

    return handle(_request(), run, body=platform.CallerRequest)


@api.route("/v1/callers/{key_id}/rotation", methods=["POST"])
def rotate_caller(key_id: str) -> Response:
    from treatfirst.messages import platform
    from treatfirst.services import callers

    def run(ctx: Context, caller: Caller, command: platform.RotationRequest) -> Outcome:
        caller.may("callers", "rotate")
        made = callers.rotate(
            ctx,
            caller,
            key_id,
            reason=command.reason,
            previous_valid_seconds=command.previous_valid_seconds,
            idempotency_key=_key(),
        )
        return Outcome(200, to_item(platform.CallerKey(**made.body())), replayed=made.replayed)

    return handle(_request(), run, body=platform.RotationRequest)


@api.route("/v1/callers/{key_id}/revocation", methods=["POST"])
def revoke_caller(key_id: str) -> Response:
    from treatfirst.messages import platform
    from treatfirst.services import callers

    def run(ctx: Context, caller: Caller, command: platform.RevocationRequest) -> Outcome:
        caller.may("callers", "revoke")
        return callers.revoke(ctx, caller, key_id, reason=command.reason, idempotency_key=_key())

    return handle(_request(), run, body=platform.RevocationRequest)


# ---- enrollment and accounts ----
@api.route("/v1/enrollments", methods=["POST"])
def enroll() -> Response:
    from treatfirst.messages import accounts
    from treatfirst.services import enrollment

    return handle(
        _request(),
        lambda ctx, caller, cmd: enrollment.enroll(ctx, caller, cmd, _key()),
        body=accounts.EnrollmentRequest,
    )


@api.route("/v1/accounts/lookup", methods=["POST"])
def lookup_account() -> Response:
    from treatfirst.messages import accounts
    from treatfirst.services import enrollment

    return handle(
        _request(), lambda ctx, caller, cmd: enrollment.lookup_account(ctx, caller, cmd), body=accounts.LookupRequest
    )


@api.route("/v1/accounts/{account_id}", methods=["GET"])
def get_account(account_id: str) -> Response:
    from treatfirst.services import enrollment

    return handle(_request(), lambda ctx, caller, _: enrollment.get_account(ctx, caller, account_id))


@api.route("/v1/accounts/{account_id}/withdrawal", methods=["POST"])
def withdraw(account_id: str) -> Response:
    from treatfirst.messages import accounts
    from treatfirst.services import enrollment

    return handle(
        _request(),
        lambda ctx, caller, cmd: enrollment.withdraw(ctx, caller, account_id, cmd, _key()),
        body=accounts.WithdrawalRequest,
    )


@api.route("/v1/accounts/{account_id}/bills", methods=["GET"])
def account_bills(account_id: str) -> Response:
    from treatfirst.services import payments

    return handle(
        _request(), lambda ctx, caller, page: payments.list_account_bills(ctx, caller, account_id, page), paged=True
    )


@api.route("/v1/accounts/{account_id}/messages", methods=["GET"])
def account_messages(account_id: str) -> Response:
    from treatfirst.services import outbox

    return handle(
        _request(), lambda ctx, caller, page: outbox.list_account_messages(ctx, caller, account_id, page), paged=True
    )


# ---- visits and charges ----
@api.route("/v1/visits", methods=["POST"])
def open_visit() -> Response:
    from treatfirst.messages import visits as visit_messages
    from treatfirst.services import visits

    return handle(
        _request(),
        lambda ctx, caller, cmd: visits.open_visit(ctx, caller, cmd, _key()),
        body=visit_messages.VisitRequest,
    )


@api.route("/v1/visits", methods=["GET"])
def list_visits() -> Response:
    from treatfirst.services import visits

    return handle(_request(), lambda ctx, caller, page: visits.list_visits(ctx, caller, page), paged=True)


@api.route("/v1/visits/{visit_id}", methods=["GET"])
def get_visit(visit_id: str) -> Response:
    from treatfirst.services import visits

    return handle(_request(), lambda ctx, caller, _: visits.get_visit(ctx, caller, visit_id))


@api.route("/v1/visits/{visit_id}/charges", methods=["POST"])
def post_charge(visit_id: str) -> Response:
    from treatfirst.messages import visits as visit_messages
    from treatfirst.services import charges

    return handle(
        _request(),
        lambda ctx, caller, cmd: charges.post_charge(ctx, caller, visit_id, cmd, _key()),
        body=visit_messages.ChargeRequest,
    )


@api.route("/v1/visits/{visit_id}/charges", methods=["GET"])
def list_charges(visit_id: str) -> Response:
    from treatfirst.services import charges

    return handle(_request(), lambda ctx, caller, page: charges.list_charges(ctx, caller, visit_id, page), paged=True)


@api.route("/v1/visits/{visit_id}/charges/{fee_line_id}/cancel", methods=["POST"])
def cancel_charge(visit_id: str, fee_line_id: str) -> Response:
    from treatfirst.messages import visits as visit_messages
    from treatfirst.services import refunds

    return handle(
        _request(),
        lambda ctx, caller, cmd: refunds.cancel_charge(ctx, caller, visit_id, fee_line_id, cmd, _key()),
        body=visit_messages.CancelRequest,
    )


@api.route("/v1/visits/{visit_id}/charges/{fee_line_id}/refunds", methods=["POST"])
def refund_charge(visit_id: str, fee_line_id: str) -> Response:
    from treatfirst.messages import visits as visit_messages
    from treatfirst.services import refunds

    return handle(
        _request(),
        lambda ctx, caller, cmd: refunds.refund_charge(ctx, caller, visit_id, fee_line_id, cmd, _key()),
        body=visit_messages.RefundRequest,
    )


@api.route("/v1/visits/{visit_id}/close", methods=["POST"])
def close_visit(visit_id: str) -> Response:
    from treatfirst.services import closing

    return handle(
        _request(), lambda ctx, caller, cmd: closing.close_visit(ctx, caller, visit_id, cmd, _key()), body=Empty
    )


# ---- bills and payments ----
@api.route("/v1/bills/{bill_id}", methods=["GET"])
def get_bill(bill_id: str) -> Response:
    from treatfirst.services import payments

    return handle(_request(), lambda ctx, caller, _: payments.get_bill(ctx, caller, bill_id))


@api.route("/v1/payments", methods=["POST"])
def notify_payment() -> Response:
    from treatfirst.messages import payments as payment_messages
    from treatfirst.services import payments

    return handle(
        _request(),
        lambda ctx, caller, cmd: payments.notify_payment(ctx, caller, cmd, _key()),
        body=payment_messages.PaymentRequest,
    )


# ---- collection: phone tasks ----
@api.route("/v1/tasks", methods=["GET"])
def list_tasks() -> Response:
    from treatfirst.services import tasks

    return handle(_request(), lambda ctx, caller, page: tasks.list_tasks(ctx, caller, page), paged=True)


@api.route("/v1/tasks/{task_id}/claim", methods=["POST"])
def claim_task(task_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import tasks

    return handle(
        _request(),
        lambda ctx, caller, cmd: to_item(collection.ClaimedTask(**tasks.claim_task(ctx, caller, task_id, cmd))),
        body=collection.ClaimRequest,
    )


@api.route("/v1/tasks/{task_id}/outcome", methods=["POST"])
def record_task_outcome(task_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import tasks

    return handle(
        _request(),
        lambda ctx, caller, cmd: to_item(collection.PhoneTask(**tasks.record_outcome(ctx, caller, task_id, cmd))),
        body=collection.OutcomeRequest,
    )


# ---- the test clock (local stack and sandboxes only) ----
@api.route("/v1/test-clock", methods=["GET"])
def test_clock() -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import testclock

    return handle(_request(), lambda ctx, caller, _: to_item(collection.ClockState(**testclock.state(ctx, caller))))


@api.route("/v1/test-clock/advance", methods=["POST"])
def advance_test_clock() -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import testclock
    from treatfirst.services.schedule import JOBS

    def run(ctx: Context, caller: Caller, command: collection.ClockAdvanceRequest) -> dict[str, Any]:
        seconds = command.days * 86400 + command.hours * 3600
        moved = testclock.advance(ctx, caller, seconds=seconds, reason=command.reason, jobs=JOBS)
        return to_item(collection.ClockAdvanced(**moved))

    return handle(_request(), run, body=collection.ClockAdvanceRequest)


# ---- collection: an account's state, disputes, moratoriums ----
@api.route("/v1/accounts/{account_id}/collection", methods=["GET"])
def collection_state(account_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    return handle(
        _request(),
        lambda ctx, caller, _: to_item(collection.CollectionState(**pauses.collection_state(ctx, caller, account_id))),
    )


@api.route("/v1/accounts/{account_id}/disputes", methods=["POST"])
def open_dispute(account_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    def run(ctx: Context, caller: Caller, command: collection.DisputeRequest) -> Outcome:
        opened = pauses.open_dispute(ctx, caller, account_id, command)
        return Outcome(201, to_item(collection.PauseRecord(**opened)))

    return handle(_request(), run, body=collection.DisputeRequest)


@api.route("/v1/accounts/{account_id}/disputes/{pause_id}/close", methods=["POST"])
def close_dispute(account_id: str, pause_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    return handle(
        _request(),
        lambda ctx, caller, cmd: to_item(
            collection.PauseRecord(**pauses.close_dispute(ctx, caller, account_id, pause_id, cmd))
        ),
        body=collection.CloseRequest,
    )


@api.route("/v1/moratoriums", methods=["GET"])
def list_moratoriums() -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    return handle(
        _request(), lambda ctx, caller, _: to_item(collection.Moratoriums(**pauses.list_moratoriums(ctx, caller)))
    )


@api.route("/v1/moratoriums", methods=["POST"])
def open_moratorium() -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    def run(ctx: Context, caller: Caller, command: collection.MoratoriumRequest) -> Outcome:
        return Outcome(201, to_item(collection.PauseRecord(**pauses.open_moratorium(ctx, caller, command))))

    return handle(_request(), run, body=collection.MoratoriumRequest)


@api.route("/v1/moratoriums/{pause_id}/close", methods=["POST"])
def close_moratorium(pause_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    return handle(
        _request(),
        lambda ctx, caller, cmd: to_item(collection.PauseRecord(**pauses.close_moratorium(ctx, caller, pause_id, cmd))),
        body=collection.CloseRequest,
    )


# ---- emergency review items and totals (operators) ----
@api.route("/v1/reviews", methods=["GET"])
def list_reviews() -> Response:
    from treatfirst.services import reviews

    return handle(_request(), lambda ctx, caller, page: reviews.list_open_reviews(ctx, caller, page), paged=True)


@api.route("/v1/reviews/{review_id}", methods=["GET"])
def get_review(review_id: str) -> Response:
    from treatfirst.services import reviews

    return handle(_request(), lambda ctx, caller, _: reviews.get_review(ctx, caller, review_id))


@api.route("/v1/reviews/{review_id}/decision", methods=["POST"])
def decide_review(review_id: str) -> Response:
    from treatfirst.messages import reviews as review_messages
    from treatfirst.services import reviews

    return handle(
        _request(),
        lambda ctx, caller, cmd: reviews.decide_review(ctx, caller, review_id, cmd, _key()),
        body=review_messages.ReviewDecision,
    )


@api.route("/v1/reports/emergency", methods=["GET"])
def emergency_report() -> Response:
    from treatfirst.messages import reviews as review_messages
    from treatfirst.services import reviews

    return handle(
        _request(),
        lambda ctx, caller, q: reviews.emergency_report(ctx, caller, q),
        query=review_messages.EmergencyReportQuery,
    )


@api.route("/v1/bills/{bill_id}/write-off", methods=["POST"])
def write_off_bill(bill_id: str) -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import writeoffs

    return handle(
        _request(),
        lambda ctx, caller, cmd: writeoffs.write_off_bill(ctx, caller, bill_id, cmd, _key()),
        body=collection.WriteOffRequest,
    )


@api.route("/v1/aging", methods=["GET"])
def aging() -> Response:
    from treatfirst.messages import collection
    from treatfirst.services import pauses

    return handle(
        _request(), lambda ctx, caller, _: to_item(collection.AgingReport(**pauses.aging_report(ctx, caller)))
    )


# ---- operator reports ----
@api.route("/v1/reports", methods=["GET"])
def operator_report() -> Response:
    from treatfirst.messages import reports as report_messages
    from treatfirst.services import reports

    request = _request()

    def run(ctx: Context, caller: Caller, query: report_messages.ReportQuery) -> dict[str, Any] | Text:
        body = reports.operator_report(ctx, caller, query)
        accept = str((request.headers or {}).get("accept") or "")
        if query.format == "csv" or (query.format is None and "text/csv" in accept.lower()):
            return Text("\ufeff" + reports.to_csv(body), "text/csv; charset=utf-8")
        return body

    return handle(request, run, query=report_messages.ReportQuery)


# ---- the city credit platform: the blacklist export's deliveries ----
def _objects() -> Any:
    return runtime().objects


@api.route("/v1/exports", methods=["GET"])
def list_exports() -> Response:
    from treatfirst.services import export

    return handle(_request(), lambda ctx, caller, page: export.list_exports(ctx, caller, page), paged=True)


@api.route("/v1/exports/{export_id}", methods=["GET"])
def get_export(export_id: str) -> Response:
    from treatfirst.services import export

    return handle(_request(), lambda ctx, caller, _: export.get_export(ctx, caller, export_id))


@api.route("/v1/exports/{export_id}/files/{file_name}", methods=["GET"])
def download_export_file(export_id: str, file_name: str) -> Response:
    from treatfirst.services import export

    return handle(_request(), lambda ctx, caller, _: export.download(ctx, caller, _objects(), export_id, file_name))


@api.route("/v1/exports/{export_id}/acknowledgement", methods=["POST"])
def acknowledge_export(export_id: str) -> Response:
    from treatfirst.messages import exports as export_messages
    from treatfirst.services import export

    return handle(
        _request(),
        lambda ctx, caller, cmd: export.acknowledge(ctx, caller, export_id, cmd),
        body=export_messages.AcknowledgementRequest,
    )


# ---- the blacklist record, appeals and strike annulment (services/blacklist.py) ----
@api.route("/v1/accounts/{account_id}/blacklist", methods=["GET"])
def blacklist_status(account_id: str) -> Response:
    from treatfirst.services import blacklist

    return handle(_request(), lambda ctx, caller, _: blacklist.status(ctx, caller, account_id))


@api.route("/v1/blacklist/{record_id}/appeals", methods=["POST"])
def file_blacklist_appeal(record_id: str) -> Response:
    from treatfirst.messages import blacklist as blacklist_messages
    from treatfirst.services import blacklist

    return handle(
        _request(),
        lambda ctx, caller, cmd: blacklist.file_appeal(ctx, caller, record_id, cmd, _key()),
        body=blacklist_messages.AppealRequest,
    )


@api.route("/v1/blacklist", methods=["GET"])
def list_blacklist() -> Response:
    from treatfirst.services import blacklist

    return handle(_request(), lambda ctx, caller, page: blacklist.list_open(ctx, caller, page), paged=True)


@api.route("/v1/blacklist/waiting-for-notice", methods=["GET"])
def list_blacklist_waiting() -> Response:
    from treatfirst.services import blacklist

    return handle(_request(), lambda ctx, caller, _: blacklist.waiting_for_notice(ctx, caller))


@api.route("/v1/blacklist/{record_id}", methods=["GET"])
def get_blacklist_record(record_id: str) -> Response:
    from treatfirst.services import blacklist

    return handle(_request(), lambda ctx, caller, _: blacklist.get_record(ctx, caller, record_id))


@api.route("/v1/blacklist/{record_id}/correction", methods=["POST"])
def correct_blacklist_record(record_id: str) -> Response:
    from treatfirst.messages import blacklist as blacklist_messages
    from treatfirst.services import blacklist

    return handle(
        _request(),
        lambda ctx, caller, cmd: blacklist.correct(ctx, caller, record_id, cmd, _key()),
        body=blacklist_messages.CorrectionRequest,
    )


@api.route("/v1/appeals", methods=["GET"])
def list_blacklist_appeals() -> Response:
    from treatfirst.services import blacklist

    return handle(_request(), lambda ctx, caller, page: blacklist.list_appeals(ctx, caller, page), paged=True)


@api.route("/v1/appeals/{appeal_id}/decision", methods=["POST"])
def decide_blacklist_appeal(appeal_id: str) -> Response:
    from treatfirst.messages import blacklist as blacklist_messages
    from treatfirst.services import blacklist

    return handle(
        _request(),
        lambda ctx, caller, cmd: blacklist.decide_appeal(ctx, caller, appeal_id, cmd, _key()),
        body=blacklist_messages.AppealDecision,
    )


@api.route("/v1/accounts/{account_id}/strikes/{bill_id}/annulment", methods=["POST"])
def annul_strike(account_id: str, bill_id: str) -> Response:
    from treatfirst.messages import blacklist as blacklist_messages
    from treatfirst.services import blacklist

    return handle(
        _request(),
        lambda ctx, caller, cmd: blacklist.annul_strike(ctx, caller, account_id, bill_id, cmd, _key()),
        body=blacklist_messages.StrikeAnnulment,
    )


# ---- privacy: consents on record, a person's requests, the operator's queue (services/rights.py) ----
@api.route("/v1/accounts/{account_id}/consents", methods=["GET"])
def consent_states(account_id: str) -> Response:
    from treatfirst.services import rights

    return handle(_request(), lambda ctx, caller, _: rights.consent_states(ctx, caller, account_id))


@api.route("/v1/accounts/{account_id}/consents", methods=["POST"])
def answer_consents(account_id: str) -> Response:
    from treatfirst.messages import privacy as privacy_messages
    from treatfirst.services import rights

    return handle(
        _request(),
        lambda ctx, caller, cmd: rights.answer_consents(ctx, caller, account_id, cmd, _key()),
        body=privacy_messages.ConsentAnswer,
    )


@api.route("/v1/accounts/{account_id}/privacy-requests", methods=["POST"])
def privacy_request(account_id: str) -> Response:
    from treatfirst.messages import privacy as privacy_messages
    from treatfirst.services import rights

    return handle(
        _request(),
        lambda ctx, caller, cmd: rights.open_request(ctx, caller, account_id, cmd, _key()),
        body=privacy_messages.PrivacyRequest,
    )


@api.route("/v1/privacy-requests", methods=["GET"])
def list_privacy_requests() -> Response:
    from treatfirst.services import rights

    return handle(_request(), lambda ctx, caller, page: rights.list_open(ctx, caller, page), paged=True)


@api.route("/v1/privacy-requests/{request_id}/answer", methods=["POST"])
def answer_privacy_request(request_id: str) -> Response:
    from treatfirst.messages import privacy as privacy_messages
    from treatfirst.services import rights

    return handle(
        _request(),
        lambda ctx, caller, cmd: rights.answer_request(ctx, caller, request_id, cmd, _key()),
        body=privacy_messages.PrivacyAnswer,
    )


# ---- webhooks: endpoints, the pull fallback, the delivery log, replay (hospitals and channels) ----
@api.route("/v1/webhook-endpoints", methods=["POST"])
def create_webhook_endpoint() -> Response:
    from treatfirst.messages import webhooks as webhook_messages
    from treatfirst.services import webhooks

    return handle(
        _request(),
        lambda ctx, caller, cmd: webhooks.create_endpoint(ctx, caller, cmd, _key()),
        body=webhook_messages.EndpointRequest,
    )


@api.route("/v1/webhook-endpoints", methods=["GET"])
def list_webhook_endpoints() -> Response:
    from treatfirst.services import webhooks

    return handle(_request(), lambda ctx, caller, _: webhooks.list_endpoints(ctx, caller))


@api.route("/v1/webhook-endpoints/{endpoint_id}", methods=["DELETE"])
def delete_webhook_endpoint(endpoint_id: str) -> Response:
    from treatfirst.services import webhooks

    return handle(_request(), lambda ctx, caller, _: webhooks.delete_endpoint(ctx, caller, endpoint_id))


@api.route("/v1/webhook-endpoints/{endpoint_id}/secret-rotation", methods=["POST"])
def rotate_webhook_secret(endpoint_id: str) -> Response:
    from treatfirst.messages import webhooks as webhook_messages
    from treatfirst.services import webhooks

    return handle(
        _request(),
        lambda ctx, caller, cmd: webhooks.rotate_secret(ctx, caller, endpoint_id, cmd, _key()),
        body=webhook_messages.SecretRotationRequest,
    )


@api.route("/v1/events", methods=["GET"])
def list_events() -> Response:
    from treatfirst.messages import webhooks as webhook_messages
    from treatfirst.services import events

    return handle(
        _request(),
        lambda ctx, caller, q: events.list_events(ctx, caller, after=q.after, limit=q.limit),
        query=webhook_messages.EventsQuery,
    )


@api.route("/v1/events/{event_id}/deliveries", methods=["GET"])
def list_event_deliveries(event_id: str) -> Response:
    from treatfirst.services import webhooks

    return handle(_request(), lambda ctx, caller, _: webhooks.delivery_log(ctx, caller, event_id))


@api.route("/v1/events/{event_id}/replay", methods=["POST"])
def replay_event(event_id: str) -> Response:
    from treatfirst.services import webhooks

    return handle(_request(), lambda ctx, caller, _: webhooks.replay_event(ctx, caller, event_id, _key()))


# ---- daily clearing files (each party its own; operators name the party) ----
@api.route("/v1/clearing/{business_date}", methods=["GET"])
def get_clearing(business_date: str) -> Response:
    from treatfirst.config import runtime
    from treatfirst.messages import clearing as clearing_messages
    from treatfirst.services import clearing

    return handle(
        _request(),
        lambda ctx, caller, q: clearing.party_manifest(ctx, caller, runtime().objects, business_date, q),
        query=clearing_messages.ClearingQuery,
    )


@api.route("/v1/clearing/{business_date}/files/{clearing_file}", methods=["GET"])
def get_clearing_file(business_date: str, clearing_file: str) -> Response:
    from treatfirst.config import runtime
    from treatfirst.messages import clearing as clearing_messages
    from treatfirst.services import clearing

    return handle(
        _request(),
        lambda ctx, caller, q: clearing.party_file(ctx, caller, runtime().objects, business_date, clearing_file, q),
        query=clearing_messages.ClearingFileQuery,
    )


# ---- reconciliation (对账): hospitals (two levels), channels (statements), operators (suspense) ----
@api.route("/v1/reconciliations/totals", methods=["POST"])
def reconcile_totals() -> Response:
    from treatfirst.messages import reconciliation as recon_messages
    from treatfirst.services import reconciliation

    return handle(
        _request(),
        lambda ctx, caller, cmd: reconciliation.reconcile_totals(ctx, caller, cmd, _key()),
        body=recon_messages.TotalsRequest,
    )


@api.route("/v1/reconciliations/lines", methods=["POST"])
def reconcile_lines() -> Response:
    from treatfirst.messages import reconciliation as recon_messages
    from treatfirst.services import reconciliation

    return handle(
        _request(),
        lambda ctx, caller, cmd: reconciliation.reconcile_lines(ctx, caller, cmd, _key()),
        body=recon_messages.LinesRequest,
        max_body=recon_messages.MAX_BODY_BYTES,
    )


@api.route("/v1/statements", methods=["POST"])
def upload_statement() -> Response:
    from treatfirst.messages import reconciliation as recon_messages
    from treatfirst.services import reconciliation

    return handle(
        _request(),
        lambda ctx, caller, cmd: reconciliation.reconcile_statement(ctx, caller, cmd, _key()),
        body=recon_messages.StatementRequest,
        max_body=recon_messages.MAX_BODY_BYTES,
    )


@api.route("/v1/suspense", methods=["GET"])
def list_suspense() -> Response:
    from treatfirst.services import reconciliation

    return handle(
        _request(), lambda ctx, caller, page: reconciliation.list_open_suspense(ctx, caller, page), paged=True
    )


@api.route("/v1/suspense/{suspense_id}", methods=["GET"])
def get_suspense(suspense_id: str) -> Response:
    from treatfirst.services import reconciliation

    return handle(_request(), lambda ctx, caller, _: reconciliation.get_suspense(ctx, caller, suspense_id))


@api.route("/v1/suspense/{suspense_id}/resolve", methods=["POST"])
def resolve_suspense(suspense_id: str) -> Response:
    from treatfirst.messages import reconciliation as recon_messages
    from treatfirst.services import reconciliation

    return handle(
        _request(),
        lambda ctx, caller, cmd: reconciliation.resolve_suspense(ctx, caller, suspense_id, cmd, _key()),
        body=recon_messages.Resolution,
    )
