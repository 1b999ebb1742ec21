"""treatfirst-admin: operator commands for a local or deployed platform.

treatfirst-admin register hospital city-hospital-1 "市第一人民医院"   # a key; the secret is printed once
treatfirst-admin register channel wechat-pay "微信支付"
treatfirst-admin rotate key_... --reason "yearly rotation" [--previous-valid-seconds 86400]
treatfirst-admin revoke key_... --reason "contract ended"
treatfirst-admin create-tables                      # tables of infra/tables.yaml
treatfirst-admin check-policy path/to/city.yaml     # validate a policy file, print version and SHA-256
treatfirst-admin outbox [--account acc_...]         # SMS waiting to go out, or an account's messages and tasks
treatfirst-admin clock show                          # the test clock (local stack only)
treatfirst-admin clock advance --days 8 --reason "demo"   # move it forward, then run the scheduled functions
treatfirst-admin migrate collection-state           # one-off, after the upgrade that added the collection ladder
treatfirst-admin report --from 2026-11-01 --to 2026-11-30 --out report.html   # the operator report as one HTML file
treatfirst-admin register credit_platform city-credit "市公共信用信息平台"   # the credit platform's key
treatfirst-admin export verify [--pin SHA256] [--dir FOLDER]   # every delivery in the exports bucket and the chain
treatfirst-admin export run [--date 2026-11-25]     # deliver the closed days due (or re-run one: same bytes)
treatfirst-admin migrate ledger-days                # one-off, after the upgrade that added business dates to the ledger
treatfirst-admin migrate consent-scopes             # one-off, after the upgrade that checks re-consent at visits
treatfirst-admin migrate consent-keys               # one-off, after the upgrade whose export reads consents in batches

Which platform:
  - the local stack (`make serve`), with no settings: the stack running now (.local/running.json), or the
    city named by --city (.local/<city>/stack.json); .local is looked for from the current folder upwards
    and next to this package's checkout, or given with --local-dir;
  - a deployed stack, when TF_TABLE_PREFIX or TF_KEY_MODE is set: TF_TABLE_PREFIX (the TablePrefix output),
    TF_KEY_MODE=kms, TF_KMS_KEY_ID (DataKeyArn), TF_KMS_MAC_KEY_ID (BlindIndexKeyArn), TF_POLICY (the city),
    AWS_DEFAULT_REGION and AWS credentials allowed to use the data key and write the callers and audit tables.
Output is JSON on stdout; an error is one sentence on stderr (exit status 1: the setup, 2: the request refused).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from treatfirst.domain.errors import TreatFirstError
from treatfirst.domain.policy import load_policy

DEPLOYED_SETTINGS = ("TF_TABLE_PREFIX", "TF_KEY_MODE")
REMEDY_LOCAL = "start the local stack with `make serve` (or `python tools/serve.py`)"


class SetupError(Exception):
    """The platform cannot be reached or used as configured; the message is one sentence."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="treatfirst-admin", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--city", help="the local stack of this city (.local/<city>/), when not the running one")
    parser.add_argument("--local-dir", type=Path, help="where the local stack keeps its folders (default: .local)")
    parser.add_argument("--operator", help="who runs the command, for the audit log (default: your login name)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-tables", help="create missing tables (uses TF_TABLE_PREFIX and the DynamoDB endpoint)")
    reg = sub.add_parser("register", help="register a caller key; the secret is printed once")
    reg.add_argument("kind", choices=("hospital", "channel", "operator", "credit_platform"))
    reg.add_argument("id")
    reg.add_argument("name")
    rot = sub.add_parser("rotate", help="a new secret for a key; the previous one works until it expires")
    rot.add_argument("key_id")
    rot.add_argument("--reason", required=True)
    rot.add_argument("--previous-valid-seconds", type=int, default=None, help="default 86400; 0 ends it at once")
    rev = sub.add_parser("revoke", help="revoke a key (refused everywhere within 30 seconds)")
    rev.add_argument("key_id")
    rev.add_argument("--reason", required=True)
    chk = sub.add_parser("check-policy", help="validate a city policy file")
    chk.add_argument("path")
    box = sub.add_parser("outbox", help="SMS waiting to go out, or (--account) an account's messages and tasks")
    box.add_argument("--account", help="an account id (acc_...)")
    box.add_argument("--limit", type=int, default=100)
    clk = sub.add_parser("clock", help="the test clock of the local stack (sandboxes only; never in production)")
    clk_sub = clk.add_subparsers(dest="clock_command", required=True)
    clk_sub.add_parser("show", help="the platform's time and the offset")
    adv = clk_sub.add_parser("advance", help="move the clock forward, then run the scheduled functions")
    adv.add_argument("--days", type=int, default=0)
    adv.add_argument("--hours", type=int, default=0)
    adv.add_argument("--reason", required=True)
    mig = sub.add_parser("migrate", help="a one-off data migration after an upgrade that names one (idempotent)")
    mig.add_argument("name", choices=("collection-state", "ledger-days", "consent-scopes", "consent-keys"))
    rep = sub.add_parser("report", help="the operator report of business dates --from..--to as one HTML file")
    rep.add_argument("--from", dest="from_", required=True, help="first business date, YYYY-MM-DD")
    rep.add_argument("--to", required=True, help="last business date (a closed one), YYYY-MM-DD")
    rep.add_argument("--out", type=Path, required=True, help="the HTML file to write (self-contained: no script)")
    exp = sub.add_parser("export", help="the blacklist export: verify the deliveries and their chain, or run it")
    exp_sub = exp.add_subparsers(dest="export_command", required=True)
    ver = exp_sub.add_parser("verify", help="check every delivery's files, signature and the chain between them")
    ver.add_argument("--pin", help="SHA-256 of the public key the manifests must be signed with")
    ver.add_argument("--dir", type=Path, help="a folder laid out as the bucket (exports/blacklist/<date>/...)")
    ran = exp_sub.add_parser("run", help="deliver the closed days not delivered yet, or re-run one day (--date)")
    ran.add_argument("--date", help="a business date already delivered, to write again (the bytes must not change)")
    return parser


