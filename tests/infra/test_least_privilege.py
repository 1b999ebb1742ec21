"""Each function's role allows every DynamoDB call the function really makes, and the roles stay narrow.

A scenario runs through HTTP (the API function) and the schedule (the overdue function) on moto, with the tables
moto's CloudFormation makes from infra/tables.yaml; every botocore call is recorded, items of transactions
included, and checked against the statements of that function's role in the packaged template. moto does not
enforce IAM, so this is the check that a narrower role would still work on AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import botocore.client
import pytest
from chalice.test import Client
from treatfirst.client import signed_headers
from treatfirst.services import collection
from treatfirst.services.callers import Registered, register
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, enrollment
from tests.infra.conftest import as_list, of_type, role_of, statements
from tests.stacks import moto_platform

PREFIX = "tf-iam-"
TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
TABLE_ACTIONS = {"GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem", "Scan"}


class Recorder:
    """(action, resource) of every DynamoDB request, resource as "<table>" or "<table>/index/<name>"."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str]] = set()
        self.other: set[str] = set()

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if service != "dynamodb":
            self.other.add(f"{service}:{operation}")
            return
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                self.calls.add((f"dynamodb:{TRANSACTION_ITEMS[kind]}", self._logical(body["TableName"])))
        elif operation == "TransactGetItems":
            for item in params["TransactItems"]:
                self.calls.add(("dynamodb:GetItem", self._logical(item["Get"]["TableName"])))
        elif operation in TABLE_ACTIONS and "TableName" in params:
            resource = self._logical(params["TableName"])
            if params.get("IndexName"):
                resource += f"/index/{params['IndexName']}"
            self.calls.add((f"dynamodb:{operation}", resource))
        else:
            self.other.add(f"dynamodb:{operation}")

    @staticmethod
    def _logical(table_name: str) -> str:
        assert table_name.startswith(PREFIX), table_name
        return table_name[len(PREFIX) :]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorded = Recorder()
    original = botocore.client.BaseClient._make_api_call

    def spy(client: Any, operation: str, params: dict[str, Any]) -> Any:
        recorded.record(client.meta.service_model.service_name, operation, params)
        return original(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spy)
    return recorded


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    # Local key mode: the KMS calls are checked by the statements test; here only DynamoDB. Files go to a folder.
    with moto_platform(monkeypatch, PREFIX, "lianyungang", stack_name="treatfirst-iam") as rt:
        from treatfirst.adapters.objects import FolderObjects

        rt.__dict__["objects"] = FolderObjects(tmp_path / "exports")  # files off S3: only DynamoDB is recorded here
        yield rt


def granted(template: dict[str, Any], role: str) -> set[tuple[str, str]]:
    """(action, "<table>" | "<table>/index/<name>") pairs the role's statements allow."""
    logical = {
        name: t["Properties"]["TableName"]["Fn::Sub"].rsplit("-", 1)[1]
        for name, t in of_type(template, "AWS::DynamoDB::Table").items()
    }
    out: set[tuple[str, str]] = set()
    for statement in statements(template, role):
        for resource in as_list(statement["Resource"]):
            if isinstance(resource, dict) and resource.get("Fn::GetAtt", [None])[0] in logical:
                target = logical[resource["Fn::GetAtt"][0]]
            elif isinstance(resource, dict) and "Fn::Sub" in resource:
                found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", str(resource["Fn::Sub"]))
                if not found or found.group(1) not in logical:
                    continue
                target = f"{logical[found.group(1)]}/index/{found.group(2)}"
            else:
                continue
            out |= {(action, target) for action in as_list(statement["Action"]) if action.startswith("dynamodb:")}
    return out


class Caller:
    def __init__(self, client: Client, made: Registered) -> None:
        self.client, self.key_id, self.secret = client, made.key_id, made.secret

    def __call__(
        self, method: str, path: str, body: Any = None, *, key: str | None = None, query: dict[str, str] | None = None
    ) -> Any:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            **signed_headers(self.key_id, self.secret, method, path, query, data),
        }
        if key:
            headers["Idempotency-Key"] = key
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        response = self.client.http.request(method, url, headers=headers, body=data)
        assert response.status_code in (200, 201), (method, path, response.body)
        return json.loads(response.body) if response.body else None


