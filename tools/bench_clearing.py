"""Benchmark: clearing one business date reads the day's entries once, through the per-day index (DynamoDB Local).

The ledger gets N entries of the cleared business date (default 100 000) and N/5 of the next date, shaped by the
code that writes them (services.records.entry: business date, day shard, parties), across 20 hospitals, the two
financiers of the Xiamen example policy, three channels and the backstop funds: charges, refunds, bills issued,
payments, write-offs with their fund side, recoveries. The clearing of the date runs in process (files to a folder).
Printed: entries of the day, index items the clearing read, items read per entry (target <= 1.05), clearing seconds,
and as the baseline in the same run, the seconds to read the same entries bare (the 16 Query partitions of the day,
counted and thrown away); the ratio of the two. The last line is one JSON object.

    python tools/bench_clearing.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.ddblocal import DynamoDBLocal, environment  # noqa: E402

DAY = date(2026, 11, 24)
HOSPITALS = [f"hospital-{n:02d}" for n in range(20)]
CHANNELS = ["wechat-pay", "alipay", "unionpay"]
# kind, share of the day's entries, ref_type
MIX = (
    ("hold", 0.40, "charge"),
    ("emergency_hold", 0.02, "charge"),
    ("release_hold", 0.03, "refund"),
    ("release_owed", 0.02, "refund"),
    ("issue", 0.23, "bill"),
    ("payment", 0.24, "payment"),
    ("write_off", 0.02, "bill"),
    ("backstop_write_off", 0.02, "bill"),
    ("recovery", 0.01, "payment"),
    ("backstop_recovery", 0.01, "payment"),
)


def _items(n: int, day: date, seed: int) -> list[dict[str, Any]]:
    """N ledger items as DynamoDB writes them, built by services.records.entry at a time inside `day`."""
    from treatfirst.adapters.crypto import LocalCipher
    from treatfirst.adapters.dynamo import LedgerModel, _serialize_item
    from treatfirst.adapters.memory import MemoryStore
    from treatfirst.domain.clock import FixedClock
    from treatfirst.domain.policy import example_policy
    from treatfirst.services.records import entry
    from treatfirst.services.unit_of_work import Context

    rng = random.Random(seed)
    ctx = Context(
        store=MemoryStore(),
        cipher=LocalCipher(b"b" * 32),
        clock=FixedClock(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)),
        policy=example_policy("xiamen"),
    )
    kinds = [k for k, _, _ in MIX]
    weights = [w for _, w, _ in MIX]
    refs = {k: r for k, _, r in MIX}
    out = []
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        account = f"acc_{rng.randrange(n // 4):08d}"
        if kind.startswith("backstop_"):
            account = f"fund#{rng.choice(['credit_insurance', 'emergency_aid_fund'])}#{rng.randrange(16)}"
        parties: dict[str, Any] = {"hospital_id": rng.choice(HOSPITALS)}
        if kind in ("payment", "recovery", "backstop_recovery"):
            parties.update(channel_id=rng.choice(CHANNELS), channel_txn_id=f"txn{i}")
        put = entry(ctx, account, kind, rng.randint(1, 50_000), refs[kind], f"ref_{i}", "bench", **parties)
        out.append(_serialize_item(LedgerModel, put.item))
    return out


def _load(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    def write(chunk: list[dict[str, Any]]) -> None:
        for i in range(0, len(chunk), 25):
            request = {table: [{"PutRequest": {"Item": it}} for it in chunk[i : i + 25]]}
            while request:
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    chunks = [items[i : i + 5000] for i in range(0, len(items), 5000)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, chunks))


class CountingStore:
    """The DynamoDB store, counting the items its queries return (what the clearing read)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.items = 0
        self.queries = 0
        self.gets = 0

    def get(self, table: str, key: Any) -> Any:
        self.gets += 1
        return self.inner.get(table, key)

    def query(self, table: str, hash_value: str, **kw: Any) -> Any:
        page = self.inner.query(table, hash_value, **kw)
        self.queries += 1
        # DynamoStore asks for one item more than the page (an exact has_more): that item is read twice
        self.items += len(page.items) + (1 if page.cursor else 0)
        return page

    def commit(self, writes: Any) -> None:
        self.inner.commit(writes)

    def batch_get(self, table: str, keys: Any) -> Any:
        return self.inner.batch_get(table, keys)


