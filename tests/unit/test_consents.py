"""Consent texts say what the policy says, and promise nothing the code does not do."""

from __future__ import annotations

import re

import pytest
import yaml
from treatfirst.consents import render_consent
from treatfirst.domain.policy import POLICY_DIR, example_policy, parse_policy


def _text(city: str, kind: str) -> str:
    return render_consent(example_policy(city), kind).text


def test_the_agreement_renders_the_policy_strike_window_and_threshold() -> None:
    # Lianyungang's example: more than 3 in 12 months; Xiamen: 3 or more in total (累计逾期3次以上)
    assert "12 个月内逾期超过 3 次的：暂停服务" in _text("lianyungang", "service_agreement")
    assert "within 12 months, more than 3 overdue bills: suspension" in _text("lianyungang", "service_agreement")
    xiamen = _text("xiamen", "service_agreement")
    assert "累计逾期 3 次以上（含 3 次）的：暂停服务、列入失信名单" in xiamen
    assert "in total, 3 or more overdue bills: suspension, blacklist entry" in xiamen
    assert "12 个月" not in xiamen and "12 months" not in xiamen

    # And a different window in the policy is the window in the text (not a fixed "12 months")
    data = yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text(encoding="utf-8"))
    data["strikes"]["window_months"] = 6
    six = render_consent(parse_policy(yaml.safe_dump(data, allow_unicode=True)), "service_agreement").text
    assert "6 个月内逾期超过 3 次" in six and "within 6 months" in six and "12 个月" not in six


@pytest.mark.parametrize("city", ["lianyungang", "xiamen"])
def test_the_due_time_is_the_policy_time_to_the_second(city: str) -> None:
    # Both example policies set 23:59:59 on day 7; the bill's due instant is computed at exactly that time
    text = _text(city, "service_agreement")
    assert "第 7 天 23:59:59（北京时间）前" in text and "Asia/Shanghai" not in text
    assert "by 23:59:59 (Beijing time, UTC+8) on day 7" in text
    assert not re.search(r"23:59(?!:59)", text)


@pytest.mark.parametrize(("city", "prefix"), [("lianyungang", "3207"), ("xiamen", "3502")])
def test_the_privacy_text_masks_with_its_own_city_prefix(city: str, prefix: str) -> None:
    text = _text(city, "personal_information")
    assert f"（例如 {prefix}**********1234）" in text and f"(e.g. {prefix}**********1234)" in text
    other = {"3207", "3502"} - {prefix}
    assert not any(f"{o}*" in text for o in other)


def test_the_agreement_states_the_collection_the_code_applies() -> None:
    # The sweep applies the ladder (treatfirst.domain.collection): the agreement says so, with the figures of each
    # city's policy (fixed values here, not recomputed), the re-anchoring rule, pauses, lifting and write-off
    xiamen, lyg = _text("xiamen", "service_agreement"), _text("lianyungang", "service_agreement")
    for text in (xiamen, lyg):
        assert "目前尚未实施" not in text and "not applied yet" not in text
        assert "逾期天数自最早一张未结清账单的到期日起算" in text and "部分还款不改变起算日" in text
        assert "Days overdue run from the due date of your earliest unpaid bill" in text
        assert "Paying everything you owe lifts the late-payment steps in that same payment" in text
        assert "急危重症费用由疾病应急救助基金" in text
    assert "账单到期日前 1 天发送还款提醒短信" in xiamen and "An SMS reminds you 1 day before" in xiamen
    assert "逾期 15 天以上（含 15 天）：暂停服务，限制新增记账、新开就诊、额度提升（提前 3 天提醒）" in xiamen
    assert "15 or more days overdue: suspension" in xiamen and "(reminder 3 days before)" in xiamen
    assert "逾期 180 天以上（含 180 天）：核销并转托底" in xiamen and "自付部分由信用保险" in xiamen
    assert "仅在逾期记录经核实撤销或信用修复后解除" in xiamen
    assert "账单到期日前 2 天发送还款提醒短信" in lyg
    assert "逾期 90 天以上（含 90 天）且欠款 50.00 元以上（含 50.00 元）：列入失信名单" in lyg
    assert "90 or more days overdue with CNY 50.00 or more owed: blacklist entry" in lyg
    assert "不再达到上述条件且没有欠款时自动解除" in lyg and "自付部分由市级托底资金" in lyg


@pytest.mark.parametrize("city", ["lianyungang", "xiamen"])
def test_the_consents_say_what_the_export_does(city: str) -> None:
    # Lianyungang exports (structured basis, consent required); Xiamen's list stays internal
    agreement = _text(city, "service_agreement")
    if example_policy(city).blacklist_export_enabled:
        assert "报送市公共信用信息平台" in agreement and "is reported to the city public credit platform" in agreement
        reporting = _text(city, "credit_reporting")
        assert "每个业务日结束后报送一次当天新列入和移出名单的记录，只报送同意本授权且未撤回的人" in reporting
        assert "only of persons who accepted this authorisation" in reporting
        assert "尚未实施" not in reporting and "not built yet" not in reporting
        assert "逾期 90 天以上（含 90 天）" in reporting and "90 or more days overdue" in reporting
        assert "并经您另行同意，向市公共信用信息平台报送失信名单的变化，见单独的" in _text(city, "personal_information")
    else:
        assert (
            "仅在平台内部记录，不对外报送" in agreement
            and "stays a record inside the platform, never reported" in agreement
        )
        assert "报送" not in _text(city, "personal_information")
