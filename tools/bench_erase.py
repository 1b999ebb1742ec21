"""Benchmark: deleting one person (a channel's erasure request, answered at once) on DynamoDB Local.

Each person is enrolled, has a visit with charges, a closed bill paid in full and the SMS rows of a statement, as a
patient who leaves would. The erasure crypto-shreds the person's data key, blanks their SMS texts, removes the
look-up index and the masked forms, closes the account and schedules its records' purge, in one transaction.

Printed per erasure (median over the persons): wall time, DynamoDB requests by operation, and the items the
transaction touches by table and kind; next to it, a bare TransactWriteItems of the same number of items in the
same run (ratio: what reading the person's rows and building the erasure add to the write itself).
Prints a table and ONE JSON line.

    python tools/bench_erase.py [--persons 20] [--charges 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.bench_post import RequestCounter, attach_everywhere  # noqa: E402
from tools.ddblocal import DynamoDBLocal, environment  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=20)
    parser.add_argument("--charges", type=int, default=3)
    args = parser.parse_args()

    with DynamoDBLocal() as engine, environment(engine.endpoint):
        import boto3
        from treatfirst.adapters.crypto import LocalCipher
        from treatfirst.adapters.dynamo import DynamoStore, configure
        from treatfirst.adapters.schema import create_tables
        from treatfirst.domain.clock import SystemClock
        from treatfirst.domain.errors import IdentityErased
        from treatfirst.domain.policy import example_policy
        from treatfirst.messages.accounts import EnrollmentRequest
        from treatfirst.messages.common import Empty
        from treatfirst.messages.payments import PaymentRequest
        from treatfirst.messages.privacy import PrivacyRequest
        from treatfirst.messages.visits import ChargeRequest, VisitRequest
        from treatfirst.services import charges, closing, payments, rights, visits
        from treatfirst.services import enrollment as enrollment_service
        from treatfirst.services.identity import SCOPES, Caller
        from treatfirst.services.identity_data import identity_of
        from treatfirst.services.outbox import outbox_put
        from treatfirst.services.ports import ACCOUNTS
        from treatfirst.services.unit_of_work import Context

        from tests.factories import charge, command, enrollment

        prefix = f"bench-{uuid.uuid4().hex[:6]}-"
        client = boto3.client("dynamodb")
        create_tables(client, prefix)
        configure(prefix)
        store = DynamoStore()
        policy = example_policy("lianyungang")
        cipher = LocalCipher(os.urandom(32))
        hospital = Caller("key_bench_h", "hospital", "bench-hospital", SCOPES["hospital"])
        channel = Caller("key_bench_c", "channel", "bench-channel", SCOPES["channel"])

        def ctx() -> Context:
            return Context(store=store, cipher=cipher, clock=SystemClock(), policy=policy)

        def leaving_patient(n: int) -> str:
            """Enrolled, one visit with charges, its bill paid in full, an SMS statement on record."""
            person = enrollment(policy)
            account_id = str(
                enrollment_service.enroll(ctx(), channel, command(EnrollmentRequest, person), None).body["account_id"]
            )
            visit = visits.open_visit(ctx(), hospital, command(VisitRequest, {"account_id": account_id}), None)
            visit_id = visit.body["visit_id"]
            for _ in range(args.charges):
                charges.post_charge(ctx(), hospital, visit_id, command(ChargeRequest, charge(1500)), None)
            bill = closing.close_visit(ctx(), hospital, visit_id, Empty(), None).body["bill"]
            payment = {
                "channel_txn_id": f"bench-{n}",
                "amount_fen": bill["outstanding_fen"],
                "paid_at": datetime.now(UTC).isoformat(),
                "allocations": [{"bill_id": bill["bill_id"], "amount_fen": bill["outstanding_fen"]}],
            }
            payments.notify_payment(ctx(), channel, command(PaymentRequest, payment), None)
            params = {"statement_date": "2026-11-25", "charges": args.charges, "charged_fen": 4500, "amount_fen": 0}
            statement = outbox_put(
                ctx(), account_id=account_id, kind="statement", dedupe_key=f"{account_id}#statement", params=params
            )
            ctx().commit([statement])
            return account_id

        people = [leaving_patient(n) for n in range(args.persons)]
        backups = {a: store.get(ACCOUNTS, {"account_id": a}) for a in people}  # what a backup would hold
        counter = RequestCounter()
        attach_everywhere(counter, store)
        counter.attach(client)

        erase_ms: list[float] = []
        requests: Counter[str] = Counter()
        touched: Counter[str] = Counter()
        bare_ms: list[float] = []
        for account_id in people:
            verification = {
                "method": "face",
                "check_id": f"face-{uuid.uuid4().hex}",
                "verified_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            }
            request = command(PrivacyRequest, {"kind": "erasure", "verification": verification})
            counter.counts.clear()
            started = time.perf_counter()
            answer = rights.open_request(ctx(), channel, account_id, request, None).body
            erase_ms.append((time.perf_counter() - started) * 1000)
            if answer.get("outcome") != "erased":
                raise SystemExit(f"the erasure of {account_id} was not done: {answer}")
            requests.update(counter.counts)
            transaction = counter.last_transaction or {"TransactItems": []}
            items = transaction["TransactItems"]
            for item in items:
                ((kind, body),) = item.items()
                touched[f"{body['TableName'].removeprefix(prefix)}:{kind}"] += 1
            # the same number of items, written bare (new rows of the audit table), as the baseline
            bare = [
                {
                    "Put": {
                        "TableName": f"{prefix}audit",
                        "Item": {"subject": {"S": f"bench#{uuid.uuid4().hex}"}, "event_id": {"S": "x"}},
                    }
                }
                for _ in items
            ]
            started = time.perf_counter()
            client.transact_write_items(TransactItems=bare)
            bare_ms.append((time.perf_counter() - started) * 1000)

        # every backup copy's ciphertext is still there and opens no more
        unreadable = 0
        for backup in backups.values():
            try:
                identity_of(ctx(), backup or {})
            except IdentityErased:
                unreadable += 1

        n = len(people)
        med_erase, med_bare = statistics.median(erase_ms), statistics.median(bare_ms)
        per_person_requests = {k: round(v / n, 2) for k, v in sorted(requests.items())}
        per_person_items = {k: round(v / n, 2) for k, v in sorted(touched.items())}
        items_total = sum(touched.values()) / n
        print(f"Erasure of one person on {engine.engine} ({n} persons, {args.charges} charges and one paid bill each)")
        print(
            f"  median {med_erase:.1f} ms; bare TransactWriteItems of as many items {med_bare:.1f} ms; "
            f"ratio {med_erase / med_bare:.2f}"
        )
        print(f"  DynamoDB requests per erasure: {per_person_requests}")
        print(f"  items in its one transaction: {items_total:.1f} — {per_person_items}")
        print(f"  backup copies whose ciphertext no longer opens: {unreadable} of {n}")
        print(
            json.dumps(
                {
                    "persons": n,
                    "erase_median_ms": round(med_erase, 2),
                    "bare_transaction_median_ms": round(med_bare, 2),
                    "ratio_erase_vs_bare": round(med_erase / med_bare, 3),
                    "requests_per_erasure": per_person_requests,
                    "items_per_erasure": round(items_total, 2),
                    "items_by_table": per_person_items,
                    "backups_unreadable": unreadable,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
