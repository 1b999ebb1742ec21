"""The OpenAPI 3.1 document of the /v1 API, served at GET /v1/openapi.json and published on the site.

Operations are declared here once; tests/functional/test_openapi.py checks them against the app's real
routes in both directions, so the document cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from treatfirst import __version__
from treatfirst.domain.errors import all_error_classes
from treatfirst.services.callers import DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, REVOCATION_BOUND_SECONDS

FEN = {"type": "integer", "minimum": 0, "maximum": 10**12, "description": "amount in fen (分), an integer"}
FEN_POSITIVE = {**FEN, "minimum": 1}
TIME = {"type": "string", "format": "date-time", "description": "RFC 3339 time with offset"}
TOKEN = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:\\-]{0,63}$"}


def _obj(required: list[str], props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required, "properties": props}


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        ["error"],
        {
            "error": _obj(
                ["code", "message", "field", "request_id"],
                {
                    "code": {"type": "string", "enum": sorted({c.code for c in all_error_classes()})},
                    "message": {"type": "string"},
                    "field": {"type": ["string", "null"], "description": "the request field at fault, when one is"},
                    "request_id": {"type": "string"},
                    "details": {"type": "object"},
                },
            )
        },
    ),
    "CreditLine": _obj(
        ["limit_fen", "available_fen", "held_fen", "owed_fen", "emergency_held_fen", "emergency_owed_fen"],
        {
            k: FEN
            for k in ("limit_fen", "available_fen", "held_fen", "owed_fen", "emergency_held_fen", "emergency_owed_fen")
        },
    ),
    "Account": {
        "type": "object",
        "required": ["account_id", "status", "name", "id_number", "phone", "credit_line", "decision"],
        "properties": {
            "account_id": {"type": "string"},
            "status": {"enum": ["active", "suspended", "withdrawn"]},
            "city_code": {"type": "string"},
            "name": {"type": "string", "description": "masked, e.g. 张*"},
            "id_number": {"type": "string", "description": "masked, e.g. 3207**********1234"},
            "phone": {"type": "string", "description": "masked, e.g. 138****5678"},
            "tier": {"type": ["string", "null"]},
            "credit_line": {"$ref": "#/components/schemas/CreditLine"},
            "decision": {
                "type": "object",
                "description": "eligibility, limit and reasons, with the policy version and SHA-256 that decided",
            },
            "enrolled_at": TIME,
            "withdrawn_at": {"type": ["string", "null"]},
        },
    },
    "Enrollment": _obj(
        ["name", "id_number", "phone", "insurance_status", "verification", "consents"],
        {
            "name": {"type": "string", "maxLength": 40},
            "id_number": {"type": "string", "pattern": "^\\d{17}[\\dXx]$", "description": "GB 11643 checksum checked"},
            "phone": {"type": "string"},
            "insurance_status": {"type": "string", "examples": ["normal"]},
            "verification": _obj(
                ["method", "check_id", "verified_at"],
                {"method": {"enum": ["face", "sms"]}, "check_id": TOKEN, "verified_at": TIME},
            ),
            "credit_score": _obj(
                ["source", "value"],
                {"source": {"type": "string"}, "value": {"type": "integer", "minimum": 0, "maximum": 1000}},
            ),
            "consents": {
                "type": "array",
                "items": _obj(
                    ["kind", "version", "text_sha256"],
                    {
                        "kind": {"enum": ["service_agreement", "personal_information", "credit_reporting"]},
                        "version": {"type": "string"},
                        "text_sha256": {
                            "type": "string",
                            "description": "SHA-256 of the exact text shown (GET /v1/consents)",
                        },
                    },
                ),
            },
        },
    ),
    "Lookup": _obj(["id_number"], {"id_number": {"type": "string"}}),
    "CallerRequest": _obj(
        ["kind", "id", "name"],
        {"kind": {"enum": ["hospital", "channel"]}, "id": {"type": "string"}, "name": {"type": "string"}},
    ),
    "CallerKey": _obj(
        ["key_id", "secret", "kind", "id", "scopes"],
        {
            "key_id": {"type": "string", "pattern": "^key_[0-9A-HJKMNP-TV-Z]{26}$"},
            "secret": {
                "type": ["string", "null"],
                "description": "shown once; a retry with the same Idempotency-Key by the same operator key shows it "
                "again within 24 hours, null after that",
            },
            "kind": {"type": "string"},
            "id": {"type": "string"},
            "scopes": {"type": "array", "items": {"type": "string"}},
            "previous_secret_expires_at": {
                "type": ["string", "null"],
                "description": "rotation only: until when the previous secret still works (null: not at all)",
            },
        },
    ),
    "RotationRequest": _obj(
        ["reason"],
        {
            "reason": {"type": "string", "minLength": 1, "maxLength": 200, "description": "kept in the audit log"},
            "previous_valid_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_OVERLAP_SECONDS,
                "default": DEFAULT_OVERLAP_SECONDS,
                "description": "how long the previous secret keeps working; 0 ends it at once",
            },
        },
    ),
    "RevocationRequest": _obj(
        ["reason"],
        {"reason": {"type": "string", "minLength": 1, "maxLength": 200, "description": "kept in the audit log"}},
    ),
    "Revocation": _obj(
        ["key_id", "kind", "id", "status", "revoked_at", "effective_within_seconds"],
        {
            "key_id": {"type": "string"},
            "kind": {"type": "string"},
            "id": {"type": "string"},
            "status": {"const": "revoked"},
            "revoked_at": TIME,
            "effective_within_seconds": {
                "type": "integer",
                "description": "every server refuses the key within this many seconds",
            },
        },
    ),
    "VisitRequest": _obj(
        ["account_id"],
        {
            "account_id": {"type": "string"},
            "kind": {"enum": ["outpatient", "inpatient"], "default": "outpatient"},
            "department": {"type": "string"},
            "his_visit_id": TOKEN,
            "emergency": {
                "type": "boolean",
                "default": False,
                "description": "opens even when the account is suspended",
            },
        },
    ),
    "Visit": {
        "type": "object",
        "properties": {
            "visit_id": {"type": "string"},
            "hospital_id": {"type": "string"},
            "account_id": {"type": "string"},
            "his_visit_id": {"type": ["string", "null"]},
            "kind": {"type": "string"},
            "department": {"type": ["string", "null"]},
            "status": {"enum": ["open", "closed"]},
            "opened_at": TIME,
            "closed_at": {"type": ["string", "null"]},
            "held_fen": FEN,
            "emergency_held_fen": FEN,
            "charge_count": {"type": "integer"},
            "bill_id": {"type": ["string", "null"]},
        },
    },
    "ChargeRequest": _obj(
        [
            "fee_line_id",
            "item_code",
            "item_name",
            "occurred_at",
            "total_fen",
            "insurance_fen",
            "personal_account_fen",
            "self_pay_fen",
        ],
        {
            "fee_line_id": {**TOKEN, "description": "the hospital's own fee-line id (like 医保 feedetl_sn)"},
            "item_code": TOKEN,
            "item_name": {"type": "string", "maxLength": 100},
            "quantity": {"type": "integer", "minimum": 1, "default": 1},
            "occurred_at": TIME,
            "total_fen": {**FEN, "description": "must equal insurance_fen + personal_account_fen + self_pay_fen"},
            "insurance_fen": FEN,
            "personal_account_fen": FEN,
            "self_pay_fen": FEN,
            "emergency": {
                "type": "boolean",
                "default": False,
                "description": "急危重症: accepted past the limit or a suspension, and flagged",
            },
        },
    ),
    "Charge": {
        "type": "object",
        "properties": {
            "visit_id": {"type": "string"},
            "fee_line_id": {"type": "string"},
            "item_code": {"type": "string"},
            "item_name": {"type": "string"},
            "quantity": {"type": "integer"},
            "occurred_at": TIME,
            "total_fen": FEN,
            "insurance_fen": FEN,
            "personal_account_fen": FEN,
            "self_pay_fen": FEN,
            "refunded_insurance_fen": FEN,
            "refunded_personal_account_fen": FEN,
            "refunded_self_pay_fen": FEN,
            "emergency": {"type": "boolean"},
            "status": {"enum": ["posted", "partially_refunded", "refunded", "cancelled"]},
            "posted_at": TIME,
            "refunds": {"type": "array", "items": {"type": "object"}},
        },
    },
    "CancelRequest": _obj([], {"reason": {"type": "string", "maxLength": 200}}),
    "RefundRequest": _obj(
        [],
        {
            "insurance_fen": FEN,
            "personal_account_fen": FEN,
            "self_pay_fen": FEN,
            "reason": {"type": "string", "maxLength": 200},
        },
    ),
    "Empty": _obj([], {}),
    "Bill": {
        "type": "object",
        "properties": {
            "bill_id": {"type": "string"},
            "visit_id": {"type": "string"},
            "hospital_id": {"type": "string"},
            "account_id": {"type": "string"},
            "status": {"enum": ["issued", "overdue", "paid", "written_off"]},
            "issued_at": TIME,
            "due_at": {**TIME, "description": "in the city's time zone"},
            "amount_fen": FEN,
            "emergency_amount_fen": FEN,
            "refunded_fen": FEN,
            "paid_fen": FEN,
            "outstanding_fen": FEN,
            "paid_at": {"type": ["string", "null"]},
            "policy_version": {"type": "string"},
            "policy_sha256": {"type": "string"},
        },
    },
    "Closed": _obj(
        ["visit", "bill"],
        {"visit": {"$ref": "#/components/schemas/Visit"}, "bill": {"$ref": "#/components/schemas/Bill"}},
    ),
    "PaymentRequest": _obj(
        ["channel_txn_id", "amount_fen", "paid_at", "allocations"],
        {
            "channel_txn_id": {**TOKEN, "description": "the channel's transaction id; idempotency key of the payment"},
            "amount_fen": FEN_POSITIVE,
            "paid_at": TIME,
            "payer": _obj(["kind"], {"kind": {"enum": ["self", "family", "proxy"]}}),
            "allocations": {
                "type": "array",
                "minItems": 1,
                "maxItems": 20,
                "items": _obj(["bill_id", "amount_fen"], {"bill_id": {"type": "string"}, "amount_fen": FEN_POSITIVE}),
            },
        },
    ),
    "Payment": {
        "type": "object",
        "properties": {
            "payment_id": {"type": "string"},
            "channel_id": {"type": "string"},
            "channel_txn_id": {"type": "string"},
            "amount_fen": FEN,
            "paid_at": TIME,
            "received_at": TIME,
            "payer": {"type": "object"},
            "allocations": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"const": "ok"},
            "policy_version": {"type": "string"},
            "policy_sha256": {"type": "string"},
        },
    },
    "Policy": {
        "type": "object",
        "properties": {
            "policy_version": {"type": "string"},
            "policy_sha256": {"type": "string"},
            "policy": {"type": "object"},
        },
    },
    "Consents": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": _obj(
                    ["kind", "version", "title", "text", "text_sha256"],
                    {
                        "kind": {"type": "string"},
                        "version": {"type": "string"},
                        "title": {"type": "string"},
                        "title_en": {"type": "string"},
                        "text": {"type": "string"},
                        "text_sha256": {"type": "string"},
                    },
                ),
            }
        },
    },
    "OpenApi": {"type": "object"},
}


def _page(item: str) -> dict[str, Any]:
    return _obj(
        ["items", "has_more", "cursor"],
        {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "has_more": {"type": "boolean"},
            "cursor": {"type": ["string", "null"]},
        },
    )


SCHEMAS.update({"VisitPage": _page("Visit"), "ChargePage": _page("Charge"), "BillPage": _page("Bill")})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    scope: str | None  # None: public, unsigned
    response: str
    status: int = 200
    request: str | None = None
    idempotent: bool = False  # takes an Idempotency-Key
    paged: bool = False
    errors: tuple[str, ...] = field(default=())


COMMON_ERRORS = (
    "VALIDATION_FAILED",
    "MALFORMED_JSON",
    "UNAUTHENTICATED",
    "BAD_SIGNATURE",
    "CLOCK_SKEW",
    "REPLAYED_NONCE",
    "FORBIDDEN",
    "PAYLOAD_TOO_LARGE",
)

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/v1/health", "health", "Liveness and the policy in force", "Platform", None, "Health"),
    Operation("get", "/v1/openapi.json", "openapi", "This document", "Platform", None, "OpenApi"),
    Operation(
        "get",
        "/v1/policy",
        "getPolicy",
        "The city policy in force, with version and SHA-256",
        "Platform",
        None,
        "Policy",
    ),
    Operation(
        "get",
        "/v1/consents",
        "listConsents",
        "Consent texts to show before enrollment, with SHA-256",
        "Enrollment",
        None,
        "Consents",
    ),
    Operation(
        "post",
        "/v1/callers",
        "registerCaller",
        "Register a hospital or channel key (secret shown once); one active key per id",
        "Operators",
        "callers:write",
        "CallerKey",
        201,
        "CallerRequest",
        True,
        errors=("CALLER_EXISTS", "IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE"),
    ),
    Operation(
        "post",
        "/v1/callers/{key_id}/rotation",
        "rotateCaller",
        "Rotate a key's secret; the previous secret keeps working until its expiry",
        "Operators",
        "callers:write",
        "CallerKey",
        200,
        "RotationRequest",
        True,
        errors=("CALLER_NOT_FOUND", "CALLER_REVOKED", "IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE"),
    ),
    Operation(
        "post",
        "/v1/callers/{key_id}/revocation",
        "revokeCaller",
        f"Revoke a key: refused everywhere within {REVOCATION_BOUND_SECONDS} seconds",
        "Operators",
        "callers:write",
        "Revocation",
        200,
        "RevocationRequest",
        True,
        errors=("CALLER_NOT_FOUND", "CALLER_REVOKED", "IDEMPOTENCY_KEY_REUSED", "CONCURRENT_UPDATE"),
    ),
    Operation(
        "post",
        "/v1/enrollments",
        "enroll",
        "Enroll a resident: identity, verification, consents, decision",
        "Enrollment",
        "enrollments:write",
        "Account",
        201,
        "Enrollment",
        True,
        errors=("INVALID_ID_NUMBER", "CONSENT_REQUIRED", "NOT_ELIGIBLE", "ALREADY_ENROLLED", "IDEMPOTENCY_KEY_REUSED"),
    ),
    Operation(
        "post",
        "/v1/accounts/lookup",
        "lookupAccount",
        "Find an account by resident ID number",
        "Enrollment",
        "accounts:read",
        "Account",
        200,
        "Lookup",
        errors=("INVALID_ID_NUMBER", "ACCOUNT_NOT_FOUND"),
    ),
    Operation(
        "get",
        "/v1/accounts/{account_id}",
        "getAccount",
        "Read an account (identifiers masked)",
        "Enrollment",
        "accounts:read",
        "Account",
        errors=("ACCOUNT_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/accounts/{account_id}/withdrawal",
        "withdraw",
        "Withdraw when nothing is owed",
        "Enrollment",
        "enrollments:write",
        "Account",
        200,
        "Empty",
        True,
        errors=("ACCOUNT_NOT_FOUND", "AMOUNT_OWED"),
    ),
    Operation(
        "get",
        "/v1/accounts/{account_id}/bills",
        "listAccountBills",
        "An account's bills, newest first",
        "Bills",
        "bills:read",
        "BillPage",
        paged=True,
        errors=("ACCOUNT_NOT_FOUND", "INVALID_CURSOR"),
    ),
    Operation(
        "post",
        "/v1/visits",
        "openVisit",
        "Open a visit for an enrolled patient",
        "Visits",
        "visits:write",
        "Visit",
        201,
        "VisitRequest",
        True,
        errors=("ACCOUNT_NOT_FOUND", "ACCOUNT_NOT_ACTIVE"),
    ),
    Operation(
        "get",
        "/v1/visits",
        "listVisits",
        "This hospital's visits, newest first",
        "Visits",
        "visits:read",
        "VisitPage",
        paged=True,
        errors=("INVALID_CURSOR",),
    ),
    Operation(
        "get",
        "/v1/visits/{visit_id}",
        "getVisit",
        "Read a visit",
        "Visits",
        "visits:read",
        "Visit",
        errors=("VISIT_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/charges",
        "postCharge",
        "Post a charge; self-pay is held on the credit line atomically",
        "Visits",
        "visits:write",
        "Charge",
        201,
        "ChargeRequest",
        True,
        errors=(
            "INVALID_AMOUNT",
            "SPLIT_MISMATCH",
            "VISIT_NOT_FOUND",
            "VISIT_CLOSED",
            "CREDIT_LIMIT_EXCEEDED",
            "ACCOUNT_NOT_ACTIVE",
            "FEE_LINE_CONFLICT",
            "IDEMPOTENCY_KEY_REUSED",
            "CONCURRENT_UPDATE",
        ),
    ),
    Operation(
        "get",
        "/v1/visits/{visit_id}/charges",
        "listCharges",
        "A visit's charges",
        "Visits",
        "visits:read",
        "ChargePage",
        paged=True,
        errors=("VISIT_NOT_FOUND", "INVALID_CURSOR"),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/charges/{fee_line_id}/cancel",
        "cancelCharge",
        "Cancel a charge, restoring credit",
        "Visits",
        "visits:write",
        "Charge",
        200,
        "CancelRequest",
        True,
        errors=("VISIT_NOT_FOUND", "CHARGE_NOT_FOUND", "CHARGE_NOT_REFUNDABLE", "REFUND_EXCEEDS_OUTSTANDING"),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/charges/{fee_line_id}/refunds",
        "refundCharge",
        "Refund part of a charge, restoring credit",
        "Visits",
        "visits:write",
        "Charge",
        200,
        "RefundRequest",
        True,
        errors=(
            "INVALID_AMOUNT",
            "VISIT_NOT_FOUND",
            "CHARGE_NOT_FOUND",
            "CHARGE_NOT_REFUNDABLE",
            "REFUND_EXCEEDS_OUTSTANDING",
        ),
    ),
    Operation(
        "post",
        "/v1/visits/{visit_id}/close",
        "closeVisit",
        "Close the visit: holds become a bill due per the city policy",
        "Visits",
        "visits:write",
        "Closed",
        201,
        "Empty",
        True,
        errors=("VISIT_NOT_FOUND", "VISIT_CLOSED", "CONCURRENT_UPDATE"),
    ),
    Operation(
        "get",
        "/v1/bills/{bill_id}",
        "getBill",
        "Read a bill",
        "Bills",
        "bills:read",
        "Bill",
        errors=("BILL_NOT_FOUND",),
    ),
    Operation(
        "post",
        "/v1/payments",
        "notifyPayment",
        "Notify a payment against one or more bills (idempotent by channel_txn_id)",
        "Payments",
        "payments:write",
        "Payment",
        201,
        "PaymentRequest",
        True,
        errors=(
            "INVALID_AMOUNT",
            "BILL_NOT_FOUND",
            "BILL_NOT_PAYABLE",
            "OVERPAYMENT",
            "TRANSACTION_ID_CONFLICT",
            "IDEMPOTENCY_KEY_REUSED",
            "CONCURRENT_UPDATE",
        ),
    ),
)


def _statuses() -> dict[str, int]:
    return {c.code: c.status for c in all_error_classes()}


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in (part[1:-1] for part in op.path.split("/") if part.startswith("{"))
    ]
    if op.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "retries with the same key return the first result; another body is a 409",
                "schema": {"type": "string", "pattern": "^[\\x20-\\x7e]{1,128}$", "maxLength": 128},
            }
        )
    if op.paged:
        params += [
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            },
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ]
    responses: dict[str, Any] = {
        str(op.status): {
            "description": "success",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}},
        }
    }
    statuses = _statuses()
    codes = (*COMMON_ERRORS, *op.errors) if op.scope else ("PAYLOAD_TOO_LARGE",)
    if op.method == "post":  # a body that is not labelled application/json
        codes = (*codes, "UNSUPPORTED_MEDIA_TYPE")
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(statuses[code], []).append(code)
    for status, names in sorted(by_status.items()):
        responses[str(status)] = {
            "description": "error codes: " + ", ".join(sorted(set(names))),
            "x-treatfirst-error-codes": sorted(set(names)),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": params,
        "responses": responses,
        "security": [{"TF1HmacSignature": []}] if op.scope else [],
    }
    if op.scope:
        out["x-treatfirst-scope"] = op.scope
    if op.request:
        out["requestBody"] = {
            "required": op.request not in ("Empty", "CancelRequest"),
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.request}"}}},
        }
    return out


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "TreatFirst API",
            "version": __version__,
            "description": "先医后付 / treat first, pay later. Amounts are integer fen; times RFC 3339; "
            'errors are {"error": {code, message, field, request_id}}; bodies over 64 KB '
            "are refused with 413.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "TF1HmacSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-TF-Signature",
                    "description": "HMAC-SHA256 over method, path, query, X-TF-Timestamp, X-TF-Nonce and the body's "
                    "SHA-256, keyed with SHA-256('TF1:' + secret); send X-TF-Key-Id too. Requests more "
                    "than 5 minutes off the server clock or with a used nonce are refused.",
                }
            },
        },
    }
