"""Signed webhooks: Standard Webhooks signatures (the published vector and the reference library), the retry
schedule, endpoints and their secrets, SSRF refusals, and delivery at least once with the same id through
timeouts, failures and 410 Gone against a real receiver on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import standardwebhooks
from treatfirst.adapters.webhook_http import HttpSender
from treatfirst.domain import webhooks as wh
from treatfirst.domain.errors import (
    EndpointLimit,
    EndpointNotFound,
    EndpointUrlRefused,
    EventKindNotAllowed,
    EventNotFound,
    InvalidCursor,
)
from treatfirst.messages.webhooks import EndpointRequest, SecretRotationRequest
from treatfirst.services import webhooks
from treatfirst.services.events import SETTLE_SECONDS, event_put, list_events
from treatfirst.services.ports import ENDPOINTS, EVENTS
from treatfirst.services.webhooks import Answer, dispatch_events

from tests.factories import command
from tests.unit.conftest import World

# The Standard Webhooks specification's published test vector (also in its libraries' tests).
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
PUBLIC = ["93.184.216.34"]  # a public address, for resolvers in these tests


def public_resolver(host: str, port: int) -> list[str]:
    return list(PUBLIC)


# ---- signatures ------------------------------------------------------------------------------------------------
def test_the_signature_equals_the_published_vector() -> None:
    # When the vector's message is signed
    signed = wh.sign(VECTOR["secret"], VECTOR["id"], VECTOR["timestamp"], VECTOR["body"])
    # Then it is the published signature, and our receiver-side check accepts it within the tolerance only
    assert signed == VECTOR["signature"]
    headers = {"webhook-id": VECTOR["id"], "webhook-timestamp": "1614265330", "webhook-signature": signed}
    assert wh.verify(VECTOR["secret"], headers, VECTOR["body"], now=1614265330 + 300)
    assert not wh.verify(VECTOR["secret"], headers, VECTOR["body"], now=1614265330 + 301)
    assert not wh.verify(VECTOR["secret"], headers, VECTOR["body"] + b" ", now=1614265330)


def test_the_reference_library_verifies_our_deliveries_with_either_secret_during_rotation() -> None:
    # Given a delivery signed now with a new and a previous secret (the rotation overlap)
    new, old = wh.new_secret(b"n" * 32), wh.new_secret(b"o" * 32)
    body = json.dumps({"id": "evt_1", "type": "bill.paid", "data": {"bill_id": "bil_1"}}).encode()
    stamp = int(time.time())  # the library checks against the real clock
    headers = wh.headers([new, old], "evt_0123", stamp, body)
    # Then standardwebhooks verifies it with either secret, and refuses a one-byte change or another secret
    assert standardwebhooks.Webhook(new).verify(body, headers)["type"] == "bill.paid"
    assert standardwebhooks.Webhook(old).verify(body, headers)["data"] == {"bill_id": "bil_1"}
    assert headers["webhook-signature"].count("v1,") == 2
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new).verify(body.replace(b"bil_1", b"bil_2"), headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(wh.new_secret(b"x" * 32)).verify(body, headers)
    # and a secret is whsec_ + base64 of 24-64 bytes
    assert len(wh.secret_key(new)) == 32
    with pytest.raises(ValueError):
        wh.new_secret(b"short")


def test_the_retry_schedule_is_the_specifications_with_bounded_jitter() -> None:
    # Then the delays after each failure are the specification's, 10 attempts over about 75.5 hours
    assert [wh.next_delay(n, 0.0) for n in range(10)] == [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert sum(wh.RETRY_DELAYS_SECONDS) == 75 * 3600 + 35 * 60 + 5
    assert wh.next_delay(10, 0.5) is None
    # jitter adds at most 10 %, Retry-After waits longer (at most a day)
    assert 300 <= wh.next_delay(2, 0.999) <= 330  # type: ignore[operator]
    assert wh.next_delay(1, 0.0, retry_after=120) == 120
    assert wh.next_delay(1, 0.0, retry_after=10**9) == 86400
    # and what an answer means
    assert [wh.outcome_of(s) for s in (200, 204, 301, 404, 410, 429, 500, None)] == [
        "delivered",
        "delivered",
        "failed",
        "failed",
        "gone",
        "failed",
        "failed",
        "failed",
    ]


# ---- SSRF -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://his.example.cn/hook",  # not https
        "https://10.0.0.8/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT: not global
        "https://0.0.0.0/hook",
        "https://user:pw@his.example.cn/hook",
        "ftp://his.example.cn/hook",
        "https://his.example.cn/hook#frag",
    ],
)
def test_endpoint_urls_that_could_reach_inside_are_refused(url: str) -> None:
    with pytest.raises(EndpointUrlRefused):
        webhooks.check_endpoint_url(url, loopback=False, resolver=public_resolver)


def test_a_name_that_resolves_to_any_private_address_is_refused_and_loopback_only_locally() -> None:
    # Given names resolving to a public and a private address, and to loopback
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "192.168.1.5"]

    # Then registration refuses the mixed name; loopback http is allowed only where the deployment allows it
    with pytest.raises(EndpointUrlRefused):
        webhooks.check_endpoint_url("https://his.example.cn/hook", loopback=False, resolver=mixed)
    webhooks.check_endpoint_url("https://his.example.cn/hook", loopback=False, resolver=public_resolver)
    webhooks.check_endpoint_url("http://127.0.0.1:8080/hook", loopback=True)
    with pytest.raises(EndpointUrlRefused):
        webhooks.check_endpoint_url("http://127.0.0.1:8080/hook", loopback=False)
    with pytest.raises(EndpointUrlRefused):
        webhooks.check_endpoint_url("http://10.0.0.1:8080/hook", loopback=True)


class Receiver:
    """A real HTTP receiver on loopback. `script` answers each request in turn: a status, or "hang" (the sender
    times out; the handler is released when the test ends)."""

    def __init__(self, script: list[Any], default: Any = 200) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                action = receiver.script.pop(0) if receiver.script else receiver.default
                if action == "hang":
                    receiver.release.wait(10)
                    return
                self.send_response(action)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/treatfirst/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


def test_dns_rebinding_is_refused_at_delivery_without_connecting(receivers: list[Receiver]) -> None:
    # Given a receiver on loopback, and a name that resolved to a public address at registration but now
    # resolves to loopback
    receiver = Receiver([200])
    receivers.append(receiver)
    sender = HttpSender(resolver=lambda host, port: ["127.0.0.1"])
    url = f"https://rebinding.example.cn:{receiver.server.server_port}/hook"
    webhooks.check_endpoint_url(url, loopback=False, resolver=public_resolver)
    # When a delivery is sent on AWS settings (no loopback)
    answer = sender.send(url, {"webhook-id": "evt_1"}, b"{}", timeout=1.0, allow_loopback=False)
    # Then it is refused before any connection: the receiver saw nothing
    assert (answer.status, answer.error) == (None, "address_refused")
    assert receiver.requests == []


# ---- endpoints --------------------------------------------------------------------------------------------------
def _register(world: World, url: str, events: list[str], caller: Any = None, key: str | None = None) -> Any:
    body = command(EndpointRequest, {"url": url, "events": events})
    return webhooks.create_endpoint(world.ctx(), caller or world.hospital, body, key, resolver=public_resolver).body


def test_an_endpoint_shows_its_secret_once_and_stores_it_encrypted(world: World) -> None:
    # When a hospital registers an endpoint twice with the same Idempotency-Key
    first = _register(world, "https://his.example.cn/hook", ["bill.paid", "bill.issued"], key="k1")
    again = _register(world, "https://his.example.cn/hook", ["bill.paid", "bill.issued"], key="k1")
    # Then the answer holds a whsec_ secret, the retry the same one, and one endpoint exists
    assert first["secret"].startswith("whsec_") and again["secret"] == first["secret"]
    assert first["endpoint"]["events"] == ["bill.issued", "bill.paid"]
    (stored,) = world.store.tables[ENDPOINTS].values()
    assert first["secret"] not in json.dumps(stored) and first["secret"] not in repr(world.store.tables)
    # and the list never shows a secret
    listed = webhooks.list_endpoints(world.ctx(), world.hospital)["items"]
    assert [e["endpoint_id"] for e in listed] == [first["endpoint"]["endpoint_id"]]
    assert "whsec_" not in json.dumps(listed) and not any("secret" in e for e in listed)


def test_a_caller_subscribes_only_to_its_kinds_and_has_at_most_ten_endpoints(world: World) -> None:
    # A channel cannot receive a hospital's own events (a refund of a charge, a collection step)
    with pytest.raises(EventKindNotAllowed):
        _register(world, "https://pay.example.cn/hook", ["charge.refunded"], caller=world.channel)
    assert _register(world, "https://pay.example.cn/bills", ["bill.paid"], caller=world.channel)["secret"]
    assert _register(world, "https://pay.example.cn/hook", ["clearing.ready"], caller=world.channel)["secret"]
    # A hospital's eleventh endpoint is refused
    for i in range(webhooks.MAX_ENDPOINTS):
        _register(world, f"https://his.example.cn/hook/{i}", ["bill.paid"])
    with pytest.raises(EndpointLimit):
        _register(world, "https://his.example.cn/hook/x", ["bill.paid"])
    # and one hospital cannot delete another's endpoint
    other = webhooks.list_endpoints(world.ctx(), world.hospital)["items"][0]["endpoint_id"]
    with pytest.raises(EndpointNotFound):
        webhooks.delete_endpoint(world.ctx(), world.other_hospital, other)


# ---- delivery ---------------------------------------------------------------------------------------------------
class FakeSender:
    """Answers from a script per URL; keeps every request."""

    def __init__(self, answers: Mapping[str, list[Answer]] | None = None) -> None:
        self.answers = {k: list(v) for k, v in (answers or {}).items()}
        self.sent: list[tuple[str, dict[str, str], bytes]] = []

    def send(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float, allow_loopback: bool
    ) -> Answer:
        self.sent.append((url, dict(headers), body))
        queue = self.answers.get(url)
        return queue.pop(0) if queue else Answer(200)


def _event(world: World, subject: str, audience: str = "hospital:hospital-a") -> str:
    put = event_put(world.ctx(), kind="bill.paid", audience=audience, subject=subject, data={"bill_id": subject})
    world.ctx().commit([put])
    return str(put.item["event_id"])


def _due_rows(world: World) -> list[dict[str, Any]]:
    return [r for r in world.store.tables[EVENTS].values() if "due_at" in r]


def _run_until_idle(world: World, sender: Any, *, timeout: float = 5.0, rounds: int = 20) -> None:
    """Run the dispatcher, then move the clock to the next due time, until nothing is due."""
    for _ in range(rounds):
        dispatch_events(world.ctx(), sender, timeout=timeout)
        due = sorted(r["due_at"] for r in _due_rows(world))
        if not due:
            return
        world.clock.current = max(world.clock.current, datetime.fromisoformat(due[0].replace("Z", "+00:00")))
    raise AssertionError("deliveries still due")


def test_timeouts_failures_and_410_deliver_each_event_at_least_once_with_its_id_and_disable_on_410(
    world: World, receivers: list[Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given (local stack settings) hospital-a with two endpoints on loopback: A times out, then fails with 500 and
    # 503, then answers 200; B answers 410 Gone
    monkeypatch.setenv(webhooks.LOOPBACK_ENV, "1")
    a, b = Receiver(["hang", 500, 503]), Receiver([410])
    receivers += [a, b]
    endpoint_a = _register(world, a.url, ["bill.paid"])
    endpoint_b = _register(world, b.url, ["bill.paid"])
    # and five events for hospital-a, one for hospital-b
    ids = [_event(world, f"bil_{i}") for i in range(5)]
    _event(world, "bil_other", audience="hospital:hospital-b")
    # When the dispatcher runs as the clock follows the retry schedule (attempts time out after 0.5 s)
    _run_until_idle(world, HttpSender(), timeout=0.5)
    # Then A received every event, each delivered one with a valid signature and its event id as webhook-id
    ok = {}
    for request in a.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        stamp = int(headers["webhook-timestamp"])
        assert wh.verify(endpoint_a["secret"], headers, request["body"], now=stamp)
        assert json.loads(request["body"])["id"] == headers["webhook-id"]
        ok.setdefault(headers["webhook-id"], 0)
        ok[headers["webhook-id"]] += 1
    assert set(ok) == set(ids)
    rows = {(r["event_id"], r["endpoint_id"]): r for r in world.store.tables[EVENTS].values() if r["part"][:3] == "to#"}
    assert {rows[(i, endpoint_a["endpoint"]["endpoint_id"])]["status"] for i in ids} == {"delivered"}
    # B got one request, answered 410, and is disabled: its other deliveries ended without a call
    assert len(b.requests) == 1
    (b_item,) = [
        e for e in world.store.tables[ENDPOINTS].values() if e["endpoint_id"] == endpoint_b["endpoint"]["endpoint_id"]
    ]
    assert b_item["status"] == "disabled" and "410" in b_item["disabled_reason"]
    to_b = [r for (_, endpoint_id), r in rows.items() if endpoint_id == b_item["endpoint_id"]]
    assert to_b and {r["status"] for r in to_b} == {"endpoint_disabled"}
    # and nothing is lost or left due; hospital-b's event (it has no endpoint) was handed to no one
    assert _due_rows(world) == []
    assert not [r for r in rows.values() if r["owner"] != "hospital:hospital-a"]
    events = [r for r in world.store.tables[EVENTS].values() if r["part"] == "event"]
    assert {r["fanned_out_at"] is not None for r in events} == {True} and len(events) == 6


def test_the_delivery_log_has_one_entry_per_attempt_and_replay_sends_the_same_id(world: World) -> None:
    # Given an endpoint that fails twice, then succeeds
    made = _register(world, "https://his.example.cn/hook", ["bill.paid"])
    url = made["endpoint"]["url"]
    sender = FakeSender({url: [Answer(500), Answer(None, "timeout")]})
    eid = _event(world, "bil_1")
    _run_until_idle(world, sender)
    # Then the log shows three attempts with their outcomes and the retry times of the schedule
    log = webhooks.delivery_log(world.ctx(), world.hospital, eid)
    (delivery,) = log["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [(t["outcome"], t["status_code"], t["error"]) for t in delivery["log"]] == [
        ("failed", 500, None),
        ("failed", None, "timeout"),
        ("delivered", 200, None),
    ]
    first, second = (datetime.fromisoformat(t["at"].replace("Z", "+00:00")) for t in delivery["log"][:2])
    assert timedelta(seconds=5) <= second - first <= timedelta(seconds=6)
    # When the hospital replays it
    assert webhooks.replay_event(world.ctx(), world.hospital, eid, None).status == 202
    _run_until_idle(world, sender)
    # Then it is sent again with the same webhook-id, and the log shows a fourth attempt marked as a replay
    assert [h["webhook-id"] for _, h, _ in sender.sent] == [eid] * 4
    again = webhooks.delivery_log(world.ctx(), world.hospital, eid)["deliveries"][0]
    assert again["attempts"] == 4 and again["log"][-1]["replay"] is True
    # and another hospital cannot read or replay it
    with pytest.raises(EventNotFound):
        webhooks.delivery_log(world.ctx(), world.other_hospital, eid)
    with pytest.raises(EventNotFound):
        webhooks.replay_event(world.ctx(), world.other_hospital, eid, None)


def test_a_delivery_failing_every_attempt_is_given_up_after_the_schedule(world: World) -> None:
    # Given an endpoint that always answers 503
    made = _register(world, "https://his.example.cn/hook", ["bill.paid"])
    sender = FakeSender({made["endpoint"]["url"]: [Answer(503)] * 20})
    start = world.clock.current
    _event(world, "bil_1")
    # When the dispatcher follows the schedule
    _run_until_idle(world, sender, rounds=30)
    # Then there were exactly 10 attempts over about 75.5 hours, and the delivery is failed (replayable)
    assert len(sender.sent) == 10
    (row,) = [r for r in world.store.tables[EVENTS].values() if r["part"].startswith("to#")]
    assert row["status"] == "failed"
    assert timedelta(hours=75) < world.clock.current - start < timedelta(hours=84)


class Crash(BaseException):
    """The function dies mid-attempt (after the claim, before the answer is recorded)."""


class CrashingSender(FakeSender):
    def send(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float, allow_loopback: bool
    ) -> Answer:
        super().send(url, headers, body, timeout=timeout, allow_loopback=allow_loopback)
        raise Crash()


def test_a_dispatcher_that_dies_mid_attempt_leaves_the_delivery_due_after_its_lease(world: World) -> None:
    # Given a run that dies while sending
    _register(world, "https://his.example.cn/hook", ["bill.paid"])
    eid = _event(world, "bil_1")
    with pytest.raises(Crash):
        dispatch_events(world.ctx(), CrashingSender())
    # When another run comes before the lease ends, then after it
    sender = FakeSender()
    dispatch_events(world.ctx(), sender)
    assert sender.sent == []
    world.clock.advance(seconds=webhooks.TIMEOUT_SECONDS + webhooks.LEASE_SLACK_SECONDS + 1)
    dispatch_events(world.ctx(), sender)
    # Then the event goes out once more, with the same id
    assert [h["webhook-id"] for _, h, _ in sender.sent] == [eid]
    assert _due_rows(world) == []


def test_rotation_signs_with_both_secrets_until_the_previous_one_expires(world: World) -> None:
    # Given an endpoint whose secret is rotated with a one-hour overlap
    made = _register(world, "https://his.example.cn/hook", ["bill.paid"])
    endpoint_id = made["endpoint"]["endpoint_id"]
    rotated = webhooks.rotate_secret(
        world.ctx(), world.hospital, endpoint_id, command(SecretRotationRequest, {"previous_valid_seconds": 3600}), None
    ).body
    sender = FakeSender()
    _event(world, "bil_1")
    dispatch_events(world.ctx(), sender)
    # Then the delivery verifies with the new and with the old secret
    _, headers, body = sender.sent[0]
    stamp = int(headers["webhook-timestamp"])
    assert wh.verify(rotated["secret"], headers, body, now=stamp) and wh.verify(
        made["secret"], headers, body, now=stamp
    )
    # When the overlap has ended, Then only the new secret verifies
    world.clock.advance(hours=2)
    _event(world, "bil_2")
    dispatch_events(world.ctx(), sender)
    _, headers, body = sender.sent[1]
    stamp = int(headers["webhook-timestamp"])
    assert wh.verify(rotated["secret"], headers, body, now=stamp)
    assert not wh.verify(made["secret"], headers, body, now=stamp)


def test_a_deleted_endpoint_gets_nothing_more(world: World) -> None:
    made = _register(world, "https://his.example.cn/hook", ["bill.paid"])
    sender = FakeSender({made["endpoint"]["url"]: [Answer(500)]})
    _event(world, "bil_1")
    dispatch_events(world.ctx(), sender)
    webhooks.delete_endpoint(world.ctx(), world.hospital, made["endpoint"]["endpoint_id"])
    _run_until_idle(world, sender)
    assert len(sender.sent) == 1
    (row,) = [r for r in world.store.tables[EVENTS].values() if r["part"].startswith("to#")]
    assert row["status"] == "endpoint_deleted"


# ---- the pull fallback ------------------------------------------------------------------------------------------
def test_the_pull_list_shows_only_the_callers_own_events_in_order_after_its_position(world: World) -> None:
    # Given events for two hospitals written a second apart
    for i in range(5):
        for hospital in ("hospital-a", "hospital-b"):
            _event(world, f"bil_{i}", audience=f"hospital:{hospital}")
        world.clock.advance(seconds=1)
    # When hospital-a pulls before the events settled, then after
    assert list_events(world.ctx(), world.hospital, after=None, limit=10)["items"] == []
    world.clock.advance(seconds=SETTLE_SECONDS)
    first = list_events(world.ctx(), world.hospital, after=None, limit=3)
    rest = list_events(world.ctx(), world.hospital, after=first["after"], limit=3)
    # Then it reads its own five in order over two pages, never hospital-b's
    assert [e["data"]["bill_id"] for e in first["items"] + rest["items"]] == [f"bil_{i}" for i in range(5)]
    assert (first["has_more"], rest["has_more"]) == (True, False)
    own = {r["event_id"] for r in world.store.tables[EVENTS].values() if r.get("audience") == "hospital:hospital-a"}
    assert {e["id"] for e in first["items"] + rest["items"]} == own
    # and an empty page keeps the position, which another caller cannot use
    empty = list_events(world.ctx(), world.hospital, after=rest["after"], limit=3)
    assert empty["items"] == [] and empty["after"] == rest["after"]
    with pytest.raises(InvalidCursor):
        list_events(world.ctx(), world.other_hospital, after=rest["after"], limit=3)


def test_the_pull_list_starts_at_the_first_event_of_a_new_caller(world: World) -> None:
    # Given no event yet, When the caller pulls, Then the answer is empty with no position yet
    assert list_events(world.ctx(), world.hospital, after=None, limit=5) == {
        "items": [],
        "has_more": False,
        "after": None,
    }
