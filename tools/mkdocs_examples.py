"""An example request and response for every operation, generated from the message structs the API decodes
and encodes (treatfirst.messages), so an example cannot name a field the API does not have.

Values come from SAMPLES by field name (one consistent story: one resident, one visit, one charge, one bill,
one payment), else from the field's type. Every example is decoded strictly with its struct (types, bounds,
patterns) before it is shown; tests/functional/test_docs_examples.py sends each example request to the app and
checks that the answer has the example response's fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

import msgspec
from treatfirst import openapi
from treatfirst.consents import render_all
from treatfirst.domain import signing
from treatfirst.domain.policy import example_policy
from treatfirst.messages.common import Request, Response

ACCOUNT = "acc_01JDX3M4V8K2QF6T9ZB7N5R1WH"
VISIT = "vis_01JDX3N0A7C4HD2E8FJ6K9M3PQ"
BILL = "bil_01JDX3Q5R8S1TV4WX7YZ2A6B9C"
KEY_ID = "key_01JDX3AB2CD4EF6GH8JK0MN2PQ"
CLEARING_DAY = "2026-11-20"  # a cleared business date (a date no other example uses: tests put the live one in)
TASK = "msg_5d41402abc4b2a76b9719d911017c592"
PAUSE = "pau_01JDX3W7X0Y3Z6A9B2C5D8E1F4"
REVIEW = f"rev_{VISIT}_FEE-20261124-0001"
RECORD = "blr_3F9A1C0D7E2B4A6C8D0E1F2A3B"
APPEAL = "bla_01JDX3Z9A2B5C8D1E4F7G0H3J6"
PRIVACY_REQUEST = "prq_01JDX3W7X0Y3Z6A9B2C5D8E1F5"
ENDPOINT = "whe_01JDX3Y4Z7A0B3C6D9E2F5G8H1"
EVENT = "evt_3f1c9a0b7e2d4c6f8a1b3d5e7f9a0c2e"
SUSPENSE = "sus_5d0c3f9a8b7e6d5c4b3a29180f7e6d5c"
STATEMENT = (
    "kind,channel_txn_id,refund_id,amount_fen,occurred_at\r\n"
    "payment,4200001234202611240001,,3000,2026-11-24T10:15:00+08:00\r\n"
    "payment,4200001234202611240002,,500,2026-11-24T11:02:00+08:00\r\n"
)

# Field name → example value, for the fields a reader recognises; the rest follow their type.
SAMPLES: dict[str, Any] = {
    "account_id": ACCOUNT,
    "visit_id": VISIT,
    "bill_id": BILL,
    "key_id": KEY_ID,
    "task_id": TASK,
    "message_id": TASK,
    "pause_id": PAUSE,
    "review_id": REVIEW,
    "record_id": RECORD,
    "appeal_id": APPEAL,
    "payment_id": "pay_01JDX3T2U5V8W1X4Y7Z0A3B6C9",
    "refund_id": "ref_01JDX3R9S2T5U8V1W4X7Y0Z3A6",
    "hospital_id": "city-hospital-1",
    "channel_id": "wechat-pay",
    "his_visit_id": "MZ20261124000123",
    "fee_line_id": "FEE-20261124-0001",
    "item_code": "250101001",
    "item_name": "血常规 Complete blood count",
    "department": "内科 Internal medicine",
    "channel_txn_id": "4200001234202611240001",
    "name": "张三",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "check_id": "face-0001",
    "reason": "HIS 退药 returned medicine",
    "reason_code": "R57.9",
    "triage_level": 2,
    "secret": "tfs_example-secret-shown-once",
    "status": "ok",
    "city_code": "320700",
    "export_id": "exp_20261125",
    "window_from": "2026-11-25",
    "window_to": "2026-11-26",
    "sequence": 42,
    "manifest_sha256": "5d1f0c3b9a7e2d4f6b8a0c1e3d5f7a9b1c3e5d7f9a1b3c5e7d9f1a3b5c7e9d1f",
    "previous_manifest_sha256": "8e2a4c6b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a",
    "sha256": "2c4e6a8b0d1f3a5c7e9b1d3f5a7c9e0b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c",
    "written_at": "2026-11-26T00:05:12.000Z",
    "acknowledged_at": None,
    "policy_city": "lianyungang",
    "policy_version": "2026.11-1",
    "policy_sha256": "9f2c1b7e4a0d3c5b8e6f1a2d4c7b9e0f3a5d8c1b4e7f0a3d6c9b2e5f8a1d4c7b",
    "text_sha256": "3b8f1e6a9c2d5f0b7e4a1c8d3f6b9e2a5c0d7f4b1e8a3c6d9f2b5e0a7c4d1f8b",
    "quantity": 1,
    "total_fen": 12000,
    "insurance_fen": 8000,
    "personal_account_fen": 1000,
    "self_pay_fen": 3000,
    "amount_fen": 3000,
    "limit_fen": 300000,
    "available_fen": 297000,
    "held_fen": 0,
    "owed_fen": 3000,
    "paid_fen": 0,
    "charge_count": 1,
    "has_more": False,
    "cursor": None,
    "previous_valid_seconds": 86400,
    "effective_within_seconds": 30,
    "due_at": "2026-12-09T23:59:59+08:00",
    "paid_at": "2026-11-30T10:15:00+08:00",
    "tier": "standard",
    "human_review": "人工复核：拨打 12345 Human review: call 12345",
    "automated": True,
    "eligible": True,
    "kind": None,  # each struct's own literal, see _value
    # what a ladder step writes into an outbox row (services.outbox): masked name, amounts, dates, never an item
    "params": {
        "name_masked": "张*",
        "amount_fen": 3000,
        "due_date": "2026-12-09",
        "days_overdue": 7,
        "step": "phone_follow_up",
        "actions": ["phone_task"],
    },
    "business_date": "2026-11-24",
    "suspense_id": SUSPENSE,
    "statement_id": "stm_1a2b3c4d5e6f708192a3b4c5d6e7f809",
    "reconciliation_id": "rec_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "ref": "4200001234202611240001",
    "opened_on": "2026-11-24",
    "last_seen_on": "2026-11-24",
    "owner": "operator",
    "format": "generic_csv",
    "settled_on": None,
    "resolved_at": None,
    "resolved_by": None,
    "resolution": None,
}
# What the API answers for a resident's personal data: masked.
MASKED = {"name": "张*", "id_number": "1101**************2X", "phone": "138****8000"}
POLICY = example_policy("lianyungang")
SAMPLES.update(
    city_code=POLICY.city_code, policy_city=POLICY.city_code, policy_version=POLICY.version, policy_sha256=POLICY.sha256
)
TIME = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)


DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class ExampleError(RuntimeError):
    """An example does not decode with its struct."""


def _value(name: str, tp: Any, depth: int = 0, samples: dict[str, Any] = SAMPLES) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        if any(getattr(meta, "pattern", None) == DATE_PATTERN for meta in args[1:]) and name not in samples:
            return TIME.date().isoformat()
        return _value(name, args[0], depth, samples)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        if name in samples and samples[name] is None:
            return None
        return _value(name, real[0], depth, samples) if real else None
    if origin is typing.Literal:
        return samples[name] if name in samples and samples[name] in args else args[0]
    if name in samples and samples[name] is not None:
        return samples[name]
    if origin is list:
        return [_value(name, args[0], depth + 1, samples)]
    if origin is dict:
        return {}
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return build(tp, depth + 1, samples)
    if tp is dt.datetime:
        return TIME.isoformat().replace("+00:00", "Z")
    if tp is bool:
        return False
    if tp is int:
        return 0
    if tp is str:
        if name.endswith("_at"):
            return TIME.isoformat().replace("+00:00", "Z")
        if name.endswith("_fen"):
            return 0
        return name
    raise ExampleError(f"no example value for {name}: {tp!r}")


def build(struct: type[msgspec.Struct], depth: int = 0, samples: dict[str, Any] = SAMPLES) -> dict[str, Any]:
    """Every field of a response; a request's optional fields only where SAMPLES names them."""
    hints = typing.get_type_hints(struct, include_extras=True)
    out = {}
    for f in msgspec.structs.fields(struct):
        if not f.required and issubclass(struct, Request) and f.name not in samples:
            continue
        out[f.encode_name] = _value(f.name, hints[f.name], depth, samples)
    return out


