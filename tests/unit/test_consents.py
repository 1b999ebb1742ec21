"""Consent texts say what the policy says, and promise nothing the code does not do."""

from __future__ import annotations

import re

import pytest
import yaml
from treatfirst.consents import render_all, render_consent
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
    assert "第 7 天 23:59:59（Asia/Shanghai 时间）前" in text
    assert "by 23:59:59 (Asia/Shanghai) on day 7" in text
    assert not re.search(r"23:59(?!:59)", text)


@pytest.mark.parametrize(("city", "prefix"), [("lianyungang", "3207"), ("xiamen", "3502")])
def test_the_privacy_text_masks_with_its_own_city_prefix(city: str, prefix: str) -> None:
    text = _text(city, "personal_information")
    assert f"（如 {prefix}**********1234）" in text and f"(e.g. {prefix}**********1234)" in text
    other = {"3207", "3502"} - {prefix}
    assert not any(f"{o}*" in text for o in other)


@pytest.mark.parametrize("city", ["lianyungang", "xiamen"])
def test_no_consent_promises_collection_as_if_it_happened(city: str) -> None:
    # Until collection is built, the ladder and the strikes are marked as the policy's future measures
    agreement = _text(city, "service_agreement")
    assert "目前尚未实施" in agreement and "not applied yet" in agreement
    assert "将依次采取" not in agreement and "lead, in order, to" not in agreement
    for consent in render_all(example_policy(city)):
        assert "提醒还款" not in consent.text and "payment reminders" not in consent.text
    if example_policy(city).blacklist_export_enabled:
        reporting = _text(city, "credit_reporting")
        assert "报送功能目前尚未实施，平台不会报送任何信息" in reporting
        assert "Reporting is not built yet, and the platform reports nothing" in reporting
        assert "逾期 90 天以上（含 90 天）" in reporting and "90 or more days overdue" in reporting
