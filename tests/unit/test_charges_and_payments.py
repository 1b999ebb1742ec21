"""Charges on the credit line, refunds, closing into a bill, and payments — over the in-memory store."""

from __future__ import annotations

from typing import Any

import pytest
from treatfirst.domain.errors import (
    AccountNotActive,
    BillNotPayable,
    ChargeNotRefundable,
    CreditLimitExceeded,
    EmergencyNotDeclared,
    FeeLineConflict,
    IdempotencyKeyReused,
    Overpayment,
    RefundExceedsOutstanding,
    TransactionIdConflict,
    VisitClosed,
    VisitNotFound,
)
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import CancelRequest, ChargeRequest, RefundRequest
from treatfirst.services import charges, closing, payments, refunds, visits
from treatfirst.services.ports import ACCOUNTS, Update

from tests.factories import charge, command
from tests.unit.conftest import World


@pytest.fixture
def opened(world: World) -> tuple[str, str, int]:
    account = world.enroll()
    visit = world.open_visit(account["account_id"])
    return account["account_id"], visit["visit_id"], account["credit_line"]["limit_fen"]


def post(world: World, visit_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    return charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, body), key)


def close(world: World, visit_id: str) -> dict[str, Any]:
    return dict(closing.close_visit(world.ctx(), world.hospital, visit_id, Empty(), None).body["bill"])


def test_the_limit_is_never_exceeded(world: World, opened: tuple[str, str, int]) -> None:
    account_id, visit_id, limit = opened
    post(world, visit_id, charge(limit - 1))
    with pytest.raises(CreditLimitExceeded) as caught:
        post(world, visit_id, charge(2))
    assert caught.value.details["available_fen"] == 1
    post(world, visit_id, charge(1))
    assert world.line(account_id)["available_fen"] == 0
    world.assert_sound(account_id)


def test_emergency_charges_pass_the_limit_and_a_suspension_and_are_flagged(
    world: World, opened: tuple[str, str, int]
) -> None:
    account_id, _, limit = opened
    visit_id = world.open_visit(account_id, emergency={"triage_level": 1, "reason_code": "I21"})["visit_id"]
    post(world, visit_id, charge(limit))
    world.store.commit([Update(ACCOUNTS, {"account_id": account_id}, set={"status": "suspended"})])
    with pytest.raises(AccountNotActive):
        post(world, visit_id, charge(1))
    posted = post(world, visit_id, charge(50_000, emergency=True)).body
    assert posted["emergency"] is True
    line = world.line(account_id)
    assert line["emergency_held_fen"] == 50_000 and line["held_fen"] == limit
    bill = close(world, visit_id)
    assert (bill["amount_fen"], bill["emergency_amount_fen"], bill["outstanding_fen"]) == (
        limit,
        50_000,
        limit + 50_000,
    )
    world.assert_sound(account_id)


def test_an_emergency_charge_needs_a_declared_visit_and_changes_nothing_without(
    world: World, opened: tuple[str, str, int]
) -> None:
    # Given a visit opened without an emergency declaration
    account_id, visit_id, _ = opened
    before = repr(world.store.tables)
    # When an emergency charge arrives on it
    with pytest.raises(EmergencyNotDeclared) as caught:
        post(world, visit_id, charge(500, emergency=True))
    # Then it is refused with its own code, and nothing changed
    assert caught.value.field == "emergency"
    assert repr(world.store.tables) == before
    # And a visit declared an emergency (triage level and reason) takes it, and shows the declaration
    declared = world.open_visit(account_id, emergency={"triage_level": 2, "reason_code": "S06"})
    assert declared["emergency"]["triage_level"] == 2 and declared["emergency"]["declared_at"].endswith("Z")
    assert post(world, declared["visit_id"], charge(500, emergency=True)).body["emergency"] is True
    world.assert_sound(account_id)


def test_retries_charge_once_and_a_changed_body_conflicts(world: World, opened: tuple[str, str, int]) -> None:
    account_id, visit_id, _ = opened
    body = charge(700)
    first = post(world, visit_id, body, key="k1")
    assert post(world, visit_id, body, key="k1").body == first.body
    assert post(world, visit_id, body).body == first.body  # same fee-line id, no key
    assert world.line(account_id)["held_fen"] == 700
    with pytest.raises(IdempotencyKeyReused):
        post(world, visit_id, {**body, "self_pay_fen": 701, "total_fen": 701}, key="k1")
    with pytest.raises(FeeLineConflict):
        post(world, visit_id, {**body, "item_name": "别的"})
    close(world, visit_id)
    assert post(world, visit_id, body).replayed  # a retry after the close still returns the first result
    with pytest.raises(VisitClosed):
        post(world, visit_id, charge(1))
    world.assert_sound(account_id)


