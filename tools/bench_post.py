"""Benchmark: what posting one charge costs, on DynamoDB Local, against a bare TransactWriteItems baseline.

Prints, for one post: the DynamoDB requests it makes (counted with botocore event hooks on every client the
platform uses), and the median latency next to the median of one bare TransactWriteItems carrying the same
items, measured interleaved in the same run, as a ratio. Targets: one write request per post; ratio <= 1.5.

    python tools/bench_post.py [--posts 300] [--warmup 30]
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.ddblocal import DynamoDBLocal, environment  # noqa: E402

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class RequestCounter:
    """Counts DynamoDB requests per operation on every botocore client it is attached to."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.last_transaction: dict[str, Any] | None = None
        self.clients: list[Any] = []

    def attach(self, client: Any) -> None:
        if any(c is client for c in self.clients):
            return
        self.clients.append(client)
        client.meta.events.register("before-send.dynamodb", self._sent)
        client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", self._capture)

    def _sent(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        name = target.decode() if isinstance(target, bytes) else str(target)
        self.counts[name.rsplit(".", 1)[-1]] += 1

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self.last_transaction = copy.deepcopy(params)

    def measure(self, action: Callable[[], Any]) -> Counter[str]:
        self.counts.clear()
        action()
        return Counter(self.counts)


def attach_everywhere(counter: RequestCounter, store: Any) -> None:
    from treatfirst.adapters.dynamo import MODELS

    counter.attach(store.client)
    for model in MODELS.values():
        counter.attach(model._get_connection().connection.client)


def fresh_copy(params: dict[str, Any], n: int) -> dict[str, Any]:
    """The captured transaction with new keys for every item it creates, so it can be replayed."""
    replay = copy.deepcopy(params)
    replay.pop("ClientRequestToken", None)
    for entry in replay["TransactItems"]:
        put = entry.get("Put")
        if put:
            for name in ("fee_line_id", "entry_id", "event_id", "idem_key", "nonce_key"):
                if name in put["Item"]:
                    put["Item"][name]["S"] += f"-bare{n}"
    return replay


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def describe(counts: Counter[str]) -> str:
    writes = sum(v for k, v in counts.items() if k in WRITES)
    reads = sum(counts.values()) - writes
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    return f"{writes} write, {reads} read ({detail})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()

    with DynamoDBLocal() as engine, environment(engine.endpoint):
        import boto3
        from treatfirst.adapters.crypto import LocalCipher
        from treatfirst.adapters.dynamo import DynamoStore, configure
        from treatfirst.adapters.schema import create_tables
        from treatfirst.domain.clock import SystemClock
        from treatfirst.domain.policy import example_policy
        from treatfirst.messages.accounts import EnrollmentRequest
        from treatfirst.messages.common import decode
        from treatfirst.messages.visits import ChargeRequest, VisitRequest
        from treatfirst.services import charges, visits
        from treatfirst.services import enrollment as enrollment_service
        from treatfirst.services.identity import SCOPES, Caller
        from treatfirst.services.unit_of_work import Context

        from tests.factories import charge, command, enrollment

        prefix = f"bench-{uuid.uuid4().hex[:6]}-"
        create_tables(boto3.client("dynamodb"), prefix)
        configure(prefix)
        store = DynamoStore()
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

        def post(key: bool) -> Callable[[], Any]:
            body = charge(1)
            raw = json.dumps(body).encode()  # decoded from raw bytes inside the timing, as the HTTP edge does
            return lambda: charges.post_charge(
                ctx(), hospital, visit_id, decode(raw, ChargeRequest), f"k-{body['fee_line_id']}" if key else None
            )

        for _ in range(args.warmup):
            post(True)()
        plain_counts = counter.measure(post(False))
        plain_items = counter.last_transaction
        keyed_counts = counter.measure(post(True))
        keyed_items = counter.last_transaction
        assert plain_items is not None and keyed_items is not None
        bare_counts = counter.measure(lambda: store.client.transact_write_items(**fresh_copy(plain_items, 0)))

        samples: dict[str, list[float]] = {"post": [], "bare": [], "keyed post": [], "keyed bare": []}
        for n in range(1, args.posts + 1):
            samples["post"].append(timed(post(False)))
            replay = fresh_copy(plain_items, n)
            samples["bare"].append(timed(functools.partial(store.client.transact_write_items, **replay)))
            samples["keyed post"].append(timed(post(True)))
            replay = fresh_copy(keyed_items, n)
            samples["keyed bare"].append(timed(functools.partial(store.client.transact_write_items, **replay)))

        med = {k: statistics.median(v) for k, v in samples.items()}
        p90 = {k: statistics.quantiles(v, n=10)[-1] for k, v in samples.items()}
        rows = [
            ("post (fee-line id only)", "post", describe(plain_counts)),
            (
                f"bare TransactWriteItems ({len(plain_items['TransactItems'])} same items)",
                "bare",
                describe(bare_counts),
            ),
            ("post (with Idempotency-Key)", "keyed post", describe(keyed_counts)),
            (
                f"bare TransactWriteItems ({len(keyed_items['TransactItems'])} same items)",
                "keyed bare",
                describe(bare_counts),
            ),
        ]
        print(
            f"Posting one charge on {engine.engine} ({args.posts} of each, after {args.warmup} warm-up; "
            "interleaved in one run)"
        )
        print(f"{'':48} {'median ms':>10} {'p90 ms':>8}   DynamoDB requests")
        for label, key, requests in rows:
            print(f"{label:48} {med[key]:>10.2f} {p90[key]:>8.2f}   {requests}")
        ratio, ratio_keyed = med["post"] / med["bare"], med["keyed post"] / med["keyed bare"]
        print(f"ratio post / bare: {ratio:.2f}; with Idempotency-Key: {ratio_keyed:.2f}   (targets <= 1.2 each)")
        writes = {sum(v for k, v in c.items() if k in WRITES) for c in (plain_counts, keyed_counts)}
        print(
            json.dumps(
                {
                    "write_requests_per_post": sorted(writes),
                    "median_ms": {k: round(v, 3) for k, v in med.items()},
                    "ratio": round(ratio, 3),
                    "ratio_with_idempotency_key": round(ratio_keyed, 3),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
