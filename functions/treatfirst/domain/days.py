"""Business dates of ledger entries (the settlement window each entry falls into), pure.

Every ledger entry carries the city's business date of the moment it was committed: the first business date whose
cut-off (the policy's local due time, the same 日切 as the collection sweep) has not passed yet. It is set once and
never changed, so an entry committed after the cut-off falls into the next day's window (Mojaloop's settlement
windows are assigned at commit for the same reason, mojaloop/project #2525).

The per-day index is sharded: `day_shard` = "<city code>#<business date>#<shard>", the shard a hash of the entry's
cause (its account, reference and kind: the same cause lands in the same shard in every run), so one day's writes
spread over DAY_SHARDS partitions and no item takes every entry of a city.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta

from treatfirst.domain.collection import closed_through

DAY_SHARDS = 16


def business_date(moment: datetime, *, zone: str, cutoff: time) -> date:
    """The business date an event at `moment` belongs to: the day after the last closed one."""
    return closed_through(moment, zone=zone, cutoff=cutoff) + timedelta(days=1)


def day_shard_of(cause: str) -> int:
    return int.from_bytes(hashlib.sha256(cause.encode()).digest()[:4], "big") % DAY_SHARDS


def day_key(city_code: str, day: date | str, shard: int) -> str:
    """The per-day index's partition key of one shard of one business date."""
    text = day if isinstance(day, str) else day.isoformat()
    return f"{city_code}#{text}#{shard}"


def day_keys(city_code: str, day: date | str) -> list[str]:
    """Every shard's partition key of a business date: what a reader of the day queries."""
    return [day_key(city_code, day, shard) for shard in range(DAY_SHARDS)]
