"""The two stores agree on what collection needs: map paths in updates, 'lacks' conditions, and the sparse,
sharded by_next_step index whose projection carries the collection state (no read per item)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from treatfirst.adapters.dynamo import DynamoStore
from treatfirst.adapters.memory import MemoryStore
from treatfirst.services.ports import ACCOUNTS, INDEX_ATTRIBUTES, CommitFailed, Put, Update

from tests.stacks import moto_platform


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    with moto_platform(monkeypatch, "tf-paths-", "xiamen") as rt:
        assert isinstance(rt.store, DynamoStore)
        yield rt.store


def _account(account_id: str, **extra: Any) -> dict[str, Any]:
    return {"account_id": account_id, "status": "active", "unpaid": {}, "collect_version": 0, **extra}


def test_an_update_sets_and_removes_one_entry_of_a_map_without_reading(store: Any) -> None:
    # Given an account with an empty unpaid map
    store.commit([Put(ACCOUNTS, _account("acc_1"))])
    # When two bills are added by path, one changed and one removed, in separate commits
    entry = {"due": "2026-03-10", "fen": 1200, "efen": 0}
    store.commit([Update(ACCOUNTS, {"account_id": "acc_1"}, set={"unpaid.bil_a": entry, "unpaid.bil_b": entry})])
    store.commit([Update(ACCOUNTS, {"account_id": "acc_1"}, set={"unpaid.bil_a.fen": 200}, add={"collect_version": 1})])
    store.commit([Update(ACCOUNTS, {"account_id": "acc_1"}, remove=("unpaid.bil_b",))])
    # Then the map holds exactly what was written, integers as integers
    item = store.get(ACCOUNTS, {"account_id": "acc_1"})
    assert item["unpaid"] == {"bil_a": {"due": "2026-03-10", "fen": 200, "efen": 0}}
    assert item["collect_version"] == 1


def test_lacks_refuses_an_update_when_the_list_holds_the_value(store: Any) -> None:
    # Given one account without blocks and one blocking new charges
    store.commit([Put(ACCOUNTS, _account("acc_1")), Put(ACCOUNTS, _account("acc_2", blocks=["new_charges"]))])
    hold = {"held_fen": 100}
    # When each takes a charge conditioned on not blocking new charges
    store.commit([Update(ACCOUNTS, {"account_id": "acc_1"}, add=hold, lacks={"blocks": "new_charges"})])
    with pytest.raises(CommitFailed) as refused:
        store.commit([Update(ACCOUNTS, {"account_id": "acc_2"}, add=hold, lacks={"blocks": "new_charges"})])
    # Then only the unblocked account took it
    assert refused.value.reasons == ["ConditionalCheckFailed"]
    assert store.get(ACCOUNTS, {"account_id": "acc_1"})["held_fen"] == 100
    assert "held_fen" not in store.get(ACCOUNTS, {"account_id": "acc_2"})
    # and a value that is only part of an element does not count as contained
    store.commit([Update(ACCOUNTS, {"account_id": "acc_2"}, add=hold, lacks={"blocks": "new"})])


def test_by_next_step_holds_only_accounts_with_a_date_and_projects_the_sweep_state(store: Any) -> None:
    # Given three accounts in shard 3: two with next dates, one out of collection; one in shard 4
    state = {"unpaid": {"bil_a": {"due": "2026-03-10", "fen": 100, "efen": 0}}, "step": "restrict", "blocks": ["x"]}
    store.commit(
        [
            Put(ACCOUNTS, _account("acc_1", collect_shard="3", next_step_at="2026-03-11", **state, id_enc="secret")),
            Put(ACCOUNTS, _account("acc_2", collect_shard="3", next_step_at="2026-03-20", **state)),
            Put(ACCOUNTS, _account("acc_3")),
            Put(ACCOUNTS, _account("acc_4", collect_shard="4", next_step_at="2026-03-01")),
        ]
    )
    # When the sweep queries shard 3 up to 2026-03-12
    page = store.query(ACCOUNTS, "3", index="by_next_step", until="2026-03-12")
    # Then it gets the due account alone, with the collection state and without fields it does not need
    assert [i["account_id"] for i in page.items] == ["acc_1"]
    item = page.items[0]
    assert item["unpaid"] == state["unpaid"] and item["step"] == "restrict" and item["collect_version"] == 0
    assert "id_enc" not in item
    assert set(INDEX_ATTRIBUTES["by_next_step"]) >= {"unpaid", "step", "collect_version", "blocks"}
