"""The blacklist record made by the collection ladder, and the way off it, over the in-memory store with a fixed
clock: a listing only with proof of prior notice, publication after the objection period, repair (all paid, then
the cooling days), expiry, purge; the Xiamen strike rule's listing and its lift on repair."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from treatfirst.adapters.sns import LocalPublisher
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import blacklist, charges, closing, collection
from treatfirst.services.dispatch import dispatch
from treatfirst.services.outbox import message_id
from treatfirst.services.ports import ACCOUNTS, AUDIT, BLACKLIST

from tests.factories import charge, command
from tests.unit.conftest import World

DUE = date(2026, 12, 1)  # bills closed on 2026-11-24 (Beijing) are due 7 days later at 23:59:59


def _bill(world: World, account_id: str, amount: int) -> str:
    visit_id = world.open_visit(account_id)["visit_id"]
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(amount)), None)
    return str(closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]["bill_id"])


def _close_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)  # just after 23:59:59 Beijing


def _sweep_on(world: World, day: date, *, deliver: bool = True) -> collection.SweepResult:
    """The hourly job at the close of `day`: the sweep, then (as the scheduled dispatcher does) the SMS delivery."""
    world.clock.current = _close_of(day)
    result = collection.sweep(world.ctx())
    if deliver:
        dispatch(world.ctx(), LocalPublisher())
    return result


def _records(world: World) -> list[dict[str, Any]]:
    return [r for r in world.store.tables[BLACKLIST].values() if r["kind"] == "record"]


def _account(world: World, account_id: str) -> dict[str, Any]:
    item = world.store.get(ACCOUNTS, {"account_id": account_id})
    assert item is not None
    return item


def _actions(world: World, subject: str) -> list[str]:
    return [e["action"] for e in world.store.tables[AUDIT].values() if e["subject"] == subject]


def _listed_lianyungang(world: World) -> tuple[str, str, dict[str, Any]]:
    """An account whose 120-yuan bill walked to day 90 of Lianyungang's ladder, every SMS delivered."""
    account_id = world.enroll()["account_id"]
    _sweep_on(world, date(2026, 11, 23))
    bill = _bill(world, account_id, 12_000)
    _sweep_on(world, DUE + timedelta(days=80))  # catches up every date; the day-80 reminder of the listing goes out
    _sweep_on(world, DUE + timedelta(days=90))
    (record,) = _records(world)
    return account_id, bill, record


def test_the_ladder_lists_with_its_basis_and_the_delivered_notice(world: World) -> None:
    # Given a Lianyungang bill unpaid for 90 days, the step's reminder delivered 10 days before
    account_id, bill, record = _listed_lianyungang(world)
    # Then one record holds the bill, the amount, the policy's basis and the delivered reminder as proof
    assert record["state"] == "listed" and record["account_id"] == account_id
    assert record["bills"] == [{"bill_id": bill, "amount_fen": 12_000, "due_at": "2026-12-01T15:59:59.000Z"}]
    assert record["basis"]["policy_sha256"] == world.policy.sha256
    assert record["cause"] == {
        "source": "ladder",
        "step": "report_to_credit_platform",
        "anchor": "2026-12-01",
        "days_overdue": 90,
    }
    reminders = [r for r in world.store.tables["outbox"].values() if r["kind"] == "step_reminder"]
    notice = [r for r in reminders if r["params"]["step"] == "report_to_credit_platform"]
    assert record["notice"]["message_ids"] == [notice[0]["message_id"]]
    assert record["listed_on"] == (DUE + timedelta(days=90)).isoformat()
    assert record["strike_bills"] == [bill]
    # and the account carries the open record; the listing is audited with the policy stamp
    assert _account(world, account_id)["blacklist_open"] == {"record_id": record["record_id"]}
    assert _actions(world, f"blacklist#{record['record_id']}") == ["blacklist.listed"]
    # and a rerun of the same day lists nothing more
    _sweep_on(world, DUE + timedelta(days=90))
    assert len(_records(world)) == 1


