"""The outbox: one cause, one row, written with its cause; SMS texts carry only what the parameters allow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from treatfirst.domain.errors import ConcurrentUpdate
from treatfirst.domain.policy import example_policy
from treatfirst.services import outbox
from treatfirst.services.outbox import KINDS, PARAMS, message_id, outbox_put, render_sms
from treatfirst.services.ports import AUDIT, OUTBOX, Put

from tests.unit.conftest import World

PARAMS_OF_A_STEP: dict[str, Any] = {  # what domain.collection's plan gives, with the masked name
    "name_masked": "张*",
    "amount_fen": 12345,
    "bills": 2,
    "days_overdue": 8,
    "in_days": 3,
    "due_date": "2026-11-30",
    "step": "sms_reminder",
    "actions": ["sms_reminder"],
    "charges": 3,  # a statement's
    "charged_fen": 12345,
    "statement_date": "2026-11-24",
}


def _put(world: World, key: str = "acc_1#step#sms_reminder#2026-11-30", kind: str = "step") -> Put:
    return outbox_put(world.ctx(), account_id="acc_1", kind=kind, dedupe_key=key, params=PARAMS_OF_A_STEP)


def test_the_row_id_is_stable_and_the_text_is_rendered_when_written(world: World) -> None:
    # Given a step's message
    put = _put(world)
    # When it is committed with its cause
    world.ctx().commit([put, Put(AUDIT, {"subject": "acc_1", "event_id": "evt_1"})])
    # Then the row has the id of its dedupe key, is pending in an SMS queue and holds the exact text
    row = world.store.get(OUTBOX, {"message_id": message_id("acc_1#step#sms_reminder#2026-11-30")})
    assert row is not None
    assert row["message_id"] == put.item["message_id"] == message_id("acc_1#step#sms_reminder#2026-11-30")
    assert row["message_id"] != message_id("acc_1#step#sms_reminder#2026-12-01")
    assert (row["status"], row["channel"], row["queue"].split("#")[0]) == ("pending", "sms", "sms")
    assert row["text"] == (
        "【连云港市先医后付】张*您好，您有就医欠款123.45元（最早到期日2026-11-30）已逾期8天，请尽快还款。咨询电话12345。"
    )


def test_one_cause_never_writes_two_rows_and_the_cause_fails_with_it(world: World) -> None:
    # Given a message already written for a cause
    world.ctx().commit([_put(world)])
    # When the same cause is committed again with another change
    with pytest.raises(ConcurrentUpdate):
        world.ctx().commit([_put(world), Put(AUDIT, {"subject": "acc_1", "event_id": "evt_2"})])
    # Then nothing of the second transaction is stored
    assert world.store.tables[AUDIT] == {}
    assert len(world.store.tables[OUTBOX]) == 1


def test_a_phone_task_is_an_open_row_in_the_phone_queue_without_text(world: World) -> None:
    put = _put(world, kind="phone_task")
    assert (put.item["status"], put.item["channel"], put.item["queue"][:6]) == ("open", "phone", "phone#")
    assert "text" not in put.item


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("item_name", "头孢克肟胶囊"),
        ("diagnosis", "J18.9 肺炎"),
        ("department", "呼吸内科"),
        ("note", "任意文字"),
        ("name_masked", "张三"),  # an unmasked name
        ("name_masked", "头孢克肟胶囊"),
        ("step", "头孢克肟胶囊"),  # not a step of the ladder
        ("due_date", "头孢克肟胶囊"),
        ("blocks", ["头孢克肟胶囊"]),
        ("actions", ["头孢克肟胶囊"]),
        ("bill_id", "头孢克肟胶囊"),
        ("amount_fen", "123.45"),
        ("amount_fen", 12.5),
        ("days_overdue", True),
    ],
)
def test_no_item_name_or_diagnosis_can_reach_the_text(world: World, name: str, value: Any) -> None:
    # Given an item name or a diagnosis smuggled into any parameter
    # When a message is built with it
    with pytest.raises(ValueError, match=name):
        outbox_put(
            world.ctx(),
            account_id="acc_1",
            kind="step",
            dedupe_key="k",
            params={**PARAMS_OF_A_STEP, name: value},
        )
    # Then it is refused before anything is written
    assert world.store.tables[OUTBOX] == {}


def test_every_template_uses_only_the_allowed_parameters_and_the_policy() -> None:
    from jinja2 import meta

    env = outbox.environment()
    allowed = {*PARAMS, "city_name", "hotline", "step_blocks"}
    folder = Path(outbox.__file__).resolve().parent.parent / "templates" / "sms"
    for kind, channel in KINDS.items():
        if channel != "sms":
            continue
        for path in (folder / f"{kind}.txt.j2", folder / "_head.txt.j2", folder / "_tail.txt.j2"):
            used = meta.find_undeclared_variables(env.parse(path.read_text(encoding="utf-8")))
            assert used <= allowed, (kind, used - allowed)


@pytest.mark.parametrize("city", ["lianyungang", "xiamen"])
@pytest.mark.parametrize("kind", [k for k, c in KINDS.items() if c == "sms"])
def test_every_sms_renders_in_chinese_with_yuan_hotline_and_masked_name(city: str, kind: str) -> None:
    policy = example_policy(city)
    for step in policy.collection_ladder:
        params = {**PARAMS_OF_A_STEP, "step": step.name, "actions": list(step.actions)}
        text = render_sms(policy, kind, params)
        assert text.startswith(f"【{policy.city_name}先医后付】张*您好，")
        assert text.endswith(f"咨询电话{policy.hotline}。")
        if kind != "cleared":
            assert "123.45元" in text
        if kind == "step" and "blacklist" in step.actions:
            assert "记入失信记录" in text
        elif kind == "step" and "suspend" in step.actions:
            assert "暂停" in text and "急危重症救治不受影响" in text
        assert "头孢" not in text and "None" not in text
        assert len(text) <= 140, text  # at most two SMS segments of 70 Chinese characters


def test_the_strike_rule_message_names_the_count() -> None:
    policy = example_policy("xiamen")
    params = {"name_masked": "王**", "step": "strikes", "actions": ["suspend"], "strikes": 3}
    text = render_sms(policy, "step", params)
    assert text == (
        f"【{policy.city_name}先医后付】王**您好，您累计逾期3笔，依本市先医后付政策，暂停服务（急危重症救治不受影响）。"
        f"咨询电话{policy.hotline}。"
    )


def test_a_missing_parameter_is_an_error_not_an_empty_text(world: World) -> None:
    with pytest.raises(ValueError, match="lacks a parameter"):
        render_sms(world.policy, "step", {"name_masked": "张*", "step": "sms_reminder", "actions": ["sms_reminder"]})


def test_an_unknown_kind_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown message kind"):
        _put(world, kind="email")


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "买买提·艾力克木江·阿不都热合曼", "John Smith", "李"])
def test_every_masked_name_the_platform_makes_is_accepted(world: World, name: str) -> None:
    from treatfirst.domain.ids import mask_name

    put = outbox_put(
        world.ctx(), account_id="acc_1", kind="cleared", dedupe_key=name, params={"name_masked": mask_name(name)}
    )
    assert str(put.item["text"]).startswith(f"【连云港市先医后付】{mask_name(name)}您好")