# ---- which platform ---------------------------------------------------------------------------------------------


def _local_dirs(given: Path | None) -> list[Path]:
    if given is not None:
        return [given]
    here = Path.cwd().resolve()
    found = [folder / ".local" for folder in (here, *here.parents)]
    checkout = Path(__file__).resolve().parents[2] / ".local"  # functions/treatfirst/cli.py in a checkout
    return [*found, checkout]


def _stack_file(city: str | None, local_dir: Path | None) -> Path:
    name = f"{city}/stack.json" if city else "running.json"
    for folder in _local_dirs(local_dir):
        if (folder / name).is_file():
            return folder / name
    if city:
        raise SetupError(
            f"no local stack for {city} was found (.local/{city}/stack.json): {REMEDY_LOCAL} --city {city}"
        )
    raise SetupError(
        "no local stack is running (.local/running.json not found): "
        + REMEDY_LOCAL
        + ", name a stopped one with --city, or set TF_TABLE_PREFIX, TF_KEY_MODE=kms, TF_KMS_KEY_ID and "
        "TF_KMS_MAC_KEY_ID for a deployed stack"
    )


def use_platform(city: str | None, local_dir: Path | None) -> str:
    """Put the settings of the chosen platform in the environment; returns a description for messages."""
    if any(os.environ.get(name) for name in DEPLOYED_SETTINGS) and city is None:
        return "the platform named by TF_TABLE_PREFIX"
    path = _stack_file(city, local_dir)
    try:
        stack = json.loads(path.read_text(encoding="utf-8"))
        environment = {str(k): str(v) for k, v in stack["environment"].items()}
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise SetupError(f"{path} is not a local stack description: {REMEDY_LOCAL} --fresh") from exc
    os.environ.pop("TF_LOCAL_KEY", None)  # the stack's key file, never a key left in the shell
    os.environ.update(environment)
    return f"the local stack of {stack.get('city', 'this city')}"


