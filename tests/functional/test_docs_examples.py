"""Every example on the API reference pages (tools/mkdocs_examples.py) is sent to the app as a caller would send
it, and the app's answer has the status and the fields the example shows.

Every operation of the OpenAPI document must be in PLAN: an operation added without a place in it fails the first
assertion, so its example (built from its structs) is sent to the app from the day the route exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from treatfirst import openapi
from treatfirst.access import ACCESS, ROUTES
from treatfirst.config import runtime
from treatfirst.domain.days import business_date
from treatfirst.services import clearing, webhooks
from treatfirst.services.outbox import outbox_put
from treatfirst.services.ports import EVENTS
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, enrollment
from tests.functional.conftest import Api, Key, _register
from tools.mkdocs_examples import (
    ACCOUNT,
    APPEAL,
    BILL,
    CLEARING_DAY,
    ENDPOINT,
    EVENT,
    KEY_ID,
    PAUSE,
    PRIVACY_REQUEST,
    RECORD,
    REVIEW,
    SAMPLES,
    SUSPENSE,
    TASK,
    VISIT,
    Example,
    examples,
)

# The order a reader's first days follow, so each example's ids exist when it is sent.
PLAN = (
    # the platform and the keys
    "health",
    "openapi",
    "getPolicy",
    "listConsents",
    "registerCaller",
    "rotateCaller",
    "revokeCaller",
    # a resident, a visit, its charges, the bill
    "enroll",
    "lookupAccount",
    "getAccount",
    "openVisit",
    "listVisits",
    "getVisit",
    "postCharge",
    "listCharges",
    "refundCharge",
    "cancelCharge",
    "closeVisit",
    "getBill",
    "listAccountBills",
    # the hospital's webhook endpoint, its events (the bill.issued just written), one delivery log and replay
    "createWebhookEndpoint",
    "listWebhookEndpoints",
    "rotateWebhookSecret",
    "listEvents",
    "listEventDeliveries",
    "replayEvent",
    "deleteWebhookEndpoint",
    # operators: the account's collection, a dispute on its unpaid bill, the aging report
    "getCollectionState",
    "openDispute",
    "closeDispute",
    "getAging",
    # the outbox and the phone task queue (a ladder step's rows, written below)
    "listAccountMessages",
    "listPhoneTasks",
    "claimPhoneTask",
    "recordPhoneTaskOutcome",
    # emergency review (another resident's emergency charge above the city's threshold, posted below)
    "listReviews",
    "getReview",
    "decideReview",
    "emergencyReport",
    "operatorReport",
    # the blacklist: a record the ladder made for the resident (written below); status, appeal, decision, correction
    "getBlacklistStatus",
    "listBlacklist",
    "listBlacklistWaiting",
    "getBlacklistRecord",
    "fileBlacklistAppeal",
    "listBlacklistAppeals",
    "decideBlacklistAppeal",
    "correctBlacklistRecord",
    "annulStrike",
    # the resident's consents and privacy requests (channel), the operator's queue of human reviews
    "getConsentStates",
    "answerConsents",
    "privacyRequest",
    "listPrivacyRequests",
    "answerPrivacyRequest",
    # the bill is paid, the resident withdraws; another resident's unpaid bill is written off (hardship)
    "notifyPayment",
    "withdraw",
    "writeOffBill",
    # the day's clearing: the hospital reads its manifest and downloads its file
    "getClearing",
    "getClearingFile",
    # reconciliation of a closed day: the hospital's totals and lines, a channel's statement, its suspense items
    "reconcileTotals",
    "reconcileLines",
    "uploadStatement",
    "listSuspense",
    "getSuspense",
    "resolveSuspense",
    # city-wide moratoriums, then the test clock (its schedules run over everything above)
    "listMoratoriums",
    "openMoratorium",
    "closeMoratorium",
    "getTestClock",
    "advanceTestClock",
    # the credit platform: the deliveries the test clock's schedules just wrote (the blacklist export)
    "listExports",
    "getExport",
    "downloadExportFile",
    "acknowledgeExport",
)
# The example's sample id → the live id it stands for (filled in as the answers come back).
SAMPLE_IDS = {ACCOUNT: "account", VISIT: "visit", BILL: "bill", KEY_ID: "key", TASK: "task", PAUSE: "pause"}
SAMPLE_IDS[REVIEW] = "review"
SAMPLE_IDS.update({SAMPLES["export_id"]: "export", SAMPLES["manifest_sha256"]: "manifest"})
SAMPLE_IDS[RECORD] = "record"
SAMPLE_IDS[APPEAL] = "appeal"
SAMPLE_IDS[PRIVACY_REQUEST] = "privacy_request"
SAMPLE_IDS |= {ENDPOINT: "endpoint", EVENT: "event"}
SAMPLE_IDS[CLEARING_DAY] = "business_date"
SAMPLE_IDS[SUSPENSE] = "suspense"


def _schema(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The object schema a value follows: through $ref, a nullable anyOf and an array's items."""
    while True:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in schema:
            schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), {})
        elif schema.get("type") == "array":
            schema = schema.get("items", {})
        else:
            return schema


