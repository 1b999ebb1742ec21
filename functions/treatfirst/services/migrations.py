"""One-off data migrations, run by an operator with `treatfirst-admin migrate <name>` after a deployment that needs
one. Each is idempotent (an item already migrated is left alone) and safe to run while the platform serves: every
write re-checks, in the same conditional write, that the item did not change since it was read, and a changed item
is read again. They are the only code that scans a table.

`collection-state`: accounts enrolled before the collection ladder have no `unpaid` map, so payments and refunds
could not keep it and the sweep never saw them. The migration rebuilds the map from the account's bills (the unpaid
ones, with their local due dates and what is still owed) and puts the account on the next sweep date; the sweep
then applies the ladder from the earliest due date, catching up like after an outage.

`ledger-days`: ledger entries written before entries carried their business date get it, and their per-day index
key and parties where who made them tells (see `ledger_days`), so the daily clearing and reconciliation can read them.

`consent-scopes`: accounts enrolled before a visit checked for re-consent get the scopes of their necessary consents
and notices from their consent records (see `consent_scopes`).

`consent-keys`: accounts enrolled before accounts named their latest consent answers get that pointer from their
consent records (see `consent_keys`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from treatfirst.domain.days import business_date, day_key, day_shard_of
from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError
from treatfirst.domain.ledger import DAILY_KINDS
from treatfirst.services.collection import look_again, unpaid_entry
from treatfirst.services.paging import every
from treatfirst.services.ports import ACCOUNTS, BILLS, DATA_KEYS, LEDGER, Item, Put, Scannable, Update, Write
from treatfirst.services.records import FUND_PREFIX, audit
from treatfirst.services.unit_of_work import Context

# What a bill-issuing, paying or refunding write changes on the account: the guard of the migration's write.
_GUARD = ("owed_fen", "emergency_owed_fen", "held_fen", "emergency_held_fen")


@dataclass
class MigrationResult:
    name: str
    scanned: int = 0
    migrated: int = 0
    already: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _accounts(store: Scannable, page_size: int) -> Iterator[Item]:
    start = None
    while True:
        page = store.scan(ACCOUNTS, limit=page_size, start=start)
        yield from (i for i in page.items if str(i["account_id"]).startswith("acc_"))
        if page.cursor is None:
            return
        start = page.cursor


def _unpaid_bills(ctx: Context, account_id: str) -> dict[str, Any]:
    unpaid: dict[str, Any] = {}
    for bill in every(ctx.store, BILLS, account_id, index="by_account"):
        if bill["status"] in ("issued", "overdue") and bill["outstanding_fen"] > 0:
            unpaid[bill["bill_id"]] = unpaid_entry(ctx, bill) | (
                {"overdue": True} if bill["status"] == "overdue" else {}
            )
    return unpaid


def collection_state(ctx: Context, store: Scannable, *, page_size: int = 100) -> MigrationResult:
    result = MigrationResult("collection-state")
    for account in _accounts(store, page_size):
        result.scanned += 1
        for _attempt in range(3):
            if "unpaid" in account:
                result.already += 1
                break
            try:
                _migrate_one(ctx, account)
                result.migrated += 1
                break
            except TreatFirstError:
                result.retried += 1
                fresh = ctx.store.get(ACCOUNTS, {"account_id": account["account_id"]})
                if fresh is None:
                    break
                account = fresh
        else:
            result.failed.append(account["account_id"])
    return result


def _migrate_one(ctx: Context, account: Item) -> None:
    account_id = account["account_id"]
    unpaid = _unpaid_bills(ctx, account_id)
    fields: dict[str, Any] = {"unpaid": unpaid}
    if unpaid:
        fields |= look_again(ctx, account_id)
    ctx.commit(
        [
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                set=fields,
                add={"collect_version": 1},
                expect={k: account.get(k, 0) for k in _GUARD},
                fail=lambda: ConcurrentUpdate("the account changed while it was migrated"),
            ),
            audit(ctx, None, f"account#{account_id}", "migration.collection_state", bills=sorted(unpaid)),
        ]
    )


def ledger_days(ctx: Context, store: Scannable, *, page_size: int = 100) -> MigrationResult:
    """`ledger-days`: entries written before business dates were kept get theirs from their commit time (`at`, the
    city's zone and cut-off), their per-day index key (every kind but open_line) and, from who made them, their
    hospital (charges, refunds and bills made by a hospital) or channel (payments) and the financier the policy
    assigns that hospital now. Entries that have a business date are left alone. Ledger entries are never changed
    by anything else, so the write needs no guard beyond the entry existing; a second run finds nothing to do."""
    result = MigrationResult("ledger-days")
    start = None
    while True:
        page = store.scan(LEDGER, limit=page_size, start=start)
        for item in page.items:
            result.scanned += 1
            if item.get("business_date"):
                result.already += 1
                continue
            try:
                ctx.commit([_ledger_day_update(ctx, item)])
                result.migrated += 1
            except TreatFirstError:
                result.failed.append(f"{item['account_id']}/{item['entry_id']}")
        if page.cursor is None:
            return result
        start = page.cursor


def _ledger_day_update(ctx: Context, item: Item) -> Update:
    moment = datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00"))
    day = business_date(moment, zone=ctx.policy.timezone, cutoff=ctx.policy.due_at)
    fields: dict[str, Any] = {"business_date": day.isoformat()}
    kind, account_id = item["kind"], item["account_id"]
    if kind in DAILY_KINDS:
        cause = f"{account_id}#{item['ref_type']}#{item['ref_id']}#{kind}"
        fields["day_shard"] = day_key(ctx.policy.city_code, day, day_shard_of(cause))
    actor_kind, _, actor_id = str(item.get("actor", "")).partition(":")
    if actor_kind == "hospital" and actor_id:
        fields["hospital_id"] = actor_id
        financier = ctx.policy.financier_for(actor_id)
        if financier:
            fields["financier_id"] = financier
    if actor_kind == "channel" and actor_id:
        fields["channel_id"] = actor_id
    if account_id.startswith(FUND_PREFIX):
        fields["fund_id"] = account_id.split("#")[1]
    return Update(
        LEDGER,
        {"account_id": account_id, "entry_id": item["entry_id"]},
        set=fields,
        fail=lambda: ConcurrentUpdate("the entry is gone"),
    )


def _each_account(
    ctx: Context, store: Scannable, name: str, page_size: int, writes_for: Callable[[Item], list[Write] | None]
) -> MigrationResult:
    """Every account once: `writes_for` gives the writes that migrate it (one transaction), or None when it needs
    none. A transaction refused (the account changed meanwhile) is counted in `failed`, to run again."""
    result = MigrationResult(name)
    for account in _accounts(store, page_size):
        result.scanned += 1
        try:
            writes = writes_for(account)
            if writes is None:
                result.already += 1
                continue
            ctx.commit(writes)
            result.migrated += 1
        except TreatFirstError:
            result.failed.append(account["account_id"])
    return result


def _set_on_account(account: Item, fields: dict[str, Any]) -> list[Write]:
    """Set fields on an account whose status has not changed since it was read."""
    return [
        Update(
            ACCOUNTS,
            {"account_id": account["account_id"]},
            set=fields,
            expect={"status": account["status"]},
            fail=lambda: ConcurrentUpdate("the account changed while it was migrated"),
        )
    ]


def consent_scopes(ctx: Context, store: Scannable, *, page_size: int = 100) -> MigrationResult:
    """`consent-scopes`: accounts enrolled before accounts carried the scope of their necessary consents and notices
    (`consent_scopes`, compared with the policy when a visit opens) get it from their consent records. An account
    that has it is left alone; a second run finds nothing to do. A concurrent answer can only leave the map
    covering less than the records do, so the next visit asks again rather than letting one through."""
    from treatfirst.services import consents

    def writes_for(account: Item) -> list[Write] | None:
        if "consent_scopes" in account or account.get("status") == "erased":
            return None
        carried = consents.carried_scopes(ctx, consents.records(ctx, account["account_id"]))
        return _set_on_account(account, {"consent_scopes": carried})

    return _each_account(ctx, store, "consent-scopes", page_size, writes_for)


def consent_keys(ctx: Context, store: Scannable, *, page_size: int = 100) -> MigrationResult:
    """`consent-keys`: accounts enrolled before accounts named their latest consent answer of each kind
    (`consent_keys`, by which the credit export reads a page of persons' consents in one request) get it from their
    consent records. Until then the export queries such an account's consents, as before. An account that has it is
    left alone; a second run finds nothing to do."""
    from treatfirst.services import consents

    def writes_for(account: Item) -> list[Write] | None:
        if "consent_keys" in account:
            return None
        keys = consents.latest_keys(consents.records(ctx, account["account_id"]))
        return _set_on_account(account, {"consent_keys": keys})

    return _each_account(ctx, store, "consent-keys", page_size, writes_for)


def data_keys(ctx: Context, store: Scannable, *, page_size: int = 100) -> MigrationResult:
    """`data-keys`: accounts enrolled before each account had a data key of its own (scheme "city": identifiers
    sealed directly with the city key) are sealed again with a new data key (scheme "dk1"), so that erasing the
    person shreds every copy, backups included. Each account is one transaction: its new ciphertext, guarded by the
    old one (a correction meanwhile makes it fail and it is counted, to run again), and its wrapped key, refused if
    one exists. An erased account, or one already on "dk1", is left alone; a second run finds nothing to do.
    Backups taken before the migration keep the old ciphertext until their own retention ends."""
    from treatfirst.services.identity_data import SCHEME, identity_with, seal_identity, stored_fields

    def writes_for(account: Item) -> list[Write] | None:
        old = stored_fields(account)
        if account.get("key_scheme") == SCHEME or account.get("status") == "erased" or old is None:
            return None
        account_id = account["account_id"]
        sealed, key_put = seal_identity(ctx, account_id, identity_with(ctx, account, None))
        return [
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                set=sealed,
                expect=old,
                fail=lambda: ConcurrentUpdate("the account changed while it was migrated"),
            ),
            Put(DATA_KEYS, key_put.item, fail=lambda: ConcurrentUpdate("the account has a data key")),
        ]

    return _each_account(ctx, store, "data-keys", page_size, writes_for)


MIGRATIONS: dict[str, Callable[..., MigrationResult]] = {
    "collection-state": collection_state,
    "ledger-days": ledger_days,
    "consent-scopes": consent_scopes,
    "consent-keys": consent_keys,
    "data-keys": data_keys,
}