def test_without_a_delivered_notice_the_listing_waits_then_lists_once_delivered(world: World) -> None:
    # Given a bill at day 90 whose messages were never delivered (the dispatcher did not run)
    account_id = world.enroll()["account_id"]
    _sweep_on(world, date(2026, 11, 23), deliver=False)
    _bill(world, account_id, 12_000)
    _sweep_on(world, DUE + timedelta(days=90), deliver=False)
    # Then no record: the account waits for its notice (audited once) and is swept again the next day
    assert _records(world) == []
    account = _account(world, account_id)
    assert account["blacklist_pending"]["step"] == "report_to_credit_platform"
    assert account["next_step_at"] == (DUE + timedelta(days=91)).isoformat()
    assert _actions(world, f"account#{account_id}").count("blacklist.waiting_for_notice") == 1
    _sweep_on(world, DUE + timedelta(days=91), deliver=False)
    assert _records(world) == [] and _actions(world, f"account#{account_id}").count("blacklist.waiting_for_notice") == 1
    # When the messages are delivered and the next day's sweep runs
    dispatch(world.ctx(), LocalPublisher())
    _sweep_on(world, DUE + timedelta(days=92))
    # Then the record is made, with the delivered messages as proof
    (record,) = _records(world)
    assert len(record["notice"]["message_ids"]) == 2
    assert "blacklist_pending" not in _account(world, account_id)


def test_paying_before_the_notice_is_delivered_drops_the_listing(world: World) -> None:
    # Given a listing waiting for its notice
    account_id = world.enroll()["account_id"]
    _sweep_on(world, date(2026, 11, 23), deliver=False)
    bill = _bill(world, account_id, 12_000)
    _sweep_on(world, DUE + timedelta(days=90), deliver=False)
    # When the patient pays everything and the next sweep runs
    world.pay("T-1", (bill, 12_000))
    _sweep_on(world, DUE + timedelta(days=91))
    # Then no record is ever made (no arrears, no listing), and the drop is audited
    assert _records(world) == []
    assert "blacklist_pending" not in _account(world, account_id)
    assert "blacklist.listing_dropped" in _actions(world, f"account#{account_id}")


def test_publication_after_the_objection_period_then_repair_after_the_cooling_days(world: World) -> None:
    # Given a listed record (Lianyungang: 7-day objection period, 30 cooling days)
    account_id, bill, record = _listed_lianyungang(world)
    listed_on = date.fromisoformat(record["listed_on"])
    window = {"city_code": "320700", "from_date": listed_on, "to_date": listed_on + timedelta(days=200)}
    assert list(blacklist.changes(world.ctx(), **window)) == []
    # When 7 days pass
    _sweep_on(world, listed_on + timedelta(days=7))
    # Then it is published: the export sees it added on the open business date
    (added,) = list(blacklist.changes(world.ctx(), **window))
    assert (added["kind"], added["business_date"]) == ("added", (listed_on + timedelta(days=8)).isoformat())
    # When the patient pays everything on day 10 after listing
    world.clock.current = _close_of(listed_on + timedelta(days=10)) - timedelta(hours=2)
    world.pay("T-1", (bill, 12_000), paid_at="2027-03-11T21:00:00+08:00")
    _sweep_on(world, listed_on + timedelta(days=10))
    # Then the repair clock starts on that business date; the record stays listed through the cooling days
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None
    assert (stored["repaid_on"], stored["next_due"]) == (
        (listed_on + timedelta(days=10)).isoformat(),
        (listed_on + timedelta(days=40)).isoformat(),
    )
    _sweep_on(world, listed_on + timedelta(days=39))
    assert world.store.get(BLACKLIST, {"item_id": record["record_id"]})["state"] == "listed"  # type: ignore[index]
    # When the 30 cooling days have passed
    _sweep_on(world, listed_on + timedelta(days=40))
    # Then the record is removed as repaid, the export's next delta says so, and the account's mark is gone
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and stored["state"] == "removed"
    assert (
        stored["removal"]["reason"] == "repaid" and stored["removed_on"] == (listed_on + timedelta(days=40)).isoformat()
    )
    kinds = [(c["kind"], c["reason"]) for c in blacklist.changes(world.ctx(), **window)]
    assert kinds == [("added", "overdue_unpaid"), ("removed", "repaid")]
    assert "blacklist_open" not in _account(world, account_id)
    assert _actions(world, f"blacklist#{record['record_id']}") == [
        "blacklist.listed",
        "blacklist.publish",
        "blacklist.repair_started",
        "blacklist.repair",
    ]


