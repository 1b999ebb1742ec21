"""Store.batch_get on the real engine: a hundred keys a request, the same items as get, unprocessed keys asked again
after a pause, and an error (not a silent gap) when the engine keeps leaving keys unread."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from treatfirst.adapters.dynamo import BATCH_ATTEMPTS, BatchIncomplete, DynamoStore
from treatfirst.services.ports import ACCOUNTS, EXPORTS, Put

from tests.integration.conftest import Platform


class Holding:
    """The real client, except that BatchGetItem answers hold back keys as the engine does under throttling:
    `hold` answers in a row return only the first `keep` of the items read and name the others unprocessed."""

    def __init__(self, real: Any, hold: int, keep: int = 1) -> None:
        self.real, self.hold, self.keep = real, hold, keep
        self.requests: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def batch_get_item(self, RequestItems: Any) -> Any:
        self.requests.append(sum(len(t["Keys"]) for t in RequestItems.values()))
        answer = self.real.batch_get_item(RequestItems=RequestItems)
        if self.hold <= 0:
            return answer
        self.hold -= 1
        ((table, items),) = answer["Responses"].items()
        names = RequestItems[table]["Keys"][0].keys()
        left = [{n: i[n] for n in names} for i in items[self.keep :]]
        held = {table: {**RequestItems[table], "Keys": left}} if left else {}
        return {"Responses": {table: items[: self.keep]}, "UnprocessedKeys": held}


def _markers(platform: Platform, n: int) -> list[dict[str, Any]]:
    items = [
        {"stream": f"blacklist#rec#blr_{i:04d}", "item_key": "added", "window_from": "2026-11-23"} for i in range(n)
    ]
    for start in range(0, n, 100):
        platform.ctx().commit([Put(EXPORTS, i) for i in items[start : start + 100]])
    return items


def test_batch_get_reads_a_hundred_keys_a_request_and_returns_what_get_returns(platform: Platform) -> None:
    # Given 150 markers and an enrolled account (maps, JSON attributes, numbers)
    items = _markers(platform, 150)
    account_id, _, _ = platform.enrolled_visit()
    client = Holding(platform.store.client, hold=0)
    store = DynamoStore()
    store._connection = SimpleNamespace(client=client)  # type: ignore[assignment]
    # When they are read in one call with a key given twice and a key that does not exist
    keys = [{k: i[k] for k in ("stream", "item_key")} for i in items]
    found = store.batch_get(EXPORTS, [*keys, keys[0], {"stream": "blacklist#rec#blr_none", "item_key": "added"}])
    # Then every existing item comes back once, in two requests (100 keys, then 51)
    assert sorted(found, key=lambda i: i["stream"]) == items
    assert client.requests == [100, 51]
    # And an account read in a batch is the item get returns
    assert store.batch_get(ACCOUNTS, [{"account_id": account_id}]) == [
        platform.store.get(ACCOUNTS, {"account_id": account_id})
    ]


def test_unprocessed_keys_are_asked_again_after_a_growing_pause(platform: Platform) -> None:
    # Given an engine that leaves keys unprocessed in its first three answers
    items = _markers(platform, 30)
    pauses: list[float] = []
    store = DynamoStore(sleep=pauses.append)
    client = Holding(platform.store.client, hold=3)
    store._connection = SimpleNamespace(client=client)  # type: ignore[assignment]
    keys = [{k: i[k] for k in ("stream", "item_key")} for i in items]
    # When the 30 markers are read
    found = store.batch_get(EXPORTS, keys)
    # Then all of them come back, after three more requests for the keys left over, each after a pause
    assert sorted(found, key=lambda i: i["stream"]) == items
    assert client.requests == [30, 29, 28, 27]
    assert len(pauses) == 3 and all(0 <= p <= 0.05 * 2**n for n, p in enumerate(pauses))


def test_keys_left_unprocessed_request_after_request_raise(platform: Platform) -> None:
    # Given an engine that keeps leaving keys unprocessed
    items = _markers(platform, 5)
    store = DynamoStore(sleep=lambda _: None)
    client = Holding(platform.store.client, hold=10**6, keep=0)
    store._connection = SimpleNamespace(client=client)  # type: ignore[assignment]
    # When the markers are read, the store gives up after BATCH_ATTEMPTS requests rather than return a gap
    with pytest.raises(BatchIncomplete):
        store.batch_get(EXPORTS, [{k: i[k] for k in ("stream", "item_key")} for i in items])
    assert len(client.requests) == BATCH_ATTEMPTS
