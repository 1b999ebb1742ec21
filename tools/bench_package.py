"""Benchmark: the deployment zip's size, and the cold import time of the packaged handler next to
`import boto3` alone, each the median of fresh, isolated interpreters (as on Lambda), as a ratio.

    python tools/bench_package.py [--region cn-north-1] [--runs 15]

Targets: zip under 10 MB; ratio at most 1.5.
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
print((time.perf_counter() - started) * 1000)
"""


def cold_import_ms(code: Path, runtime: Path, module: str) -> float:
    """One fresh interpreter: isolated (-I), without site-packages (-S), importing one module."""
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", TIMER, str(code), str(runtime), module],
        capture_output=True,
        text=True,
        check=True,
        cwd=code,
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
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        zip_path = tmp / "build" / "package" / "deployment.zip"
        code = tmp / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(code)
        runtime = lambda_runtime_dir(tmp)
        handler, boto3 = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            handler.append(cold_import_ms(code, runtime, "app"))
            boto3.append(cold_import_ms(code, runtime, "boto3"))
        size_mb = zip_path.stat().st_size / 2**20
        med_handler, med_boto3 = statistics.median(handler), statistics.median(boto3)
        print(f"deployment.zip: {size_mb:.2f} MB (target < 10 MB)")
        print(
            f"cold import, median of {args.runs} fresh processes each: packaged handler (app) {med_handler:.1f} ms, "
            f"import boto3 alone {med_boto3:.1f} ms"
        )
        print(f"ratio handler / boto3: {med_handler / med_boto3:.2f} (target <= 1.5)")
        print(
            json.dumps(
                {
                    "zip_mb": round(size_mb, 2),
                    "handler_import_ms": round(med_handler, 1),
                    "boto3_import_ms": round(med_boto3, 1),
                    "ratio": round(med_handler / med_boto3, 3),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
