"""The test clock (local stack and sandboxes only, like Stripe's test clocks): move the platform's time forward and
run the scheduled functions at the new time, so a bill can be walked through the whole ladder over HTTP.

The offset is one item in the accounts table ("sys#clock"); `OffsetClock` adds it to the system time. Only a
runtime started with TF_TEST_CLOCK=1 uses an OffsetClock and serves the test-clock routes; the packaged template
never sets it (tests/infra checks), and a runtime without it refuses the routes (TEST_CLOCK_DISABLED) and never
reads the item. Time only moves forward: the offset never shrinks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import ClockDisabled, ConcurrentUpdate
from treatfirst.domain.ids import new_id
from treatfirst.services.identity import Caller
from treatfirst.services.ports import ACCOUNTS, Put, Store, Update
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

CLOCK_KEY = {"account_id": "sys#clock"}
REFRESH_SECONDS = 0.2  # another process (treatfirst-admin) moving the clock is seen within this


class OffsetClock:
    """System time plus the persisted offset (re-read at most every REFRESH_SECONDS)."""

    enabled = True

    def __init__(self, store: Store, system: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store, self.system = store, system
        self._offset = 0
        self._read_at = -1.0
        self._lock = threading.Lock()

    def offset_seconds(self, *, fresh: bool = False) -> int:
        with self._lock:
            if fresh or time.monotonic() - self._read_at > REFRESH_SECONDS:
                item = self.store.get(ACCOUNTS, CLOCK_KEY) or {}
                self._offset = int(item.get("clock_offset_seconds", 0))
                self._read_at = time.monotonic()
            return self._offset

    def now(self) -> datetime:
        return self.system() + timedelta(seconds=self.offset_seconds())

    def wall(self) -> datetime:
        """The system time: request signatures are checked against it (callers do not share the offset)."""
        return self.system()

    def forget(self) -> None:
        with self._lock:
            self._read_at = -1.0


def clock_of(ctx: Context) -> OffsetClock:
    clock = ctx.clock
    if not isinstance(clock, OffsetClock):
        raise ClockDisabled()
    return clock


def state(ctx: Context, caller: Caller) -> dict[str, Any]:
    caller.may("test_clock", "read")
    clock = clock_of(ctx)
    offset = clock.offset_seconds(fresh=True)
    return {"now": rfc3339(clock.now()), "offset_seconds": offset}


Job = Callable[[Context], Mapping[str, Any]]


def advance(
    ctx: Context, caller: Caller | None, *, seconds: int, reason: str, jobs: Mapping[str, Job]
) -> dict[str, Any]:
    """Move the clock forward by `seconds` (audited), then run each scheduled job once at the new time."""
    if caller is not None:
        caller.may("test_clock", "advance")
    clock = clock_of(ctx)
    before = clock.offset_seconds(fresh=True)
    after = before + seconds
    item = {"account_id": CLOCK_KEY["account_id"], "clock_offset_seconds": after}
    # `expect` on the old value keeps two concurrent advances from losing one.
    if before == 0 and ctx.store.get(ACCOUNTS, CLOCK_KEY) is None:
        write: Put | Update = Put(ACCOUNTS, item, fail=ConcurrentUpdate)
    else:
        write = Update(
            ACCOUNTS,
            CLOCK_KEY,
            set={"clock_offset_seconds": after},
            expect={"clock_offset_seconds": before},
            fail=ConcurrentUpdate,
        )
    ctx.commit(
        [write, audit(ctx, caller, "test_clock", "test_clock.advance", seconds=seconds, offset=after, reason=reason)]
    )
    clock.forget()
    ran = {}
    for name, job in jobs.items():  # each with its own request id, at the new time
        job_ctx = Context(store=ctx.store, cipher=ctx.cipher, clock=clock, policy=ctx.policy, request_id=new_id("job"))
        ran[name] = dict(job(job_ctx))
    return {"now": rfc3339(clock.now()), "offset_seconds": clock.offset_seconds(), "ran": ran}
