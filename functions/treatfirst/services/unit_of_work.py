"""The unit of work: what every use case receives (its ports, the policy, the request id) and the one way to
change anything — commit all-or-nothing with the request's pending writes, retrying transaction conflicts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from treatfirst.domain.clock import Clock, rfc3339
from treatfirst.domain.errors import ConcurrentUpdate
from treatfirst.domain.ids import new_id
from treatfirst.domain.policy import Policy
from treatfirst.services.ports import Cipher, CommitFailed, Store, Write

MAX_ATTEMPTS = 12


@dataclass
class Context:
    store: Store
    cipher: Cipher
    clock: Clock
    policy: Policy
    request_id: str = field(default_factory=lambda: new_id("req"))
    pending: list[Write] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep

    def now_text(self) -> str:
        return rfc3339(self.clock.now())

    def commit(self, writes: Sequence[Write]) -> None:
        """Commit all-or-nothing, together with any pending writes (the request's nonce).

        Transaction conflicts are retried with jittered backoff. A write's `fail` names the domain error
        when its own condition is what failed; the first failing write in list order wins, so callers put
        the most telling check first. When the change fails, the pending writes are still committed alone,
        so a signed request that failed cannot be replayed later.
        """
        try:
            self._commit([*self.pending, *writes])
        except Exception:
            self.flush()
            raise
        self.pending.clear()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self._commit(batch)

    def _commit(self, writes: Sequence[Write]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.store.commit(writes)
                return
            except CommitFailed as failed:
                if failed.conflict and "ConditionalCheckFailed" not in failed.reasons:
                    self.sleep(random.uniform(0, min(0.4, 0.005 * 2**attempt)))
                    continue
                for write, reason in zip(writes, failed.reasons, strict=False):
                    if reason == "ConditionalCheckFailed" and write.fail is not None:
                        raise write.fail() from failed
                raise ConcurrentUpdate() from failed
        raise ConcurrentUpdate("the resource is busy; retry with the same Idempotency-Key")
