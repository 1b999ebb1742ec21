"""The blacklist record (失信名单记录), pure: its states, the transition table, and when it moves by itself.

A record is created only by the collection ladder (a step whose actions hold `blacklist`, or the strike rule when
its actions hold `blacklist`), and only with proof that the patient was told beforehand (the delivered SMS ids).
It carries its decision basis: policy version and SHA-256, the legal basis from the policy, the bills and amounts,
the dates. It leaves the list by credit repair (all arrears paid, then the policy's cooling days), an accepted
appeal, the end of its validity, or an operator's correction; the removed record is purged after the policy's
retention. Every transition is audited with who and why (services/blacklist.py).

Dates here are the city's business dates (YYYY-MM-DD): days counted in the city's calendar, like the ladder's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# ---- states and the transition table ----------------------------------------------------------------------------
LISTED, APPEALING, REMOVED, PURGED = "listed", "appealing", "removed", "purged"
RECORD_STATES = (LISTED, APPEALING, REMOVED, PURGED)
OPEN_STATES = (LISTED, APPEALING)  # on the list

# Why a record left the list (the export's removal reason).
REMOVAL_REASONS = ("repaid", "appeal_accepted", "expired", "corrected")
# Why a record is on the list (the export's listing reason code).
LISTING_REASON = "overdue_unpaid"

# (from, to, event, why): the only moves a record makes. The workflow page draws its diagram from this table and
# tests check every service transition against it (tests/unit/test_blacklist_domain.py).
RECORD_START = LISTED
RECORD_TRANSITIONS: tuple[tuple[str, str, str, str], ...] = (
    (LISTED, LISTED, "publish", "objection period over, no appeal: exported as added / 异议期届满无异议，报送新增"),
    (LISTED, APPEALING, "appeal", "the patient or an operator appeals / 本人或运营人员提出异议"),
    (APPEALING, LISTED, "reject", "an operator rejects the appeal, with a reason / 异议不成立（附理由）"),
    (APPEALING, REMOVED, "accept", "an operator accepts the appeal, with a reason / 异议成立（附理由）"),
    (LISTED, REMOVED, "repair", "all arrears paid, then the cooling days / 结清欠款并经过冷静期"),
    (APPEALING, REMOVED, "repair", "all arrears paid, then the cooling days / 结清欠款并经过冷静期"),
    (LISTED, REMOVED, "expire", "validity period ended / 有效期届满"),
    (APPEALING, REMOVED, "expire", "validity period ended / 有效期届满"),
    (LISTED, REMOVED, "correct", "an operator corrects an error, with a reason / 运营人员更正（附理由）"),
    (APPEALING, REMOVED, "correct", "an operator corrects an error, with a reason / 运营人员更正（附理由）"),
    (REMOVED, PURGED, "purge", "retention period ended: personal data deleted / 保存期限届满，删除"),
)
RECORD_FINAL = (PURGED,)
EVENTS = tuple(dict.fromkeys(t[2] for t in RECORD_TRANSITIONS))
# The removal reason each removing event records.
REASON_OF = {"accept": "appeal_accepted", "repair": "repaid", "expire": "expired", "correct": "corrected"}


class TransitionRefused(ValueError):
    """The event is not allowed from the record's state (the table has no such row)."""

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"a {state} record cannot {event}")
        self.state = state
        self.event = event


def target(state: str, event: str) -> str:
    """The state `event` moves a record in `state` to; TransitionRefused when the table has no such move."""
    for frm, to, ev, _ in RECORD_TRANSITIONS:
        if frm == state and ev == event:
            return to
    raise TransitionRefused(state, event)


def allowed(state: str) -> tuple[str, ...]:
    return tuple(ev for frm, _, ev, _ in RECORD_TRANSITIONS if frm == state)


def diagram_rows() -> tuple[tuple[str, str, str], ...]:
    """(from, to, why) rows in the shape domain.states.mermaid draws."""
    return tuple((frm, to, f"{ev}: {why}") for frm, to, ev, why in RECORD_TRANSITIONS)


# ---- the record --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dates:
    """The record's dates; those that schedule a transition feed `next_due`."""

    listed_on: date  # business date of the listing
    valid_until: date  # last business date on the list: expiry is due the day after
    publish_on: date  # first business date the record may be exported (after the objection period)
    published_on: date | None = None  # when the "added" change was written
    repaid_on: date | None = None  # business date all arrears were found paid (the cooling period runs from it)
    removed_on: date | None = None
    purge_on: date | None = None  # removed_on + retention


@dataclass(frozen=True)
class Timing:
    """The policy's periods (days), read once per use so the domain never sees the Policy object's other fields."""

    publish_after_days: int  # objection period before export (0: the listing day itself)
    validity_days: int  # how long a record stays on the list at most
    cooling_days: int  # after all arrears are paid
    retention_days: int  # after removal, before the record is purged