def run(n: int) -> dict[str, Any]:
    import boto3
    from treatfirst.adapters.crypto import LocalCipher
    from treatfirst.adapters.dynamo import DynamoStore, configure
    from treatfirst.adapters.objects import FolderObjects
    from treatfirst.adapters.schema import create_tables
    from treatfirst.domain.clock import FixedClock
    from treatfirst.domain.days import day_keys
    from treatfirst.domain.policy import example_policy
    from treatfirst.services import clearing
    from treatfirst.services.unit_of_work import Context

    client = boto3.client("dynamodb")
    prefix = "benchclear-"
    create_tables(client, prefix)
    configure(prefix)
    started = time.perf_counter()
    _load(client, f"{prefix}ledger", _items(n, DAY, 1) + _items(n // 5, DAY + timedelta(days=1), 2))
    loaded = time.perf_counter() - started
    policy = example_policy("xiamen")
    store = CountingStore(DynamoStore())
    ctx = Context(
        store=store,
        cipher=LocalCipher(b"b" * 32),
        clock=FixedClock(datetime(DAY.year, DAY.month, DAY.day, 17, 0, tzinfo=UTC)),
        policy=policy,
    )

    # Baseline first and last (DynamoDB Local warms up): the same entries read bare, no processing
    def bare() -> tuple[int, float]:
        began, count = time.perf_counter(), 0
        for key in day_keys(policy.city_code, DAY):
            start = None
            while True:
                page = client.query(
                    TableName=f"{prefix}ledger",
                    IndexName="by_day",
                    KeyConditionExpression="day_shard = :d",
                    ExpressionAttributeValues={":d": {"S": key}},
                    Limit=1001,
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                count += page["Count"]
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
        return count, time.perf_counter() - began

    bare_count, bare_before = bare()
    with tempfile.TemporaryDirectory() as folder:
        objects = FolderObjects(folder)
        began = time.perf_counter()
        result = clearing.ClearingResult()
        day = clearing.clear_date(ctx, objects, DAY, result)
        seconds = time.perf_counter() - began
        files = sum(1 for _ in objects.keys("clearing/"))
    _, bare_after = bare()
    bare_seconds = min(bare_before, bare_after)
    return {
        "entries_of_day": result.entries,
        "entries_other_day": n // 5,
        "bare_items": bare_count,
        "items_read": store.items,
        "gets": store.gets,
        "queries": store.queries,
        "items_read_per_entry": round((store.items + store.gets) / max(1, result.entries), 4),
        "clearing_seconds": round(seconds, 2),
        "bare_read_seconds": round(bare_seconds, 2),
        "clearing_to_bare_ratio": round(seconds / bare_seconds, 2) if bare_seconds else None,
        "parties": len(day.parties),
        "instructions": len(day.instructions),
        "files": files,
        "events": result.events,
        "load_seconds": round(loaded, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with DynamoDBLocal() as engine, environment(engine.endpoint):
        figures = run(args.entries)
    print(
        f"{figures['entries_of_day']} entries of the day ({figures['entries_other_day']} of the next left unread): "
        f"{figures['items_read']} index items read in {figures['queries']} queries and {figures['gets']} gets, "
        f"{figures['items_read_per_entry']} per entry; clearing {figures['clearing_seconds']} s, the same entries "
        f"read bare {figures['bare_read_seconds']} s (ratio {figures['clearing_to_bare_ratio']}); "
        f"{figures['parties']} parties, {figures['instructions']} instructions, {figures['files']} files"
    )
    print(json.dumps({"benchmark": "clearing", "engine": "dynamodb-local", **figures}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
