"""Run TreatFirst on this machine: DynamoDB Local, tables, one city's policy, demo callers, the API
(`chalice local`) and the docs (`mkdocs serve`). Ctrl-C stops it all.

    python tools/serve.py [--city lianyungang|xiamen] [--api-port 8000] [--docs-port 8001]
                          [--dynamodb-port 8002] [--fresh] [--no-docs]

The city chosen is the city served: the API process gets TF_POLICY=<city> and the rest of its settings
explicitly in its environment (functions/.chalice/config.json sets neither the policy nor the table prefix).

Each city has its own data folder, so switching city never mixes two cities' data:

    .local/<city>/dynamodb/           DynamoDB Local's data (kept across restarts)
    .local/<city>/local.key           the local master key for personal identifiers (base64 of 32 bytes), 0600
    .local/<city>/demo-callers.json   the demo callers' kinds, ids, key ids and secrets, 0600; printed at each start
    .local/<city>/exports/            the files the exports bucket holds on AWS (exports/blacklist/..., clearing/...)
    .local/<city>/export-signing.pem  the local RSA key signing export manifests (KMS holds it on AWS), 0600
    .local/<city>/stack.json          how to reach this city's local stack (written at start, see below)
    .local/running.json               a copy of stack.json of the stack running now, removed when it stops

`--fresh` deletes .local/<city>/ first (data, key and demo keys) and starts from nothing.

stack.json is what other local tools (e.g. `treatfirst-admin`) read to work against the local stack with no extra
setup: {"city", "api_url", "dynamodb_endpoint", "data_dir", "pid", "environment"}, where "environment" holds the
exact settings the API runs with: AWS_ENDPOINT_URL_DYNAMODB (the DynamoDB Local endpoint, e.g.
http://127.0.0.1:8002), dummy AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, TF_TABLE_PREFIX,
TF_POLICY, TF_KEY_MODE=local, TF_LOCAL_KEY_FILE (the absolute path of .local/<city>/local.key), TF_EXPORTS_DIR (the
absolute path of .local/<city>/exports), TF_EXPORT_SIGNING_KEY_FILE (.local/<city>/export-signing.pem) and
TF_TEST_CLOCK=1
(the test clock: POST /v1/test-clock/advance, `treatfirst-admin clock advance`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from tools.ddblocal import DynamoDBLocal  # noqa: E402

LOCAL = ROOT / ".local"
PREFIX = "treatfirst-local-"
# The settings the API runs with, and what stack.json hands to other local tools.
STACK_SETTINGS = (
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "TF_TABLE_PREFIX",
    "TF_POLICY",
    "TF_KEY_MODE",
    "TF_LOCAL_KEY_FILE",
    "TF_EXPORTS_DIR",
    "TF_EXPORT_SIGNING_KEY_FILE",
    "TF_TEST_CLOCK",
    "TF_WEBHOOK_LOOPBACK",
)
DEMO = (
    ("hospital", "demo-hospital", "示例医院 Demo Hospital"),
    ("channel", "demo-channel", "示例支付渠道 Demo Channel"),
    ("operator", "demo-operator", "示例运营方 Demo Operator"),
)


def shown(path: Path) -> str:
    """A path as the user typed it: relative to the checkout when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def write_private(path: Path, text: str) -> None:
    """Write a file only this user can read (0600), created with that mode so it is never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    path.chmod(0o600)


def local_key(folder: Path) -> Path:
    """The city's local master key for identifiers: made once, readable by this user only."""
    path = folder / "local.key"
    if not path.exists():
        from treatfirst.adapters.crypto import LocalCipher

        write_private(path, LocalCipher.new_key())
    path.chmod(0o600)
    return path


def export_signing_key(folder: Path) -> Path:
    """The city's local key signing export manifests (KMS holds it on AWS): made once, readable by this user only."""
    path = folder / "export-signing.pem"
    if not path.exists():
        from treatfirst.adapters.signing import LocalSigner

        write_private(path, LocalSigner.new_key_pem().decode())
    path.chmod(0o600)
    return path


def demo_callers(folder: Path, store: Any) -> list[dict[str, str]]:
    """The demo callers of this city: registered on the first start, their secrets kept in the city's folder
    (readable by this user only) so every start can show them again."""
    from treatfirst.config import runtime
    from treatfirst.services.callers import register
    from treatfirst.services.ports import CALLERS
    from treatfirst.services.unit_of_work import Context

    saved = folder / "demo-callers.json"
    if saved.exists():
        known = json.loads(saved.read_text(encoding="utf-8"))
        if all("secret" in c and store.get(CALLERS, {"key_id": c["key_id"]}) for c in known):
            saved.chmod(0o600)
            return list(known)
    rt = runtime()
    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
    from treatfirst.domain.errors import TreatFirstError

    try:
        made = [register(ctx, None, kind=kind, principal_id=pid, name=name) for kind, pid, name in DEMO]
    except TreatFirstError as refused:
        raise SystemExit(
            f"The demo callers exist in {shown(folder)} but their keys in {shown(saved)} are gone ({refused.code}); "
            "start afresh with FRESH=1 (make serve) or --fresh (tools/serve.py)."
        ) from None
    known = [{"kind": m.kind, "id": m.principal_id, "key_id": m.key_id, "secret": m.secret} for m in made]
    write_private(saved, json.dumps(known, ensure_ascii=False, indent=2) + "\n")
    return known


