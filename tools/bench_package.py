"""Benchmark: the deployment zip's size, and the cold import time of the packaged handler next to
`import boto3` alone, each the median of fresh, isolated interpreters (as on Lambda), as a ratio.

    python tools/bench_package.py [--region cn-north-1] [--runs 15]

Targets: zip at most 3 MB; handler import at most 0.7 x `import boto3`; and the handler import plus what the
first invocation builds before its first AWS call (`treatfirst.config.runtime()` in kms mode: the PynamoDB
models with botocore, the KMS cipher, the packaged policy) at most 1.3 x the same boto3 median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.lambda_runtime import lambda_runtime_dir  # noqa: E402

TIMER = """
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
started = time.perf_counter()
__import__(sys.argv[3])
if sys.argv[4] == "first-call":
    from treatfirst.config import runtime
    runtime()
print((time.perf_counter() - started) * 1000)
"""

# The environment the template gives the functions (key ARNs are placeholders: no AWS call is made).
LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": "cn-north-1",
    "TF_TABLE_PREFIX": "treatfirst-320700-prod-",
    "TF_POLICY": "lianyungang",
    "TF_KEY_MODE": "kms",
    "TF_KMS_KEY_ID": "arn:aws-cn:kms:cn-north-1:111122223333:key/00000000-0000-0000-0000-000000000001",
    "TF_KMS_MAC_KEY_ID": "arn:aws-cn:kms:cn-north-1:111122223333:key/00000000-0000-0000-0000-000000000002",
}


def cold_import_ms(code: Path, runtime: Path, module: str, mode: str = "import", city: str = "lianyungang") -> float:
    """One fresh interpreter: isolated (-I), without site-packages (-S), importing one module."""
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", TIMER, str(code), str(runtime), module, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=code,
        env={**LAMBDA_ENV, "TF_POLICY": city},
    )
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--region", default="cn-north-1")
    parser.add_argument("--city", default="lianyungang")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "tools" / "package.py"),
                "--region",
                args.region,
                "--city",
                args.city,
                "--out",
                str(tmp / "build"),
                "--example",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        zip_path = tmp / "build" / "package" / "deployment.zip"
        code = tmp / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(code)
        runtime = lambda_runtime_dir(tmp)
        handler: list[float] = []
        boto3: list[float] = []
        first_call: list[float] = []
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            handler.append(cold_import_ms(code, runtime, "app"))
            boto3.append(cold_import_ms(code, runtime, "boto3"))
            first_call.append(cold_import_ms(code, runtime, "app", "first-call", args.city))
        size_mb = zip_path.stat().st_size / 2**20
        med_handler, med_boto3 = statistics.median(handler), statistics.median(boto3)
        med_first = statistics.median(first_call)
        print(f"deployment.zip: {size_mb:.2f} MB (target <= 3 MB)")
        print(
            f"cold import, median of {args.runs} fresh processes each: packaged handler (app) {med_handler:.1f} ms, "
            f"import boto3 alone {med_boto3:.1f} ms"
        )
        print(f"ratio handler / boto3: {med_handler / med_boto3:.2f} (target <= 0.7)")
        print(
            f"handler + first-invocation runtime (PynamoDB/botocore, KMS cipher, policy) "
            f"{med_first:.1f} ms, {med_first / med_boto3:.2f} x boto3 (target <= 1.3)"
        )
        print(
            json.dumps(
                {
                    "zip_mb": round(size_mb, 2),
                    "handler_import_ms": round(med_handler, 1),
                    "boto3_import_ms": round(med_boto3, 1),
                    "ratio": round(med_handler / med_boto3, 3),
                    "first_call_ms": round(med_first, 1),
                    "first_call_ratio": round(med_first / med_boto3, 3),
                    "runs": args.runs,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