def test_another_hospital_cannot_touch_the_visit(world: World, opened: tuple[str, str, int]) -> None:
    _, visit_id, _ = opened
    with pytest.raises(VisitNotFound):
        charges.post_charge(world.ctx(), world.other_hospital, visit_id, command(ChargeRequest, charge(1)), None)
    with pytest.raises(VisitNotFound):
        visits.get_visit(world.ctx(), world.other_hospital, visit_id)


def test_refunds_restore_credit_before_and_after_the_close(world: World, opened: tuple[str, str, int]) -> None:
    account_id, visit_id, limit = opened
    a, b = charge(1000, insurance_fen=300), charge(500)
    post(world, visit_id, a)
    post(world, visit_id, b)
    refunds.refund_charge(
        world.ctx(), world.hospital, visit_id, a["fee_line_id"], command(RefundRequest, {"self_pay_fen": 400}), None
    )
    with pytest.raises(ChargeNotRefundable):
        refunds.refund_charge(
            world.ctx(), world.hospital, visit_id, a["fee_line_id"], command(RefundRequest, {"self_pay_fen": 601}), None
        )
    assert world.line(account_id)["held_fen"] == 1100
    bill = close(world, visit_id)
    assert bill["amount_fen"] == 1100
    cancelled = refunds.cancel_charge(
        world.ctx(), world.hospital, visit_id, b["fee_line_id"], command(CancelRequest), None
    )
    assert cancelled.body["status"] == "cancelled"
    after = payments.get_bill(world.ctx(), world.channel, bill["bill_id"])
    assert after["outstanding_fen"] == 600 and after["refunded_fen"] == 500
    assert world.line(account_id)["owed_fen"] == 600 and world.line(account_id)["available_fen"] == limit - 600
    world.pay("t1", (bill["bill_id"], 600))
    with pytest.raises((RefundExceedsOutstanding, ChargeNotRefundable)):
        refunds.refund_charge(
            world.ctx(), world.hospital, visit_id, a["fee_line_id"], command(RefundRequest, {"self_pay_fen": 1}), None
        )
    world.assert_sound(account_id)


def test_partial_and_multi_bill_payments(world: World) -> None:
    account_id = world.enroll()["account_id"]
    bills = []
    for amount in (1000, 2500):
        visit_id = world.open_visit(account_id)["visit_id"]
        post(world, visit_id, charge(amount))
        bills.append(close(world, visit_id)["bill_id"])
    world.pay("t1", (bills[0], 400))
    assert payments.get_bill(world.ctx(), world.channel, bills[0])["status"] == "issued"
    with pytest.raises(Overpayment):
        world.pay("t2", (bills[0], 601))
    paid = world.pay("t3", (bills[0], 600), (bills[1], 2500))
    assert paid.status == 201
    assert [payments.get_bill(world.ctx(), world.channel, b)["status"] for b in bills] == ["paid", "paid"]
    with pytest.raises(BillNotPayable):
        world.pay("t4", (bills[1], 1))
    # the same transaction id again returns the first payment; a different payment under it conflicts
    assert world.pay("t3", (bills[0], 600), (bills[1], 2500)).body == paid.body
    with pytest.raises(TransactionIdConflict):
        world.pay("t3", (bills[0], 1))
    assert world.line(account_id)["owed_fen"] == 0
    world.assert_sound(account_id)


def test_close_issues_a_bill_due_per_policy_in_the_city_zone(world: World, opened: tuple[str, str, int]) -> None:
    _, visit_id, _ = opened
    post(world, visit_id, charge(100))
    bill = close(world, visit_id)
    # Lianyungang: 7 days after the local issue date (2026-11-24 09:00 +08:00), at 23:59:59
    assert bill["due_at"] == "2026-12-01T23:59:59+08:00"
    assert bill["policy_sha256"] == world.policy.sha256
    with pytest.raises(VisitClosed):
        close(world, visit_id)
