"""The example the docs include (site/examples/treat_first.py) runs, over real HTTP, for both example cities.

The app is served in a thread by a small HTTP front that hands each request to Chalice's local gateway (what
`chalice local` does), on moto's in-process DynamoDB with the tables from infra/. The example's own client,
`treatfirst.client.TreatFirstClient`, signs and sends every request through urllib.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chalice.test import Client
from treatfirst.client import TreatFirstClient
from treatfirst.services.callers import register
from treatfirst.services.unit_of_work import Context

from tests.factories import resident_id
from tests.stacks import moto_platform

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "site" / "examples" / "treat_first.py"
PREFIX = "tf-docs-"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("treat_first_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Front(BaseHTTPRequestHandler):
    """Hands the raw request to Chalice's local gateway and writes its answer back."""

    chalice: Client

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.chalice.http.request(self.command, self.path, headers=dict(self.headers.items()), body=body)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = _forward

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(params=["lianyungang", "xiamen"])
def served(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    with moto_platform(monkeypatch, PREFIX, request.param) as rt:
        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        keys = {
            kind: register(ctx, None, kind=kind, principal_id=f"docs-{kind}", name=kind)
            for kind in ("hospital", "channel")
        }
        from app import app

        with Client(app) as chalice:
            front = type("Front", (_Front,), {"chalice": chalice})
            server = ThreadingHTTPServer(("127.0.0.1", 0), front)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{server.server_address[1]}", keys
            finally:
                server.shutdown()
                server.server_close()
                thread.join()


def test_the_documented_journey_runs_and_moves_the_credit_line(served: tuple[str, Any]) -> None:
    # Given the example, a hospital key and a channel key on a running platform
    url, keys = served
    example = load_example()
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret)
    channel = TreatFirstClient(url, key_id=keys["channel"].key_id, secret=keys["channel"].secret)

    # When the example runs its journey twice (the second run finds the patient instead of enrolling again)
    first = example.journey(his, channel, run="1")
    second = example.journey(his, channel, run="2")

    # Then the self-pay of the visit moved available -> owed at the close and back at the payment
    for steps in (first, second):
        (_, enrolled), (_, billed), (_, paid) = steps
        limit = enrolled["limit_fen"]
        assert enrolled["available_fen"] == limit and enrolled["owed_fen"] == 0
        assert billed["owed_fen"] == 1000 + 1000 + 1230 and billed["held_fen"] == 0
        assert billed["available_fen"] == limit - billed["owed_fen"]
        assert paid == enrolled
    assert first[0][1]["limit_fen"] > 0


def test_the_workflow_page_order_of_payments_on_a_bill_with_an_emergency_part(served: tuple[str, Any]) -> None:
    # Given a bill of 3000 fen on the credit line and 5000 fen of emergency care (the workflow page's example)
    url, keys = served
    example = load_example()
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret)
    channel = TreatFirstClient(url, key_id=keys["channel"].key_id, secret=keys["channel"].secret)
    account = example.find_or_enrol(
        his,
        {
            "name": "李四",
            "id_number": "11010519491231002X",
            "phone": "13800138001",
            "insurance_status": "normal",
            "verification": {"method": "face", "check_id": "face-em-1", "verified_at": "2026-11-24T08:00:00+08:00"},
        },
    )
    limit = channel.get(f"/v1/accounts/{account['account_id']}").body["credit_line"]["limit_fen"]
    declared = {"triage_level": 2, "reason_code": "R57"}  # emergency charges need a visit declared an emergency
    opening = {"account_id": account["account_id"], "emergency": declared}
    visit = his.post("/v1/visits", opening, idempotency_key="em-visit").body
    for fee_line, amount, emergency in (("EM-1", 3000, False), ("EM-2", 5000, True)):
        posted = his.post(
            f"/v1/visits/{visit['visit_id']}/charges",
            {
                "fee_line_id": fee_line,
                "item_code": "ER-001",
                "item_name": "急诊",
                "occurred_at": "2026-11-24T09:30:00+08:00",
                "total_fen": amount,
                "insurance_fen": 0,
                "personal_account_fen": 0,
                "self_pay_fen": amount,
                "emergency": emergency,
            },
            idempotency_key=fee_line,
        )
        assert posted.status == 201, posted.body
    bill = his.post(f"/v1/visits/{visit['visit_id']}/close", idempotency_key="em-close").body["bill"]
    assert (bill["amount_fen"], bill["emergency_amount_fen"], bill["outstanding_fen"]) == (3000, 5000, 8000)
    # (the conventions pages: recorded times in UTC with milliseconds, a bill's due time with the city's offset)
    assert bill["issued_at"].endswith("Z") and len(bill["issued_at"]) == len("2026-11-24T01:30:00.000Z")
    assert bill["due_at"].endswith("T23:59:59+08:00")

    # When the patient pays 4000 fen of it
    paid = channel.post(
        "/v1/payments",
        {
            "channel_txn_id": "em-txn-1",
            "amount_fen": 4000,
            "paid_at": "2026-11-24T12:00:00+08:00",
            "allocations": [{"bill_id": bill["bill_id"], "amount_fen": 4000}],
        },
        idempotency_key="em-pay-1",
    )
    assert paid.status == 201, paid.body
    assert paid.body["paid_at"] == "2026-11-24T12:00:00+08:00" and paid.body["received_at"].endswith("Z")

    # Then the credit part is paid first (all credit restored) and 4000 fen of the emergency part is still owed
    line = channel.get(f"/v1/accounts/{account['account_id']}").body["credit_line"]
    assert (line["available_fen"], line["owed_fen"], line["emergency_owed_fen"]) == (limit, 0, 4000)
    after = channel.get(f"/v1/bills/{bill['bill_id']}").body
    assert (after["status"], after["outstanding_fen"], after["paid_fen"]) == ("issued", 4000, 4000)