def test_new_arrears_during_the_cooling_days_stop_the_repair(world: World) -> None:
    # Given a listed record whose arrears were paid (repair clock running)
    account_id, bill, record = _listed_lianyungang(world)
    listed_on = date.fromisoformat(record["listed_on"])
    world.pay("T-1", (bill, 12_000), paid_at="2027-03-01T12:00:00+08:00")
    _sweep_on(world, listed_on + timedelta(days=1))
    assert world.store.get(BLACKLIST, {"item_id": record["record_id"]})["repaid_on"]  # type: ignore[index]
    # When a new bill goes overdue before the cooling days end
    world.clock.current = _close_of(listed_on + timedelta(days=2)) - timedelta(hours=3)
    _bill(world, account_id, 3_000)
    _sweep_on(world, listed_on + timedelta(days=10))
    # Then the repair clock stops and the record stays listed after the cooling days
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and "repaid_on" not in stored
    _sweep_on(world, listed_on + timedelta(days=31))
    assert world.store.get(BLACKLIST, {"item_id": record["record_id"]})["state"] == "listed"  # type: ignore[index]
    assert "blacklist.repair_interrupted" in _actions(world, f"blacklist#{record['record_id']}")


def test_expiry_after_the_validity_then_purge_after_the_retention(world: World) -> None:
    # Given a published record that is never repaid
    account_id, _, record = _listed_lianyungang(world)
    listed_on = date.fromisoformat(record["listed_on"])
    _sweep_on(world, listed_on + timedelta(days=7))
    shard = blacklist.due_shard(account_id)
    # When the blacklist sweep of its shard runs the day its validity (1095 days) has ended
    world.clock.current = _close_of(listed_on + timedelta(days=1095))
    assert blacklist.sweep_due(world.ctx(), shard, listed_on + timedelta(days=1094)) == 0
    assert blacklist.sweep_due(world.ctx(), shard, listed_on + timedelta(days=1095)) == 1
    # Then it is removed as expired, and the export learns it
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and stored["removal"]["reason"] == "expired"
    assert stored["purge_on"] == (listed_on + timedelta(days=1095 + 1825)).isoformat()
    window = {"city_code": "320700", "from_date": listed_on, "to_date": listed_on + timedelta(days=4000)}
    assert [c["kind"] for c in blacklist.changes(world.ctx(), **window)] == ["added", "removed"]
    # When the retention (1825 days after removal) has passed
    world.clock.current = _close_of(listed_on + timedelta(days=1095 + 1825))
    assert blacklist.sweep_due(world.ctx(), shard, listed_on + timedelta(days=1095 + 1825)) == 1
    # Then the personal data and the change rows are gone; a tombstone and the audit trail remain
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and stored["state"] == "purged"
    assert not {"bills", "basis", "account_id", "amount_fen", "holder", "due_shard"} & set(stored)
    assert list(blacklist.changes(world.ctx(), **window)) == []
    assert _actions(world, f"blacklist#{record['record_id']}")[-2:] == ["blacklist.expire", "blacklist.purge"]
    # and a rerun finds nothing due
    assert blacklist.sweep_due(world.ctx(), shard, listed_on + timedelta(days=4000)) == 0


