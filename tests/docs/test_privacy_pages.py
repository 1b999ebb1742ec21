"""The privacy pages say what the code stores and what the texts hold (generated, checked against the models)."""

from __future__ import annotations

from treatfirst.adapters.dynamo import MODELS
from treatfirst.compliance import REGISTRY
from treatfirst.domain.policy import example_policy
from treatfirst.inventory import NOT_PERSONAL, categories

from tools.privacy_pages import compliance_page, pia_page, privacy_page

POLICIES = {name: example_policy(name) for name in ("lianyungang", "xiamen")}


def test_the_privacy_page_counts_the_fields_the_models_store_and_every_text_passes() -> None:
    stored = {f"{t}.{a}" for t, m in MODELS.items() for a in m.get_attributes()} - set(NOT_PERSONAL)
    zh, en = privacy_page(POLICIES, "zh"), privacy_page(POLICIES, "en")
    assert f"代码存储的个人信息字段：{len(stored)} 个，全部列入清单" in zh
    assert f"Personal-data fields the code stores: {len(stored)}, every one listed" in en
    # every checklist cell is a tick: a missing item would show a cross
    assert "✗" not in zh and "✗" not in en and zh.count("✓") == 17 * 5
    # the recipients are named, with contacts; the placeholders are flagged for the packager
    assert "合作银行（示例）" in zh and "https://www.amazonaws.cn" in zh
    assert "records_retention" in zh and "--example" in en
    assert "GUARDIAN_REQUIRED" in zh and "不满 14 周岁" in zh
    # each category says what deletes it when its retention ends; only the event log is not deleted automatically
    purged = sum(c.deleted_by.endswith("purge_records") for p in POLICIES.values() for c in categories(p))
    assert zh.count("每日删除任务：保存期满的记录逐条删除") == purged
    assert zh.count("| 尚未自动删除 |") == 2 and en.count("| not automatic yet |") == 2
    assert "作为会计档案，自解约当年年度终了后保存 30 年" in zh
    assert zh.count("`reconciliation` 表中的字段尚未自动删除") == 2
    # re-consent: the necessary texts named from the same source the visit checks (treatfirst.inventory.gating_kinds)
    assert zh.count("RECONSENT_REQUIRED") == 2 and en.count("RECONSENT_REQUIRED") == 2
    assert "《个人信息处理同意书》" in zh and "急诊、还款和个人信息权利请求不受影响" in zh


def test_the_pia_worksheet_lists_every_sensitive_category_decision_and_recipient() -> None:
    zh = pia_page(POLICIES, "zh")
    assert "第五十五条" in zh and "至少保存三年" in zh
    assert "处理敏感个人信息：就诊与费用明细" in zh and "自动化决策：信用额度" in zh
    assert "向其他处理者提供：合作银行（示例）" in zh  # Xiamen's financier
    assert zh.count("| 评估结论 | 负责人 | 日期 |") == 2  # the operator fills these in, one table per city


def test_the_compliance_page_has_one_row_per_registry_entry() -> None:
    zh, en = compliance_page("zh"), compliance_page("en")
    for duty in REGISTRY:
        assert duty.tests[0] in zh and duty.code[0] in en
    assert zh.count("\n| 个人信息保护法 |") == sum(d.law == "个人信息保护法" for d in REGISTRY)