def stack_description(args: argparse.Namespace, folder: Path, env: dict[str, str], endpoint: str) -> dict[str, Any]:
    return {
        "city": args.city,
        "api_url": f"http://127.0.0.1:{args.api_port}",
        "dynamodb_endpoint": endpoint,
        "data_dir": str(folder),
        "pid": os.getpid(),
        "environment": {k: env[k] for k in STACK_SETTINGS},
    }


def served_policy(api_url: str, api: subprocess.Popen[bytes], timeout: float = 60.0) -> dict[str, Any]:
    """The policy stamp the API process answers with on /v1/health, once it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and api.poll() is None:
        with (
            contextlib.suppress(OSError, ValueError),
            urllib.request.urlopen(f"{api_url}/v1/health", timeout=2) as answer,  # noqa: S310 - loopback
        ):
            return dict(json.loads(answer.read()))
        time.sleep(0.3)
    return {}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from treatfirst.domain.policy import POLICY_DIR

    cities = sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--city", default="lianyungang", choices=cities, help="the example city to serve")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--docs-port", type=int, default=8001)
    parser.add_argument("--dynamodb-port", type=int, default=8002)
    parser.add_argument("--fresh", action="store_true", help="delete .local/<city>/ first and start from nothing")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--local-dir", type=Path, default=LOCAL, help="where the per-city folders live (.local)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    local: Path = args.local_dir.resolve()
    folder, running = local / args.city, local / "running.json"
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
        print(f"Fresh start: deleted {shown(folder)}/ (data, local key, demo keys)")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # keys and demo secrets inside: this user only
    if (local / "dynamodb").exists():
        print(
            f"Note: .local/dynamodb is an older, single-folder layout no longer used; data now lives per city in "
            f"{shown(folder)}/. Delete .local/dynamodb when you no longer need it."
        )

    engine = DynamoDBLocal(port=args.dynamodb_port, data_dir=folder / "dynamodb", quiet=True)
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
        engine.stop()
        with contextlib.suppress(FileNotFoundError, ValueError):
            if json.loads(running.read_text(encoding="utf-8")).get("pid") == os.getpid():
                running.unlink()
        print(f"\nStopped: API, docs and DynamoDB Local. {args.city}'s data stays in {shown(folder)}/.")
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
        "TF_LOCAL_KEY_FILE": str(local_key(folder)),
        "TF_EXPORTS_DIR": str(folder / "exports"),  # the exports bucket's stand-in
        "TF_EXPORT_SIGNING_KEY_FILE": str(export_signing_key(folder)),
        "TF_TEST_CLOCK": "1",  # the local stack has the test clock (POST /v1/test-clock/advance)
        "TF_WEBHOOK_LOOPBACK": "1",  # webhook endpoints may be http://127.0.0.1:<port>/ (a receiver on this machine)
    }
    env.pop("TF_LOCAL_KEY", None)  # the key file of this city, never a key left in the shell
    os.environ.clear()
    os.environ.update(env)
    engine.start()
    print(f"DynamoDB Local ({engine.engine}) on {engine.endpoint}, data in {shown(folder)}/dynamodb")

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
    callers = demo_callers(folder, rt.store)
    from treatfirst.services import reports
    from treatfirst.services.unit_of_work import Context

    # the operator reports begin now (as the hourly schedule makes them begin on AWS): a no-op on a restart
    reports.roll_up(Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy))
    description = stack_description(args, folder, env, engine.endpoint)
    text = json.dumps(description, ensure_ascii=False, indent=2) + "\n"
    write_private(folder / "stack.json", text)
    write_private(running, text)

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
    served = served_policy(description["api_url"], children[0])
    if served.get("policy_sha256") != rt.policy.sha256:
        print(f"The API serves policy {served} instead of {args.city} ({rt.policy.stamp}); stopping", file=sys.stderr)
        stop()
    print(f"API:  {description['api_url']}/v1/health   (spec: /v1/openapi.json)   city: {args.city}")
    print(f"Demo callers (kept in {shown(folder / 'demo-callers.json')}, readable by you only):")
    for c in callers:
        print(f"  {c['kind']:9} {c['id']:14} key id {c['key_id']}  secret {c['secret']}")
    print("Sign requests with treatfirst.client.TreatFirstClient (see README). Ctrl-C stops everything.")
    while True:
        for child in children:
            if child.poll() is not None:
                print(f"a process stopped unexpectedly (exit {child.returncode}); stopping", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