def test_xiamen_strike_rule_lists_after_its_message_and_repair_lifts_the_suspension(xiamen: World) -> None:
    # Given a Xiamen account with three unpaid bills that go overdue on the same day (累计逾期3次以上)
    account_id = xiamen.enroll()["account_id"]
    _sweep_on(xiamen, date(2026, 11, 23))
    bills = [_bill(xiamen, account_id, 1_000) for _ in range(3)]
    # When the day closes: the strike rule suspends and tells the patient; the listing waits for that message
    _sweep_on(xiamen, DUE, deliver=False)
    assert _records(xiamen) == [] and _account(xiamen, account_id)["strike_blocked"] is True
    dispatch(xiamen.ctx(), LocalPublisher())
    _sweep_on(xiamen, DUE + timedelta(days=1))
    # Then the record is made the next day, resting on the three strikes, with the delivered message as proof
    (record,) = _records(xiamen)
    assert record["cause"]["source"] == "strikes" and sorted(record["strike_bills"]) == sorted(bills)
    assert record["amount_fen"] == 3_000
    # When everything is paid and the 90 cooling days pass
    for i, bill in enumerate(bills):
        xiamen.pay(f"T-{i}", (bill, 1_000), paid_at="2026-12-03T12:00:00+08:00")
    _sweep_on(xiamen, DUE + timedelta(days=2))
    _sweep_on(xiamen, DUE + timedelta(days=92))
    # Then the record is removed as repaid and the strike rule's suspension is lifted (strikes.lift operator_only:
    # only an annulment or a repair lifts it), and the three old strikes no longer count
    stored = xiamen.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and stored["state"] == "removed" and stored["removal"]["reason"] == "repaid"
    account = _account(xiamen, account_id)
    assert "strike_blocked" not in account and "blocks" not in account
    assert account["strikes_reset_on"] == (DUE + timedelta(days=92)).isoformat()
    assert len(account["strikes"]) == 3  # the log keeps them
    # and a later sweep does not suspend again on the old strikes
    _sweep_on(xiamen, DUE + timedelta(days=93))
    assert "strike_blocked" not in _account(xiamen, account_id)


def test_every_attribute_the_blacklist_writes_is_on_the_dynamodb_model(world: World) -> None:
    # Given records, change rows and an appeal written by the services (the DynamoDB adapter refuses an attribute its
    # model lacks, which the memory store would let through)
    from treatfirst.adapters.dynamo import AccountModel, BlacklistModel
    from treatfirst.messages.blacklist import AppealRequest
    from treatfirst.services.identity import SCOPES, Caller

    account_id, _, record = _listed_lianyungang(world)
    _sweep_on(world, date.fromisoformat(record["listed_on"]) + timedelta(days=7))
    operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
    blacklist.file_appeal(world.ctx(), operator, record["record_id"], AppealRequest(statement="异议"), None)
    # Then every attribute of every item is an attribute of the model
    names = set(BlacklistModel.get_attributes())
    for item in world.store.tables[BLACKLIST].values():
        assert set(item) <= names, set(item) - names
    assert set(_account(world, account_id)) <= set(AccountModel.get_attributes())


def test_xiamen_annulment_lifts_the_suspension_its_consent_text_promises(xiamen: World) -> None:
    # Given Xiamen's service agreement, which promises that the strike rule's suspension lifts only when an overdue
    # record is annulled after review or by credit repair
    from treatfirst.consents import render_all
    from treatfirst.messages.blacklist import StrikeAnnulment
    from treatfirst.services.identity import SCOPES, Caller

    agreement = next(c.text for c in render_all(xiamen.policy) if c.kind == "service_agreement")
    assert "仅在逾期记录经核实撤销或信用修复后解除" in agreement
    # and an account suspended by three overdue bills, still unpaid
    account_id = xiamen.enroll()["account_id"]
    _sweep_on(xiamen, date(2026, 11, 23))
    bills = [_bill(xiamen, account_id, 1_000) for _ in range(3)]
    _sweep_on(xiamen, DUE)
    assert _account(xiamen, account_id)["strike_blocked"] is True
    # When an operator annuls one of the strikes, with a reason
    operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
    out = blacklist.annul_strike(xiamen.ctx(), operator, account_id, bills[0], StrikeAnnulment(reason="账单重复"), None)
    # Then two strikes count, the rule (3 or more) no longer holds, and its suspension is lifted at once, as promised
    assert (out.body["strikes_counted"], out.body["strike_rule_applied"]) == (2, False)
    account = _account(xiamen, account_id)
    assert "strike_blocked" not in account
    # and the next sweep neither suspends again on the annulled strike nor makes the listing the rule called for
    _sweep_on(xiamen, DUE + timedelta(days=1))
    assert "strike_blocked" not in _account(xiamen, account_id)
    assert _records(xiamen) == [] and "blacklist_pending" not in _account(xiamen, account_id)
    assert [s.get("annulled", False) for s in _account(xiamen, account_id)["strikes"]].count(True) == 1


