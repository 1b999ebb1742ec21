"""Benchmark: what events and webhooks add to a request, on DynamoDB Local, in one run.

1. An accepted charge post writes NO event: it stays ONE DynamoDB request (a TransactWriteItems none of whose
   items is in the events table), and its median latency is compared with a bare TransactWriteItems carrying the
   same items (target ratio <= 1.2).
2. What an outbox/event row would add to a post: the post's own items replayed bare, with and without one event
   row (the row event_put writes) — median ratio, measured interleaved.
3. Closing a visit (which writes bill.issued): its write requests, and that the event row is inside its one
   transaction.
4. The dispatcher: deliveries per second to a receiver on loopback (real HTTP, signed), and its DynamoDB requests
   per delivered event.

Prints a table and ONE JSON line.

    python tools/bench_webhooks.py [--posts 200] [--warmup 20] [--events 100]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.bench_post import WRITES, RequestCounter, attach_everywhere, fresh_copy, timed  # noqa: E402
from tools.ddblocal import DynamoDBLocal, environment  # noqa: E402


class _Quiet(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        type(self).received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    os.environ["TF_WEBHOOK_LOOPBACK"] = "1"  # the receiver runs on this machine

    with DynamoDBLocal() as engine, environment(engine.endpoint):
        import boto3
        from treatfirst.adapters.crypto import LocalCipher
        from treatfirst.adapters.dynamo import DynamoStore, configure
        from treatfirst.adapters.schema import create_tables
        from treatfirst.domain.clock import SystemClock
        from treatfirst.domain.policy import example_policy
        from treatfirst.messages.accounts import EnrollmentRequest
        from treatfirst.messages.common import Empty, decode
        from treatfirst.messages.visits import ChargeRequest, VisitRequest
        from treatfirst.messages.webhooks import EndpointRequest
        from treatfirst.services import charges, closing, visits, webhooks
        from treatfirst.services import enrollment as enrollment_service
        from treatfirst.services.events import event_put
        from treatfirst.services.identity import SCOPES, Caller
        from treatfirst.services.unit_of_work import Context

        from tests.factories import charge, command, enrollment

        prefix = f"bench-{uuid.uuid4().hex[:6]}-"
        create_tables(boto3.client("dynamodb"), prefix)
        configure(prefix)
        store = DynamoStore()
        events_table = f"{prefix}events"
        policy = example_policy("lianyungang")
        cipher = LocalCipher(os.urandom(32))
        hospital = Caller("key_bench_h", "hospital", "bench-hospital", SCOPES["hospital"])
        channel = Caller("key_bench_c", "channel", "bench-channel", SCOPES["channel"])

        def ctx() -> Context:
            return Context(store=store, cipher=cipher, clock=SystemClock(), policy=policy)

        account = enrollment_service.enroll(ctx(), channel, command(EnrollmentRequest, enrollment(policy)), None).body
        opened = visits.open_visit(ctx(), hospital, command(VisitRequest, {"account_id": account["account_id"]}), None)
        visit_id = opened.body["visit_id"]
        counter = RequestCounter()
        attach_everywhere(counter, store)

        def post() -> Callable[[], Any]:
            raw = json.dumps(charge(1)).encode()
            return lambda: charges.post_charge(ctx(), hospital, visit_id, decode(raw, ChargeRequest), None)

        for _ in range(args.warmup):
            post()()
        post_counts = counter.measure(post())
        post_items = counter.last_transaction
        assert post_items is not None
        post_tables = sorted({next(iter(i.values()))["TableName"] for i in post_items["TransactItems"]})

        # one event row as event_put writes it, in DynamoDB's form, to add to the post's own items
        def with_event(n: int) -> dict[str, Any]:
            replay = fresh_copy(post_items, n)
            # an audience no endpoint listens to: these rows are real once replayed, and must not be delivered
            # in the dispatcher's figure below
            row = event_put(ctx(), kind="bill.paid", audience="hospital:bench-nobody", subject=f"bench-{n}", data={})
            transaction = store._transact_item(row)
            replay["TransactItems"].append(transaction)
            return replay

        samples: dict[str, list[float]] = {"post": [], "bare": [], "bare + event row": []}
        for n in range(1, args.posts + 1):
            samples["post"].append(timed(post()))
            bare = fresh_copy(post_items, n)
            samples["bare"].append(timed(functools.partial(store.client.transact_write_items, **bare)))
            plus = with_event(n + 10_000_000)
            samples["bare + event row"].append(timed(functools.partial(store.client.transact_write_items, **plus)))
        med = {k: statistics.median(v) for k, v in samples.items()}

        # closing writes bill.issued inside its one transaction
        close_counts = counter.measure(
            lambda: closing.close_visit(ctx(), hospital, visit_id, Empty(), None)  # the bench visit, many charges
        )
        close_items = counter.last_transaction or {"TransactItems": []}
        close_has_event = any(next(iter(i.values()))["TableName"] == events_table for i in close_items["TransactItems"])

        # the dispatcher against a receiver on loopback
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/hooks"
        webhooks.create_endpoint(
            ctx(), hospital, command(EndpointRequest, {"url": url, "events": ["bill.paid", "bill.issued"]}), None
        )
        for n in range(args.events):
            ctx().commit(
                [event_put(ctx(), kind="bill.paid", audience="hospital:bench-hospital", subject=f"d-{n}", data={})]
            )
        counter.counts.clear()
        started = time.perf_counter()
        result = webhooks.dispatch_events(ctx())
        seconds = time.perf_counter() - started
        dispatch_requests = sum(counter.counts.values())
        server.shutdown()
        server.server_close()

        post_writes = sum(v for k, v in post_counts.items() if k in WRITES)
        post_requests = sum(post_counts.values())
        ratio = med["post"] / med["bare"]
        event_ratio = med["bare + event row"] / med["bare"]
        delivered = result.delivered
        if delivered != args.events + 1:
            raise SystemExit(f"the dispatcher delivered {delivered} events, not the {args.events + 1} written for it")
        print(f"Events and webhooks on {engine.engine} ({args.posts} posts, interleaved with their bare replays)")
        print(
            f"  charge post: {post_requests} DynamoDB request(s), {post_writes} write; tables: {', '.join(post_tables)}"
        )
        print(f"  event rows in the post's transaction: {sum(t == events_table for t in post_tables)}")
        for label, key in (
            ("post", "post"),
            ("bare TransactWriteItems", "bare"),
            ("bare + one event row", "bare + event row"),
        ):
            print(f"  {label:32} median {med[key]:8.2f} ms")
        print(f"  ratio post / bare: {ratio:.2f} (target <= 1.2); one event row would cost x{event_ratio:.2f}")
        writes_close = sum(v for k, v in close_counts.items() if k in WRITES)
        print(f"  close visit: {writes_close} write request(s), bill.issued inside it: {close_has_event}")
        print(
            f"  dispatcher: {delivered} of {args.events + 1} events (bill.issued too) delivered in {seconds:.2f} s "
            f"({delivered / seconds:.0f}/s), {dispatch_requests / max(delivered, 1):.1f} DynamoDB requests each"
        )
        print(
            json.dumps(
                {
                    "post_requests": post_requests,
                    "post_write_requests": post_writes,
                    "post_event_rows": sum(t == events_table for t in post_tables),
                    "median_ms": {k: round(v, 3) for k, v in med.items()},
                    "ratio_post_vs_bare": round(ratio, 3),
                    "ratio_bare_with_event_row": round(event_ratio, 3),
                    "close_write_requests": writes_close,
                    "close_has_event_row": close_has_event,
                    "delivered": delivered,
                    "deliveries_per_second": round(delivered / seconds, 1),
                    "dynamodb_requests_per_delivery": round(dispatch_requests / max(delivered, 1), 2),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
