"""Webhooks over HTTP on moto: a hospital registers an endpoint, closes a visit, and the scheduled dispatcher
delivers bill.issued to a receiver on loopback, verifiable with the standardwebhooks library; the pull list,
the delivery log, replay, rotation and deletion through the signed routes; refusals in the one error shape."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import standardwebhooks
from chalice.test import Client
from treatfirst.services import events, webhooks

from tests.factories import charge
from tests.functional.conftest import Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["content-length"]))
                outer.received.append((dict(self.headers), data))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv(webhooks.LOOPBACK_ENV, "1")  # as the local stack runs
    made = Receiver()
    yield made
    made.server.shutdown()
    made.server.server_close()


def _dispatch() -> Any:
    from app import app

    with Client(app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        return client.lambda_.invoke("dispatch_webhooks", event).payload


def test_a_closed_visit_reaches_the_hospitals_endpoint_signed_and_can_be_pulled_logged_and_replayed(
    api: Api, hospital: Key, other_hospital: Key, visit: dict[str, Any], receiver: Receiver, monkeypatch: Any
) -> None:
    # Given the hospital registered an endpoint for bill.issued
    made = api.post(hospital, "/v1/webhook-endpoints", {"url": receiver.url, "events": ["bill.issued"]})
    assert made.status_code == 201, made.body
    secret, endpoint = body(made)["secret"], body(made)["endpoint"]
    listed = body(api.get(hospital, "/v1/webhook-endpoints"))["items"]
    assert [e["endpoint_id"] for e in listed] == [endpoint["endpoint_id"]] and "whsec_" not in json.dumps(listed)
    # When it posts a charge, closes the visit and the scheduled dispatcher runs
    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(1500))
    bill = body(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close"))["bill"]
    result = _dispatch()
    # Then the receiver got bill.issued once, verified by the standardwebhooks library with the secret
    assert result["delivered"] == 1, result
    ((headers, raw),) = receiver.received
    delivered = standardwebhooks.Webhook(secret).verify(raw, headers)
    assert delivered["type"] == "bill.issued" and delivered["data"]["bill_id"] == bill["bill_id"]
    assert delivered["data"]["amount_fen"] == 1500 and headers["webhook-id"] == delivered["id"]
    # and the same event is in the pull list (once settled), the delivery log, and replays with the same id
    monkeypatch.setattr(events, "SETTLE_SECONDS", 0)
    pulled = body(api.get(hospital, "/v1/events", query={"limit": "10"}))
    assert [e["id"] for e in pulled["items"]] == [delivered["id"]] and pulled["after"]
    again = body(api.get(hospital, "/v1/events", query={"after": pulled["after"]}))
    assert again["items"] == [] and again["after"] == pulled["after"]
    log = body(api.get(hospital, f"/v1/events/{delivered['id']}/deliveries"))
    assert [d["status"] for d in log["deliveries"]] == ["delivered"]
    assert log["deliveries"][0]["log"][0]["status_code"] == 204
    assert api.post(hospital, f"/v1/events/{delivered['id']}/replay").status_code == 202
    _dispatch()
    assert [h["webhook-id"] for h, _ in receiver.received] == [delivered["id"]] * 2
    # Another hospital sees none of it
    assert body(api.get(other_hospital, "/v1/events"))["items"] == []
    missing = api.get(other_hospital, f"/v1/events/{delivered['id']}/deliveries")
    assert missing.status_code == 404 and body(missing)["error"]["code"] == "EVENT_NOT_FOUND"
    foreign = api.call(other_hospital, "DELETE", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}")
    assert foreign.status_code == 404 and body(foreign)["error"]["code"] == "WEBHOOK_ENDPOINT_NOT_FOUND"
    # Rotation gives a new secret (the old one still signs for the overlap); deletion ends deliveries
    rotated = api.post(hospital, f"/v1/webhook-endpoints/{endpoint['endpoint_id']}/secret-rotation", {})
    assert rotated.status_code == 200 and body(rotated)["secret"] not in (secret,)
    assert body(rotated)["endpoint"]["previous_secret_expires_at"]
    gone = api.call(hospital, "DELETE", f"/v1/webhook-endpoints/{endpoint['endpoint_id']}")
    assert gone.status_code == 200 and body(api.get(hospital, "/v1/webhook-endpoints"))["items"] == []


REFUSED = [
    ("hospital", {"url": "https://10.1.2.3/hooks", "events": ["bill.paid"]}, 400, "WEBHOOK_URL_REFUSED"),
    ("hospital", {"url": "https://169.254.169.254/x", "events": ["bill.paid"]}, 400, "WEBHOOK_URL_REFUSED"),
    ("hospital", {"url": "http://127.0.0.1:9/hooks", "events": ["bill.paid"]}, 400, "WEBHOOK_URL_REFUSED"),
    ("channel", {"url": "https://93.184.216.34/hooks", "events": ["charge.refunded"]}, 400, "EVENT_KIND_NOT_ALLOWED"),
    ("hospital", {"url": "https://93.184.216.34/hooks", "events": ["bill.eaten"]}, 400, "VALIDATION_FAILED"),
    ("operator", {"url": "https://93.184.216.34/hooks", "events": ["bill.paid"]}, 403, "FORBIDDEN"),
]


def test_refused_registrations_answer_in_the_one_error_shape_and_store_nothing(
    api: Api, hospital: Key, channel: Key, operator: Key
) -> None:
    keys = {"hospital": hospital, "channel": channel, "operator": operator}
    for who, request_body, status, code in REFUSED:
        # Given AWS settings (no loopback), When a registration that must be refused is sent
        answer = api.post(keys[who], "/v1/webhook-endpoints", request_body)
        # Then it is refused with its stable code
        assert answer.status_code == status, (who, request_body, answer.body)
        assert body(answer)["error"]["code"] == code and body(answer)["error"]["request_id"]
    # and no endpoint exists
    for who in ("hospital", "channel"):
        assert body(api.get(keys[who], "/v1/webhook-endpoints"))["items"] == []
