"""The scheduled erasure: a person who left is erased `privacy.retention.identity_days_after_close` days later.

A withdrawal (services/enrollment.withdraw, or withdrawing a necessary consent) marks the account's data key item
with `erase_shard` and `erase_on` (a UTC date): a sparse, sharded index (`by_erase_on`) holds only those items, so
the daily run reads what is due and nothing else (no scan). Each due account is crypto-shredded in one transaction
(services/rights.erase): its data key deleted, identifiers, masked forms and blind indexes removed, audited. A
rerun finds nothing more to do; an account that came back (enrolled again has a new account) is untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from treatfirst.domain.errors import TreatFirstError
from treatfirst.services.paging import every
from treatfirst.services.ports import (
    ACCOUNTS,
    BILLS,
    CHARGES,
    CONSENTS,
    DATA_KEYS,
    LEDGER,
    OUTBOX,
    PAYMENTS,
    REVIEWS,
    RIGHTS,
    VISITS,
    Delete,
    Item,
    Update,
    Write,
)
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

if TYPE_CHECKING:
    from treatfirst.domain.policy import Policy

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
                            *erase(ctx, account, ctx.now_text()),
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


OVERDUE_FIELD = "privacy_requests_overdue"  # the log field the overdue alarm's metric reads (infra/functions.yaml)


def purge_daily(ctx: Context) -> dict[str, Any]:
    """The daily step: identities erased when due, then records deleted when their retention ends; and the count of
    privacy requests past their deadline, which the step's log line carries for the alarm."""
    from treatfirst.services.rights import overdue_count

    return {**purge(ctx), "records": purge_records(ctx)["purged"], OVERDUE_FIELD: overdue_count(ctx)}


# ---- the records purge: each category deleted at the end of the retention the inventory gives it ---------------
# An erased account is put on a sparse, sharded index of the accounts table (`by_purge_on`: purge_shard, purge_on)
# with the stage due next. Stage "records" (privacy.retention.records_years_after_close after leaving): visits,
# charges and their reviews, consents, messages, privacy requests, and the account's own attributes of the
# categories kept that long (treatfirst.inventory, retention "records") go. Stage "accounting"
# (privacy.retention.accounting_years from the end of the year of the last financial record): bills, payments, the
# account's ledger entries and the account item itself go. Each due account is done in small transactions, the
# dependants first and the account's move to the next stage last, so a crash leaves it due and a rerun finishes
# it; a rerun after that finds nothing due. The run is audited with counts only.
# The tables the records purge deletes a person's rows from (a category the inventory says it deletes may hold
# fields of no other table, but those it lists as not automatic; tests/unit/test_purge_records.py checks).
PURGED_TABLES = (ACCOUNTS, VISITS, CHARGES, REVIEWS, CONSENTS, OUTBOX, RIGHTS, BILLS, PAYMENTS, LEDGER)
PURGE_SHARDS = 4
RECORDS, ACCOUNTING = "records", "accounting"
_BATCH = 25  # deletes per transaction (DynamoDB takes 100 items; small batches keep a retry cheap)


def purge_shard(account_id: str) -> str:
    return str(hashlib.sha256(account_id.encode()).digest()[1] % PURGE_SHARDS)


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def records_due(policy: Policy, left: date) -> date:
    """The day the records kept "while you use the service and n years after you leave" are deleted."""
    return _plus_years(left, policy.privacy.records_years_after_close)


def accounting_due(policy: Policy, last_year: int) -> date:
    """The day accounting records (bills, payments, the ledger) of the year `last_year` are deleted: their period
    counts from the first day after the accounting year ends, so n years from 1 January of the next year."""
    return date(last_year + 1 + policy.privacy.accounting_years, 1, 1)


def purge_schedule(ctx: Context, account: Item, now: str) -> dict[str, Any]:
    """The `set` fields an erasure adds: the account waits on the purge index for its records stage."""
    left = date.fromisoformat(str(account.get("withdrawn_at") or now)[:10])
    return {
        "purge_shard": purge_shard(account["account_id"]),
        "purge_on": records_due(ctx.policy, left).isoformat(),
        "purge_stage": RECORDS,
    }


def record_fields_on_account() -> list[str]:
    """The account attributes deleted at the records stage: those of categories kept `records` long, except those
    a longer-kept category also lists (the account's id, status and credit line stay with the accounting records)."""
    from treatfirst.inventory import CATEGORIES

    def on_account(retention: str) -> set[str]:
        return {
            f.split(".", 1)[1]
            for c in CATEGORIES
            if c.retention == retention
            for f in c.fields
            if f.startswith(f"{ACCOUNTS}.")
        }

    return sorted(on_account(RECORDS) - on_account(ACCOUNTING) - {"account_id"})


def purge_records(ctx: Context) -> dict[str, Any]:
    """Delete what is due, shard by shard, reading only the due entries of the `by_purge_on` index (no scan)."""
    today = ctx.clock.now().date().isoformat()
    counts: dict[str, int] = {}
    for shard in range(PURGE_SHARDS):
        start = None
        while True:
            page = ctx.store.query(ACCOUNTS, str(shard), index="by_purge_on", limit=_PAGE, start=start, until=today)
            for key_item in page.items:
                account = ctx.store.get(ACCOUNTS, {"account_id": key_item["account_id"]})
                if account is None or account.get("purge_on", "9999") > today:
                    continue  # gone meanwhile, or moved on by an earlier (interrupted) run
                if (
                    account.get("status") != "erased"
                    or any(account.get(b, 0) for b in _OWING)
                    or account.get("open_visits", 0)
                ):
                    _count(counts, "held")  # not erased, or something owed or open: nothing goes
                    continue
                try:
                    if account.get("purge_stage") == ACCOUNTING:
                        _accounting_stage(ctx, account, counts)
                    else:
                        _records_stage(ctx, account, counts)
                except TreatFirstError:
                    _count(counts, "skipped")  # changed meanwhile; still due, the next run sees it again
            if page.cursor is None:
                break
            start = page.cursor
    if any(v for k, v in counts.items() if k not in ("held", "skipped")):
        ctx.commit([audit(ctx, None, f"purge#{today}", "privacy.records_purged", **counts)])
    return {"purged": counts, "through": today}