@dataclass(frozen=True)
class Example:
    method: str
    path: str  # with the example's ids in place of {params}
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    status: int
    idempotent: bool
    query: dict[str, str] = field(default_factory=dict)
    # When the answer depends on the caller's kind: every view by struct name, in the API's order (hospital,
    # channel, operator); `response` is the first.
    views: dict[str, dict[str, Any]] = field(default_factory=dict)


# Bodies where the type alone gives a poor story: the fields a caller really sends.
REQUEST_OVERRIDES: dict[str, dict[str, Any]] = {
    "fileBlacklistAppeal": {
        "statement": "该笔费用已于到期前在窗口缴清 paid at the desk before the due date",
        "verification": {
            "method": "face",
            "check_id": "FACE-20261124-0042",
            "verified_at": "2026-11-24T09:28:00+08:00",
        },
    },
    "decideBlacklistAppeal": {"outcome": "rejected", "reason": "核实欠款属实 the debt is confirmed"},
    "correctBlacklistRecord": {"reason": "身份错配 the wrong person was listed"},
    "annulStrike": {"reason": "系统故障导致逾期 overdue because of a system outage"},
    "registerCaller": {"kind": "hospital", "id": "city-hospital-1", "name": "市第一人民医院"},
    "rotateCaller": {"reason": "每年轮换 yearly rotation", "previous_valid_seconds": 86400},
    "revokeCaller": {"reason": "密钥泄露 key leaked"},
    "openVisit": {"account_id": ACCOUNT, "kind": "outpatient", "his_visit_id": "MZ20261124000123"},
    "refundCharge": {"self_pay_fen": 1000, "reason": "HIS 退药 returned medicine"},
    "cancelCharge": {"reason": "HIS 撤销 voided in the HIS"},
    "notifyPayment": {
        "channel_txn_id": "4200001234202611240001",
        "amount_fen": 3000,
        "paid_at": "2026-11-30T10:15:00+08:00",
        "allocations": [{"bill_id": BILL, "amount_fen": 3000}],
    },
    "enroll": {
        "name": "张三",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "insurance_status": "normal",
        "verification": {"method": "face", "check_id": "face-0001", "verified_at": "2026-11-24T09:30:00+08:00"},
        "consents": [{"kind": c.kind, "version": c.version, "text_sha256": c.sha256} for c in render_all(POLICY)],
    },
    "closeVisit": {},
    "claimPhoneTask": {"reason": "今日电话回访 follow-up calls today"},
    "recordPhoneTaskOutcome": {"outcome": "promised_to_pay", "note": "承诺周五还款 will pay on Friday"},
    "openDispute": {"bill_id": BILL, "reason": "患者对检查费有异议 the patient disputes the exam fee"},
    "closeDispute": {"reason": "医院已核实费用 the hospital confirmed the fee"},
    "openMoratorium": {"reason": "台风停工 typhoon closure"},
    "closeMoratorium": {"reason": "恢复正常 back to normal"},
    "decideReview": {"outcome": "confirmed", "reason": "病历显示为急危重症 the record shows an emergency"},
    "advanceTestClock": {"days": 8, "reason": "演示逾期 show a bill going overdue"},
    "writeOffBill": {"reason": "hardship", "note": "民政局认定为特困人员 certified by the civil-affairs office"},
    "answerConsents": {
        "verification": {"method": "face", "check_id": "face-0002", "verified_at": "2026-11-24T09:30:00+08:00"},
        "consents": [
            {"kind": c.kind, "version": c.version, "text_sha256": c.sha256}
            for c in render_all(POLICY)
            if not POLICY.consent(c.kind).required
        ][:1]
        or [{"kind": c.kind, "version": c.version, "text_sha256": c.sha256} for c in render_all(POLICY)][:1],
    },
    "privacyRequest": {
        "kind": "explanation",
        "verification": {"method": "face", "check_id": "face-0003", "verified_at": "2026-11-24T09:30:00+08:00"},
    },
    "answerPrivacyRequest": {"outcome": "upheld", "reason": "已人工复核，维持统一额度 reviewed by a person, upheld"},
    "createWebhookEndpoint": {
        "url": "https://his.example-hospital.cn/treatfirst/webhooks",
        "events": ["bill.issued", "bill.paid", "bill.overdue"],
        "description": "HIS 收费处 billing desk",
    },
    "reconcileTotals": {
        "business_date": "2026-11-24",
        "totals": [
            {"kind": "self_pay_posted", "count": 1, "amount_fen": 3000},
            {"kind": "self_pay_refunded", "count": 1, "amount_fen": 1000},
        ],
    },
    "reconcileLines": {
        "business_date": "2026-11-24",
        "lines": [
            {"kind": "self_pay_posted", "ref": f"{VISIT}/FEE-20261124-0001", "amount_fen": 3000},
            {"kind": "self_pay_refunded", "ref": "rfd_01JDX3R9S2T5U8V1W4X7Y0Z3A6", "amount_fen": 1000},
        ],
    },
    "uploadStatement": {"business_date": "2026-11-24", "format": "generic_csv", "content": STATEMENT},
    "resolveSuspense": {"reason": "渠道确认次日到账 the channel confirmed it settled the next day"},
}
# Query parameters an operation needs (its query struct's required fields), by field name.
QUERY_SAMPLES: dict[str, str] = {"month": "2026-11", "from_": "2026-11-01", "to": "2026-11-07"}
CONSENT = render_all(POLICY)[0]
# The reconciliation story: the platform has two self-pay lines and one refund at the hospital, the HIS lost one
# line; the channel's statement lists the payment of the bill and one transaction the platform never received.
FEE_2 = f"{VISIT}/FEE-20261124-0002"
_LINE = {"platform_amount_fen": 3000, "counterparty_amount_fen": 3000, "difference_fen": 0, "result": "matched"}
RESPONSE_OVERRIDES: dict[str, dict[str, Any]] = {
    "listConsents": {
        "items": [
            {
                "kind": CONSENT.kind,
                "version": CONSENT.version,
                "title": CONSENT.title,
                "title_en": CONSENT.title_en,
                "text": CONSENT.text,
                "text_sha256": CONSENT.sha256,
                "required": POLICY.consent(CONSENT.kind).required,
                "mode": POLICY.consent(CONSENT.kind).mode,
            }
        ]
    },
    "getPolicy": {"policy": POLICY.raw},
    "getTestClock": {"now": "2026-11-24T01:30:00Z", "offset_seconds": 0},
    # eight days later: the daily sweep caught up the eight business dates and acted on one account
    "advanceTestClock": {
        "now": "2026-12-02T01:30:00Z",
        "offset_seconds": 8 * 86400,
        "ran": {
            "collect": {
                "dates": [f"2026-11-{day}" for day in range(24, 31)] + ["2026-12-01"],
                "read": 1,
                "reread": 0,
                "acted": 1,
                "moved": 1,
                "messages": 1,
                "written_off": 0,
                "failed": 0,
            },
            "dispatch_outbox": {"sent": 1, "failed": 0, "undeliverable": 0, "skipped": 0},
        },
    },
    "writeOffBill": {
        "status": "written_off",
        "paid_fen": 0,
        "outstanding_fen": 0,
        "paid_at": None,
        "write_off": {
            "reason": "hardship",
            "on": "2026-12-20",
            "credit_fen": 3000,
            "emergency_fen": 0,
            "credit_fund": POLICY.raw.get("hardship_backstop", "civil_affairs_aid"),
            "emergency_fund": POLICY.emergency_backstop,
            "recovered_fen": 0,
        },
    },
    "reconcileTotals": {
        "result": "unbalanced",
        "kinds": [
            {
                "kind": "self_pay_posted",
                "status": "different",
                "platform_count": 2,
                "platform_amount_fen": 4500,
                "counterparty_count": 1,
                "counterparty_amount_fen": 3000,
                "difference_fen": -1500,
            },
            {
                "kind": "self_pay_refunded",
                "status": "balanced",
                "platform_count": 1,
                "platform_amount_fen": 1000,
                "counterparty_count": 1,
                "counterparty_amount_fen": 1000,
                "difference_fen": 0,
            },
        ],
    },
    "reconcileLines": {
        "result": "unbalanced",
        "counts": {"matched": 2, "platform_only": 1, "counterparty_only": 0, "amount_mismatch": 0},
        "lines": [
            {"kind": "self_pay_posted", "ref": f"{VISIT}/FEE-20261124-0001", **_LINE},
            {
                "kind": "self_pay_refunded",
                "ref": "rfd_01JDX3R9S2T5U8V1W4X7Y0Z3A6",
                **_LINE,
                "platform_amount_fen": 1000,
                "counterparty_amount_fen": 1000,
            },
            {
                "kind": "self_pay_posted",
                "ref": FEE_2,
                "result": "platform_only",
                "platform_amount_fen": 1500,
                "counterparty_amount_fen": None,
                "difference_fen": -1500,
            },
        ],
    },
    "uploadStatement": {
        "business_date": "2026-11-24",
        "sha256": hashlib.sha256(STATEMENT.encode()).hexdigest(),
        "lines": 2,
        "platform_lines": 1,
        "result": "unbalanced",
        "counts": {"matched": 1, "breaks": 1, "settled_from_suspense": 0, "open_suspense": 1},
        "breaks": [
            {
                "kind": "payment",
                "ref": "4200001234202611240002",
                "result": "counterparty_only",
                "platform_amount_fen": None,
                "counterparty_amount_fen": 500,
                "difference_fen": 500,
                "suspense_id": SUSPENSE,
                "suspense_status": "open",
            }
        ],
    },
    **{
        op: {
            "ref": "4200001234202611240002",
            "result": "counterparty_only",
            "platform_amount_fen": None,
            "counterparty_amount_fen": 500,
            "difference_fen": 500,
            "opened_on": "2026-11-24",
            "last_seen_on": "2026-11-24",
            "age_days": 1,
        }
        for op in ("getSuspense", "resolveSuspense")
    },
}
RESPONSE_OVERRIDES["resolveSuspense"] |= {
    "status": "resolved",
    "resolved_at": "2026-11-25T02:00:00.000Z",
    "resolved_by": "operator:ops-1",
    "resolution": "渠道确认次日到账 the channel confirmed it settled the next day",
}
PATH_VALUES = {
    "account_id": ACCOUNT,
    "visit_id": VISIT,
    "bill_id": BILL,
    "key_id": KEY_ID,
    "fee_line_id": SAMPLES["fee_line_id"],
    "task_id": TASK,
    "pause_id": PAUSE,
    "review_id": REVIEW,
    "export_id": "exp_20261125",
    "file_name": "delta-00001.csv",
    "record_id": RECORD,
    "appeal_id": APPEAL,
    "request_id": PRIVACY_REQUEST,
    "endpoint_id": ENDPOINT,
    "event_id": EVENT,
    "business_date": CLEARING_DAY,
    "clearing_file": "clearing.csv",
    "suspense_id": SUSPENSE,
}
PATH_PARAM = re.compile(r"\{(\w+)\}")


