"""Benchmark: the blacklist export of one business day on DynamoDB Local, at two sizes.

For each size N: N persons listed on one business day (N "added" change rows in the blacklist table's sparse,
sharded change index, N accounts with their identifiers sealed with a data key of their own, N wrapped data keys,
N credit-reporting consents on record). The export of that day runs as the scheduled function runs it (the change
log read page by page; for each page of 100 rows the markers, accounts, consents and data keys read with
BatchGetItem; files written in parts to a folder standing in for the bucket; markers committed a page at a time;
manifest signed with a local RSA key). Measured in the same run, with tracemalloc on for both:
- the export: seconds, peak traced memory and DynamoDB requests per delivered row;
- the baseline: merely reading the same N change rows (services.blacklist.changes), seconds and peak memory.
Printed as a table, then ONE JSON object on a line of its own: the export/read time ratio, and the peak memory at
the large size over the small one (flat: a page at a time, the files streamed, never held).

    python tools/bench_export.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.ddblocal import DynamoDBLocal, environment  # noqa: E402

DAY = date(2026, 11, 25)  # the business day exported; the clock is the next morning
SLICE = 1000  # persons built and written by one loading task
LOAD_THREADS = 4


def _write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 items a request; what the engine leaves unprocessed is sent again after a short pause."""
    for i in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
        for attempt in range(100):
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                break
            time.sleep(min(1.0, 0.01 * 2**attempt))
        else:
            raise RuntimeError(f"{table}: items still unprocessed")


def _load(client: Any, prefix: str, n: int, ctx: Any) -> None:
    """N listed persons, written as the platform writes them: accounts with their identifiers sealed with a data key
    of their own (the pointer to their latest consent answers included), the wrapped data keys, a credit-reporting
    consent each, and one "added" change row each in the blacklist's sparse, sharded change index. Written with
    BatchWriteItem from parallel threads, a slice of persons at a time (memory stays bounded while loading)."""
    from treatfirst.adapters.dynamo import MODELS, _serialize_item
    from treatfirst.services import blacklist, identity_data
    from treatfirst.services.ports import ACCOUNTS, BLACKLIST, CONSENTS, DATA_KEYS

    policy = ctx.policy
    consent = policy.consent("credit_reporting")
    basis = {"policy_version": policy.version, "policy_sha256": policy.sha256, "legal_basis": "示例依据"}

    def person(i: int) -> dict[str, dict[str, Any]]:
        account_id, record_id = f"acc_BENCH{i:021d}", f"blr_BENCH{i:021d}"
        change_id = f"blc_BENCH{i:021d}_00"
        consent_key = f"credit_reporting#cns_{i:026d}"
        who = identity_data.Identity(name=f"测试{i}", id_number=f"32070119800101{i % 10000:04d}", phone="13800138000")
        sealed, key_put = identity_data.seal_identity(ctx, account_id, who)
        account = {
            "account_id": account_id,
            "status": "active",
            "city_code": policy.city_code,
            **sealed,
            "consent_keys": {"credit_reporting": consent_key},
        }
        answer = {
            "account_id": account_id,
            "consent_key": consent_key,
            "kind": "credit_reporting",
            "version": consent.version,
            "accepted_at": "2026-01-01T00:00:00.000Z",
        }
        at = f"{DAY.isoformat()}T03:{(i // 60) % 60:02d}:{i % 60:02d}.000Z"
        row = {
            "item_id": change_id,
            "kind": "change",
            "change_id": change_id,
            "change_kind": "added",
            "record_id": record_id,
            "account_id": account_id,
            "city_code": policy.city_code,
            "business_date": DAY.isoformat(),
            "at": at,
            "reason": "overdue_unpaid",
            "amount_fen": 35000 + i % 1000,
            "bills": [{"bill_id": f"bil_{i}", "amount_fen": 35000, "due_at": "2026-08-01T23:59:59+08:00"}],
            "basis": basis,
            "listed_at": "2026-11-01T02:00:00.000Z",
            "valid_until": "2029-10-31",
            "change_day": blacklist.change_day(policy.city_code, DAY.isoformat(), blacklist.change_shard(record_id)),
            "change_seq": f"{at}#{change_id}",
        }
        return {ACCOUNTS: account, DATA_KEYS: key_put.item, CONSENTS: answer, BLACKLIST: row}

    def load_slice(start: int) -> None:
        people = [person(i) for i in range(start, min(n, start + SLICE))]
        for table in (ACCOUNTS, DATA_KEYS, CONSENTS, BLACKLIST):
            items = [_serialize_item(MODELS[table], p[table]) for p in people]
            _write(client, f"{prefix}{table}", items)

    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        list(pool.map(load_slice, range(0, n, SLICE)))


def _traced(run: Any) -> tuple[Any, float, int]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        result = run()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, seconds, peak