def listing_dates(listed_on: date, timing: Timing) -> Dates:
    return Dates(
        listed_on=listed_on,
        valid_until=listed_on + timedelta(days=timing.validity_days - 1),
        publish_on=listed_on + timedelta(days=timing.publish_after_days),
    )


def repair_on(dates: Dates, timing: Timing) -> date | None:
    """The business date the record is repaired, if its arrears stay paid: repaid_on + cooling days."""
    if dates.repaid_on is None:
        return None
    return dates.repaid_on + timedelta(days=timing.cooling_days)


def due_event(state: str, dates: Dates, timing: Timing, on: date) -> tuple[str, date] | None:
    """The transition that falls due by business date `on` (closed) and the date it takes effect, most decisive
    first: expiry (the day after valid_until), repair (repaid_on + cooling days), publication (`on` itself, never
    while an appeal is pending), purge (removed_on + retention). None when nothing is due. The dates are the
    scheduled ones, so a sweep that catches up after an outage dates each move as a timely one would."""
    if state in OPEN_STATES:
        if on > dates.valid_until:
            return "expire", dates.valid_until + timedelta(days=1)
        repair = repair_on(dates, timing)
        if repair is not None and on >= repair:
            return "repair", repair
        if state == LISTED and dates.published_on is None and on >= dates.publish_on:
            return "publish", on
        return None
    if state == REMOVED and dates.purge_on is not None and on >= dates.purge_on:
        return "purge", dates.purge_on
    return None


def next_due(state: str, dates: Dates, timing: Timing) -> date | None:
    """The first business date a scheduled transition can fall due (the sparse index's range key), or None."""
    if state in OPEN_STATES:
        candidates = [dates.valid_until + timedelta(days=1)]
        repair = repair_on(dates, timing)
        if repair is not None:
            candidates.append(repair)
        if dates.published_on is None and state == LISTED:
            candidates.append(dates.publish_on)
        return min(candidates)
    if state == REMOVED:
        return dates.purge_on
    return None


def removed_dates(dates: Dates, on: date, timing: Timing) -> Dates:
    return Dates(
        listed_on=dates.listed_on,
        valid_until=dates.valid_until,
        publish_on=dates.publish_on,
        published_on=dates.published_on,
        repaid_on=dates.repaid_on,
        removed_on=on,
        purge_on=on + timedelta(days=timing.retention_days),
    )


def export_change(event: str, dates: Dates) -> str | None:
    """The change-log row an event writes for the export: "added" when the record is published, "removed" when a
    PUBLISHED record leaves the list. A record removed before it was published never reaches the platform, so its
    removal writes nothing (nothing to take back)."""
    if event == "publish":
        return "added"
    if event in REASON_OF and dates.published_on is not None:
        return "removed"
    return None


# ---- (de)serialising the dates on the record item ----------------------------------------------------------------
_DATE_FIELDS = ("listed_on", "valid_until", "publish_on", "published_on", "repaid_on", "removed_on", "purge_on")


def dates_from_item(item: Mapping[str, Any]) -> Dates:
    def day(name: str) -> date | None:
        value = item.get(name)
        return date.fromisoformat(value) if value else None

    listed, valid, publish = day("listed_on"), day("valid_until"), day("publish_on")
    assert listed is not None and valid is not None and publish is not None, "a record has its listing dates"
    return Dates(
        listed_on=listed,
        valid_until=valid,
        publish_on=publish,
        published_on=day("published_on"),
        repaid_on=day("repaid_on"),
        removed_on=day("removed_on"),
        purge_on=day("purge_on"),
    )


def dates_fields(dates: Dates) -> dict[str, str | None]:
    """The record attributes that hold `dates` (None: remove the attribute)."""
    return {name: (v.isoformat() if (v := getattr(dates, name)) else None) for name in _DATE_FIELDS}


# ---- proof of prior notice ---------------------------------------------------------------------------------------
def notice_keys(account_id: str, source: str, step: str, anchor: date | None, on: date) -> tuple[str, ...]:
    """The outbox dedupe keys of the messages that tell the patient, before the listing, that it will happen:
    for a ladder step, its step reminder (sent `remind_days_before` days ahead) and then the step's own message;
    for the strike rule, its message (the record is then made on a later sweep, once that message was delivered).
    Same key shapes as domain.collection.message_key."""
    if source == "ladder":
        assert anchor is not None
        a = anchor.isoformat()
        return (f"{account_id}#step_reminder#{step}#{a}", f"{account_id}#step#{step}#{a}")
    return (f"{account_id}#step#strikes#{on.isoformat()}",)


def delivered(rows: Sequence[Mapping[str, Any] | None], before: str) -> list[Mapping[str, Any]]:
    """The outbox rows that reached the SMS gateway (status `sent`) before the instant `before` (RFC 3339 UTC)."""
    return [r for r in rows if r is not None and r.get("status") == "sent" and str(r.get("sent_at", "")) < before]
