"""treatfirst-admin: operator commands for a local or deployed platform.

treatfirst-admin create-tables                      # tables of infra/tables.yaml (local stack)
treatfirst-admin register hospital city-hospital-1 "市第一人民医院"
treatfirst-admin register channel wechat-pay "微信支付"
treatfirst-admin check-policy path/to/city.yaml     # validate a policy file, print version and SHA-256
"""

from __future__ import annotations

import argparse
import json
import sys

from treatfirst.domain.errors import TreatFirstError
from treatfirst.domain.policy import load_policy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="treatfirst-admin", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-tables", help="create missing tables (uses TF_TABLE_PREFIX and the DynamoDB endpoint)")
    reg = sub.add_parser("register", help="register a caller key; the secret is printed once")
    reg.add_argument("kind", choices=("hospital", "channel", "operator"))
    reg.add_argument("id")
    reg.add_argument("name")
    chk = sub.add_parser("check-policy", help="validate a city policy file")
    chk.add_argument("path")
    args = parser.parse_args(argv)

    try:
        if args.command == "check-policy":
            policy = load_policy(args.path)
            print(json.dumps({"city_code": policy.city_code, "version": policy.version, "sha256": policy.sha256}))
            return 0
        from treatfirst.config import runtime

        rt = runtime()
        if args.command == "create-tables":
            from treatfirst.adapters.schema import create_tables

            created = create_tables(rt.store.client, rt.settings.table_prefix)  # type: ignore[attr-defined]
            print(json.dumps({"created": created}))
            return 0
        from treatfirst.services.callers import register
        from treatfirst.services.context import Context

        ctx = Context(store=rt.store, cipher=rt.cipher, clock=rt.clock, policy=rt.policy)
        made = register(ctx, None, kind=args.kind, principal_id=args.id, name=args.name)
        print(
            json.dumps(
                {
                    "key_id": made.key_id,
                    "secret": made.secret,
                    "kind": made.kind,
                    "id": made.principal_id,
                    "scopes": list(made.scopes),
                    "note": "the secret is shown once; store it now",
                },
                ensure_ascii=False,
            )
        )
        return 0
    except TreatFirstError as error:
        print(
            json.dumps({"error": {"code": error.code, "message": error.message, "field": error.field}}), file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