def test_a_write_off_recovered_in_full_starts_the_repair_as_paying_the_arrears_does(world: World) -> None:
    from treatfirst.messages.collection import WriteOffRequest
    from treatfirst.services import writeoffs
    from treatfirst.services.identity import SCOPES, Caller

    # Given a published record whose only bill an operator then wrote off (hardship): the patient has not paid
    _, bill, record = _listed_lianyungang(world)
    listed_on = date.fromisoformat(record["listed_on"])
    _sweep_on(world, listed_on + timedelta(days=7))
    operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
    body = command(WriteOffRequest, {"reason": "hardship", "note": "民政认定低保"})
    world.clock.current = _close_of(listed_on + timedelta(days=8)) - timedelta(hours=3)
    writeoffs.write_off_bill(world.ctx(), operator, bill, body, None)
    _sweep_on(world, listed_on + timedelta(days=8))
    _sweep_on(world, listed_on + timedelta(days=12))
    # Then nothing starts the repair: a write-off is not a payment
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and "repaid_on" not in stored and stored["state"] == "listed"
    # When the patient later pays the written-off bill in full (a recovery), nothing else being owed
    recovered_on = listed_on + timedelta(days=20)
    world.clock.current = _close_of(recovered_on) - timedelta(hours=3)
    world.pay("T-R", (bill, 12_000), paid_at="2027-03-21T12:00:00+08:00")
    _sweep_on(world, recovered_on)
    # Then the repair clock starts on that business date, as after paying arrears, with the policy's 30 cooling days
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None
    assert (stored["repaid_on"], stored["next_due"]) == (
        recovered_on.isoformat(),
        (recovered_on + timedelta(days=30)).isoformat(),
    )
    # And after the cooling days the record is removed as repaid
    _sweep_on(world, recovered_on + timedelta(days=30))
    stored = world.store.get(BLACKLIST, {"item_id": record["record_id"]})
    assert stored is not None and stored["state"] == "removed" and stored["removal"]["reason"] == "repaid"
    assert _actions(world, f"blacklist#{record['record_id']}") == [
        "blacklist.listed",
        "blacklist.publish",
        "blacklist.repair_started",
        "blacklist.repair",
    ]


def test_operators_see_the_listings_waiting_for_a_delivered_notice_and_no_one_else_does(world: World) -> None:
    import pytest
    from treatfirst.domain.errors import Forbidden
    from treatfirst.services.identity import SCOPES, Caller

    operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
    # Given two accounts in collection at day 90 of the ladder: one whose notice was never delivered, one that paid
    # half its arrears (still in collection, nothing to list yet)
    waiting = world.enroll()["account_id"]
    other = world.enroll()["account_id"]
    _sweep_on(world, date(2026, 11, 23), deliver=False)
    _bill(world, waiting, 12_000)
    late = _bill(world, other, 3_000)
    _sweep_on(world, DUE + timedelta(days=30), deliver=False)
    world.pay("T-1", (late, 1_500))
    _sweep_on(world, DUE + timedelta(days=90), deliver=False)
    pending = _account(world, waiting)["blacklist_pending"]
    assert "blacklist_pending" not in _account(world, other) and _account(world, other)["next_step_at"]
    # When an operator asks which listings wait for their notice
    listed = blacklist.waiting_for_notice(world.ctx(), operator)["items"]
    # Then only the waiting account is there, with its step, the date asked and the messages to deliver first
    assert listed == [
        {
            "account_id": waiting,
            "source": "ladder",
            "step": "report_to_credit_platform",
            "since": (DUE + timedelta(days=90)).isoformat(),
            "messages": [message_id(k) for k in pending["keys"]],
        }
    ]
    # And once a message is delivered and the record made, it is no longer waiting
    dispatch(world.ctx(), LocalPublisher())
    _sweep_on(world, DUE + timedelta(days=91))
    assert blacklist.waiting_for_notice(world.ctx(), operator)["items"] == []
    # And no hospital or channel may ask
    for kind in ("hospital", "channel", "credit_platform"):
        with pytest.raises(Forbidden):
            blacklist.waiting_for_notice(world.ctx(), Caller("key_x", kind, "someone", SCOPES[kind]))
