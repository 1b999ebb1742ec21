"""Time: a Clock port (no datetime.now() in the domain), RFC 3339 text, due times in the city's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock tests move by hand."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current = self.current + timedelta(**kwargs)


def wall_now(clock: Clock) -> datetime:
    """Real time, for what follows the callers' own clocks (request signatures, nonces), also under the test clock,
    whose `wall()` is the system time without its offset."""
    wall = getattr(clock, "wall", None)
    return wall() if callable(wall) else clock.now()


def rfc3339(moment: datetime) -> str:
    """UTC, millisecond precision, 'Z' suffix: sorts as text in the same order as time."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    # isoformat, not strftime: strftime("%Y") writes the year 28 as "28", which is not RFC 3339
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time without offset")
    return moment


def local_rfc3339(moment: datetime, zone: str) -> str:
    """The same instant with the city's offset, e.g. 2026-11-25T23:00:00+08:00."""
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def due_time(issued_at: datetime, *, zone: str, days_after: int, at: time) -> datetime:
    """The due instant: `at` o'clock local time, `days_after` calendar days after the local issue date."""
    local_issue: date = issued_at.astimezone(ZoneInfo(zone)).date()
    due_local = datetime.combine(local_issue + timedelta(days=days_after), at, tzinfo=ZoneInfo(zone))
    return due_local.astimezone(UTC)