def test_a_signed_query_with_a_repeated_key_is_accepted_over_http(served: tuple[str, Any]) -> None:
    # Given the hospital's client, When it lists visits with a query (a repeated key, sent in canonical form)
    url, keys = served
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret)
    answer = his.request("GET", "/v1/visits", query=[("limit", "5"), ("limit", "5")])
    # Then the server, canonicalising what it decoded, accepts the signature
    assert answer.status == 200, answer.body


def test_an_idempotency_key_is_scoped_to_the_caller_key_and_the_operation(served: tuple[str, Any]) -> None:
    # Given a hospital with two open visits on one account
    url, keys = served
    example = load_example()
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret)
    channel = TreatFirstClient(url, key_id=keys["channel"].key_id, secret=keys["channel"].secret)
    account = example.find_or_enrol(
        his,
        {
            "name": "王五",
            "id_number": "11010519491231002X",
            "phone": "13800138002",
            "insurance_status": "normal",
            "verification": {"method": "face", "check_id": "face-idem-1", "verified_at": "2026-11-24T08:00:00+08:00"},
        },
    )
    first = his.post("/v1/visits", {"account_id": account["account_id"], "his_visit_id": "A"}, idempotency_key="k1")
    # When the same key opens a visit with another body, Then it is refused as reused (409)
    reused = his.post("/v1/visits", {"account_id": account["account_id"], "his_visit_id": "B"}, idempotency_key="k1")
    assert (first.status, reused.status, reused.error_code) == (201, 409, "IDEMPOTENCY_KEY_REUSED")
    second = his.post("/v1/visits", {"account_id": account["account_id"], "his_visit_id": "B"}, idempotency_key="k2")
    # When the same key closes two different visits (two operations), Then each closes on its own
    closed = [his.post(f"/v1/visits/{v.body['visit_id']}/close", idempotency_key="same") for v in (first, second)]
    assert [c.status for c in closed] == [201, 201]
    assert closed[0].body["bill"]["bill_id"] != closed[1].body["bill"]["bill_id"]
    # And the same key and operation under two caller keys are two requests: both enrol their own patient
    for client, name in ((his, "赵六"), (channel, "钱七")):
        enrolled = example.find_or_enrol(
            client,
            {
                "name": name,
                "id_number": resident_id(),
                "phone": "13800138003",
                "insurance_status": "normal",
                "verification": {
                    "method": "face",
                    "check_id": "shared-key",
                    "verified_at": "2026-11-24T08:00:00+08:00",
                },
            },
        )
        assert enrolled["account_id"] != account["account_id"]


def test_the_example_presents_and_accepts_each_consent_on_its_own(served: tuple[str, Any]) -> None:
    # Given the example's consent step and the texts a city serves
    url, keys = served
    example = load_example()
    his = TreatFirstClient(url, key_id=keys["hospital"].key_id, secret=keys["hospital"].secret)
    texts = his.get("/v1/consents").body["items"]
    shown: list[str] = []

    def answer(text: dict[str, Any]) -> bool:
        shown.append(text["kind"])
        return bool(text["required"])

    # When the patient answers each text on its own (declining the optional ones)
    given = example.ask_each(texts, answer)
    # Then every text was shown once, and only the accepted ones are sent
    assert shown == [t["kind"] for t in texts]
    assert [g["kind"] for g in given] == [t["kind"] for t in texts if t["required"]]
    assert {"service_agreement", "personal_information"} <= {g["kind"] for g in given}
    # And refusing a required one stops the enrollment
    with pytest.raises(RuntimeError):
        example.ask_each(texts, lambda text: text["kind"] != "personal_information")