def seed_blacklist(stack: Any, later: datetime) -> None:
    """Two records written as services.blacklist writes them: one due for publication at `later`, one due for
    expiry and purge."""
    from treatfirst.domain.ids import new_id
    from treatfirst.services import blacklist

    ctx = Context(store=stack.store, cipher=stack.cipher, clock=stack.clock, policy=stack.policy)
    at_later = Context(
        store=stack.store,
        cipher=stack.cipher,
        clock=type("At", (), {"now": staticmethod(lambda: later)})(),
        policy=stack.policy,
    )
    through = collection.closed_date(at_later)
    made = []
    for days_ago in (10, 1095 + 1825 + 30):
        record = blacklist.record_item(
            ctx,
            account_id=new_id("acc"),
            cause={"source": "ladder", "step": "report_to_credit_platform", "anchor": "2026-01-01", "days_overdue": 90},
            bills=[{"bill_id": new_id("bil"), "amount_fen": 9_000, "due_at": "2026-01-01T15:59:59.000Z"}],
            notice=[{"message_id": "msg_" + "b" * 32, "sent_at": "2026-01-01T00:00:00.000Z"}],
            strike_bills=[],
            on=through - timedelta(days=days_ago),
        )
        ctx.commit(blacklist.record_writes_for_listing(ctx, record))
        made.append(record)
    writes, _, _ = blacklist.transition(ctx, None, made[1], "publish", when=through - timedelta(days=3000), reason="x")
    ctx.commit(writes)


