"""The export reads a page of change rows at a time: markers, accounts, consents and data keys in batches.

Everything here is the real code over the in-memory store: the blacklist's change log, the consents on record
(services.consents) and the identities sealed with each person's data key (services.identity_data). The bytes are
checked against the same export made one row at a time through the same services (the reads the export made
before it batched them), so batching changes how many requests are made and nothing else.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from treatfirst.adapters.crypto import LocalCipher
from treatfirst.adapters.memory import MemoryStore
from treatfirst.adapters.objects import MemoryObjects
from treatfirst.adapters.signing import LocalSigner
from treatfirst.domain import export as x
from treatfirst.domain.clock import FixedClock
from treatfirst.domain.policy import example_policy
from treatfirst.inventory import consent_scope_sha256
from treatfirst.services import blacklist, consents, export, identity_data
from treatfirst.services.identity_data import Identity
from treatfirst.services.ports import (
    ACCOUNTS,
    BATCH_GET_KEYS,
    BLACKLIST,
    CONSENTS,
    DATA_KEYS,
    Delete,
    Put,
    Update,
    Write,
)
from treatfirst.services.unit_of_work import Context

from tests.unit.test_export import KEY

D1, D2 = date(2026, 11, 23), date(2026, 11, 24)


class CountingStore:
    """The memory store, counting requests as DynamoDB would receive them (a batch read of k keys is
    ceil(k / 100) BatchGetItem requests)."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.requests = 0

    def get(self, table: str, key: Mapping[str, Any]) -> Any:
        self.requests += 1
        return self.inner.get(table, key)

    def query(self, table: str, hash_value: str, **kw: Any) -> Any:
        self.requests += 1
        return self.inner.query(table, hash_value, **kw)

    def batch_get(self, table: str, keys: Sequence[Mapping[str, Any]]) -> Any:
        self.requests += math.ceil(len(keys) / BATCH_GET_KEYS)
        return self.inner.batch_get(table, keys)

    def commit(self, writes: Sequence[Write]) -> None:
        self.requests += 1
        self.inner.commit(writes)


class World:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.policy = example_policy("lianyungang")  # exports, with the credit-reporting consent required
        self.clock = FixedClock(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))  # 04:00 on the 23rd in the city
        self.objects = MemoryObjects()

    def ctx(self, store: Any = None) -> Context:
        return Context(
            store=store or self.store,
            cipher=LocalCipher(b"k" * 32),
            clock=self.clock,
            policy=self.policy,
            sleep=lambda _: None,
        )

    def person(self, n: int, *, consent: bool = True, pointer: bool = True) -> str:
        """An account sealed with its own data key, its credit-reporting answer (or none), and its record
        published on the day (an "added" change row)."""
        ctx = self.ctx()
        account_id = f"acc_{n:026d}"
        who = Identity(name=f"测试{n}", id_number=f"32070119800101{n:04d}", phone="13800138000")
        sealed, key_put = identity_data.seal_identity(ctx, account_id, who)
        spec = self.policy.consent("credit_reporting")
        answer = {
            "kind": "credit_reporting",
            "version": spec.version,
            "mode": spec.mode,
            "scope_sha256": consent_scope_sha256(self.policy, "credit_reporting"),
        }
        answers = [consents.record_put(ctx, account_id, answer, "channel")] if consent else []
        item = {"account_id": account_id, "status": "active", **sealed}
        if pointer:  # an account enrolled before the pointer existed has none (its answers are queried)
            item["consent_keys"] = consents.latest_keys(p.item for p in answers)
        record = blacklist.record_item(
            ctx,
            account_id=account_id,
            cause={"source": "ladder", "step": "report", "anchor": "2026-08-01", "days_overdue": 90},
            bills=[{"bill_id": f"bil_{n}", "amount_fen": 35000 + n, "due_at": "2026-08-01T23:59:59+08:00"}],
            notice=[{"message_id": f"msg_{n}", "sent_at": "2026-11-20T02:00:00.000Z"}],
            strike_bills=[],
            on=D1,
        )
        ctx.commit([Put(ACCOUNTS, item), key_put, *answers, Put(BLACKLIST, record)])
        ctx.commit([blacklist.change_put(ctx, record, "added", record["reason"], 0)])
        self.clock.advance(seconds=1)
        return account_id

    def run(self, day: date, sources: export.Sources, store: Any = None) -> export.WindowResult:
        self.clock.current = datetime.combine(day, datetime.min.time(), UTC).replace(hour=17)  # 01:00 next day
        return export.export_window(self.ctx(store), self.objects, LocalSigner(KEY), day, sources)

    def files(self, day: date) -> dict[str, bytes]:
        base = x.folder(day) + "/"
        return {k[len(base) :]: v for k, v in self.objects.objects.items() if k.startswith(base)}


def one_row_at_a_time() -> export.Sources:
    """The same privacy services, asked one row at a time (the reads the export made before it batched them)."""

    def identity(ctx: Context, account: Mapping[str, Any]) -> Mapping[str, Any] | None:
        try:
            return identity_data.identity_of(ctx, dict(account))
        except Exception as exc:  # IDENTITY_ERASED
            assert getattr(exc, "code", None) == "IDENTITY_ERASED"
            return None

    return export.Sources(on_record=consents.on_record, identity_of=identity)