def _checked(data: dict[str, Any], struct: type[msgspec.Struct], what: str) -> dict[str, Any]:
    try:
        msgspec.json.decode(json.dumps(data, ensure_ascii=False).encode(), type=struct, strict=True)
    except msgspec.ValidationError as error:
        raise ExampleError(f"{what}: the example does not decode as {struct.__name__}: {error}") from None
    return data


def examples() -> dict[str, Example]:
    out = {}
    for op in openapi.OPERATIONS:
        missing = [name for name in PATH_PARAM.findall(op.path) if name not in PATH_VALUES]
        if missing:
            raise ExampleError(f"{op.operation_id}: add a sample value for {missing} to PATH_VALUES")
        path = PATH_PARAM.sub(lambda m: PATH_VALUES[m[1]], op.path)
        query = {}
        if op.query is not None:
            for f in msgspec.structs.fields(op.query):
                if f.required:
                    if f.name not in QUERY_SAMPLES:
                        raise ExampleError(f"{op.operation_id}: add a sample value for query {f.name} to QUERY_SAMPLES")
                    query[f.encode_name] = QUERY_SAMPLES[f.name]
            _checked(query, op.query, op.operation_id + " query")
        request = None
        if op.request is not None:
            request = REQUEST_OVERRIDES.get(op.operation_id)
            request = _checked(
                request if request is not None else build(op.request), op.request, op.operation_id + " request"
            )
        views = {}
        structs = op.response if isinstance(op.response, tuple) else (op.response,) if op.response else ()
        for struct in structs:
            built = build(struct, samples={**SAMPLES, **MASKED}) | RESPONSE_OVERRIDES.get(op.operation_id, {})
            views[struct.__name__] = _checked(built, struct, f"{op.operation_id} response {struct.__name__}")
        response = next(iter(views.values()), None)
        out[op.operation_id] = Example(
            op.method.upper(),
            path,
            request,
            response,
            op.status,
            op.idempotent,
            query=query,
            views=views if len(views) > 1 else {},
        )
    return out