def test_each_role_allows_exactly_what_its_function_does(
    template: dict[str, Any], stack: Any, recorder: Recorder
) -> None:
    from app import app

    functions = of_type(template, "AWS::Serverless::Function")
    roles = {name: role_of(f) for name, f in functions.items()}
    ctx = Context(store=stack.store, cipher=stack.cipher, clock=stack.clock, policy=stack.policy)
    keys = {
        kind: register(ctx, None, kind=kind, principal_id=f"{kind}-1", name=kind)
        for kind in ("hospital", "channel", "operator", "credit_platform")
    }

    with Client(app) as client:
        hospital, channel, operator = (Caller(client, keys[k]) for k in ("hospital", "channel", "operator"))

        # Given everything a city does through the API in a day (recorded as the API function's calls)
        recorder.calls.clear()
        operator("POST", "/v1/callers", {"kind": "hospital", "id": "county-hospital", "name": "县医院"})
        for path in ("/v1/health", "/v1/policy", "/v1/consents"):
            hospital("GET", path)
        person = enrollment(stack.policy)
        account = hospital("POST", "/v1/enrollments", person, key="enr-1")["account_id"]
        hospital("POST", "/v1/enrollments", person, key="enr-1")  # a replay answers from the record
        hospital("POST", "/v1/accounts/lookup", {"id_number": person["id_number"]})
        hospital("GET", f"/v1/accounts/{account}")
        # the hospital's webhook endpoint (the closings below write its events), the pull list, the endpoint removed
        hook = {"url": "https://93.184.216.34/hooks", "events": ["bill.issued", "bill.paid"]}
        endpoint = hospital("POST", "/v1/webhook-endpoints", hook, key="whe-1")["endpoint"]
        hospital("GET", "/v1/webhook-endpoints")
        hospital("GET", "/v1/events")
        hospital("DELETE", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}")
        bills = []
        for _ in range(2):
            visit = hospital("POST", "/v1/visits", {"account_id": account})["visit_id"]
            lines = [charge(300), charge(200), charge(100)]
            for line in lines:
                hospital("POST", f"/v1/visits/{visit}/charges", line)
            hospital("POST", f"/v1/visits/{visit}/charges/{lines[2]['fee_line_id']}/cancel")
            refund = {"self_pay_fen": 50, "reason": "退药"}
            hospital("POST", f"/v1/visits/{visit}/charges/{lines[1]['fee_line_id']}/refunds", refund)
            hospital("GET", f"/v1/visits/{visit}/charges")
            hospital("GET", f"/v1/visits/{visit}")
            bills.append(hospital("POST", f"/v1/visits/{visit}/close")["bill"])
        # an emergency visit whose charge is above the review threshold: the operator reviews it and reads totals
        urgent = hospital(
            "POST", "/v1/visits", {"account_id": account, "emergency": {"triage_level": 1, "reason_code": "R57"}}
        )
        big = stack.policy.emergency_review_above_fen + 1
        hospital("POST", f"/v1/visits/{urgent['visit_id']}/charges", charge(big, emergency=True))
        review = operator("GET", "/v1/reviews")["items"][0]
        operator("POST", f"/v1/reviews/{review['review_id']}/decision", {"outcome": "confirmed", "reason": "抢救"})
        month = datetime.now(UTC).astimezone(ZoneInfo(stack.policy.timezone)).strftime("%Y-%m")
        operator("GET", "/v1/reports/emergency", query={"month": month})
        bills.append(hospital("POST", f"/v1/visits/{urgent['visit_id']}/close")["bill"])
        hospital("GET", "/v1/visits")
        channel("GET", f"/v1/accounts/{account}/bills")
        channel("GET", f"/v1/bills/{bills[0]['bill_id']}")
        operator("GET", f"/v1/accounts/{account}/messages")
        Caller(client, keys["credit_platform"])("GET", "/v1/exports")  # the credit platform's list of deliveries
        channel("GET", f"/v1/accounts/{account}/blacklist")  # the person's blacklist status (none)

        def pay(txn: str, bill: dict[str, Any]) -> None:
            body = {
                "channel_txn_id": txn,
                "amount_fen": bill["outstanding_fen"],
                "paid_at": "2026-11-24T10:00:00+08:00",
                "allocations": [{"bill_id": bill["bill_id"], "amount_fen": bill["outstanding_fen"]}],
            }
            channel("POST", "/v1/payments", body)

        pay("wx-1", bills[0])
        # the person's privacy requests through the channel, and the operator's queue
        fresh = {"method": "face", "check_id": "face-lp", "verified_at": datetime.now(UTC).isoformat()}
        channel("GET", f"/v1/accounts/{account}/consents")
        review = {"kind": "human_review", "verification": fresh, "reason": "请人工复核"}
        channel("POST", f"/v1/accounts/{account}/privacy-requests", review)
        queued = operator("GET", "/v1/privacy-requests")["items"][0]
        operator("POST", f"/v1/privacy-requests/{queued['request_id']}/answer", {"outcome": "upheld", "reason": "维持"})
        # reconciliation of yesterday (closed): a hospital's totals, a channel's statement, the suspense list
        yesterday = (datetime.now(UTC).astimezone(ZoneInfo(stack.policy.timezone)) - timedelta(days=1)).date()
        totals = [{"kind": "self_pay_posted", "count": 0, "amount_fen": 0}]
        hospital("POST", "/v1/reconciliations/totals", {"business_date": yesterday.isoformat(), "totals": totals})
        header = "kind,channel_txn_id,refund_id,amount_fen,occurred_at\npayment,wx-0,,100,\n"
        statement = {"business_date": yesterday.isoformat(), "format": "generic_csv", "content": header}
        channel("POST", "/v1/statements", statement)
        suspense = operator("GET", "/v1/suspense")["items"][0]
        operator("POST", f"/v1/suspense/{suspense['suspense_id']}/resolve", {"reason": "渠道撤销"})
        api_calls = set(recorder.calls)

        # When the sweep's queue delivers every shard 40 days later (the second and the emergency bill suspend
        # the account), the patient pays both (the last payment lifts the suspension and writes its message), a
        # fourth bill stays unpaid and the sweep runs a year later (it is written off): the shard sweep's calls are
        # index, account, bill, ledger, audit, outbox and watermark
        def sweep(days: int) -> dict[str, Any]:
            later, now = datetime.now(UTC) + timedelta(days=days), stack.clock
            stack.clock = type("Later", (), {"now": staticmethod(lambda: later)})()
            ctx = Context(store=stack.store, cipher=stack.cipher, clock=stack.clock, policy=stack.policy)
            bodies = [json.dumps(m) for m in collection.fan_out_messages(ctx)]
            sqs = client.events.generate_sqs_event(message_bodies=bodies, queue_name="treatfirst-collection")
            swept: dict[str, Any] = client.lambda_.invoke("collect_shard", sqs).payload
            stack.clock = now
            return swept

        recorder.calls.clear()
        assert sweep(40)["acted"] == 1
        sweep_calls = set(recorder.calls)
        recorder.calls.clear()
        pay("wx-2", bills[1])
        pay("wx-3", bills[2])
        visit = hospital("POST", "/v1/visits", {"account_id": account})["visit_id"]
        hospital("POST", f"/v1/visits/{visit}/charges", charge(300))
        bills.append(hospital("POST", f"/v1/visits/{visit}/close")["bill"])
        api_calls |= recorder.calls
        # and two blacklist records (as the ladder makes them) whose next transitions fall due by then: one is
        # published (an export change row), the other, published long ago, expires and is purged (its rows deleted)
        seed_blacklist(stack, datetime.now(UTC) + timedelta(days=400))
        recorder.calls.clear()
        swept_later = sweep(400)
        assert swept_later["written_off"] == 1 and swept_later["blacklist"] == 3
        sweep_calls |= recorder.calls

        # and the patient pays the written-off bill (a recovery) and withdraws (the API again)
        recorder.calls.clear()
        pay("wx-4", bills[3])
        checked = {"method": "face", "check_id": "face-wd-1", "verified_at": stack.clock.now().isoformat()}
        channel("POST", f"/v1/accounts/{account}/withdrawal", {"verification": checked}, key="wd-1")
        api_calls |= recorder.calls

        # and the hourly clearing runs the next day and the day after (the day's entries, its watermark, the
        # clearing.ready events of the day's hospital and channel)
        def clear(days: int) -> dict[str, Any]:
            later, now = datetime.now(UTC) + timedelta(days=days), stack.clock
            stack.clock = type("Later", (), {"now": staticmethod(lambda: later)})()
            event = client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            )
            cleared: dict[str, Any] = client.lambda_.invoke("clear", event).payload
            stack.clock = now
            return cleared

        recorder.calls.clear()
        first, second = clear(1), clear(2)
        assert first["events"] + second["events"] >= 2 and len(first["dates"] + second["dates"]) == 2
        clear_calls = set(recorder.calls)

        # and the daily purge erases the person who left when the identity's retention ends, deletes the records
        # when theirs ends and, at the end of the accounting period, the bills, payments, ledger and account
        def purge(days: int) -> dict[str, Any]:
            later, now = datetime.now(UTC) + timedelta(days=days), stack.clock
            stack.clock = type("Later", (), {"now": staticmethod(lambda: later)})()
            event = client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            )
            purged: dict[str, Any] = client.lambda_.invoke("purge_identities", event).payload
            stack.clock = now
            return purged

        recorder.calls.clear()
        assert purge(stack.policy.privacy.identity_days_after_close + 1)["erased"] == 1
        assert purge(366 * stack.policy.privacy.records_years_after_close + 2)["records"]["visits"] == 4
        accounting = 366 * (stack.policy.privacy.accounting_years + 3)  # the sweep above wrote entries a year on
        assert purge(accounting)["records"]["accounts_deleted"] == 1
        purge_calls = set(recorder.calls)

    # Then each role allows every call its function made, and nothing but DynamoDB data calls were made
    assert recorder.other == set(), "a call to another service or a control-plane call: the roles lack it"
    for function, calls in (
        ("APIHandler", api_calls),
        ("CollectShard", sweep_calls),
        ("Clear", clear_calls),
        ("PurgeIdentities", purge_calls),
    ):
        missing = calls - granted(template, roles[function])
        assert missing == set(), f"{roles[function]} lacks {sorted(missing)}"
    # And the roles are no wider than use: every write the sweep's role allows, the sweep makes; the API uses
    # every table it is given
    reads = {"dynamodb:GetItem", "dynamodb:Query"}
    assert {c for c in granted(template, roles["CollectShard"]) if c[0] not in reads} == {
        c for c in sweep_calls if c[0] not in reads
    }
    assert {c for c in granted(template, roles["Clear"]) if c[0] not in reads} == {
        c for c in clear_calls if c[0] not in reads
    }
    # the purge's role: every write it allows but the off-index cleanup of a data key (Update) and its Put, it makes
    spare = {("dynamodb:PutItem", "data_keys"), ("dynamodb:UpdateItem", "data_keys")}
    assert {c for c in granted(template, roles["PurgeIdentities"]) if c[0] not in reads} - spare == {
        c for c in purge_calls if c[0] not in reads
    }
    tables = {
        t["Properties"]["TableName"]["Fn::Sub"].rsplit("-", 1)[1]
        for t in of_type(template, "AWS::DynamoDB::Table").values()
    }
    assert {resource.split("/")[0] for _, resource in api_calls} == tables
