"""Benchmark: the collection sweep reads what is due, not what is open (on DynamoDB Local).

For each size N: N accounts in collection, each with one open bill, of which 1 % fall due on the swept business date
(the rest have their next step a month ahead, so they sit in the same sparse index). The sweep of that date runs
in process over every shard, as one queue consumer per shard would. Printed per size: items read (index items,
re-reads after a guard failed, watermarks and the moratorium item), accounts acted on, items read per acted item
(target <= 1.05), sweep seconds, and as the baseline in the same run, the seconds and items of one full scan of the
accounts table (what a sweep without the index would read at least). The last line is one JSON object.

    python tools/bench_sweep.py [--sizes 10000 50000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.ddblocal import DynamoDBLocal, environment  # noqa: E402

SWEPT = date(2026, 12, 2)  # the business date swept; due accounts' bills were due the day before


def _load(client: Any, prefix: str, n: int) -> int:
    """N accounts (1 % due on SWEPT) and the bills of the due ones, written with BatchWriteItem."""
    from treatfirst.domain.ids import new_id
    from treatfirst.services.collection import collect_shard

    due_every = 100
    accounts, bills = [], []
    for i in range(n):
        account_id, bill_id = new_id("acc"), new_id("bil")
        due = i % due_every == 0
        bill_due = SWEPT - timedelta(days=1) if due else SWEPT + timedelta(days=30)
        accounts.append(
            {
                "account_id": {"S": account_id},
                "status": {"S": "active"},
                "name_masked": {"S": "张*"},
                "limit_fen": {"N": "200000"},
                "available_fen": {"N": "199000"},
                "held_fen": {"N": "0"},
                "owed_fen": {"N": "1000"},
                "emergency_held_fen": {"N": "0"},
                "emergency_owed_fen": {"N": "0"},
                "collect_version": {"N": "1"},
                "collect_shard": {"S": collect_shard(account_id)},
                "next_step_at": {"S": SWEPT.isoformat() if due else (bill_due - timedelta(days=2)).isoformat()},
                "unpaid": {
                    "M": {
                        bill_id: {"M": {"due": {"S": bill_due.isoformat()}, "fen": {"N": "1000"}, "efen": {"N": "0"}}}
                    }
                },
                "reminded": {"S": json.dumps([bill_id])},
            }
        )
        if due:
            bills.append(
                {
                    "bill_id": {"S": bill_id},
                    "account_id": {"S": account_id},
                    "issued_at": {"S": "2026-11-24T01:00:00.000Z"},
                    "due_at": {"S": f"{bill_due.isoformat()}T15:59:59.000Z"},
                    "status": {"S": "issued"},
                    "outstanding_fen": {"N": "1000"},
                }
            )

    def write(table: str, items: list[dict[str, Any]]) -> None:
        for i in range(0, len(items), 25):
            request = {table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    chunks = [accounts[i : i + 2500] for i in range(0, len(accounts), 2500)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: write(f"{prefix}accounts", c), chunks))
    write(f"{prefix}bills", bills)
    return len(bills)


def run_size(n: int) -> dict[str, Any]:
    import boto3
    from treatfirst.adapters.crypto import LocalCipher
    from treatfirst.adapters.dynamo import DynamoStore, configure
    from treatfirst.adapters.schema import create_tables
    from treatfirst.domain.clock import FixedClock
    from treatfirst.domain.policy import example_policy
    from treatfirst.services import collection
    from treatfirst.services.ports import ACCOUNTS, Put
    from treatfirst.services.unit_of_work import Context

    client = boto3.client("dynamodb")
    prefix = f"bench{n}-"
    create_tables(client, prefix)
    configure(prefix)
    started = time.perf_counter()
    due = _load(client, prefix, n)
    loaded = time.perf_counter() - started
    store = DynamoStore()
    ctx = Context(
        store=store,
        cipher=LocalCipher(b"b" * 32),
        clock=FixedClock(datetime(SWEPT.year, SWEPT.month, SWEPT.day, 16, 30, tzinfo=UTC)),
        policy=example_policy("lianyungang"),
    )
    yesterday = (SWEPT - timedelta(days=1)).isoformat()
    store.commit(
        [
            Put(ACCOUNTS, {"account_id": f"{collection.WATERMARK}{s}", "swept_through": yesterday})
            for s in range(collection.COLLECT_SHARDS)
        ]
    )
    started = time.perf_counter()
    result = collection.sweep(ctx)
    seconds = time.perf_counter() - started
    fixed_reads = collection.COLLECT_SHARDS + 1  # the watermark of each shard and the moratorium item
    items_read = result.read + result.reread + fixed_reads
    acted = result.acted + result.moved
    # Baseline in the same run: one full scan of the accounts table (what any sweep without the index reads).
    started = time.perf_counter()
    scanned, start = 0, None
    while True:
        page = client.scan(
            TableName=f"{prefix}accounts", Select="COUNT", **({"ExclusiveStartKey": start} if start else {})
        )
        scanned += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    scan_seconds = time.perf_counter() - started
    return {
        "accounts": n,
        "due": due,
        "acted": acted,
        "messages": result.messages,
        "failed": result.failed,
        "items_read": items_read,
        "items_read_per_acted": round(items_read / max(1, acted), 3),
        # without the per-run reads (one watermark per shard, the moratorium item): what each due account costs
        "item_reads_per_acted_account": round((result.read + result.reread) / max(1, acted), 3),
        "sweep_seconds": round(seconds, 2),
        "sweep_ms_per_acted": round(1000 * seconds / max(1, acted), 1),
        "scan_items": scanned,
        "scan_seconds": round(scan_seconds, 2),
        "sweep_to_scan_seconds": round(seconds / scan_seconds, 2) if scan_seconds else None,
        "load_seconds": round(loaded, 1),
    }


def collection_fixed() -> int:
    from treatfirst.services.collection import COLLECT_SHARDS

    return COLLECT_SHARDS + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args()
    with DynamoDBLocal() as engine, environment(engine.endpoint):
        runs = [run_size(n) for n in args.sizes]
    for run in runs:
        print(
            f"{run['accounts']:>7} accounts, {run['due']} due: {run['items_read']} items read for {run['acted']} "
            f"acted ({run['items_read_per_acted']} per acted item, {run['item_reads_per_acted_account']} without the "
            f"{collection_fixed()} reads per run), sweep {run['sweep_seconds']} s; "
            f"baseline full scan {run['scan_items']} items in {run['scan_seconds']} s"
        )
    small, large = runs[0], runs[-1]
    summary = {
        "benchmark": "collection_sweep",
        "engine": "dynamodb-local",
        "runs": runs,
        "size_ratio": round(large["accounts"] / small["accounts"], 2),
        "sweep_time_ratio": round(large["sweep_seconds"] / small["sweep_seconds"], 2),
        "due_ratio": round(large["due"] / max(1, small["due"]), 2),
        "scan_time_ratio": round(large["scan_seconds"] / small["scan_seconds"], 2) if small["scan_seconds"] else None,
        "max_items_read_per_acted": max(r["items_read_per_acted"] for r in runs),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
