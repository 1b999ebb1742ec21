"""The scheduled erasure: a person who left is erased `privacy.retention.identity_days_after_close` days later.

A withdrawal (services/enrollment.withdraw, or withdrawing a necessary consent) marks the account's data key item
with `erase_shard` and `erase_on` (a UTC date): a sparse, sharded index (`by_erase_on`) holds only those items, so
the daily run reads what is due and nothing else (no scan). Each due account is crypto-shredded in one transaction
(services/rights.erase): its data key deleted, identifiers, masked forms and blind indexes removed, audited. A
rerun finds nothing more to do; an account that came back (enrolled again has a new account) is untouched.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from treatfirst.domain.errors import TreatFirstError
from treatfirst.services.ports import ACCOUNTS, DATA_KEYS, Item, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

ERASE_SHARDS = 4
_PAGE = 100


def erase_shard(account_id: str) -> str:
    return str(hashlib.sha256(account_id.encode()).digest()[0] % ERASE_SHARDS)


def erase_after(ctx: Context) -> timedelta:
    """How long after leaving a person's identity is kept (the city policy)."""
    return timedelta(days=ctx.policy.privacy.identity_days_after_close)


def schedule_erasure(ctx: Context, account: Item) -> list[Write]:
    """The write that puts a leaving account's data key on the erasure index (none for the older key scheme)."""
    if account.get("key_scheme") != "dk1":
        return []
    erase_on = (ctx.clock.now() + erase_after(ctx)).date().isoformat()
    return [
        Update(
            DATA_KEYS,
            {"account_id": account["account_id"]},
            set={"erase_shard": erase_shard(account["account_id"]), "erase_on": erase_on},
        )
    ]


def purge(ctx: Context) -> dict[str, Any]:
    """Erase every account whose erasure date has come, shard by shard, reading only the due index entries."""
    from treatfirst.services.rights import erase, redact_messages

    today = ctx.clock.now().date().isoformat()
    erased = skipped = 0
    for shard in range(ERASE_SHARDS):
        start = None
        while True:
            page = ctx.store.query(DATA_KEYS, str(shard), index="by_erase_on", limit=_PAGE, start=start, until=today)
            for key_item in page.items:
                account = ctx.store.get(ACCOUNTS, {"account_id": key_item["account_id"]})
                if account is None or account.get("status") != "withdrawn":
                    skipped += 1  # nothing to erase here: take it off the index
                    off = Update(DATA_KEYS, {"account_id": key_item["account_id"]}, remove=["erase_shard", "erase_on"])
                    ctx.commit([off])
                    continue
                try:
                    ctx.commit(
                        [
                            *redact_messages(ctx, account["account_id"]),
                            *erase(account, ctx.now_text()),
                            audit(ctx, None, f"account#{account['account_id']}", "privacy.erased_on_schedule"),
                        ]
                    )
                    erased += 1
                except TreatFirstError:
                    skipped += 1  # changed meanwhile; the next run sees it again if it is still due
            if page.cursor is None:
                break
            start = page.cursor
    return {"erased": erased, "skipped": skipped, "through": today}
