"""Every consent and notice of both example cities holds every PIPL item, with the policy's own numbers."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from treatfirst.consents import CHECKLIST_ITEMS, checklist, render_all, render_consent
from treatfirst.domain.policy import POLICY_DIR, example_policy, parse_policy

TEXTS = [(city, c.kind) for city in ("lianyungang", "xiamen") for c in example_policy(city).consents]


@pytest.mark.parametrize(("city", "kind"), TEXTS)
def test_every_required_item_is_in_every_text(city: str, kind: str) -> None:
    # Given a rendered consent or notice of a city
    policy = example_policy(city)
    rendered = render_consent(policy, kind)
    # Then each item of the PIPL checklist is there (art. 17 items, arts. 23, 24, 28-31, the wording rules)
    found = checklist(policy, rendered)
    assert set(found) == {code for code, *_ in CHECKLIST_ITEMS}
    assert [code for code, present in found.items() if not present] == []


def test_the_checklist_fails_a_text_that_lacks_an_item() -> None:
    # Given the personal-information text with the minors section, the closing line or plain text spoiled
    policy = example_policy("lianyungang")
    rendered = render_consent(policy, "personal_information")
    no_minors = dataclasses.replace(rendered, text=rendered.text.replace("监护人", "家人"))
    no_yes = dataclasses.replace(rendered, text=rendered.text.replace("本人已阅读并同意", "本人已阅读"))
    quoted = dataclasses.replace(rendered, text=rendered.text.replace("运营方", '"运营方"', 1))
    marked = dataclasses.replace(rendered, text="# " + rendered.text)
    # Then the checklist names what is missing
    assert checklist(policy, no_minors)["minors"] is False
    assert checklist(policy, no_yes)["affirmative"] is False
    assert checklist(policy, quoted)["plain_text"] is False and checklist(policy, marked)["plain_text"] is False


def test_numbers_are_the_policy_values_with_the_policy_comparisons() -> None:
    # Fixed, independently known values of the two example policies (not recomputed from the policy)
    lyg = {c.kind: c.text for c in render_all(example_policy("lianyungang"))}
    xm = {c.kind: c.text for c in render_all(example_policy("xiamen"))}
    lpi, xpi, lcr, lsa, xsa = (
        lyg["personal_information"],
        xm["personal_information"],
        lyg["credit_reporting"],
        lyg["service_agreement"],
        xm["service_agreement"],
    )
    # retention and the answer deadline
    assert "解约（且无欠款）后 30 天内删除" in lpi
    assert "erased within 30 days after you leave" in lpi
    assert "服务期间及解约后 10 年" in lpi and "10 years after you leave" in lpi
    assert "15 日内答复" in lpi and "within 15 days" in lpi
    assert "解约（且无欠款）后 15 天内删除" in xpi
    assert "服务期间及解约后 5 年" in xpi and "10 日内答复" in xpi
    # inclusive 以上（含）and "or more"; exclusive 超过 and "more than", matching each policy's comparison
    assert "逾期 90 天以上（含 90 天）" in lcr and "90 or more days overdue" in lcr
    assert "more than 90" not in lcr
    assert "12 个月内逾期超过 3 次的" in lsa and "more than 3 overdue bills" in lsa
    assert "累计逾期 3 次以上（含 3 次）的" in xsa and "3 or more overdue bills" in xsa
    assert "550 分以上（含 550 分）500.00 元" in xsa and "550 or more, CNY 500.00" in xsa
    assert "欠款 50.00 元以上（含 50.00 元）" in lsa
    # minors: the age rules of the policy
    for text in (*lyg.values(), *xm.values()):
        assert "本服务仅面向年满 18 周岁的居民" in text and "不满 14 周岁的未成年人" in text


def test_recipients_are_named_with_their_contact_in_the_texts_that_provide_to_them() -> None:
    xm = {c.kind: c.text for c in render_all(example_policy("xiamen"))}
    lyg = {c.kind: c.text for c in render_all(example_policy("lianyungang"))}
    assert "合作银行（示例），联系方式 12345" in xm["personal_information"]
    assert "宁夏西云数据科技有限公司" in xm["personal_information"]
    assert "白鹭分运营机构（示例）" in xm["personal_information"]
    # the credit platform is named only in the credit-reporting text, with its basis there
    assert "连云港市公共信用信息平台（示例），联系方式 12345" in lyg["credit_reporting"]
    assert "公共信用信息平台（示例），联系方式" not in lyg["personal_information"]


def test_a_statutory_city_gets_a_notice_not_a_consent() -> None:
    # Given Lianyungang's policy with credit reporting on a statutory basis (a notice)
    data = yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text(encoding="utf-8"))
    data["consents"][2]["mode"] = "notice"
    data["blacklist_export"]["consent_required"] = False
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    rendered = render_consent(policy, "credit_reporting")
    # Then the text tells rather than asks, and still holds every item
    assert "本人已阅读并知悉" in rendered.text and "本人已阅读并同意" not in rendered.text
    assert "不以您的同意为前提" in rendered.text and "为履行法定职责或者法定义务所必需" in rendered.text
    assert all(checklist(policy, rendered).values())
