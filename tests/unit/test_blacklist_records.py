"""The blacklist record over the in-memory store: the record a listing writes, its change log and the read API
the export builds on (services.blacklist.changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from treatfirst.domain import blacklist as b
from treatfirst.services import blacklist
from treatfirst.services.ports import BLACKLIST

from tests.unit.conftest import World

NOTICE = [{"message_id": "msg_" + "a" * 32, "sent_at": "2026-11-20T02:00:00.000Z", "status": "sent"}]


def _list(world: World, account_id: str, on: date, *, anchor: str = "2026-08-01") -> dict[str, Any]:
    record = blacklist.record_item(
        world.ctx(),
        account_id=account_id,
        cause={"source": "ladder", "step": "report_to_credit_platform", "anchor": anchor, "days_overdue": 90},
        bills=[{"bill_id": "bil_" + "1" * 26, "amount_fen": 12_000, "due_at": "2026-08-01T15:59:59.000Z"}],
        notice=NOTICE,
        strike_bills=["bil_" + "1" * 26],
        on=on,
    )
    world.ctx().commit(blacklist.record_writes_for_listing(world.ctx(), record))
    return record


def test_a_listing_carries_its_basis_dates_and_notice(world: World) -> None:
    # Given the Lianyungang policy (7-day objection period, 3-year validity)
    # When the ladder lists an account on 2026-11-24
    record = _list(world, "acc_1", date(2026, 11, 24))
    # Then the record holds the policy's version, hash and legal basis, the bills, the notice and its dates
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None
    assert stored["state"] == "listed"
    assert stored["basis"]["policy_sha256"] == world.policy.sha256
    assert "国办发〔2020〕49号" in stored["basis"]["legal_basis"]
    assert stored["basis"]["legal_basis_ref"]["document"] == "国办发〔2020〕49号"
    assert stored["amount_fen"] == 12_000
    assert stored["notice"]["message_ids"] == [NOTICE[0]["message_id"]]
    assert (stored["listed_on"], stored["publish_on"], stored["valid_until"]) == (
        "2026-11-24",
        "2026-12-01",
        "2029-11-22",
    )
    # and the due index holds its next transition (publication after the objection period)
    assert (stored["due_shard"], stored["next_due"]) == (blacklist.due_shard("acc_1"), "2026-12-01")
    # and nothing is in the change log yet: the record is withheld until published
    assert (
        list(blacklist.changes(world.ctx(), city_code="320700", from_date=date(2026, 1, 1), to_date=date(2027, 1, 1)))
        == []
    )


def test_a_second_listing_for_the_same_cause_is_refused(world: World) -> None:
    # Given a record
    _list(world, "acc_1", date(2026, 11, 24))
    # When the same step lists the same account for the same anchor again (a rerun after a crash)
    try:
        _list(world, "acc_1", date(2026, 11, 25))
    except Exception as exc:
        refused = exc
    # Then it is refused and one record exists
    assert type(refused).__name__ == "ConcurrentUpdate"
    assert sum(1 for r in world.store.tables[BLACKLIST].values() if r["kind"] == "record") == 1


def test_changes_stream_a_window_in_a_stable_order(world: World) -> None:
    # Given a policy without an objection period: a listing is published at once
    world.policy = world.policy.__class__(
        **{
            **world.policy.__dict__,
            "blacklist": world.policy.blacklist.__class__(  # type: ignore[union-attr]
                **{**world.policy.blacklist.__dict__, "publish_after_days": 0}  # type: ignore[union-attr]
            ),
        }
    )
    # and three accounts listed on two business days (Beijing 2026-11-24 and -25)
    world.clock.current = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    r1 = _list(world, "acc_1", date(2026, 11, 23))
    world.clock.advance(seconds=1)
    r2 = _list(world, "acc_2", date(2026, 11, 23))
    world.clock.current = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    r3 = _list(world, "acc_3", date(2026, 11, 24))
    # When the export reads [2026-11-24, 2026-11-25) and then [2026-11-24, 2026-11-26)
    ctx = world.ctx()
    first = list(blacklist.changes(ctx, city_code="320700", from_date=date(2026, 11, 24), to_date=date(2026, 11, 25)))
    both = list(
        blacklist.changes(
            ctx, city_code="320700", from_date=date(2026, 11, 24), to_date=date(2026, 11, 26), page_size=1
        )
    )
    # Then the first day holds the two additions of that day, ordered by time then id, with every contract field
    assert [c["record_id"] for c in first] == [r1["record_id"], r2["record_id"]]
    assert [c["kind"] for c in first] == ["added", "added"]
    assert set(first[0]) == set(blacklist.CHANGE_FIELDS)
    assert first[0]["business_date"] == "2026-11-24"
    assert first[0]["reason"] == b.LISTING_REASON
    assert first[0]["basis"] == {
        "policy_version": world.policy.version,
        "policy_sha256": world.policy.sha256,
        "legal_basis": world.policy.blacklist.legal_basis.text,  # type: ignore[union-attr]
    }
    # and the two-day window adds the next day's row after them, the same with any page size
    assert [c["record_id"] for c in both] == [r1["record_id"], r2["record_id"], r3["record_id"]]
    # and another city's window is empty
    assert (
        list(blacklist.changes(ctx, city_code="350200", from_date=date(2026, 11, 24), to_date=date(2026, 11, 26))) == []
    )
