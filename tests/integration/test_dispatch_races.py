"""On DynamoDB Local: two dispatchers running at once over the same SMS rows publish each message exactly once
and leave every row sent; a dispatcher that dies between publishing and marking has its rows published again
after the lease, under the same message id (at least once, never two different messages)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from treatfirst.domain.clock import FixedClock
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import charges, closing, collection, dispatch
from treatfirst.services.ports import OUTBOX, Update, Write
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, command
from tests.integration.conftest import Platform


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def publish(self, message: Mapping[str, Any]) -> None:
        with self.lock:
            self.ids.append(str(message["message_id"]))


class Together:
    """The real store; each dispatcher waits for the other after reading a queue page, so both try to claim the
    same rows at the same time."""

    def __init__(self, inner: Any, barrier: threading.Barrier) -> None:
        self.inner, self.barrier = inner, barrier

    def get(self, *a: Any, **k: Any) -> Any:
        return self.inner.get(*a, **k)

    def query(self, *a: Any, **k: Any) -> Any:
        page = self.inner.query(*a, **k)
        if page.items:
            self.barrier.wait(timeout=30)
        return page

    def commit(self, writes: Sequence[Write]) -> None:
        self.inner.commit(writes)


class DiesBeforeMarking(Together):
    """Publishes, then the process dies before the row is marked sent."""

    def commit(self, writes: Sequence[Write]) -> None:
        if any(isinstance(w, Update) and w.set.get("status") == "sent" for w in writes):
            raise SystemExit("killed")
        self.inner.commit(writes)

    def query(self, *a: Any, **k: Any) -> Any:
        return self.inner.query(*a, **k)


def _sms_rows(platform: Platform, accounts: int) -> tuple[list[str], datetime]:
    """`accounts` owing accounts swept 40 days after their bills: each has SMS rows waiting."""
    for _ in range(accounts):
        _, visit_id, _ = platform.enrolled_visit()
        charges.post_charge(platform.ctx(), platform.hospital, visit_id, command(ChargeRequest, charge(700)), None)
        closing.close_visit(platform.ctx(), platform.hospital, visit_id, Empty(), None)
    later = datetime.now(UTC) + timedelta(days=40)
    collection.sweep(_ctx(platform, platform.store, later))
    table = boto3.resource("dynamodb").Table(f"{platform.prefix}{OUTBOX}")
    rows = [r for r in table.scan()["Items"] if r["channel"] == "sms" and r["status"] == "pending"]
    assert len(rows) >= accounts
    return sorted(str(r["message_id"]) for r in rows), later


def _ctx(platform: Platform, store: Any, at: datetime) -> Context:
    return Context(store=store, cipher=platform.cipher, clock=FixedClock(at), policy=platform.policy)


def _statuses(platform: Platform) -> Counter[str]:
    table = boto3.resource("dynamodb").Table(f"{platform.prefix}{OUTBOX}")
    return Counter(str(r["status"]) for r in table.scan()["Items"] if r["channel"] == "sms")


def test_two_dispatchers_at_once_publish_each_message_exactly_once(platform: Platform) -> None:
    # Given SMS rows waiting for three accounts
    ids, later = _sms_rows(platform, 3)
    # When two dispatchers run at the same time, reading each page together before claiming
    barrier, recorder = threading.Barrier(2), Recorder()
    results: list[dispatch.DispatchResult] = []

    def run() -> None:
        results.append(dispatch.dispatch(_ctx(platform, Together(platform.store, barrier), later), recorder))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # Then every message was published once, by one of them; the other skipped it; every row is sent
    assert sorted(recorder.ids) == ids and max(Counter(recorder.ids).values()) == 1
    assert sum(r.sent for r in results) == len(ids) and sum(r.skipped for r in results) == len(ids)
    assert _statuses(platform) == Counter({"sent": len(ids)})


def test_a_dispatcher_that_dies_after_publishing_is_followed_by_the_same_message_ids(platform: Platform) -> None:
    # Given SMS rows waiting, and a dispatcher killed after publishing the first, before marking it sent
    ids, later = _sms_rows(platform, 1)
    first = Recorder()
    with pytest.raises(SystemExit):
        dispatch.dispatch(_ctx(platform, DiesBeforeMarking(platform.store, threading.Barrier(1)), later), first)
    assert len(first.ids) == 1 and _statuses(platform)["sending"] == 1
    # When the next run comes while the lease holds, then after it ran out
    during, after = Recorder(), Recorder()
    dispatch.dispatch(_ctx(platform, platform.store, later + timedelta(seconds=60)), during)
    lease_over = later + timedelta(seconds=dispatch.LEASE_SECONDS + 1)
    dispatch.dispatch(_ctx(platform, platform.store, lease_over), after)
    # Then the held row waits for its lease, and is then published again under the SAME id; nothing else twice
    assert first.ids[0] not in during.ids and after.ids == first.ids
    assert sorted(first.ids + during.ids) == ids
    assert _statuses(platform) == Counter({"sent": len(ids)})