@pytest.fixture(scope="module")
def world() -> World:
    # Given 250 persons published on one day: most with consent, some without (withheld), some who withdrew it,
    # a few enrolled before the consent pointer existed, and two whose identity was erased (no data key)
    w = World()
    people = [w.person(n, consent=n % 25 != 7, pointer=n % 50 != 3) for n in range(250)]
    ctx = w.ctx()
    for n in (11, 12):
        key = {"account_id": people[n], "consent_key": latest(w, people[n])}
        ctx.commit([Update(CONSENTS, key, set={"withdrawn_at": "2026-11-22T00:00:00.000Z"})])
    ctx.commit([Delete(DATA_KEYS, {"account_id": people[n]}) for n in (20, 21)])  # erased: the data key is gone
    return w


def copied(store: MemoryStore) -> MemoryStore:
    out = MemoryStore()
    out.tables = copy.deepcopy(store.tables)
    return out


def latest(w: World, account_id: str) -> str:
    item = consents.latest(w.ctx(), account_id, "credit_reporting")
    assert item is not None
    return str(item["consent_key"])


def test_a_day_of_250_rows_costs_well_under_one_store_request_per_delivered_row() -> None:
    # Given 250 persons published on one day, ten without consent and two erased
    w = World()
    people = [w.person(n, consent=n % 25 != 7) for n in range(250)]
    w.ctx().commit([Delete(DATA_KEYS, {"account_id": people[n]}) for n in (20, 21)])
    # When the day is exported by the scheduled code, counting every store request
    counting = CountingStore(w.store)
    result = w.run(D1, export.Sources(), counting)
    # Then everyone with a standing consent and an identity is delivered, the others withheld and counted
    assert result.withheld == {"no_consent": 10, "never_delivered": 0, "erased": 2}
    delivered = result.counts["added"]
    assert delivered == 238
    # And the whole window (change log, markers, accounts, consents, data keys, commits) took a few requests a
    # page of 100 rows, not three a row
    per_row = counting.requests / delivered
    assert per_row <= 0.1, f"{counting.requests} store requests for {delivered} rows ({per_row:.3f} a row)"


def test_batched_reads_give_the_bytes_of_one_row_at_a_time(world: World) -> None:
    # When the same day is exported once batched and once one row at a time, each from its own copy of the table
    batched_store, single_store = copied(world.store), copied(world.store)
    batched = world.run(D1, export.Sources(), batched_store)
    batched_files = world.files(D1)
    world.objects = MemoryObjects()
    single = world.run(D1, one_row_at_a_time(), single_store)
    # Then the files, the manifest and what was withheld are identical, and so are the markers written
    assert world.files(D1) == batched_files
    assert (batched.counts, batched.withheld, batched.manifest_sha256) == (
        single.counts,
        single.withheld,
        single.manifest_sha256,
    )
    markers = {k: v for k, v in batched_store.tables["exports"].items() if "#rec#" in k[0]}
    assert markers == {k: v for k, v in single_store.tables["exports"].items() if "#rec#" in k[0]}
    assert len(markers) == batched.counts["added"]


def test_a_removal_in_a_later_page_finds_the_marker_its_addition_committed_in_an_earlier_one(world: World) -> None:
    # Given, later the same day, the records of the first person (delivered in the first page) and of one without
    # consent (never delivered) removed: their removals come in the last page of the day
    store = copied(world.store)
    ctx = world.ctx(store)
    records = {r["account_id"]: r for r in store.tables[BLACKLIST].values() if r.get("kind") == "record"}
    world.clock.current = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 16:00 on the 23rd in the city
    for n in (0, 7):
        ctx.commit([blacklist.change_put(ctx, records[f"acc_{n:026d}"], "removed", "repaid", 1)])
    # When the day is exported
    world.objects = MemoryObjects()
    result = world.run(D1, export.Sources(), store)
    # Then the delivered person's removal is delivered after the additions, the other one withheld
    assert result.counts == {"added": 236, "removed": 1}
    assert result.withheld == {"no_consent": 12, "never_delivered": 1, "erased": 2}
    last = json.loads(world.files(D1)["delta-00001.jsonl"].decode().splitlines()[-1])
    assert (last["op"], last["name"]) == ("REMOVE", "测试0")


def test_the_consent_keys_migration_gives_older_accounts_the_pointer_the_export_reads_by() -> None:
    from treatfirst.services.migrations import consent_keys

    # Given three accounts enrolled before accounts named their latest consent answers (one never answered)
    w = World()
    people = [w.person(n, consent=n != 2, pointer=False) for n in range(3)]
    # When the migration runs, twice
    first, second = consent_keys(w.ctx(), w.store), consent_keys(w.ctx(), w.store)
    # Then each account names its latest answer of each kind (none for the one that never answered), once
    assert (first.migrated, second.migrated, second.already) == (3, 0, 3)
    pointers = [(w.store.get(ACCOUNTS, {"account_id": a}) or {})["consent_keys"] for a in people]
    assert pointers == [{"credit_reporting": latest(w, people[0])}, {"credit_reporting": latest(w, people[1])}, {}]
    # And their consents are then read in one batch, not one query each, with the answers on_record gives
    counting = CountingStore(w.store)
    accounts = {a: w.store.get(ACCOUNTS, {"account_id": a}) for a in people}
    answers = consents.on_record_many(w.ctx(counting), accounts, "credit_reporting")
    assert answers == {a: consents.on_record(w.ctx(), a, "credit_reporting") for a in people}
    assert counting.requests == 1
