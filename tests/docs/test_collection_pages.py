"""The collection pages: each city's ladder timeline and SMS texts, the state machines and the gateway format."""

from __future__ import annotations

import json

from treatfirst.domain import states
from treatfirst.domain.policy import example_policy

from tools.mkdocs_collection import city_section, collection_page, gateway_example


def test_each_city_page_shows_its_ladder_as_a_timeline_from_the_policy() -> None:
    # Values read from the policy files by hand (xiamen.yaml, lianyungang.yaml), not recomputed
    xiamen = city_section(example_policy("xiamen"), "zh")
    assert "| 15 | **`suspend`**: 暂停服务；限制：新增记账、新开就诊、额度提升" in xiamen
    assert "| 180 | **`write_off`**: 核销并转托底 |" in xiamen
    assert "| 15 | **`suspend`**: suspension; blocks: new charges, new visits, limit increases" in city_section(
        example_policy("xiamen"), "en"
    )
    lianyungang = city_section(example_policy("lianyungang"), "zh")
    assert "| 90 | **`report_to_credit_platform`**: 列入失信名单" in lianyungang
    assert "| 30 | **`suspend`**" in lianyungang
    assert "```mermaid\ntimeline" in lianyungang
    # One language per page: the English section carries no Chinese step labels
    assert "暂停服务" not in city_section(example_policy("xiamen"), "en").split("### SMS texts")[0]


def test_the_sms_texts_on_the_city_page_are_what_the_outbox_writes() -> None:
    page = city_section(example_policy("lianyungang"))
    assert (
        "| `cleared` | — | 【连云港市先医后付】张*您好，您的就医欠款已全部还清，先医后付服务的限制已解除，"
        "感谢您按约还款。咨询电话12345。 |"
    ) in page
    assert "头孢" not in page


def test_the_reference_page_draws_the_state_tables() -> None:
    for lang in ("zh", "en"):
        page = collection_page({"xiamen": example_policy("xiamen")}, lang)
        for frm, to, _ in (*states.BILL_TRANSITIONS, *states.SMS_TRANSITIONS, *states.TASK_TRANSITIONS):
            assert f"    {frm} --> {to}: " in page
        assert "| `overdue` | `paid` |" in page and "| `sending` | `sent` |" in page
    # Each language's reasons only
    assert "| `overdue` | `paid` | 还清 |" in collection_page({"xiamen": example_policy("xiamen")}, "zh")
    assert "| `overdue` | `paid` | paid in full |" in collection_page({"xiamen": example_policy("xiamen")}, "en")


def test_the_gateway_message_example_has_the_documented_fields() -> None:
    message = json.loads(gateway_example())
    assert set(message) == {"format", "message_id", "kind", "city_code", "phone", "text", "created_at"}
    assert message["city_code"] == "320700" and message["text"].startswith("【连云港市先医后付】张*您好")
