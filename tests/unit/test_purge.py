"""The scheduled erasure: identities of people who left are crypto-shredded when the policy's retention ends."""

from __future__ import annotations

import time
from typing import Any

from treatfirst.services import enrollment
from treatfirst.services.ports import ACCOUNTS, DATA_KEYS, OUTBOX
from treatfirst.services.purge import purge

from tests.unit.conftest import World
from tests.unit.test_dispatch import _message
from tests.unit.test_enrollment import withdrawal


class CountingStore:
    """The memory store, counting what the purge reads (a scan would read every key; the index reads the due)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.queried = inner, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        page = self.inner.query(*args, **kwargs)
        self.queried += len(page.items)
        return page


def test_a_person_who_left_is_erased_when_the_retention_ends_and_not_before(world: World) -> None:
    # Given three people enrolled, one of whom leaves with nothing owed
    stay = [world.enroll()["account_id"] for _ in range(2)]
    leaving = world.enroll()["account_id"]
    sent = _message(world, leaving, "reminder#1")  # an SMS that greets the person by masked name
    kept = _message(world, stay[0], "reminder#2")
    enrollment.withdraw(world.ctx(), world.channel, leaving, withdrawal(world), None)
    days = world.policy.privacy.identity_days_after_close
    assert days == 30  # the Lianyungang example (a fixed, independently known value)
    # When the daily erasure runs one day before the retention ends, Then nothing is erased
    world.clock.advance(days=days - 1)
    assert purge(world.ctx())["erased"] == 0
    assert world.store.get(DATA_KEYS, {"account_id": leaving}) is not None
    # When it runs on the day the retention ends
    world.clock.advance(days=1)
    counting = CountingStore(world.store)
    ctx = world.ctx()
    ctx.store = counting
    started = time.perf_counter()
    assert purge(ctx)["erased"] == 1
    elapsed = time.perf_counter() - started
    # Then that person's key and identifiers are gone, the others untouched, and only the due entry was read
    erased = world.store.get(ACCOUNTS, {"account_id": leaving})
    assert erased is not None and erased["status"] == "erased" and "id_enc" not in erased and "id_hash" not in erased
    assert world.store.get(DATA_KEYS, {"account_id": leaving}) is None
    assert all(world.store.get(DATA_KEYS, {"account_id": a}) is not None for a in stay)
    assert counting.queried == 2  # the one due key, and the person's one message
    redacted = world.store.get(OUTBOX, {"message_id": sent})
    assert redacted is not None and redacted["text"] == "（已删除）" and "params" not in redacted
    assert "张*" in (world.store.get(OUTBOX, {"message_id": kept}) or {})["text"]
    assert elapsed < 5
    # And a rerun finds nothing more to do
    assert purge(world.ctx()) == {"erased": 0, "skipped": 0, "through": erased["erased_at"][:10]}