def same_fields(example: Any, live: Any, schema: dict[str, Any], schemas: dict[str, Any], where: str = "") -> list[str]:
    """Where the answer's fields differ from the example's: a field the answer lacks is a difference only when its
    struct requires it (the API leaves out optional fields at their default); an open object (a dict of any keys,
    such as an SMS's params) is not looked into."""
    schema = _schema(schema, schemas)
    if isinstance(example, dict) and isinstance(live, dict):
        if "properties" not in schema:
            return []
        required = set(schema.get("required", []))
        out = [f"{where}.{k}: in the example only" for k in example.keys() - live.keys() if k in required]
        out += [f"{where}.{k}: in the answer only" for k in live.keys() - example.keys()]
        for k in example.keys() & live.keys():
            out += same_fields(example[k], live[k], schema["properties"].get(k, {}), schemas, f"{where}.{k}")
        return out
    if isinstance(example, list) and isinstance(live, list) and example and live:
        return same_fields(example[0], live[0], schema, schemas, where + "[]")
    return []


def test_every_operation_is_planned() -> None:
    # Given the examples the reference pages show, one per operation
    shown = examples()
    # Then each operation has one, and each has its place in the plan (a new operation fails here until it does)
    assert sorted(shown) == sorted(op.operation_id for op in openapi.OPERATIONS)
    assert sorted(set(shown) - set(PLAN)) == [], (
        "add each new operation to PLAN in tests/functional/test_docs_examples.py"
    )
    assert sorted(set(PLAN) - set(shown)) == [] and len(PLAN) == len(set(PLAN))