def pretty(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def curl(example: Example, signed: bool) -> str:
    """A curl command with the headers the signing rules need; the values of the signature are placeholders
    a client computes (see the signing pages and treatfirst.client)."""
    body = json.dumps(example.request, ensure_ascii=False) if example.request is not None else ""
    query = "&".join(f"{k}={v}" for k, v in sorted(example.query.items()))
    lines = [f'curl -X {example.method} "$TF_URL{example.path}{"?" + query if query else ""}"']
    if signed:
        lines += [
            f'  -H "{signing.HEADER_KEY_ID}: $TF_KEY_ID"',
            f'  -H "{signing.HEADER_TIMESTAMP}: $(date +%s)"',
            f'  -H "{signing.HEADER_NONCE}: $(uuidgen)"',
            f'  -H "{signing.HEADER_SIGNATURE}: <HMAC-SHA256, see request signing>"',
        ]
    if example.idempotent:
        lines.append('  -H "Idempotency-Key: $(uuidgen)"')
    if body:
        quoted = body.replace("'", "'\\''")  # a single quote inside the shell's single-quoted string
        lines += ['  -H "Content-Type: application/json"', f"  --data '{quoted}'"]
    return " \\\n".join(lines)


__all__ = ["Example", "ExampleError", "Request", "Response", "curl", "examples", "pretty"]