_OWING = ("held_fen", "owed_fen", "emergency_held_fen", "emergency_owed_fen")


def _count(counts: dict[str, int], name: str, n: int = 1) -> None:
    counts[name] = counts.get(name, 0) + n


def _delete_all(ctx: Context, deletes: Sequence[Write], counts: dict[str, int], name: str) -> None:
    for i in range(0, len(deletes), _BATCH):
        ctx.commit(deletes[i : i + _BATCH])
    if deletes:
        _count(counts, name, len(deletes))


def _records_stage(ctx: Context, account: Item, counts: dict[str, int]) -> None:
    account_id = account["account_id"]
    bills = list(every(ctx.store, BILLS, account_id, index="by_account"))
    for visit_id in sorted({b["visit_id"] for b in bills if b.get("visit_id")}):
        visit = ctx.store.get(VISITS, {"visit_id": visit_id})
        if visit is None:
            continue  # deleted by an interrupted run
        charges = list(every(ctx.store, CHARGES, visit_id))
        review_ids = [f"rev_{visit_id}", *(f"rev_{visit_id}_{c['fee_line_id']}" for c in charges)]
        reviews = [r for r in (ctx.store.get(REVIEWS, {"review_id": i}) for i in review_ids) if r is not None]
        _delete_all(ctx, [Delete(REVIEWS, {"review_id": r["review_id"]}) for r in reviews], counts, "reviews")
        _delete_all(
            ctx,
            [Delete(CHARGES, {"visit_id": visit_id, "fee_line_id": c["fee_line_id"]}) for c in charges],
            counts,
            "charges",
        )
        _delete_all(ctx, [Delete(VISITS, {"visit_id": visit_id})], counts, "visits")
    consents = [
        Delete(CONSENTS, {"account_id": account_id, "consent_key": c["consent_key"]})
        for c in every(ctx.store, CONSENTS, account_id)
    ]
    _delete_all(ctx, consents, counts, "consents")
    messages = [
        Delete(OUTBOX, {"message_id": m["message_id"]})
        for m in every(ctx.store, OUTBOX, account_id, index="outbox_by_account")
    ]
    _delete_all(ctx, messages, counts, "messages")
    requests = [
        Delete(RIGHTS, {"request_id": r["request_id"]})
        for r in every(ctx.store, RIGHTS, account_id, index="rights_by_account")
    ]
    _delete_all(ctx, requests, counts, "privacy_requests")
    # last: the account's record attributes go and it waits for its accounting stage
    left = date.fromisoformat(str(account.get("withdrawn_at") or account.get("erased_at"))[:10])
    last_year = max([left.year, *(int(str(b.get("issued_at", ""))[:4] or 0) for b in bills)])
    ctx.commit(
        [
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                set={"purge_on": accounting_due(ctx.policy, last_year).isoformat(), "purge_stage": ACCOUNTING},
                remove=[f for f in record_fields_on_account() if f in account],
                expect={"status": "erased", "purge_on": account["purge_on"]},
            )
        ]
    )
    _count(counts, "accounts_records_stage")


def _accounting_stage(ctx: Context, account: Item, counts: dict[str, int]) -> None:
    account_id = account["account_id"]
    entries = list(every(ctx.store, LEDGER, account_id))
    last_year = max([int(str(e.get("at", "0"))[:4] or 0) for e in entries] or [0])
    due = accounting_due(ctx.policy, last_year).isoformat()
    if due > ctx.clock.now().date().isoformat():
        # an entry later than the year assumed (e.g. a recovery after leaving): wait for that year's period
        ctx.commit(
            [
                Update(
                    ACCOUNTS,
                    {"account_id": account_id},
                    set={"purge_on": due},
                    expect={"purge_on": account["purge_on"]},
                )
            ]
        )
        _count(counts, "postponed")
        return
    bills = list(every(ctx.store, BILLS, account_id, index="by_account"))
    mine = {b["bill_id"] for b in bills}
    payment_keys = sorted(
        {
            f"{e['channel_id']}#{e['channel_txn_id']}"
            for e in entries
            if e.get("ref_type") == "payment" and e.get("channel_id") and e.get("channel_txn_id")
        }
    )
    payments: list[Write] = []
    for key in payment_keys:
        payment = ctx.store.get(PAYMENTS, {"payment_key": key})
        if payment is None:
            continue
        others = {a["bill_id"] for a in payment.get("allocations", [])} - mine
        if any(ctx.store.get(BILLS, {"bill_id": b}) is not None for b in others):
            continue  # it also paid another account's bill that is still kept: it stays with that one
        payments.append(Delete(PAYMENTS, {"payment_key": key}))
    _delete_all(ctx, payments, counts, "payments")
    _delete_all(ctx, [Delete(BILLS, {"bill_id": b}) for b in sorted(mine)], counts, "bills")
    _delete_all(
        ctx,
        [Delete(LEDGER, {"account_id": account_id, "entry_id": e["entry_id"]}) for e in entries],
        counts,
        "ledger_entries",
    )
    ctx.commit([Delete(ACCOUNTS, {"account_id": account_id}, expect={"purge_on": account["purge_on"]})])
    _count(counts, "accounts_deleted")