class Counting:
    """The DynamoDB store, counting the requests the export makes (a batch read of k keys is ceil(k/100))."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.requests = inner, 0

    def get(self, table: str, key: Any) -> Any:
        self.requests += 1
        return self.inner.get(table, key)

    def query(self, table: str, hash_value: str, **kw: Any) -> Any:
        self.requests += 1
        return self.inner.query(table, hash_value, **kw)

    def batch_get(self, table: str, keys: Any) -> Any:
        self.requests += -(-len(keys) // 100)
        return self.inner.batch_get(table, keys)

    def commit(self, writes: Any) -> None:
        self.requests += 1
        self.inner.commit(writes)


def run_size(n: int) -> dict[str, Any]:
    import boto3
    from treatfirst.adapters.crypto import LocalCipher
    from treatfirst.adapters.dynamo import DynamoStore, configure
    from treatfirst.adapters.objects import FolderObjects
    from treatfirst.adapters.schema import create_tables
    from treatfirst.adapters.signing import LocalSigner
    from treatfirst.domain.clock import FixedClock
    from treatfirst.domain.policy import example_policy
    from treatfirst.services import blacklist, export
    from treatfirst.services.unit_of_work import Context

    client = boto3.client("dynamodb")
    prefix = f"bexp{n}-"
    create_tables(client, prefix)
    configure(prefix)
    ctx = Context(
        store=DynamoStore(),
        cipher=LocalCipher(b"b" * 32),
        clock=FixedClock(datetime(DAY.year, DAY.month, DAY.day, 17, 0, tzinfo=UTC)),  # 01:00 the next day in the city
        policy=example_policy("lianyungang"),
    )
    started = time.perf_counter()
    _load(client, prefix, n, ctx)
    loaded = time.perf_counter() - started

    def read_only() -> int:
        rows = blacklist.changes(ctx, city_code=ctx.policy.city_code, from_date=DAY, to_date=DAY + timedelta(days=1))
        return sum(1 for _ in rows)

    rows, read_seconds, read_peak = _traced(read_only)
    signer = LocalSigner(LocalSigner.new_key_pem())
    with tempfile.TemporaryDirectory() as folder:
        objects = FolderObjects(folder)
        counting = Counting(ctx.store)
        ctx.store = counting
        result, export_seconds, export_peak = _traced(lambda: export.export_window(ctx, objects, signer, DAY))
        ctx.store = counting.inner
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        verdict = export.verify(objects)
    return {
        "records": n,
        "rows_read": rows,
        "added": result.counts["added"],
        "withheld": sum(result.withheld.values()),
        "verified": verdict.ok,
        "files_bytes": size,
        "export_seconds": round(export_seconds, 2),
        "export_peak_mib": round(export_peak / 2**20, 2),
        "read_seconds": round(read_seconds, 2),
        "read_peak_mib": round(read_peak / 2**20, 2),
        "export_to_read_seconds": round(export_seconds / read_seconds, 2) if read_seconds else None,
        "load_seconds": round(loaded, 1),
        "export_requests": counting.requests,
        "export_requests_per_row": round(counting.requests / max(1, result.counts["added"]), 3),
    }


COLUMNS = (
    ("records", "records"),
    ("export_seconds", "export s"),
    ("export_peak_mib", "export peak MiB"),
    ("read_seconds", "read s"),
    ("read_peak_mib", "read peak MiB"),
    ("export_to_read_seconds", "export/read"),
    ("export_requests_per_row", "requests/row"),
    ("load_seconds", "load s"),
)


def table(runs: list[dict[str, Any]]) -> str:
    widths = [max(len(title), *(len(str(r[key])) for r in runs)) for key, title in COLUMNS]
    lines = [" | ".join(title.rjust(w) for (_, title), w in zip(COLUMNS, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(r[key]).rjust(w) for (key, _), w in zip(COLUMNS, widths, strict=True)) for r in runs]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    with DynamoDBLocal() as engine, environment(engine.endpoint):
        runs = [run_size(n) for n in args.sizes]
        name = engine.engine
    print(table(runs))
    small, large = runs[0], runs[-1]
    summary = {
        "benchmark": "blacklist_export",
        "engine": name,
        "cpus": os.cpu_count(),
        "load_average_at_start": round(load_before, 2),
        "runs": runs,
        "size_ratio": round(large["records"] / small["records"], 2),
        "export_seconds": large["export_seconds"],
        "read_seconds": large["read_seconds"],
        "export_to_read_seconds": large["export_to_read_seconds"],
        "export_time_ratio": round(large["export_seconds"] / small["export_seconds"], 2),
        "peak_mib_small": small["export_peak_mib"],
        "peak_mib_large": large["export_peak_mib"],
        "peak_memory_ratio": round(large["export_peak_mib"] / small["export_peak_mib"], 2),
        "export_requests_per_row": large["export_requests_per_row"],
        "all_verified": all(r["verified"] for r in runs),
        "bench_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
