"""Patient statements (信用日账): one SMS per patient charged on the business date before, through the outbox, with
the minimum of personal data; once per account and date; only where the city's policy asks for it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from treatfirst.domain.collection import local_date
from treatfirst.domain.policy import POLICY_FIELDS, Enforced
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import ChargeRequest
from treatfirst.services import charges, closing
from treatfirst.services.ports import LEDGER, OUTBOX, Item
from treatfirst.services.statements import send_statements
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, command
from tests.unit.conftest import World


def day_entries(world: World) -> Any:
    """The ledger entries of a business date, as the per-day index gives them (by each entry's local date)."""

    def entries(ctx: Context, city_code: str, day: date) -> Iterable[Item]:
        for row in world.store.tables[LEDGER].values():
            if local_date(row["at"], ctx.policy.timezone) == day:
                yield row

    return entries


def _charge(world: World, visit_id: str, fen: int, **extra: Any) -> None:
    charges.post_charge(world.ctx(), world.hospital, visit_id, command(ChargeRequest, charge(fen, **extra)), None)


def _statements(world: World) -> list[dict[str, Any]]:
    return [r for r in world.store.tables[OUTBOX].values() if r["kind"] == "statement"]


def test_a_patient_charged_yesterday_gets_one_statement_with_amounts_in_yuan_and_nothing_else(world: World) -> None:
    # Given (Lianyungang: daily statements on) a patient with a closed bill and two charges on 2026-11-24 (Beijing)
    assert world.policy.daily_statement is True
    account = world.enroll()["account_id"]
    first = world.open_visit(account)["visit_id"]
    _charge(world, first, 1000, item_name="头孢克肟 cefixime")
    closing.close_visit(world.ctx(), world.hospital, first, Empty(), None)
    second = world.open_visit(account)["visit_id"]
    _charge(world, second, 2345)
    other = world.enroll(id_number="11010519491231002X", phone="13900139000")["account_id"]
    # When the statements run the next morning (the 24th closed at 23:59:59 local)
    world.clock.current = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    result = send_statements(world.ctx(), entries=day_entries(world))
    # Then one SMS, for the charged patient only: two charges, 33.45 yuan, owed 33.45 yuan, the earliest due date
    (row,) = _statements(world)
    assert result.sent == 1 and row["account_id"] == account and row["status"] == "pending" and other
    assert row["text"].startswith("【连云港市先医后付】")
    assert "2026-11-24先医后付记账2笔，自付33.45元；目前待还共33.45元，最早到期日2026-12-01。" in row["text"]
    # with no item, hospital or full name
    assert "头孢" not in row["text"] and "cefixime" not in row["text"] and "hospital" not in row["text"]
    assert set(row["params"]) <= {"name_masked", "statement_date", "charges", "charged_fen", "amount_fen", "due_date"}
    # When it runs again, Then nothing more is written
    again = send_statements(world.ctx(), entries=day_entries(world))
    assert again.sent == 0 and len(_statements(world)) == 1


def test_a_rerun_after_a_crash_before_the_watermark_adds_no_second_statement(world: World) -> None:
    # Given a statement written, and the watermark lost (the run stopped before writing it)
    account = world.enroll()["account_id"]
    _charge(world, world.open_visit(account)["visit_id"], 500)
    world.clock.current = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    send_statements(world.ctx(), entries=day_entries(world))
    world.store.tables["accounts"].pop(("sys#statements",))
    # When the job runs again
    result = send_statements(world.ctx(), entries=day_entries(world))
    # Then the row exists once and the rerun says so
    assert (result.sent, result.already, len(_statements(world))) == (0, 1, 1)


def test_a_city_without_daily_statements_sends_none(xiamen: World) -> None:
    world = xiamen
    account = world.enroll()["account_id"]
    _charge(world, world.open_visit(account)["visit_id"], 500)
    world.clock.current = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    result = send_statements(world.ctx(), entries=day_entries(world))
    assert result.enabled is False and _statements(world) == []


def test_the_policy_field_is_enforced_by_the_statement_job() -> None:
    rule = POLICY_FIELDS["reminders.daily_statement"]
    assert isinstance(rule, Enforced) and rule.function == "treatfirst.services.statements.send_statements"


def test_nothing_is_written_before_nine_in_the_morning_city_time(world: World) -> None:
    # Given a patient charged on the 24th, When the job runs at 08:59 Beijing time on the 25th, Then it writes nothing
    account = world.enroll()["account_id"]
    _charge(world, world.open_visit(account)["visit_id"], 500)
    world.clock.current = datetime(2026, 11, 25, 0, 59, tzinfo=UTC)
    assert send_statements(world.ctx(), entries=day_entries(world)).date is None and _statements(world) == []
    # and at 09:00 it writes the statement
    world.clock.current = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert send_statements(world.ctx(), entries=day_entries(world)).sent == 1


def test_the_service_agreement_says_what_the_statement_job_does(world: World, xiamen: World) -> None:
    from treatfirst.consents import render_consent
    from treatfirst.services.statements import SEND_FROM_HOUR

    # Given the service agreement of a city that sends statements and of one that does not
    sending = render_consent(world.policy, "service_agreement").text
    silent = render_consent(xiamen.policy, "service_agreement").text
    # Then the first names the statement, its hour and what it leaves out; the second says nothing of it
    assert f"次日 {SEND_FROM_HOUR} 时" in sending and "不含就诊项目、医院和诊断" in sending
    assert f"{SEND_FROM_HOUR:02d}:00 Beijing time" in sending
    assert "信用日账" not in silent and "SMS statement" not in silent
