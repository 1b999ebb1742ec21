"""The compliance registry: each legal duty, the code path that meets it, and the test that proves it.

The compliance page on the site is generated from REGISTRY (one table); a test checks that every code path imports
and every test exists, so a row cannot point at code or a test that is gone. Engineers add rows for their own duties
by appending entries; keep one duty per row. (Started with the blacklist's rows; the privacy work adopts this file.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Duty:
    law: str  # the instrument, short: 个人信息保护法, 网络安全法, 国办发〔2020〕49号
    article: str  # 第十七条
    duty_zh: str
    duty_en: str
    code: tuple[str, ...]  # dotted paths of the functions or classes that meet the duty (module.qualname)
    tests: tuple[str, ...]  # pytest node ids (path::test_name)


PIPL = "个人信息保护法"
GUOBAN49 = "国办发〔2020〕49号"

REGISTRY: list[Duty] = [
    # 国办发〔2020〕49号: the blacklist record (services/blacklist.py) — appended by `blacklist`
    Duty(
        GUOBAN49,
        "依法依规认定（有依据）",
        "列入失信名单须有政策载明的法律依据；每条记录保存政策版本、SHA-256 和法律依据文本",
        "a listing needs the legal basis the policy names; each record keeps policy version, SHA-256 and the basis",
        ("treatfirst.services.blacklist.basis", "treatfirst.domain.policy.BlacklistRule"),
        ("tests/unit/test_blacklist_records.py::test_a_listing_carries_its_basis_dates_and_notice",),
    ),
    Duty(
        GUOBAN49,
        "过惩相当",
        "只有催收阶梯或逾期次数规则可以列入，且须仍有逾期欠款；还清后不再列入",
        "only the ladder or the strike rule lists, and only while overdue arrears remain",
        ("treatfirst.services.blacklist.on_step",),
        ("tests/unit/test_blacklist_ladder.py::test_paying_before_the_notice_is_delivered_drops_the_listing",),
    ),
    Duty(
        GUOBAN49,
        "事先告知",
        "列入前须有已送达的提醒短信作为告知凭证；未送达则等待，不列入",
        "a listing needs a delivered warning SMS as proof of prior notice; without one it waits",
        ("treatfirst.services.blacklist.on_step", "treatfirst.domain.blacklist.delivered"),
        (
            "tests/unit/test_blacklist_ladder.py::test_the_ladder_lists_with_its_basis_and_the_delivered_notice",
            "tests/unit/test_blacklist_ladder.py::test_without_a_delivered_notice_the_listing_waits_then_lists_once_delivered",
        ),
    ),
    Duty(
        GUOBAN49,
        "异议与信用修复",
        "本人可经实名核验提出异议，异议期间暂停报送，运营方附理由决定；还清并经冷静期、有效期届满或更正即移出，下一次报送载明移出",
        "an appeal with a real-name check pauses export and is decided with a reason; repair, expiry or correction "
        "removes the record and the next delta says so",
        (
            "treatfirst.services.blacklist.file_appeal",
            "treatfirst.services.blacklist.decide_appeal",
            "treatfirst.services.blacklist.settle",
        ),
        (
            "tests/functional/test_blacklist_routes.py::test_a_channel_appeal_needs_a_fresh_real_name_check_and_pauses_export",
            "tests/functional/test_blacklist_routes.py::test_an_accepted_appeal_removes_the_record_tells_the_export_and_annuls_its_strikes",
            "tests/unit/test_blacklist_ladder.py::test_publication_after_the_objection_period_then_repair_after_the_cooling_days",
            "tests/functional/test_blacklist_end_to_end.py::test_a_bill_walks_to_the_list_is_repaid_and_leaves_after_the_cooling_days",
        ),
    ),
    Duty(
        GUOBAN49,
        "保存期限",
        "移出后满政策规定的保存期限删除记录中的个人信息及其报送变更行",
        "a removed record's personal data and change rows are deleted after the policy's retention",
        ("treatfirst.services.blacklist.transition",),
        ("tests/unit/test_blacklist_ladder.py::test_expiry_after_the_validity_then_purge_after_the_retention",),
    ),
    Duty(
        PIPL,
        "第二十四条",
        "本人可以查询失信记录的状态、理由、依据和移出方式",
        "the person can learn a record's state, reason, basis and the way off the list",
        ("treatfirst.services.blacklist.status",),
        ("tests/functional/test_blacklist_routes.py::test_the_patient_learns_status_reason_and_the_way_off",),
    ),
    # 个人信息保护法 and 网络安全法: privacy (consents, inventory, texts, rights, erasure) — appended by `privacy`
    Duty(
        PIPL,
        "第十三条",
        "每类个人信息有合法性基础（合同、法定职责、同意、紧急情况）",
        "every category of personal information has a legal basis",
        ("treatfirst.inventory.CATEGORIES", "treatfirst.inventory.BASES"),
        ("tests/unit/test_inventory.py::test_personal_fields_stored_equal_personal_fields_listed",),
    ),
    Duty(
        PIPL,
        "第十四条、第十六条",
        "同意单独作出；只有提供服务所必需的同意才作为签约条件，可选同意拒绝不影响服务",
        "consents are unbundled; only what the service needs gates enrollment",
        ("treatfirst.services.enrollment.check_consents", "treatfirst.domain.policy.ConsentSpec.required"),
        (
            "tests/unit/test_consents_unbundled.py::test_enrollment_without_the_optional_credit_reporting_consent_succeeds",
            "tests/unit/test_consents_unbundled.py::test_a_necessary_consent_still_gates_enrollment",
        ),
    ),
    Duty(
        PIPL,
        "第十四条第二款",
        "处理目的、方式、种类或接收方变更时重新取得同意，新旧版本均留存；重新同意前不开立新的就诊（急诊除外）",
        "a change of purposes, categories or recipients asks again; old and new answers stay on record; no new "
        "visit (but emergency care) opens before the person answers again",
        (
            "treatfirst.services.consents.covers",
            "treatfirst.inventory.consent_scope_sha256",
            "treatfirst.inventory.reconsent_due",
            "treatfirst.services.visits.open_visit",
        ),
        (
            "tests/unit/test_consents_unbundled.py::test_a_policy_change_of_recipients_needs_a_new_answer_and_keeps_the_old_one",
            "tests/unit/test_reconsent.py::test_a_changed_necessary_consent_refuses_a_new_visit_until_the_person_answers_again",
            "tests/functional/test_privacy_rights.py::test_a_re_consent_after_a_policy_change_over_http",
        ),
    ),
    Duty(
        PIPL,
        "第十七条",
        "告知处理者及联系方式、目的、方式、种类、保存期限、权利行使方式和变更",
        "notice of handler and contact, purposes, ways, categories, retention, rights and changes",
        ("treatfirst.consents.notice_items", "treatfirst.consents.checklist"),
        ("tests/unit/test_privacy_texts.py::test_every_required_item_is_in_every_text",),
    ),
    Duty(
        PIPL,
        "第二十三条",
        "向其他处理者提供时告知接收方名称、联系方式、目的、方式和种类",
        "recipients named with contact, purpose and categories",
        ("treatfirst.inventory.consent_scope",),
        (
            "tests/unit/test_privacy_texts.py::test_recipients_are_named_with_their_contact_in_the_texts_that_provide_to_them",
        ),
    ),
    Duty(
        PIPL,
        "第二十八条至第三十条",
        "敏感个人信息单独同意，告知必要性和对个人权益的影响，加密存储",
        "sensitive data: separate consent, necessity and effect told, encrypted",
        ("treatfirst.services.identity_data.seal_identity", "treatfirst.inventory.Category"),
        (
            "tests/unit/test_identity_data.py::test_identifiers_are_sealed_with_the_accounts_own_key_and_read_only_through_identity_of",
        ),
    ),
    Duty(
        PIPL,
        "第三十一条",
        "不满十四周岁未成年人须监护人同意；无监护证明的签约被拒绝",
        "under 14 needs a guardian; without guardian evidence enrollment is refused",
        ("treatfirst.services.enrollment.enroll", "treatfirst.domain.errors.GuardianRequired"),
        (
            "tests/unit/test_consents_unbundled.py::test_an_under_14_enrollment_is_refused_with_its_own_code_and_stores_nothing",
        ),
    ),
    Duty(
        PIPL,
        "第四十七条",
        "删除个人信息：销毁账户数据密钥使所有副本无法解密，检索索引一并删除",
        "deletion: the account's data key is destroyed so every copy is unreadable; look-up indexes go",
        ("treatfirst.services.identity_data.erase_writes",),
        ("tests/unit/test_identity_data.py::test_erasing_the_data_key_leaves_ciphertext_that_nothing_can_open",),
    ),
    Duty(
        PIPL,
        "第十五条、第四十四条至第四十七条",
        "个人通过渠道凭本人新近实名核验查阅、复制（机器可读）、更正、撤回同意（说明后果）、删除；每个请求留痕审计",
        "access and copy (machine-readable), correction, withdrawal with its consequence, erasure through a channel "
        "with fresh real-name evidence; every request audited",
        ("treatfirst.services.rights.open_request", "treatfirst.services.rights.copy_of"),
        ("tests/functional/test_privacy_rights.py::test_rights_end_to_end",),
    ),
    Duty(
        PIPL,
        "第二十四条",
        "自动化决策：可要求说明理由，并拒绝仅由自动化决策作出的决定，由运营方在期限内人工复核",
        "automated decisions: reasons on request, a human review by an operator within the deadline",
        ("treatfirst.services.rights.answer_request", "treatfirst.services.rights.list_open"),
        ("tests/functional/test_privacy_rights.py::test_rights_end_to_end",),
    ),
    Duty(
        PIPL,
        "第四十七条第一款第（一）项、第（四）项",
        "保存期限届满或个人解约后按政策期限删除：稀疏分片索引定时删除，不扫描全表",
        "erasure when the retention after leaving ends: a daily run reads a sparse, sharded index, no scan",
        ("treatfirst.services.purge.purge", "treatfirst.services.purge.schedule_erasure"),
        ("tests/unit/test_purge.py::test_a_person_who_left_is_erased_when_the_retention_ends_and_not_before",),
    ),
    Duty(
        PIPL,
        "第十九条、第四十七条第一款第（二）项",
        "保存期限为实现目的所必要的最短时间；期满后按数据清单逐类删除（会计档案按会计期限），每日任务只读到期的稀疏索引，可中断重跑，审计只记数量",
        "kept no longer than needed; each category deleted when the inventory's period ends (accounting records after "
        "the accounting period), by a daily run that reads only a sparse due index, survives a crash and audits counts",
        (
            "treatfirst.services.purge.purge_records",
            "treatfirst.services.purge.records_due",
            "treatfirst.services.purge.accounting_due",
            "treatfirst.services.records.audit",
        ),
        (
            "tests/unit/test_purge_records.py::test_each_category_goes_when_its_retention_ends_and_not_a_day_before",
            "tests/unit/test_purge_records.py::test_a_crash_part_way_is_finished_by_the_next_run",
            "tests/unit/test_purge_records.py::test_audit_events_expire_after_the_citys_audit_retention",
        ),
    ),
    Duty(
        PIPL,
        "第五十条",
        "建立受理和处理个人行使权利申请的机制：运营方队列按答复期限排序，超期请求在队列中标出并触发告警",
        "a mechanism to accept and handle requests: the operator queue by deadline, overdue requests flagged and "
        "alarmed",
        ("treatfirst.services.rights.list_open", "treatfirst.services.rights.overdue_count"),
        (
            "tests/unit/test_privacy_overdue.py::test_a_request_past_its_deadline_is_flagged_counted_and_alarmed_until_answered",
            "tests/infra/test_template.py::test_an_alarm_watches_privacy_requests_past_their_deadline",
        ),
    ),
    Duty(
        PIPL,
        "第五十五条、第五十六条",
        "个人信息保护影响评估：由数据清单生成评估表，运营方填写结论并保存三年",
        "impact assessment: the worksheet generated from the inventory; the operator concludes and keeps it",
        ("tools.privacy_pages.pia_page",),
        (
            "tests/docs/test_privacy_pages.py::test_the_pia_worksheet_lists_every_sensitive_category_decision_and_recipient",
        ),
    ),
    Duty(
        "网络安全法",
        "第二十一条第（三）项",
        "网络日志留存不少于六个月",
        "logs kept at least six months",
        ("treatfirst.domain.policy._privacy",),
        ("tests/unit/test_compliance.py::test_the_audit_retention_cannot_be_set_below_six_months",),
    ),
]
