"""Benchmark: the blacklist export of one business day on DynamoDB Local, at two sizes.

For each size N: N persons listed on one business day (N "added" change rows in the blacklist table's sparse,
sharded change index, N accounts with their identifiers sealed, N credit-reporting consents on record). The export
of that day runs as the scheduled function runs it (change log read page by page, consent and identity per row,
files written in parts to a folder standing in for the bucket, markers committed in batches, manifest signed with a
local RSA key). Measured in the same run, with tracemalloc on for both:
- the export: seconds and peak traced memory;
- the baseline: merely reading the same N change rows (services.blacklist.changes), seconds and peak memory.
Printed per size, then ONE JSON object: the export/read time ratio at each size, and the peak memory at the small
size next to the large one (flat: the files are streamed, never held).

    python tools/bench_export.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
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


def _write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for i in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _load(client: Any, prefix: str, n: int, ctx: Any) -> None:
    """N listed persons: accounts (identifiers sealed as enrollment seals them), consents, "added" change rows."""
    from treatfirst.adapters.dynamo import MODELS, _serialize_item
    from treatfirst.services import blacklist
    from treatfirst.services.ports import ACCOUNTS, BLACKLIST, CONSENTS

    policy = ctx.policy
    consent = policy.consent("credit_reporting")
    basis = {"policy_version": policy.version, "policy_sha256": policy.sha256, "legal_basis": "示例依据"}
    accounts, consents, rows = [], [], []
    for i in range(n):
        account_id, record_id = f"acc_BENCH{i:021d}", f"blr_BENCH{i:021d}"
        change_id = f"blc_BENCH{i:021d}_00"
        accounts.append(_serialize_item(MODELS[ACCOUNTS], bench_account(ctx, account_id, i)))
        consents.append(
            _serialize_item(
                MODELS[CONSENTS],
                {
                    "account_id": account_id,
                    "consent_key": f"credit_reporting#cns_{i:026d}",
                    "kind": "credit_reporting",
                    "version": consent.version,
                    "accepted_at": "2026-01-01T00:00:00.000Z",
                },
            )
        )
        at = f"{DAY.isoformat()}T03:{(i // 60) % 60:02d}:{i % 60:02d}.000Z"
        rows.append(
            _serialize_item(
                MODELS[BLACKLIST],
                {
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
                    "change_day": blacklist.change_day(
                        policy.city_code, DAY.isoformat(), blacklist.change_shard(record_id)
                    ),
                    "change_seq": f"{at}#{change_id}",
                },
            )
        )
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = [(ACCOUNTS, accounts), (CONSENTS, consents), (BLACKLIST, rows)]
        chunks = [(t, items[i : i + 2500]) for t, items in jobs for i in range(0, len(items), 2500)]
        list(pool.map(lambda c: _write(client, f"{prefix}{c[0]}", c[1]), chunks))


def bench_account(ctx: Any, account_id: str, i: int) -> dict[str, Any]:
    """An account with its identifiers sealed by the city key (the "city" scheme identity_of reads)."""
    fields = {"name": f"测试{i}", "id_number": f"32070119800101{i % 10000:04d}", "phone": "13800138000"}
    stored = {"name": "name_enc", "id_number": "id_enc", "phone": "phone_enc"}
    sealed = {stored[k]: ctx.cipher.encrypt(v, context=f"account:{account_id}:{k}") for k, v in fields.items()}
    return {"account_id": account_id, "status": "active", "city_code": ctx.policy.city_code, **sealed}


def sources() -> tuple[Any, str]:
    """The export's own sources when the privacy services are there; otherwise stand-ins making the same reads (a
    Query of the account's consents; the identifiers opened with the city key, the "city" scheme's one decrypt per
    field)."""
    import importlib.util

    from treatfirst.services import export
    from treatfirst.services.ports import CONSENTS

    if importlib.util.find_spec("treatfirst.services.consents") and importlib.util.find_spec(
        "treatfirst.services.identity_data"
    ):
        return export.Sources(), "privacy services"

    def on_record(ctx: Any, account_id: str, kind: str) -> bool:
        items = ctx.store.query(CONSENTS, account_id, limit=100).items
        return any(i.get("kind") == kind and not i.get("withdrawn_at") for i in items)

    def identity_of(ctx: Any, account: Any) -> Any:
        fields = (("name", "name_enc"), ("id_number", "id_enc"))
        return {k: ctx.cipher.decrypt(account[f], context=f"account:{account['account_id']}:{k}") for k, f in fields}

    return export.Sources(on_record=on_record, identity_of=identity_of), "stand-ins (same reads)"


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
        used, consent_and_identity = sources()
        result, export_seconds, export_peak = _traced(lambda: export.export_window(ctx, objects, signer, DAY, used))
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
        "consent_and_identity": consent_and_identity,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    with DynamoDBLocal() as engine, environment(engine.endpoint):
        runs = [run_size(n) for n in args.sizes]
    for run in runs:
        print(
            f"{run['records']:>7} records: export {run['export_seconds']} s, peak {run['export_peak_mib']} MiB "
            f"({run['files_bytes'] / 2**20:.1f} MiB of files, verified {run['verified']}); "
            f"merely reading them {run['read_seconds']} s, peak {run['read_peak_mib']} MiB; "
            f"ratio {run['export_to_read_seconds']}"
        )
    small, large = runs[0], runs[-1]
    summary = {
        "benchmark": "blacklist_export",
        "engine": "dynamodb-local",
        "runs": runs,
        "size_ratio": round(large["records"] / small["records"], 2),
        "export_seconds": large["export_seconds"],
        "export_to_read_seconds": large["export_to_read_seconds"],
        "export_time_ratio": round(large["export_seconds"] / small["export_seconds"], 2),
        "peak_mib_small": small["export_peak_mib"],
        "peak_mib_large": large["export_peak_mib"],
        "peak_memory_ratio": round(large["export_peak_mib"] / small["export_peak_mib"], 2),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
