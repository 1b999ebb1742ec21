"""Run TreatFirst on this machine: DynamoDB Local (data kept in .local/), tables, a city policy, demo callers,
the API (`chalice local`, 127.0.0.1:8000) and the docs (`mkdocs serve`, 127.0.0.1:8001). Ctrl-C stops it all.

    python tools/serve.py [--city lianyungang|xiamen] [--api-port 8000] [--docs-port 8001] [--no-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.ddblocal import DynamoDBLocal  # noqa: E402

LOCAL = ROOT / ".local"
PREFIX = "treatfirst-local-"
DEMO = (
    ("hospital", "demo-hospital", "示例医院 Demo Hospital"),
    ("channel", "demo-channel", "示例支付渠道 Demo Channel"),
    ("operator", "demo-operator", "示例运营方 Demo Operator"),
)


def local_key() -> Path:
    """The local master key for identifiers: made once, readable by this user only."""
    path = LOCAL / "local.key"
    if not path.exists():
        from treatfirst.adapters.crypto import LocalCipher

        LOCAL.mkdir(exist_ok=True)
        path.write_text(LocalCipher.new_key(), encoding="utf-8")
        path.chmod(0o600)
    return path


def demo_callers(store: Any) -> None:
    """Register the demo callers on the first start only; their secrets are printed this once."""
    from treatfirst.config import runtime
    from treatfirst.services.callers import register
    from treatfirst.services.context import Context
    from treatfirst.services.ports import CALLERS

    marker = LOCAL / "demo-callers.json"
    if marker.exists():
        known = json.loads(marker.read_text(encoding="utf-8"))
        if all(store.get(CALLERS, {"key_id": c["key_id"]}) for c in known):
            print("Demo callers already exist (their secrets were printed when they were made):")
            for c in known:
                print(f"  {c['kind']:9} {c['id']:14} key id {c['key_id']}")
            return
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
    made = [register(ctx, None, kind=kind, principal_id=pid, name=name) for kind, pid, name in DEMO]
    marker.write_text(
        json.dumps([{"kind": m.kind, "id": m.principal_id, "key_id": m.key_id} for m in made]), encoding="utf-8"
    )
    print("Demo callers registered. Their secrets are shown ONCE — keep them now:")
    for m in made:
        print(f"  {m.kind:9} {m.principal_id:14} key id {m.key_id}  secret {m.secret}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--city", default="lianyungang")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--docs-port", type=int, default=8001)
    parser.add_argument("--dynamodb-port", type=int, default=8002)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    LOCAL.mkdir(exist_ok=True)
    engine = DynamoDBLocal(port=args.dynamodb_port, data_dir=LOCAL / "dynamodb", quiet=True)
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
        engine.stop()
        print("\nStopped: API, docs and DynamoDB Local. Data stays in .local/dynamodb.")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": engine.endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1"),
        "TF_TABLE_PREFIX": PREFIX,
        "TF_POLICY": args.city,
        "TF_KEY_MODE": "local",
        "TF_LOCAL_KEY_FILE": str(local_key()),
    }
    os.environ.update(env)
    engine.start()
    print(f"DynamoDB Local ({engine.engine}) on {engine.endpoint}, data in .local/dynamodb")

    import boto3
    from treatfirst.adapters.schema import create_tables
    from treatfirst.config import runtime

    created = create_tables(boto3.client("dynamodb"), PREFIX)
    print(f"Tables: {len(created)} created" if created else "Tables: already there (data reused)")
    rt = runtime()
    print(
        f"City policy: {rt.policy.city_name_en} ({rt.policy.city_code}) version {rt.policy.version} "
        f"sha256 {rt.policy.sha256[:16]}…"
    )
    demo_callers(rt.store)

    bin_dir = Path(sys.executable).parent
    children.append(
        subprocess.Popen(
            [
                str(bin_dir / "chalice"),
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.api_port),
                "--stage",
                "local",
                "--no-autoreload",
            ],
            cwd=ROOT / "functions",
            env=env,
            start_new_session=True,
        )
    )
    if not args.no_docs and (ROOT / "mkdocs.yml").exists():
        children.append(
            subprocess.Popen(
                [str(bin_dir / "mkdocs"), "serve", "--dev-addr", f"127.0.0.1:{args.docs_port}", "--no-livereload"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        print(f"Docs: http://127.0.0.1:{args.docs_port}/")
    print(f"API:  http://127.0.0.1:{args.api_port}/v1/health   (spec: /v1/openapi.json)")
    print("Sign requests with treatfirst.client.TreatFirstClient (see README). Ctrl-C stops everything.")
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"a process stopped unexpectedly (exit {child.returncode}); stopping", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