def _check_reachable() -> None:
    """Before any request: an endpoint that answers, credentials and a region (one sentence each, no retries)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        url = urlparse(endpoint)
        try:
            with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=3):
                pass
        except OSError as exc:
            raise SetupError(f"DynamoDB is not answering at {endpoint}: {REMEDY_LOCAL}") from exc
    import boto3

    session = boto3.Session()
    if session.region_name is None:
        raise SetupError("no AWS region is set: set AWS_DEFAULT_REGION (e.g. cn-north-1)")
    if session.get_credentials() is None:
        raise SetupError(
            "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "for an identity that may use the data key and write the callers and audit tables"
        )


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and contexts, and the `cause` PynamoDB's errors carry."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for following in (getattr(current, "cause", None), current.__cause__, current.__context__):
            if isinstance(following, BaseException):
                pending.append(following)


def explain(error: BaseException) -> str | None:
    """One sentence for the AWS and DynamoDB failures an operator can fix, or None."""
    prefix = os.environ.get("TF_TABLE_PREFIX", "treatfirst-local-")
    for cause in _causes(error):
        name = type(cause).__name__
        response = getattr(cause, "response", None)
        code = response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""
        if name == "NoCredentialsError" or code in ("UnrecognizedClientException", "InvalidSignatureException"):
            return "AWS did not accept the credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        if name == "NoRegionError":
            return "no AWS region is set: set AWS_DEFAULT_REGION (e.g. cn-north-1)"
        if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
            return f"DynamoDB cannot be reached ({name}): {REMEDY_LOCAL}, or check AWS_DEFAULT_REGION"
        if code == "ResourceNotFoundException":
            return (
                f"a table with the prefix {prefix!r} was not found: check TF_TABLE_PREFIX (the TablePrefix output), "
                "or create the local tables with `treatfirst-admin create-tables`"
            )
        if code in ("AccessDeniedException", "AccessDenied"):
            return f"AWS refused the request ({code}): the identity needs the data key and the callers and audit tables"
        if code in ("NotFoundException", "DisabledException", "InvalidKeyUsageException", "KMSInvalidStateException"):
            return f"the KMS key cannot be used ({code}): check TF_KMS_KEY_ID and TF_KMS_MAC_KEY_ID"
        if code:
            return f"AWS refused the request ({code})"
    return None


# ---- commands ---------------------------------------------------------------------------------------------------


def _verify_exports(args: argparse.Namespace) -> dict[str, Any]:
    """`export verify`: exit status 2 when a delivery or a link of the chain fails (the problems say which)."""
    from treatfirst.services import export

    if args.dir is not None:
        from treatfirst.adapters.objects import FolderObjects

        objects: Any = FolderObjects(args.dir)
    else:
        from treatfirst.config import runtime

        objects = runtime().objects
    verdict = export.verify(objects, pinned_key_sha256=args.pin)
    if not verdict.ok:
        raise ExportsBroken(verdict.as_dict())
    return verdict.as_dict()


class ExportsBroken(Exception):
    def __init__(self, verdict: dict[str, Any]) -> None:
        super().__init__(f"{len(verdict['problems'])} problem(s) in the exports: {verdict['problems'][0]}")
        self.verdict = verdict


def _run(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "check-policy":
        policy = load_policy(args.path)
        return {"city_code": policy.city_code, "version": policy.version, "sha256": policy.sha256}
    if args.command == "export" and args.export_command == "verify" and args.dir is not None:
        return _verify_exports(args)
    use_platform(args.city, args.local_dir)
    from treatfirst.config import runtime

    runtime.cache_clear()  # the settings just chosen
    rt = runtime()
    _check_reachable()
    if args.command == "create-tables":
        from treatfirst.adapters.schema import create_tables

        return {"created": create_tables(rt.store.client, rt.settings.table_prefix)}  # type: ignore[attr-defined]

    from treatfirst.services import callers
    from treatfirst.services.identity import Caller
    from treatfirst.services.unit_of_work import Context

    ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
    operator = args.operator or _login()
    actor = Caller(key_id="cli", kind="operator", principal_id=f"cli:{operator}", scopes=())
    if args.command == "register":
        made = callers.register(ctx, actor, kind=args.kind, principal_id=args.id, name=args.name)
        return {**made.body(), "note": "the secret is shown once; store it now"}
    if args.command == "rotate":
        overlap = (
            callers.DEFAULT_OVERLAP_SECONDS if args.previous_valid_seconds is None else args.previous_valid_seconds
        )
        made = callers.rotate(ctx, actor, args.key_id, reason=args.reason, previous_valid_seconds=overlap)
        return {**made.body(), "note": "the new secret is shown once; store it now"}
    if args.command == "outbox":
        return _outbox(ctx, args.account, args.limit)
    if args.command == "migrate":
        from treatfirst.services.migrations import MIGRATIONS

        return MIGRATIONS[args.name](ctx, rt.store).as_dict()
    if args.command == "export":
        from datetime import date

        from treatfirst.services import export

        if args.export_command == "verify":
            return _verify_exports(args)
        if export.why_not(ctx.policy):
            return export.run_nothing(ctx)
        if args.date:
            return export.export_window(ctx, rt.objects, rt.signer, date.fromisoformat(args.date)).as_dict()
        return export.run(ctx, rt.objects, rt.signer)
    if args.command == "clock":
        from treatfirst.services import testclock
        from treatfirst.services.identity import SCOPES
        from treatfirst.services.schedule import JOBS

        actor = Caller(key_id="cli", kind="operator", principal_id=f"cli:{operator}", scopes=SCOPES["operator"])
        if args.clock_command == "show":
            return testclock.state(ctx, actor)
        if args.days < 0 or args.hours < 0 or args.days > 3650:
            raise SetupError("--days (0-3650) and --hours move the clock forward only")
        seconds = args.days * 86400 + args.hours * 3600
        return testclock.advance(ctx, actor, seconds=seconds, reason=args.reason, jobs=JOBS)
    if args.command == "report":
        return _report(ctx, args.from_, args.to, args.out)
    assert args.command == "revoke"
    return callers.revoke(ctx, actor, args.key_id, reason=args.reason).body


def _outbox(ctx: Any, account: str | None, limit: int) -> dict[str, Any]:
    from treatfirst.services.outbox import QUEUE_SHARDS, message_view
    from treatfirst.services.ports import OUTBOX

    if account:
        page = ctx.store.query(OUTBOX, account, index="outbox_by_account", limit=limit, forward=False)
        return {"account_id": account, "items": [message_view(r) for r in page.items]}
    rows = []
    for shard in range(QUEUE_SHARDS):
        rows += ctx.store.query(OUTBOX, f"sms#{shard}", index="by_queue", limit=limit).items
    rows.sort(key=lambda r: r["created_at"])
    return {"waiting": [message_view(r) for r in rows[:limit]]}


def _report(ctx: Any, first: str, last: str, out: Path) -> dict[str, Any]:
    from treatfirst import report_html
    from treatfirst.services import reports

    start, end = reports.parse_day(first, "from"), reports.parse_day(last, "to")
    body = reports.report(ctx, start, end)
    out.write_text(report_html.render(body, city=ctx.policy.city_name), encoding="utf-8")
    return {
        "out": str(out),
        "from": body["from"],
        "to": body["to"],
        "lent_fen": body["lent"]["fen"],
        "past_due_fen": body["past_due"]["fen"],
    }


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = _run(args)
    except TreatFirstError as error:
        where = f" (field {error.field})" if error.field else ""
        print(f"treatfirst-admin: {error.code}: {error.message}{where}", file=sys.stderr)
        return 2
    except SetupError as error:
        print(f"treatfirst-admin: {error}", file=sys.stderr)
        return 1
    except ExportsBroken as broken:  # the verdict on stdout, one sentence on stderr, status 2
        print(json.dumps(broken.verdict, ensure_ascii=False))
        print(f"treatfirst-admin: {broken}", file=sys.stderr)
        return 2
    except Exception as error:  # never a traceback: one sentence an operator can act on
        from treatfirst.config import SettingsError

        if isinstance(error, SettingsError):
            print(f"treatfirst-admin: {error}", file=sys.stderr)
            return 1
        sentence = explain(error)
        if sentence is None and isinstance(error, OSError) and error.strerror:
            sentence = f"{error.filename or 'a file'}: {error.strerror}"
        if sentence is None:
            sentence = f"unexpected {type(error).__name__}; run again, and report it if it persists"
        print(f"treatfirst-admin: {sentence}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
