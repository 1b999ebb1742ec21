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
]
