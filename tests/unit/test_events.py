"""Events to hospitals and channels: one row per (cause, receiver), written with its cause; the catalogue is the one
place the kinds and their fields are declared; the flows emit what the catalogue says; a charge post emits none."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from treatfirst.domain.errors import ConcurrentUpdate
from treatfirst.domain.events import CATALOGUE, FIELDS, KINDS, event_id, kinds_for
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest, RefundRequest
from treatfirst.services import charges, closing, collection, refunds
from treatfirst.services.events import event_put
from treatfirst.services.ports import AUDIT, EVENTS, Put

from tests.factories import charge, command
from tests.unit.conftest import World


def _events(world: World, kind: str | None = None, audience: str | None = None) -> list[dict[str, Any]]:
    rows = [r for r in world.store.tables[EVENTS].values() if r["part"] == "event"]
    return [r for r in rows if kind in (None, r["kind"]) and audience in (None, r["audience"])]


def _bill(world: World, account_id: str, amount: int) -> tuple[str, str]:
    visit_id = world.open_visit(account_id)["visit_id"]
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(amount)), None)
    bill = closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"]
    return visit_id, str(bill["bill_id"])


def test_the_catalogue_declares_every_kind_the_brief_names_with_declared_fields_only() -> None:
    # Given the catalogue
    names = [k.name for k in CATALOGUE]
    # Then it holds the seven kinds, each once, with fields from the one field table and a known audience
    assert names == [
        "bill.issued",
        "bill.paid",
        "bill.overdue",
        "charge.refunded",
        "collection.step",
        "clearing.ready",
        "reconciliation.result",
    ]
    for kind in CATALOGUE:
        assert set(kind.fields) <= set(FIELDS), kind.name
        assert set(kind.audiences) <= {"hospital", "channel", "financier"}
    # and no field could carry a person's identity
    assert not {"name", "id_number", "phone", "item_name", "diagnosis"} & set(FIELDS)
    assert kinds_for("channel") == (
        "bill.issued",
        "bill.paid",
        "bill.overdue",
        "clearing.ready",
        "reconciliation.result",
    )


def test_the_event_id_is_stable_per_cause_and_receiver() -> None:
    # Given one cause
    first = event_id("bill.paid", "hospital:h1", "bil_1")
    # Then the same cause gives the same id, another receiver or cause another one, and the id has no '.'
    assert first == event_id("bill.paid", "hospital:h1", "bil_1")
    assert first != event_id("bill.paid", "hospital:h2", "bil_1")
    assert first != event_id("bill.issued", "hospital:h1", "bil_1")
    assert first.startswith("evt_") and "." not in first and len(first) == 36


def test_a_cause_written_twice_fails_whole_and_adds_nothing(world: World) -> None:
    # Given an event written with its cause
    put = event_put(world.ctx(), kind="bill.paid", audience="hospital:h1", subject="bil_1", data={"bill_id": "bil_1"})
    world.ctx().commit([put])
    # When the same cause is committed again with another change
    again = event_put(world.ctx(), kind="bill.paid", audience="hospital:h1", subject="bil_1", data={"bill_id": "bil_1"})
    with pytest.raises(ConcurrentUpdate):
        world.ctx().commit([again, Put(AUDIT, {"subject": "x", "event_id": "evt_x"})])
    # Then there is still one event and the other change was not written
    assert len(_events(world)) == 1
    assert world.store.tables[AUDIT] == {}


@pytest.mark.parametrize(
    ("kind", "audience", "data", "message"),
    [
        ("bill.eaten", "hospital:h1", {}, "unknown event kind"),
        ("charge.refunded", "channel:c1", {"visit_id": "vis_1"}, "cannot go to"),
        ("bill.paid", "hospital:h1", {"name": "张三"}, "does not carry 'name'"),
        ("bill.paid", "hospital:h1", {"paid_fen": 1.5}, "must be of type fen"),
        ("bill.paid", "hospital:h1", {"paid_at": "yesterday"}, "must be of type time"),
    ],
)
def test_an_undeclared_kind_receiver_or_field_is_refused(
    world: World, kind: str, audience: str, data: dict[str, Any], message: str
) -> None:
    # When a flow builds an event the catalogue does not declare
    with pytest.raises(ValueError, match=message):
        event_put(world.ctx(), kind=kind, audience=audience, subject="bil_1", data=data)


def test_close_pay_refund_emit_bill_and_charge_events_to_the_visits_hospital(world: World) -> None:
    # Given a patient with a bill of 1000 fen at hospital-a
    account = world.enroll()["account_id"]
    visit_id, bill_id = _bill(world, account, 1000)
    # Then closing wrote bill.issued to hospital-a, with the bill's amounts and due time
    (issued,) = _events(world, "bill.issued", "hospital:hospital-a")
    assert issued["event_id"] == event_id("bill.issued", "hospital:hospital-a", bill_id)
    assert issued["data"]["amount_fen"] == 1000 and issued["data"]["due_at"].endswith("+08:00")
    # When the hospital refunds 300 fen of the charge, then the channel pays the other 700
    fee_line = world.store.query("charges", visit_id).items[0]["fee_line_id"]
    refunds.refund_charge(
        world.ctx(), world.hospital, visit_id, fee_line, command(RefundRequest, {"self_pay_fen": 300}), None
    )
    assert world.pay("txn-1", (bill_id, 700)).status == 201
    # Then charge.refunded and bill.paid went to hospital-a, once each
    (refunded,) = _events(world, "charge.refunded")
    assert refunded["data"] | {"refund_id": "-"} == {
        "visit_id": visit_id,
        "fee_line_id": fee_line,
        "refund_id": "-",
        "cancel": False,
        "status": "partially_refunded",
        "self_pay_fen": 300,
        "insurance_fen": 0,
        "personal_account_fen": 0,
    }
    (paid,) = _events(world, "bill.paid", "hospital:hospital-a")
    assert paid["data"]["settled_by"] == "payment" and paid["data"]["paid_fen"] == 700
    # and a partial payment emits no bill.paid
    world.assert_sound(account)


def test_a_refund_that_settles_a_bill_emits_bill_paid_by_refund(world: World) -> None:
    # Given a bill of 500 fen
    account = world.enroll()["account_id"]
    visit_id, bill_id = _bill(world, account, 500)
    fee_line = world.store.query("charges", visit_id).items[0]["fee_line_id"]
    # When the whole charge is refunded after the close
    refunds.refund_charge(
        world.ctx(), world.hospital, visit_id, fee_line, command(RefundRequest, {"self_pay_fen": 500}), None
    )
    # Then the bill is paid, and the hospital is told it was settled by the refund
    (paid,) = _events(world, "bill.paid", "hospital:hospital-a")
    assert (paid["subject"], paid["data"]["settled_by"]) == (bill_id, "refund")


def test_the_channel_that_enrolled_the_patient_hears_of_their_bills_and_no_other_channel_does(world: World) -> None:
    # Given a patient enrolled through the channel wechat-pay, and one enrolled at the hospital's desk
    by_channel = world.enroll()["account_id"]
    channel, world.channel = world.channel, world.hospital  # the hospital enrolls the second one
    at_desk = world.enroll()["account_id"]
    world.channel = channel
    # When each has a bill issued, and pays it
    _, bill_c = _bill(world, by_channel, 800)
    _, bill_d = _bill(world, at_desk, 900)
    assert world.pay("txn-c", (bill_c, 800)).status == 201
    assert world.pay("txn-d", (bill_d, 900)).status == 201
    # Then the channel got bill.issued and bill.paid of its own patient's bill, with the hospital's data
    mine = {(r["kind"], r["subject"]) for r in _events(world, audience="channel:wechat-pay")}
    assert mine == {("bill.issued", bill_c), ("bill.paid", bill_c)}
    (issued,) = _events(world, "bill.issued", "channel:wechat-pay")
    assert issued["data"] == _events(world, "bill.issued", "hospital:hospital-a")[0]["data"]
    # and the hospital got both bills' events; no event went to any other channel
    assert {r["subject"] for r in _events(world, "bill.paid", "hospital:hospital-a")} == {bill_c, bill_d}
    assert {r["audience"] for r in _events(world)} == {"hospital:hospital-a", "channel:wechat-pay"}


def test_a_charge_post_writes_no_event_and_stays_one_commit(world: World) -> None:
    # Given an open visit
    account = world.enroll()["account_id"]
    visit_id = world.open_visit(account)["visit_id"]
    before = world.store.commits
    # When a charge is posted
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(100)), None)
    # Then it is one commit and no event
    assert world.store.commits == before + 1
    assert _events(world) == []


def test_the_sweep_tells_each_hospital_of_its_overdue_bills_and_the_step_once(xiamen: World) -> None:
    # Given a Xiamen patient with unpaid bills at two hospitals
    world = xiamen
    account = world.enroll()["account_id"]
    _, bill_a = _bill(world, account, 1000)
    world.hospital, world.other_hospital = world.other_hospital, world.hospital
    _, bill_b = _bill(world, account, 2000)
    world.hospital, world.other_hospital = world.other_hospital, world.hospital
    due = collection.unpaid_entry(world.ctx(), world.store.get("bills", {"bill_id": bill_a}) or {})["due"]
    # When the sweep runs through the due date and on to the first ladder step
    from tests.unit.test_collection_sweep import _start, _sweep_on

    _start(world)
    day = date.fromisoformat(due)
    for offset in range(0, 10):
        _sweep_on(world, date.fromordinal(day.toordinal() + offset))
    # Then each hospital got bill.overdue for its own bill only
    overdue = {(r["audience"], r["data"]["bill_id"]) for r in _events(world, "bill.overdue")}
    assert overdue == {
        ("hospital:hospital-a", bill_a),
        ("hospital:hospital-b", bill_b),
        # and the channel that enrolled the patient (their app) of both
        ("channel:wechat-pay", bill_a),
        ("channel:wechat-pay", bill_b),
    }
    # and every collection.step event names only the receiver's own bills, one per (step, hospital)
    steps = _events(world, "collection.step")
    assert steps, "the Xiamen ladder has a step within 10 days"
    for row in steps:
        own = bill_a if row["audience"] == "hospital:hospital-a" else bill_b
        assert row["data"]["bills"] == [own]
    assert len({(r["audience"], r["data"]["step"]) for r in steps}) == len(steps)
    # When the last date is swept again
    _sweep_on(world, date.fromordinal(day.toordinal() + 9))
    # Then no event is added
    assert len(_events(world)) == len({r["event_id"] for r in _events(world)})


def test_every_kind_has_titles_in_both_languages() -> None:
    for kind in KINDS.values():
        assert kind.zh and kind.en and kind.subject_zh and kind.subject_en and kind.emitted_by