def test_every_operation_has_an_example_and_each_is_answered_as_shown(
    api: Api,
    platform: Any,
    hospital: Key,
    channel: Key,
    operator: Key,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Given a local stack with its test clock (as `make serve` runs it) and its exports folder
    monkeypatch.setenv("TF_TEST_CLOCK", "1")
    monkeypatch.setenv("TF_EXPORTS_DIR", str(tmp_path / "exports"))
    runtime.cache_clear()
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
    shown = examples()
    keys = {"hospital": hospital, "channel": channel, "operator": operator}
    keys["credit_platform"] = _register(platform, "credit_platform", "city-credit")
    scopes = {op.operation_id: op.scope for op in openapi.OPERATIONS}
    responses = {
        op.operation_id: (op.response[0] if isinstance(op.response, tuple) else op.response).__name__
        for op in openapi.OPERATIONS
        if op.response is not None
    }
    schemas = openapi.document()["components"]["schemas"]
    live: dict[str, str] = {}
    problems: list[str] = []

    def send(op_id: str, example: Example, body: Any, path: str, retry_key: str = "") -> Any:
        key = None
        if scopes[op_id]:
            # the first kind, hospital before channel before operator, that the access table lets call it
            allowed = {g.kind for g in ACCESS if op_id in ROUTES[(g.resource, g.operation)]}
            key = next(keys[kind] for kind in ("hospital", "channel", "operator", "credit_platform") if kind in allowed)
        headers = {"Idempotency-Key": f"docs-{op_id}{retry_key}"} if example.idempotent else None
        return api.call(key, example.method, path, body, headers=headers, query=example.query or None)

    def write_ladder_rows() -> None:
        """What a ladder step writes for the live account: a phone task and an SMS (services.outbox)."""
        params = {"name_masked": "张*", "amount_fen": 2000, "due_date": "2026-12-01", "days_overdue": 7}
        params |= {"step": "phone_follow_up", "actions": ["phone_task"]}
        account = live["account"]
        ctx.commit(
            [
                outbox_put(ctx, account_id=account, kind=kind, dedupe_key=f"{account}#{kind}#docs", params=params)
                for kind in ("phone_task", "step")
            ]
        )

    def post_emergency_above_threshold() -> None:
        """Another resident's emergency visit with a charge above the city's review threshold."""
        made = api.post(hospital, "/v1/enrollments", enrollment(rt.policy))
        assert made.status_code == 201, made.body
        declared = {"triage_level": 2, "reason_code": "R57.9"}
        account = json.loads(made.body)["account_id"]
        opened = api.post(hospital, "/v1/visits", {"account_id": account, "emergency": declared})
        assert opened.status_code == 201, opened.body
        visit = json.loads(opened.body)["visit_id"]
        above = rt.policy.emergency_review_above_fen + 1
        posted = api.post(hospital, f"/v1/visits/{visit}/charges", charge(above, emergency=True))
        assert posted.status_code == 201, posted.body

    def issue_another_bill() -> None:
        """Another resident's closed visit: an unpaid bill, which the write-off example then stands for."""
        made = api.post(hospital, "/v1/enrollments", enrollment(rt.policy))
        assert made.status_code == 201, made.body
        opened = api.post(hospital, "/v1/visits", {"account_id": json.loads(made.body)["account_id"]})
        visit = json.loads(opened.body)["visit_id"]
        assert api.post(hospital, f"/v1/visits/{visit}/charges", charge(3000)).status_code == 201
        closed = api.post(hospital, f"/v1/visits/{visit}/close", idempotency_key="docs-prepare-close")
        assert closed.status_code == 201, closed.body
        live["bill"] = json.loads(closed.body)["bill"]["bill_id"]

    def write_blacklist_record() -> None:
        """What the ladder's blacklist step writes for the live account (services.blacklist), after a delivered
        warning SMS: the record, and the account's open-record mark and the strike of its bill."""
        from datetime import date, timedelta

        from treatfirst.services import blacklist
        from treatfirst.services.ports import ACCOUNTS, Update

        account, bill = live["account"], live["bill"]
        on = date.today() - timedelta(days=1)
        record = blacklist.record_item(
            ctx,
            account_id=account,
            cause={"source": "ladder", "step": "report_to_credit_platform", "anchor": "2026-08-01", "days_overdue": 90},
            bills=[{"bill_id": bill, "amount_fen": 9_000, "due_at": "2026-08-01T15:59:59.000Z"}],
            notice=[{"message_id": "msg_" + "c" * 32, "sent_at": "2026-10-22T02:00:00.000Z"}],
            strike_bills=[bill],
            on=on,
        )
        mark = {"blacklist_open": {"record_id": record["record_id"]}, "strikes": [{"bill_id": bill, "on": str(on)}]}
        ctx.commit(
            [*blacklist.record_writes_for_listing(ctx, record), Update(ACCOUNTS, {"account_id": account}, set=mark)]
        )

    def ask_for_a_human_review() -> None:
        """The resident asks for a human review of the limit decision: it waits in the operators' queue."""
        fresh = {"method": "face", "check_id": "face-docs-review", "verified_at": rt.clock.now().isoformat()}
        asked = api.post(
            channel,
            f"/v1/accounts/{live['account']}/privacy-requests",
            {"kind": "human_review", "verification": fresh, "reason": "请人工复核额度"},
        )
        assert asked.status_code == 201, asked.body

    def resolve_publicly() -> None:
        """The example's host name resolves to a public address (this test has no DNS)."""
        monkeypatch.setattr(webhooks, "default_resolver", lambda: lambda host, port: ["93.184.216.34"])

    def find_event() -> None:
        """The hospital's newest event (the pull list shows it only after it settled)."""
        page = rt.store.query(EVENTS, f"hospital:{hospital.principal_id}", index="events_by_audience", forward=False)
        live["event"] = page.items[0]["event_id"]

    def clear_the_day() -> None:
        """The daily clearing of the business date of everything above (as the hourly function does)."""
        day = business_date(rt.clock.now(), zone=rt.policy.timezone, cutoff=rt.policy.due_at)
        clearing.clear_date(ctx, rt.objects, day)
        live["business_date"] = day.isoformat()

    before: dict[str, Callable[[], None]] = {
        "getBlacklistStatus": write_blacklist_record,
        "listPrivacyRequests": ask_for_a_human_review,
        "createWebhookEndpoint": resolve_publicly,
        "listEventDeliveries": find_event,
        "getClearing": clear_the_day,
        "listAccountMessages": write_ladder_rows,
        "listReviews": post_emergency_above_threshold,
        "writeOffBill": issue_another_bill,
    }

    for op_id in PLAN:
        example = shown[op_id]
        if op_id in before:
            before[op_id]()
        # When the example's request is sent with the live ids in place of the example's
        text = json.dumps(example.request, ensure_ascii=False) if example.request is not None else None
        path = example.path
        for sample, name in sorted(SAMPLE_IDS.items(), key=lambda item: -len(item[0])):  # the longest first
            if name in live:
                path = path.replace(sample, live[name])
                text = text.replace(sample, live[name]) if text else text
        body = json.loads(text) if text else None
        if op_id == "cancelCharge":  # a second line to cancel; the first was refunded in part
            second = {**shown["postCharge"].request, "fee_line_id": "FEE-20261124-0002"}  # type: ignore[dict-item]
            charges = path.split("/charges")[0] + "/charges"
            assert send("postCharge", shown["postCharge"], second, charges, "-2").status_code == 201
            path = path.replace(SAMPLES["fee_line_id"], "FEE-20261124-0002")
        if op_id == "notifyPayment":  # pay what the live bill asks
            bill = json.loads(api.get(channel, f"/v1/bills/{live['bill']}").body)
            owed = bill["amount_fen"] - bill["refunded_fen"] - bill["paid_fen"]
            body = {**body, "amount_fen": owed, "allocations": [{"bill_id": live["bill"], "amount_fen": owed}]}
        if body and "verification" in body and op_id != "enroll":  # a withdrawal needs a check of the last minutes
            body["verification"] = {**body["verification"], "verified_at": rt.clock.now().isoformat()}
        response = send(op_id, example, body, path)
        if op_id == "downloadExportFile":  # a file as stored, not JSON: the CSV part with its byte-order mark
            if response.status_code != 200 or not response.body.startswith(b"\xef\xbb\xbfop,"):
                problems.append(f"{op_id}: {response.status_code} {response.body[:200]!r}")
            continue
        answer = json.loads(response.body)
        # Then the status is the example's, and the answer has exactly the example's fields
        if response.status_code != example.status:
            problems.append(f"{op_id}: {response.status_code} {answer}")
            continue
        if example.response is not None:
            struct = next(iter(example.views), None) or responses[op_id]
            schema = {"$ref": f"#/components/schemas/{struct}"}
            problems += [f"{op_id}{p}" for p in same_fields(example.response, answer, schema, schemas)]
        # And the ids it made stand in for the example's from now on
        if op_id in ("registerCaller", "enroll", "openVisit", "openDispute", "openMoratorium"):
            field = {"registerCaller": "key_id", "enroll": "account_id", "openVisit": "visit_id"}.get(op_id, "pause_id")
            live[{"key_id": "key", "account_id": "account", "visit_id": "visit", "pause_id": "pause"}[field]] = answer[
                field
            ]
        if op_id == "closeVisit":
            live["bill"] = answer["bill"]["bill_id"]
        if op_id == "listExports":
            assert answer["items"], f"{op_id}: the test clock's schedules delivered nothing"
            live["export"], live["manifest"] = answer["items"][0]["export_id"], answer["items"][0]["manifest_sha256"]
        if op_id == "listPrivacyRequests":
            assert answer["items"], f"{op_id}: the prepared request is not listed"
            live["privacy_request"] = answer["items"][0]["request_id"]
        if op_id == "createWebhookEndpoint":
            live["endpoint"] = answer["endpoint"]["endpoint_id"]
        if op_id in ("listPhoneTasks", "listReviews", "listBlacklist", "listSuspense"):
            assert answer["items"], f"{op_id}: the prepared item is not listed"
            name, field = {
                "listPhoneTasks": ("task", "task_id"),
                "listReviews": ("review", "review_id"),
                "listBlacklist": ("record", "record_id"),
                "listSuspense": ("suspense", "suspense_id"),
            }[op_id]
            live[name] = answer["items"][0][field]
        if op_id == "fileBlacklistAppeal":
            live["appeal"] = answer["appeal_id"]
    assert not problems, "\n".join(problems)
