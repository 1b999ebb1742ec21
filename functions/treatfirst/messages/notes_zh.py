"""Chinese notes for the message structs' fields, shown on the Chinese API reference (the English pages show the
structs' own `Meta(description=...)`). Read only by the docs build; nothing here changes what the API accepts.

A field's Chinese note is, in order: its `Meta(extra_json_schema={"x-zh": "..."})` if the struct gives one,
else FIELDS["Struct.field"], else FIELDS["field"]; followed by the translation of its English description
(DESCRIPTIONS). tests/docs/test_reference_pages.py fails when a field of the OpenAPI document has no Chinese note or
an English description has no translation: a new struct brings its notes here (or inline with "x-zh").
"""

from __future__ import annotations

from treatfirst.messages.reconciliation import MAX_STORED_BREAKS

ZH_KEY = "x-zh"

# What each field is, by name; "Struct.field" where one name means different things in different structs.
FIELDS: dict[str, str] = {
    # daily clearing files (messages/clearing.py)
    "ClearingFile.content_type": "文件的内容类型",
    "ClearingFile.bytes": "整个文件的字节数",
    "ClearingFile.sha256": "整个文件的 SHA-256（十六进制）",
    "ClearingFile.offset": "本段在文件中的起始字节",
    "ClearingFile.content_base64": "本段内容（base64）",
    "ClearingFile.next_offset": "下一段的起始字节；已到文件末尾时为 null",
    "ClearingFileEntry.sha256": "文件的 SHA-256（十六进制）",
    "ClearingFileEntry.bytes": "文件的字节数",
    "ClearingManifest.format_version": "文件格式版本",
    "ClearingManifest.business_date": "业务日期（城市时区、日切时间）",
    "ClearingManifest.party": "清算方：<类型>:<编号>",
    "ClearingManifest.lines": "本方文件中的账本分录条数",
    "ClearingManifest.net_fen": "本方净额（分）：正数为应收，负数为应付",
    "ClearingManifest.files": "本方的文件及其 SHA-256 与大小",
    "account_id": "签约账户编号",
    "aging": "账龄档（人民银行还款状态：N 未逾期，1–7 每 30 天一档）",
    "allocations": "本笔还款分配到各账单的金额",
    "amount_fen": "金额（分）",
    "at": "发生时间",
    "attempts": "已尝试投递的次数",
    "automated": "是否为自动化决定（个人可要求说明理由或拒绝仅由自动化作出的决定）",
    "available_fen": "当前可用额度（分）",
    "band": "账龄档",
    "bands": "各账龄档的账单数和金额",
    "bill": "本次就诊生成的账单",
    "bill_id": "账单编号",
    "bills": "该档的账单数",
    "blocks": "当前催收阶段限制的操作（急危重症永不受限）",
    "cancel": "是否为撤销（全额）",
    "channel": "发送方式：短信或电话任务",
    "channel_id": "支付渠道编号",
    "channel_txn_id": "渠道交易号",
    "charge_count": "费用明细条数",
    "charges": "急诊费用明细条数",
    "check_id": "实名核验编号",
    "city_code": "城市代码",
    "claimed_at": "认领时间",
    "claimed_by": "认领的运营人员密钥",
    "closed_at": "结束时间（未结束为 null）",
    "code": "错误码",
    "consents": "患者同意的知情同意书",
    "created_at": "创建时间",
    "credit_line": "信用额度",
    "credit_score": "信用分（按分档城市的政策）",
    "cursor": "下一页的游标；没有下一页为 null",
    "days": "向前拨的天数",
    "days_overdue": "逾期天数（自最早未还账单的到期日起，扣除暂停天数）",
    "decided_at": "决定时间",
    "decided_by": "作出决定的运营人员密钥",
    "decision": "额度决定",
    "decision_reason": "决定理由",
    "declared_at": "声明急危重症的时间",
    "department": "科室",
    "details": "补充信息（按错误码而定）",
    "done_at": "完成时间",
    "due_at": "到期时间",
    "due_date": "到期日",
    "earliest_due_date": "最早一张未还账单的到期日（逾期起算日）",
    "effective_within_seconds": "生效时限（秒）",
    "eligible": "是否符合签约条件",
    "emergency": "急危重症",
    "emergency_amount_fen": "其中急危重症自付金额（分）",
    "emergency_held_fen": "急危重症冻结金额（分），在额度之外",
    "emergency_only": "是否只能开立急危重症就诊",
    "emergency_owed_fen": "急危重症欠款（分），在额度之外",
    "end": "结束日（不含）",
    "enrolled_at": "签约时间",
    "error": "错误",
    "fee_line_id": "医院的费用明细编号",
    "field": "出错的请求字段",
    "has_more": "是否还有下一页",
    "held_fen": "就诊中冻结的自付金额（分）",
    "his_visit_id": "医院 HIS 中的就诊号",
    "hospital_id": "医院编号",
    "hospitals": "各医院的急诊合计",
    "hours": "向前拨的小时数",
    "human_review": "人工复核的途径",
    "id": "调用方编号（医院或渠道）",
    "id_number": "居民身份证号",
    "in_window": "统计窗口内的失信次数",
    "insurance_fen": "医保统筹支付金额（分）",
    "insurance_status": "医保状态",
    "issued_at": "出账时间",
    "item_code": "收费项目编码",
    "item_name": "收费项目名称",
    "items": "本页条目",
    "key_id": "密钥编号",
    "kind": "类型",
    "limit_fen": "授信额度（分）",
    "message": "说明",
    "message_id": "消息编号（稳定，用于去重）",
    "method": "核验方式：人脸或短信",
    "month": "月份",
    "moratoriums": "全市暂停催收期",
    "name": "姓名",
    "name_masked": "脱敏姓名",
    "net_self_pay_fen": "净自付金额（分）",
    "next_step_at": "下一催收阶段的日期",
    "note": "备注",
    "now": "平台时钟的当前时间",
    "occurred_at": "费用发生时间",
    "offset_seconds": "测试时钟相对真实时间的偏移（秒）",
    "on": "营业日",
    "open_reviews": "待复核条目数",
    "opened_at": "开立时间",
    "outcome": "结果",
    "outstanding_fen": "未还金额（分）",
    "overdue": "是否已逾期",
    "owed_fen": "已出账未还的欠款（分）",
    "paid_at": "支付时间",
    "paid_fen": "已还金额（分）",
    "params": "短信或任务的参数（金额、日期、阶段，不含诊疗信息）",
    "pause_id": "暂停记录编号",
    "pauses": "争议等暂停记录",
    "payer": "付款人",
    "payment_id": "还款编号",
    "personal_account_fen": "个人账户支付金额（分）",
    "phone": "手机号",
    "phone_masked": "脱敏手机号",
    "policy": "城市政策",
    "policy_city": "政策所属城市",
    "policy_sha256": "政策文件的 SHA-256",
    "policy_version": "政策版本",
    "posted_at": "记账时间",
    "previous_secret_expires_at": "旧 secret 的失效时间",
    "previous_valid_seconds": "旧 secret 继续有效的秒数",
    "quantity": "数量",
    "ran": "在新时间运行的定时任务及其结果",
    "reason": "理由",
    "reason_code": "急危重症原因编码",
    "reasons": "额度决定的理由",
    "received_at": "平台收到通知的时间",
    "refund_id": "退费编号",
    "refunded_fen": "已退费金额（分）",
    "refunded_insurance_fen": "已退的医保统筹金额（分）",
    "refunded_personal_account_fen": "已退的个人账户金额（分）",
    "refunded_self_pay_fen": "已退的自付金额（分）",
    "refunds": "退费记录",
    "request_id": "请求编号（报障时提供）",
    "review_id": "复核条目编号",
    "revoked_at": "吊销时间",
    "rule_applied": "失信规则是否已执行",
    "scopes": "密钥的权限",
    "secret": "密钥 secret",
    "self_pay_fen": "自付金额（分）",
    "sent_at": "发送时间",
    "source": "信用分来源",
    "start": "开始日",
    "status": "状态",
    "step": "当前催收阶段",
    "strikes": "失信次数",
    "task_id": "电话任务编号",
    "text": "全文",
    "text_sha256": "文本的 SHA-256",
    "threshold_fen": "复核门槛（分）",
    "tier": "额度档位",
    "timezone": "时区",
    "title": "标题",
    "title_en": "英文标题",
    "total": "累计失信次数",
    "total_fen": "费用总额（分）",
    "triage_level": "分诊级别",
    "unpaid": "未还账单",
    "unpaid_fen": "未还总额（分）",
    "value": "分值",
    "verification": "实名核验",
    "verified_at": "核验通过时间",
    "version": "版本",
    "visit": "结束后的就诊",
    "visit_id": "就诊编号",
    "visits": "急诊就诊次数",
    "withdrawn_at": "解约时间",
    "write_off": "核销记录（未核销为 null）",
    "disputed": "是否有未结束的争议（争议期间该账单不计入催收）",
    "credit_fen": "核销的额度内欠款（分）",
    "emergency_fen": "核销的急危重症欠款（分）",
    "credit_fund": "承担额度内部分的托底",
    "emergency_fund": "承担急危重症部分的托底",
    "recovered_fen": "核销后收回的金额（分），不超过核销金额",
    "WriteOffRecord.reason": "核销原因",
    "WriteOffRecord.on": "核销的营业日",
    "WriteOffRequest.reason": (
        "核销原因：hardship 困难救助，deceased 患者死亡，"
        "emergency_unidentified 身份不明的急危重症，operator_decision 运营方决定"
    ),
    "WriteOffRequest.note": "说明（记入审计）",
    # One name, different meanings
    "Account.status": "账户状态：active 正常，suspended 暂停（只能急诊），withdrawn 已解约",
    "AccountCredit.status": "账户状态：active 正常，suspended 暂停（只能急诊），withdrawn 已解约",
    "AccountForPayer.status": "账户状态：active 正常，suspended 暂停（只能急诊），withdrawn 已解约",
    "Bill.status": "账单状态：issued 已出账，overdue 逾期，paid 已还清，written_off 已核销",
    "Charge.status": "明细状态：posted 已记账，partially_refunded 部分退费，cancelled 已撤销",
    "ClaimedTask.status": "任务状态：open 待认领，claimed 已认领，done 已完成",
    "PhoneTask.status": "任务状态：open 待认领，claimed 已认领，done 已完成",
    "OutboxMessage.status": "投递状态",
    "Review.status": "复核状态：open 待复核，confirmed 确认，rejected 驳回",
    "Revocation.status": "密钥状态：revoked 已吊销",
    "Visit.status": "就诊状态：open 进行中，closed 已结束",
    "Health.status": "服务状态",
    "CollectionState.status": "账户状态",
    "CallerKey.kind": "调用方类型",
    "CallerKey.id": "调用方编号",
    "CallerRequest.kind": "调用方类型：hospital 医院，channel 支付渠道",
    "CallerRequest.name": "调用方名称",
    "ConsentGiven.kind": "知情同意书类型",
    "ConsentText.kind": "知情同意书类型",
    "OutboxMessage.kind": "消息类型：到期提醒、阶段预告、催收阶段、还清通知、电话任务",
    "PaidBy.kind": "付款人：self 本人，family 亲情账户成员，proxy 代付",
    "Payer.kind": "付款人：self 本人，family 亲情账户成员，proxy 代付",
    "Review.kind": "复核类型",
    "Revocation.kind": "调用方类型",
    "Revocation.id": "调用方编号",
    "Visit.kind": "就诊类型：outpatient 门诊，inpatient 住院",
    "VisitRequest.kind": "就诊类型：outpatient 门诊，inpatient 住院",
    "Visit.emergency": "急危重症声明（未声明为 null）",
    "VisitRequest.emergency": "声明急危重症就诊",
    "ChargeRequest.emergency": "急危重症费用",
    "Charge.emergency": "是否为急危重症费用",
    "EnrollmentRequest.name": "姓名",
    "Account.name": "姓名（脱敏）",
    "AccountForPayer.name": "姓名（脱敏）",
    "Reason.code": "理由代码",
    "Reason.message": "理由说明",
    "ErrorDetail.message": "错误说明（英文，供开发者阅读）",
    "BillPage.items": "账单",
    "ChargePage.items": "费用明细",
    "VisitPage.items": "就诊",
    "OutboxPage.items": "短信和电话任务，最新的在前",
    "PhoneTaskPage.items": "电话任务，最早的在前",
    "ReviewPage.items": "复核条目，最早的在前",
    "Consents.items": "知情同意书",
    "Moratoriums.items": "暂停催收期",
    "Refund.reason": "退费理由",
    "Refund.insurance_fen": "本次退的医保统筹金额（分）",
    "Refund.personal_account_fen": "本次退的个人账户金额（分）",
    "Refund.self_pay_fen": "本次退的自付金额（分）",
    "RefundRequest.insurance_fen": "要退的医保统筹金额（分）",
    "RefundRequest.personal_account_fen": "要退的个人账户金额（分）",
    "RefundRequest.self_pay_fen": "要退的自付金额（分），恢复相应额度",
    "CancelRequest.reason": "撤销理由",
    "Payment.amount_fen": "还款金额（分）",
    "PaymentRequest.amount_fen": "还款金额（分）",
    "Allocation.amount_fen": "分配到该账单的金额（分）",
    "PaidAllocation.amount_fen": "分配到该账单的金额（分）",
    "Bill.amount_fen": "账单金额（分）",
    "Review.amount_fen": "触发复核的急诊自付金额（分）",
    "HospitalEmergencyTotals.self_pay_fen": "急诊自付合计（分）",
    "HospitalEmergencyTotals.refunded_self_pay_fen": "其中已退费或撤销（分）",
    "AgingBand.outstanding_fen": "该档未还金额（分）",
    "UnpaidBill.outstanding_fen": "该账单未还金额（分）",
    "Review.opened_at": "复核条目开立时间",
    "Visit.opened_at": "就诊开立时间",
    "CreditScore.value": "分值",
    "ClockAdvanced.now": "拨动后的平台时间",
    "ClockState.now": "平台时钟的当前时间",
    "PauseRecord.reason": "暂停理由",
    "PauseRecord.bill_id": "有争议的账单（全市暂停为 null）",
    "AgingReport.on": "统计所依据的营业日",
    "CollectionState.on": "当前营业日",
    "ConsentText.text": "知情同意书全文",
    "ConsentText.version": "知情同意书版本",
    "ConsentGiven.version": "知情同意书版本",
    "OutboxMessage.text": "短信全文（电话任务为 null）",
    "OutboxMessage.bill_id": "相关账单（如有）",
    "Closed.visit": "结束后的就诊",
    "Closed.bill": "本次就诊生成的账单",
    "Decision.limit_fen": "决定的授信额度（分）",
    "Decision.tier": "额度档位",
    "CreditLine.limit_fen": "授信额度（分）：额度 = 可用 + 冻结 + 欠款",
    "Strikes.total": "累计失信次数",
    "ClaimedTask.phone": "要拨打的完整手机号（仅认领者可见）",
    "OutcomeRequest.outcome": "通话结果",
    "OutcomeRequest.note": "备注",
    "ReviewDecision.outcome": "决定：confirmed 确认，rejected 驳回",
    "ReviewDecision.reason": "决定理由",
    "EmergencyReport.month": "月份（城市日历）",
    # the blacklist export (credit platform)
    "ExportFile.name": "文件名",
    "export_id": "交付编号（exp_ 加业务日期）",
    "window_from": "窗口起始业务日期（含）",
    "window_to": "窗口结束业务日期（不含）",
    "sequence": "交付序号",
    "manifest_sha256": "清单 manifest.json 的 SHA-256",
    "previous_manifest_sha256": "前一天清单的 SHA-256",
    "counts": "新列入和移出的条数",
    "added": "新列入条数",
    "removed": "移出条数",
    "written_at": "交付写出时间",
    "acknowledged_at": "信用平台确认时间",
    "files": "交付中的文件",
    "format": "文件格式",
    "rows": "记录行数",
    "bytes": "字节数",
    "sha256": "文件的 SHA-256",
    # ---- privacy (messages/privacy.py) ----
    "ConsentState.mode": "consent 为同意（可拒绝、可撤回）；notice 为依法定职责的告知",
    "ConsentState.required": "是否为签约所必需（只有服务离不开的才必需）",
    "ConsentState.current_version": "城市政策现行文本的版本",
    "ConsentState.on_record": "本人最近一次回答有效：未撤回，且覆盖现行文本的目的、种类和接收方",
    "ConsentState.needs_answer": "需要本人重新回答（政策改变了该项覆盖的目的、种类或接收方，或尚未回答必需项）",
    "ConsentState.accepted_version": "本人最近一次回答的文本版本",
    "ConsentState.accepted_at": "本人最近一次回答的时间",
    "ConsentText.required": "签约是否必须同意此文本；false 表示可以拒绝且不影响签约",
    "ConsentText.mode": "consent 为同意；notice 为依法定职责的告知，展示即可",
    "PrivacyRequest.consent_kind": "要撤回的同意种类（withdraw_consent）",
    "PrivacyRequest.correction": "要更正的内容：手机号或姓名",
    "PrivacyRequestRecord.answered_at": "答复时间",
    "PrivacyRequestRecord.answered_by": "答复者（system 为系统即时答复，或运营方编号）",
    "PrivacyRequestRecord.answer": "答复内容：已做的处理，或本人数据的副本（副本不保存）",
}

# The English descriptions of the structs' Meta, and of their types (treatfirst.messages.common), in Chinese.
DESCRIPTIONS: dict[str, str] = {
    "One piece of a file: concatenate the decoded pieces and compare the SHA-256 with the manifest's.": (
        "文件的一段：把各段解码后拼接，与清单中的 SHA-256 比对。"
    ),
    "SHA-256 of the whole file, hex": "整个文件的 SHA-256（十六进制）",
    "The party's manifest of the day (written after its files): what to download and how to check it.": (
        "本方当日的清单（在文件之后写入）：要下载什么、如何核对。"
    ),
    "YYYY-MM-DD, the city's business date": "YYYY-MM-DD，城市的业务日期",
    "a value of another form is CLEARING_NOT_FOUND": "格式不符的值返回 CLEARING_NOT_FOUND",
    "ledger entries in the party's files": "本方文件中的账本分录条数",
    "size of the whole file": "整个文件的字节数",
    "the bytes from offset, at most 4194304": "从 offset 起的内容，最多 4194304 字节",
    "the party's net position: receives when positive, pays when negative": "本方净额：正数为应收，负数为应付",
    "where the next piece starts; null at the end": "下一段的起始字节；已到文件末尾时为 null",
    "1-100 characters, not blank": "1–100 个字符，不能为空白",
    "1-200 characters, not blank": "1–200 个字符，不能为空白",
    "1-64 characters of A-Z a-z 0-9 _ . : -": "1–64 个字符：A-Z a-z 0-9 _ . : -",
    "1-64 characters, not blank": "1–64 个字符，不能为空白",
    "3-64 characters of a-z, 0-9, _ and -, starting with a-z or 0-9": "3–64 个字符：a-z、0-9、_ 和 -，以字母或数字开头",
    "RFC 3339 in the city's time zone (e.g. +08:00)": "RFC 3339，城市时区（如 +08:00）",
    "RFC 3339 time in UTC with a Z suffix": "RFC 3339 UTC 时间，以 Z 结尾",
    "RFC 3339 time with an offset (Z or ±hh:mm)": "RFC 3339 时间，带时区偏移（Z 或 ±hh:mm）",
    "SHA-256 (hex) of the exact text shown, from GET /v1/consents; must match the current text": (
        "所展示文本的 SHA-256（十六进制），取自 GET /v1/consents；须与当前文本一致"
    ),
    "a bill id": "账单编号",
    "a date in the city's calendar": "城市日历中的日期",
    "a stable error code (see the error-code page)": "稳定的错误码（见错误码页）",
    "amount in fen (分), an integer greater than 0": "金额，单位分，大于 0 的整数",
    "amount in fen (分), an integer; never a float, a string or a boolean": (
        "金额，单位分，整数；不接受小数、字符串或布尔值"
    ),
    "an 11-digit mainland mobile number, optionally after +86": "11 位大陆手机号，可带 +86",
    "confirmed: the emergency claim stands; rejected: the operator found it unfounded (the decision is recorded and "
    "audited; it changes no balance)": (
        "confirmed：急危重症成立；rejected：运营方认定不成立（决定留审计，不改变任何余额）"
    ),
    "credit available for self-pay now": "当前可用于自付的额度",
    "declare an emergency visit: it opens even when the account is suspended": "声明急危重症就诊：账户暂停时也能开立",
    "each bill at most once; the amounts must add up to amount_fen (else VALIDATION_FAILED on allocations)": (
        "每张账单最多一次；各金额之和须等于 amount_fen（否则 allocations 上报 VALIDATION_FAILED）"
    ),
    "emergency charges posted in the month": "当月记账的急诊费用明细",
    "emergency self-pay posted": "急诊自付记账金额",
    "emergency self-pay: owed by the patient too, outside the limit; the policy names a backstop for it if unpaid, "
    "but write-off is not built yet": (
        "急危重症自付：患者同样需要偿还，不占额度；政策为未还部分指定了托底，但核销尚未实现"
    ),
    "emergency_charge: one emergency charge above the threshold; emergency_visit: a visit whose emergency self-pay "
    "total is above it when it closes": (
        "emergency_charge：单笔急诊费用超过门槛；emergency_visit：就诊结束时急诊自付合计超过门槛"
    ),
    "every consent the city policy requires, each once, at its current version and text SHA-256": (
        "城市政策要求的每份知情同意书各一次，版本和文本 SHA-256 均为当前值"
    ),
    "every server refuses the key within this many seconds": "所有服务器在这么多秒内拒绝该密钥",
    "from the visit's declaration (emergency_visit items)": "取自就诊的急危重症声明（emergency_visit 条目）",
    "hours to move forward": "向前拨的小时数",
    "how long the previous secret keeps working; 0 ends it at once": "旧 secret 继续有效的时长；0 表示立即失效",
    "kept in the audit log": "记入审计日志",
    "masked, e.g. 138****5678": "脱敏，如 138****5678",
    "masked, e.g. 3207**********1234": "脱敏，如 3207**********1234",
    "masked, e.g. 张*": "脱敏，如 张*",
    "must equal insurance_fen + personal_account_fen + self_pay_fen (else SPLIT_MISMATCH)": (
        "须等于 insurance_fen + personal_account_fen + self_pay_fen（否则 SPLIT_MISMATCH）"
    ),
    "must equal the sum of allocations[].amount_fen": "须等于 allocations[].amount_fen 之和",
    "of which refunded or cancelled since": "其中此后已退费或撤销的",
    "resident ID number (GB 11643): 17 digits and a check character (0-9 or X), checksum checked": (
        "居民身份证号（GB 11643）：17 位数字加一位校验码（0-9 或 X），校验码会核对"
    ),
    "review items still waiting for an operator": "仍在等待运营方处理的复核条目",
    "rotation only: until when the previous secret still works (null: not at all)": (
        "仅轮换：旧 secret 的有效截止时间（null 表示立即失效）"
    ),
    "self_pay_fen - refunded_self_pay_fen: the claim on the fund": (
        "self_pay_fen − refunded_self_pay_fen：向基金申请的金额"
    ),
    "shown once; a retry with the same Idempotency-Key by the same operator key shows it again within 24 hours, null "
    "after that": "只显示一次；同一把运营方密钥在 24 小时内用同一 Idempotency-Key 重试可再次取得，之后为 null",
    "the channel's real-name check of this person, passed at most 10 minutes ago (and not more than 5 minutes in the "
    "future), else VERIFICATION_STALE": (
        "渠道对本人的实名核验，须在 10 分钟内通过（且不超前 5 分钟），否则 VERIFICATION_STALE"
    ),
    "the channel's transaction id; a retry with it returns the first payment": "渠道交易号；用它重试返回第一次的还款",
    "the charge (emergency_charge items)": "该笔费用（emergency_charge 条目）",
    "the city policy file as data": "城市政策文件的数据",
    "the hospital's code for the emergency (e.g. its diagnosis code)": "医院对急危重症的编码（如诊断编码）",
    "the hospital's own fee-line id (like 医保 feedetl_sn)": "医院自己的费用明细编号（类似医保 feedetl_sn）",
    "the instant and offset the channel sent (RFC 3339)": "渠道发送的时刻和时区偏移（RFC 3339）",
    "the month is counted in this zone (the city's)": "按此时区（城市时区）计月",
    "the policy's review_above_fen when the item opened": "条目开立时政策的 review_above_fen",
    "the request field at fault, when one is": "出错的请求字段（如有）",
    "the self-pay posted on credit": "记在额度上的自付金额",
    "the verification provider's id of the check": "核验服务商给出的核验编号",
    "triage level 1 (most urgent) to 4": "分诊级别 1（最紧急）到 4",
    "true when only a visit declared an emergency may be opened (the account is suspended)": (
        "为 true 时只能开立声明为急危重症的就诊（账户已暂停）"
    ),
    "visits those charges belong to": "这些费用所属的就诊次数",
    "when the check passed (RFC 3339 with offset)": "核验通过时间（RFC 3339，带时区偏移）",
    "whole days to move forward": "向前拨的整天数",
    "emergency self-pay: owed by the patient too, outside the limit; written off to the policy's emergency backstop "
    "if it stays unpaid to the end of the ladder": (
        "急危重症自付：患者同样需要偿还，不占额度；到催收阶梯末仍未还清的，核销转政策指定的急危重症托底"
    ),
    "ladder_exhausted by the sweep; the others by an operator, with a note": (
        "ladder_exhausted 由催收扫描在阶梯末核销；其他原因由运营方核销并写明说明"
    ),
    "the city's business date of the write-off (YYYY-MM-DD)": "核销所在的城市营业日（YYYY-MM-DD）",
    "hardship: the civil-affairs office certified the patient (低保、特困); its self-pay goes to the policy's hardship "
    "backstop; the others go to the first fund of the backstop order; any emergency part goes to the emergency "
    "backstop": (
        "hardship：民政部门认定的低保、特困人员，其自付部分转政策指定的困难救助托底；"
        "其他原因转托底顺序中的第一个基金；急危重症部分转急危重症托底"
    ),
    "Why and to which funds a bill was written off; money received afterwards is a recovery for those funds.": (
        "账单为何核销、转入哪些托底；此后收到的还款作为这些托底的追回款。"
    ),
    "An operator's write-off of one unpaid bill (the sweep writes off at the end of the ladder by itself).": (
        "运营方核销一张未还账单（催收扫描在阶梯末会自行核销）。"
    ),
    "why, for the audit trail": "理由，记入审计",
    "个人账户: paid from the personal insurance account": "个人账户：由医保个人账户支付",
    "医保 status; the city policy accepts some values (GET /v1/policy)": (
        "医保状态；城市政策接受其中某些值（GET /v1/policy）"
    ),
    "医保统筹: paid by the insurance fund": "医保统筹：由医保基金支付",
    "急危重症: accepted past the limit or a suspension, outside the limit, and flagged": (
        "急危重症：超出额度或账户暂停也接受，不占额度，并加标记"
    ),
    "自付: held on the credit line (the only part that uses credit)": "自付：冻结在信用额度上（唯一占用额度的部分）",
    # parameters
    "1-128 printable ASCII characters, scoped to the caller's key and this route. A retry with the same key returns "
    "the first result (with `Idempotent-Replayed: true`); the same key with another body is IDEMPOTENCY_KEY_REUSED "
    "(409). Records are kept 24 hours.": (
        "1–128 个可打印 ASCII 字符，作用范围为调用方密钥和本路由。同一个键重试返回第一次的结果（带 "
        "`Idempotent-Replayed: true`）；同一个键配不同请求体返回 IDEMPOTENCY_KEY_REUSED（409）。记录保存 24 小时。"
    ),
    "1-128 printable ASCII characters; checked for its format, otherwise without effect here.": (
        "1–128 个可打印 ASCII 字符；只检查格式，在此操作上没有其他作用。"
    ),
    "ASCII digits only": "只能是 ASCII 数字",
    "a month of the city's calendar": "城市日历中的月份",
    "a value of another form is ACCOUNT_NOT_FOUND": "格式不符返回 ACCOUNT_NOT_FOUND",
    "a value of another form is BILL_NOT_FOUND": "格式不符返回 BILL_NOT_FOUND",
    "a value of another form is CALLER_NOT_FOUND": "格式不符返回 CALLER_NOT_FOUND",
    "a value of another form is RIGHTS_REQUEST_NOT_FOUND": "格式不符返回 RIGHTS_REQUEST_NOT_FOUND",
    "a value of another form is CHARGE_NOT_FOUND": "格式不符返回 CHARGE_NOT_FOUND",
    "a value of another form is PAUSE_NOT_FOUND": "格式不符返回 PAUSE_NOT_FOUND",
    "a value of another form is REVIEW_NOT_FOUND": "格式不符返回 REVIEW_NOT_FOUND",
    "a value of another form is TASK_NOT_FOUND": "格式不符返回 TASK_NOT_FOUND",
    "a value of another form is VISIT_NOT_FOUND": "格式不符返回 VISIT_NOT_FOUND",
    "opaque: the `cursor` of the previous page, bound to this list and this caller (another list's or caller's cursor "
    "is INVALID_CURSOR)": (
        "不透明值：上一页返回的 `cursor`，只对本列表和本调用方有效（其他列表或调用方的游标返回 INVALID_CURSOR）"
    ),
    # structs
    "A channel's view of an account: what a payer needs (masked identity and amounts), no phone.": (
        "支付渠道看到的账户：付款所需的信息（脱敏身份和金额），不含手机号。"
    ),
    "A hospital's view of an account: what opening a visit needs, no identity (PIPL minimum necessary).": (
        "医院看到的账户：开立就诊所需的信息，不含身份信息（个人信息保护法最小必要）。"
    ),
    "A phone follow-up an operator makes, written with the ladder step that asked for it.": (
        "运营人员要拨打的电话回访，与要求它的催收阶段一起写入。"
    ),
    "An account, every field (the operator's view, and the answer to the enrollment); identifiers masked.": (
        "账户的全部字段（运营方视图，也是签约的应答）；身份信息脱敏。"
    ),
    "Cancel what remains of a charge; the body may be omitted.": "撤销一笔费用的剩余部分；可以不带请求体。",
    "Days from `start` (inclusive) to `end` (exclusive; absent while open) do not age the debt.": (
        "从 `start`（含）到 `end`（不含；进行中时没有）的天数不计入账龄。"
    ),
    "Enroll a resident: identity, real-name verification, separate consents.": (
        "为居民签约：身份、实名核验、单独的知情同意。"
    ),
    "Evidence of the channel's real-name check of this person (face or SMS).": (
        "渠道对本人实名核验的凭证（人脸或短信）。"
    ),
    "No fields: send no body, or `{}`.": "无字段：不带请求体，或发送 `{}`。",
    "One outbox row: an SMS to the patient or a phone task for an operator, written with its cause.": (
        "发件箱中的一行：发给患者的短信或给运营人员的电话任务，与其原因一同写入。"
    ),
    "Refund part of a charge: at least one fen in total, no part beyond what remains of it.": (
        "部分退费：合计至少 1 分，每一部分不超过其剩余金额。"
    ),
    "The limit decision with its reasons and the policy that made it (PIPL art. 24).": (
        "额度决定及其理由和所依据的政策（个人信息保护法第二十四条）。"
    ),
    "Unpaid bills by the central bank's repayment-status band: N (not overdue), 1-6 by 30 days, 7 over 180.": (
        "按人民银行还款状态分档的未还账单：N（未逾期），1–6 每 30 天一档，7 为超过 180 天。"
    ),
    "What the patient owes for a closed visit. Payments apply to the credit part first, then the emergency part.": (
        "一次已结束就诊患者应付的金额。还款先冲抵额度部分，再冲抵急危重症部分。"
    ),
    "Withdrawal needs fresh real-name evidence of the person (only a channel, the patient's side, sends it).": (
        "解约需要本人最新的实名核验凭证（只有代表患者一方的支付渠道可以发送）。"
    ),
    "limit_fen == available_fen + held_fen + owed_fen; emergency amounts sit outside the limit.": (
        "limit_fen == available_fen + held_fen + owed_fen；急危重症金额不占额度。"
    ),
    "急危重症: the visit is declared an emergency; its charges may then be flagged emergency.": (
        "急危重症：就诊声明为急危重症后，其费用可标记为急危重症。"
    ),
    # the blacklist export (credit platform)
    "1 for the first delivery, then +1 per day, without a gap": "第一次交付为 1，之后每天加 1，不跳号",
    "SHA-256, 64 lowercase hex digits": "SHA-256，64 位小写十六进制",
    "a value of another form is EXPORT_NOT_FOUND": "格式不符返回 EXPORT_NOT_FOUND",
    "download it from /v1/exports/{export_id}/files/{name}": "从 /v1/exports/{export_id}/files/{name} 下载",
    "end of the window (excluded): window_from + 1 day": "窗口结束（不含）：window_from 加 1 天",
    "exp_YYYYMMDD: the business date the delivery covers": "exp_YYYYMMDD：交付覆盖的业务日期",
    "first business date of the window (included)": "窗口的第一个业务日期（含）",
    "rows with op ADD (listed)": "op 为 ADD（列入）的行数",
    "rows with op REMOVE (taken off the list)": "op 为 REMOVE（移出）的行数",
    "the SHA-256 of the day before's manifest.json; null for the first delivery": (
        "前一天 manifest.json 的 SHA-256；第一次交付为 null"
    ),
    "the SHA-256 of the manifest.json the platform received and verified": (
        "信用平台收到并核验过的 manifest.json 的 SHA-256"
    ),
    "the data parts, SHA256SUMS, the signing key, the signature, the manifest": (
        "数据文件各部分、SHA256SUMS、签名公钥、签名和清单"
    ),
    "what the platform did with it, for the audit trail": "信用平台如何处理了这次交付，记入审计",
    # ---- privacy (messages/privacy.py) ----
    ("Record the person's answers to the current texts (a re-consent after a policy change, or a later consent)."): (
        "记录本人对现行文本的回答（政策变更后的重新同意，或之后补充的同意）。"
    ),
    "notice: a statutory basis, the person is told": "notice：依法定职责，向本人告知",
    "true only for what the service cannot work without": "只有服务离不开的才为 true",
    "the latest answer stands and covers the current text's scope": "最近一次回答有效，且覆盖现行文本的范围",
    (
        "true when the city policy changed what this consent covers (purposes, categories, "
        "recipients) since the person's answer, or the person never answered: show the text "
        "again"
    ): ("城市政策自本人回答后改变了该项覆盖的目的、种类或接收方，或本人从未回答时为 true：请重新展示文本"),
    ("true: enrollment needs it (the service cannot work without it); false: the person may refuse"): (
        "true：签约必需（服务离不开）；false：本人可以拒绝"
    ),
    "notice: a statutory basis; show it, the person is told": "notice：依法定职责；展示即可，向本人告知",
    ("What to correct: the phone number or the name (an ID number is the person: an operator handles it)."): (
        "要更正的内容：手机号或姓名（身份证号码即本人身份，由运营方处理）。"
    ),
    "upheld: the decision stands; changed: the limit is set to limit_fen": (
        "upheld：维持决定；changed：额度调整为 limit_fen"
    ),
    "the explanation the person receives; audited": "本人收到的说明；记入审计",
    "the new limit (changed); at most the policy's top tier": "新的额度（changed）；不超过政策最高档",
    "An operator's answer to an open request (a human review of a limit decision).": (
        "运营方对待答复请求的答复（额度决定的人工复核）。"
    ),
    (
        "access: a machine-readable copy of the person's own records (answered at once); "
        "correction: a new phone or name (at once); withdraw_consent: withdraw `consent_kind` "
        "(at once, with its consequence); erasure: erase the identity once nothing is owed "
        "or held (at once, or refused with the reason); explanation: the reasons of the limit "
        "decision (at once); human_review: a person reviews the automated limit decision "
        "(queued for an operator, answered within the policy's deadline)"
    ): (
        "access：本人记录的机器可读副本（即时答复）；correction：新的手机号或姓名（即时）；withdraw_consent：撤回 "
        "`consent_kind`（即时，并说明后果）；erasure：在没有欠款和占用时删除身份信息（即时，"
        "或说明拒绝理由）；explanation：额度决定的理由（即时）；human_review：由工作人员复核自动化额度决定（进入运营方队列，"
        "在政策规定的期限内答复）"
    ),
    "the person's words (human_review)": "本人的陈述（human_review）",
    "A person's request, sent by a channel with fresh real-name evidence of that person.": (
        "个人的请求，由渠道凭本人新近的实名核验凭证提交。"
    ),
    "open: waiting for an operator": "open：等待运营方答复",
    "the answer is due by then (privacy.rights_answer_days)": "答复期限（privacy.rights_answer_days）",
    "in the operator queue: true when the request is still open after due_at": (
        "运营方队列中：超过答复期限仍未答复时为 true"
    ),
    "how many requests of the whole queue are open past their due_at (the documented deadline)": (
        "整个队列中超过答复期限（公布的期限）仍未答复的请求数"
    ),
    "what was done, or the copy of the data": "已做的处理，或数据副本",
}


# ---- reconciliation (对账): treatfirst.messages.reconciliation ----
FIELDS.update(
    {
        "business_date": "业务日（城市时区、按政策日切）",
        "reconciliation_id": "对账编号（同一请求得到同一编号）",
        "statement_id": "对账单编号（每个渠道每个业务日一份）",
        "suspense_id": "挂账编号",
        "suspense_status": "挂账状态：open 待处理，matched 已由本对账单核平",
        "age_days": "账龄（天）",
        "opened_on": "挂账产生的业务日",
        "last_seen_on": "最近一次涉及它的对账单业务日",
        "settled_on": "核平它的对账单业务日",
        "resolved_at": "了结时间",
        "resolved_by": "了结的运营人员",
        "resolution": "了结理由",
        "owner": "责任方",
        "platform_count": "平台笔数",
        "platform_amount_fen": "平台金额（分）",
        "platform_lines": "平台一侧的笔数",
        "counterparty_count": "对方（医院）笔数",
        "counterparty_amount_fen": "对方金额（分）",
        "difference_fen": "差额（分）：对方 − 平台，为正是长款，为负是短款",
        "matched": "平账笔数",
        "platform_only": "单边账（平台有、对方无）笔数",
        "counterparty_only": "单边账（对方有、平台无）笔数",
        "amount_mismatch": "金额不符笔数",
        "settled_from_suspense": "核平以前挂账的笔数",
        "open_suspense": "留在挂账中的笔数",
        "breaks_truncated": "差异是否多于应答列出的条数",
        "sha256": "文件内容的 SHA-256",
        "content": "对账单文件的文本",
        "KindTotal.count": "笔数（不同 ref 的个数）",
        "TotalsRequest.totals": "各类别的合计",
        "TotalsResult.kinds": "各类别两边的合计与差额",
        "TotalsResult.level": "对账层级：totals 对总账",
        "TotalsResult.result": "结论：balanced 平，unbalanced 不平",
        "LinesRequest.lines": "当日全部明细",
        "LinesResult.level": "对账层级：lines 对明细账",
        "LinesResult.result": "结论：balanced 平，unbalanced 不平",
        "LinesResult.counts": "各结论的笔数",
        "LinesResult.lines": "逐笔结论",
        "DetailLine.ref": "明细的引用号",
        "LineResult.ref": "明细的引用号",
        "LineResult.result": "逐笔结论",
        "Break.ref": "交易号或退款单号",
        "Break.result": "逐笔结论（含以前的挂账）",
        "StatementRequest.format": "对账单格式",
        "StatementResult.format": "对账单格式",
        "StatementResult.lines": "对账单明细行数",
        "StatementResult.result": "结论：balanced 平（没有留在挂账中的差异），unbalanced 不平",
        "StatementResult.counts": "各类笔数",
        "StatementResult.breaks": "差异（进入挂账）",
        "StatementCounts.breaks": "当日对不上的笔数",
        "SuspenseItem.ref": "交易号或退款单号",
        "SuspenseItem.result": "两边目前的结论",
    }
)
DESCRIPTIONS.update(
    {
        "SHA-256 of the content as received": "收到的文件内容的 SHA-256",
        "a business date of the city (YYYY-MM-DD), closed already (after its cut-off)": (
            "城市的业务日（YYYY-MM-DD），须已日切"
        ),
        "a value of another form is SUSPENSE_NOT_FOUND": "其他形式的值返回 SUSPENSE_NOT_FOUND",
        "amount in fen; counterparty - platform, so it may be negative": "金额（分）；对方 − 平台，可为负",
        "breaks that settle an open suspense item": "核平了以前挂账的差异",
        "calendar days in the city's zone since opened_on": "自 opened_on 起的自然日数（城市时区）",
        "channel_txn_id for a payment, the channel's refund id for a refund": (
            "还款为渠道交易号 channel_txn_id，退款为渠道退款单号"
        ),
        "detail lines in the statement": "对账单中的明细行数",
        "each kind at most once; a kind left out counts as 0 lines and 0 fen": (
            "每个类别最多一次；未报的类别按 0 笔 0 分"
        ),
        "every self-pay line of the day; each (kind, ref) once": "当日每一笔自付明细；每个 (kind, ref) 一行",
        "matched: the business date whose file settled it": "已核平时：核平它的对账单的业务日",
        f"more than {MAX_STORED_BREAKS} breaks: the rest are in the suspense list": (
            f"差异多于 {MAX_STORED_BREAKS} 条：其余的在挂账列表中"
        ),
        "number of distinct references": "不同引用号的个数",
        "references that did not match within the day": "当日对不上的引用号",
        "see the reconciliation page": "见对账页面",
        "suspense items this statement leaves open": "本对账单处理后仍待处理的挂账",
        "the business date of the last statement that touched it": "最近一次涉及它的对账单的业务日",
        "the business date of the statement that opened it": "产生它的对账单的业务日",
        "the hospital's lines in its order, then the platform's": "先按医院上传的顺序，再列出只有平台有的明细",
        "the line's reference: `<visit_id>/<fee_line_id>` for self_pay_posted, the refund_id for self_pay_refunded": (
            "明细的引用号：self_pay_posted 为 `<visit_id>/<fee_line_id>`，self_pay_refunded 为 refund_id"
        ),
        "the platform's references for the channel and day": "平台一侧该渠道当日的笔数",
        "the statement file's text (UTF-8; a leading BOM is fine)": "对账单文件的文本（UTF-8，可带 BOM）",
        "where the two sides stand now": "两边目前的结论",
        "who must act: `operator`, or `channel:<id>`": "须处理的一方：`operator` 运营方，或 `channel:<编号>` 渠道",
        "why the break is closed (refund confirmed, fee deducted, ...)": "了结理由（已确认退款、已扣手续费……）",
    }
)


def field_note(struct: str, name: str, schema: dict[str, object]) -> str | None:
    """The Chinese note for one field of a struct's schema, None when there is none."""
    inline = schema.get(ZH_KEY)
    if isinstance(inline, str):
        return inline
    return FIELDS.get(f"{struct}.{name}") or FIELDS.get(name)


# Operator reports (treatfirst.messages.reports)
FIELDS.update(
    {
        "ReportAmount.fen": "金额（分）",
        "ReportAmount.bills": "账单数",
        "ReportBand.fen": "该档金额（分）",
        "ReportBand.bills": "该档账单数",
        "ReportBand.band": "还款状态档：N、1–7 为区间末日未还；C、M、D、B 为区间内离开未还状态",
        "ReportBlacklist.listed": "区间内新增列入失信名单的人数",
        "ReportBlacklist.removed": "区间内移出失信名单的人数",
        "ReportCure.base_fen": "区间开始前一日日切时逾期未还的金额（分）",
        "ReportCure.cured_fen": "其中在区间内由还款收回的金额（分）",
        "ReportCure.rate_ppm": "治愈率（百万分比）",
        "ReportDay.day": "业务日期",
        "ReportDay.lent_fen": "当日放款（分）",
        "ReportDay.repaid_fen": "当日还款（分）",
        "ReportDay.written_off_fen": "当日核销（分）",
        "ReportDay.past_due_fen": "当日日切时逾期未还余额（分）",
        "ReportFundDraws.fund": "托底基金",
        "ReportFundDraws.draws": "承担核销的笔数",
        "ReportFundDraws.drawn_fen": "承担的核销金额（分）",
        "ReportFundDraws.recovered_fen": "核销后收回并返还该基金的金额（分）",
        "ReportEmergency.fen": "急危重症自付金额（分）",
        "ReportEmergency.visits": "急危重症就诊数",
        "ReportEmergency.hospital_id": "医院编号",
        "ReportMessages.n": "条数",
        "ReportMessages.kind": "消息类型",
        "ReportWriteOffs.n": "核销账单数",
        "ReportWriteOffs.fen": "核销金额（分）",
        "ReportWriteOffs.reason": "核销原因码",
        "ReportRoll.from": "期初所在档",
        "ReportRoll.to": "期末所在档",
        "ReportRoll.base_fen": "期初金额（分）",
        "ReportRoll.rolled_fen": "期末仍未还、进入下一档的金额（分）",
        "ReportRoll.rate_ppm": "迁徙率（百万分比）",
        "ReportRepaid.on_time_fen": "按时还款（分）",
        "ReportRepaid.late_fen": "逾期后还款（分）",
        "ReportRepaid.fen": "还款合计（分）",
        "OperatorReport.from": "区间第一个业务日期（含）",
        "OperatorReport.to": "区间最后一个业务日期（含）",
        "OperatorReport.lent": "区间内放款",
        "OperatorReport.lent_since_start_fen": "自报表开始累计放款（分）",
        "OperatorReport.past_due": "区间末日日切时逾期未还",
        "OperatorReport.arrears_rate_ppm": "欠费率（百万分比）",
        "OperatorReport.aging": "还款状态分档",
        "OperatorReport.roll_rates": "迁徙率",
        "OperatorReport.cure": "治愈率",
        "OperatorReport.repaid": "还款",
        "OperatorReport.refunded": "账单退款",
        "OperatorReport.write_offs": "核销（按原因）",
        "OperatorReport.backstop": "托底基金动用（按基金）",
        "OperatorReport.emergency": "急危重症（按医院）",
        "OperatorReport.messages": "催收提醒（按类型）",
        "OperatorReport.blacklist": "失信名单新增与移出人数",
        "OperatorReport.daily": "每日放款、还款、核销与逾期余额",
        "ReportQuery.from": "区间第一个业务日期（含）",
        "ReportQuery.to": "区间最后一个业务日期（含），须已日切",
        "ReportQuery.format": "json 或 csv",
    }
)
DESCRIPTIONS.update(
    {
        "Every figure of the reports page, for business dates `from`..`to` (amounts in fen).": (
            "报表页的全部指标，业务日期 `from`..`to`（金额单位：分）。"
        ),
        "a business date of the city": "城市的业务日期",
        "band at its end": "期末所在档",
        "band at the start of the period": "期初所在档",
        "csv: text/csv (UTF-8 with a byte order mark); otherwise the Accept header decides": (
            "csv：返回 text/csv（UTF-8 带 BOM）；否则由 Accept 头决定"
        ),
        "first business date (inclusive)": "第一个业务日期（含）",
        "last business date (inclusive); a closed date": "最后一个业务日期（含），须已日切",
        "null when the reports had not begun 30 days before": "30 天前报表尚未开始时为 null",
        "parts per million (1 000 000 = 100 %); null when 0/0": "百万分比（1 000 000 即 100%）；0/0 时为 null",
        "persons, from the blacklist's change log": "人数，取自失信名单变更记录",
    }
)


# ---- the blacklist record, appeals and strike annulment (messages/blacklist.py) ----------------------------------
FIELDS.update(
    {
        "anchor": "起算日：最早一张未还账单的到期日（阶梯列入）",
        "annul_strikes": "异议成立时是否同时撤销该记录所依据的逾期记录",
        "annulled_at": "撤销时间",
        "appeal_id": "异议编号",
        "appeal_status": "最近一次异议的状态",
        "appeals": "该记录的异议",
        "basis": "决定依据",
        "by": "操作人（每日扫描为 system）",
        "cause": "列入原因",
        "document": "依据文件（文号）",
        "exported": "是否已向城市信用平台报送",
        "filed_at": "提出时间",
        "filed_by": "提出方（渠道或运营人员的编号）",
        "filed_by_kind": "提出方类型：渠道（本人）或运营方",
        "how_to_leave": "移出名单的方式",
        "legal_basis": "法律依据原文",
        "legal_basis_ref": "法律依据的文件、文号与条款",
        "listed": "当前是否在名单上（已列入或异议中）",
        "listed_at": "列入时间",
        "listed_on": "列入的营业日",
        "message_ids": "作为告知凭证的短信编号",
        "next_due": "下一次定时转换的营业日",
        "notice": "事先告知的凭证",
        "provision": "条款",
        "publish_on": "最早可对外报送的营业日（异议期届满）",
        "published_on": "写入报送“新增”变更的营业日",
        "purge_on": "删除记录的营业日（保存期限届满）",
        "reason_text": "列入原因的说明",
        "record": "失信记录",
        "record_id": "失信记录编号",
        "records": "该账户的失信记录",
        "removal": "移出信息",
        "removal_reason": "移出原因：repaid 信用修复、appeal_accepted 异议成立、expired 到期、corrected 更正",
        "removed_on": "移出的营业日",
        "repaid_on": "逾期欠款全部还清的营业日（冷静期自此起算）",
        "repair_on": "预计修复移出的营业日（期间无新逾期）",
        "rule_on": "逾期次数规则生效的营业日",
        "state": "记录状态：listed 已列入、appealing 异议中、removed 已移出、purged 已删除",
        "statement": "异议理由",
        "strike_bills": "记录所依据的逾期账单",
        "strike_rule_applied": "逾期次数规则的措施是否仍然有效",
        "strikes_counted": "仍计入规则的逾期记录数",
        "valid_until": "有效期最后一个营业日",
        "verification_method": "实名核验方式",
        "waiting_for_notice": "列入是否在等待告知短信送达",
        "Appeal.status": "异议状态：pending 待处理、accepted 成立、rejected 不成立、closed 随记录移出而关闭",
        "AppealDecision.outcome": "决定：accepted 异议成立、rejected 异议不成立",
        "BlacklistRecord.reason": "列入原因代码",
        "Cause.step": "触发列入的阶梯步骤（或 strikes 逾期次数规则）",
        "ListedBill.due_at": "账单到期时间",
        "Notice.sent_at": "短信送达网关的时间",
    }
)
DESCRIPTIONS.update(
    {
        "A blacklist record as operators see it (the account's identifiers are never in it).": (
            "运营方看到的失信记录（不含账户的身份信息）。"
        ),
        "An appeal (异议): by the patient through a channel (fresh real-name check) or by an operator for them.": (
            "异议：本人经渠道提出（须新近的实名核验），或由运营方代为提出。"
        ),
        "One record as the patient sees it: what, why, on which basis, and the way off it (PIPL art. 24).": (
            "本人看到的一条记录：是什么、为什么、依据什么、如何移出（个人信息保护法第二十四条）。"
        ),
        "Proof of prior notice: the SMS that warned the patient, delivered to the gateway before the listing.": (
            "事先告知的凭证：列入前已送达短信网关的提醒短信。"
        ),
        "The decision basis: the policy that made the record and the legal basis it names.": (
            "决定依据：作出列入的政策及其载明的法律依据。"
        ),
        "a business date of the city (YYYY-MM-DD)": "城市的营业日（YYYY-MM-DD）",
        "a ladder step, or the strike rule": "催收阶梯的某一步，或逾期次数规则",
        "a record is on the list now (listed or under appeal)": "当前有记录在名单上（已列入或异议中）",
        "a value of another form is APPEAL_NOT_FOUND": "格式不符的值返回 APPEAL_NOT_FOUND",
        "a value of another form is BLACKLIST_RECORD_NOT_FOUND": "格式不符的值返回 BLACKLIST_RECORD_NOT_FOUND",
        "accepted only: also annul the overdue records (strikes) the listing rested on": (
            "仅在异议成立时有效：同时撤销该列入所依据的逾期记录"
        ),
        "accepted: the record leaves the list (appeal_accepted); rejected: it stays listed": (
            "accepted：记录移出名单（appeal_accepted）；rejected：记录仍在名单上"
        ),
        "all overdue bills found paid: the cooling days run": "逾期账单已全部还清：冷静期起算",
        "first date it may be exported (objection period)": "最早可对外报送的日期（异议期）",
        "last business date on the list": "在名单上的最后一个营业日",
        "removed on this date if nothing falls overdue": "期间无新逾期则于此日移出",
        "required from a channel: the channel's real-name check of this person, passed at most 10 minutes ago, else "
        "VALIDATION_FAILED (missing) or VERIFICATION_STALE": (
            "渠道提出时必填：渠道对本人的实名核验，须在 10 分钟内通过，否则返回 VALIDATION_FAILED（缺少）或 "
            "VERIFICATION_STALE"
        ),
        "strikes that still count under the policy's rule": "按政策规则仍计数的逾期记录",
        "the business date the bill went overdue": "账单逾期的营业日",
        "the date the strike rule applied (strikes)": "逾期次数规则生效的日期",
        "the earliest unpaid due date (ladder)": "最早一张未还账单的到期日（阶梯）",
        "the error corrected, kept in the audit log": "更正的错误，记入审计日志",
        "the grounds of the appeal, kept with it and in the audit log": "异议理由，随异议保存并记入审计日志",
        "the ladder called for a listing that waits until the warning SMS is delivered": (
            "催收阶梯要求列入，正在等待提醒短信送达"
        ),
        "the latest appeal": "最近一次异议",
        "the next scheduled transition": "下一次定时转换",
        "the operator, or system for the daily sweep": "运营人员，或每日扫描（system）",
        "the text of the policy's blacklist.legal_basis": "政策 blacklist.legal_basis 的文本",
        "the ways off the list under the city's policy, in Chinese": "按本市政策移出名单的方式（中文）",
        "what was unpaid on it when the record was made": "列入时该账单的未还金额",
        "when the export's 'added' change was written": "写入报送“新增”变更的日期",
        "whether it was reported to the city credit platform's delta": "是否已写入向城市信用平台报送的增量",
        "whether the strike rule's actions still hold": "逾期次数规则的措施是否仍然有效",
        "why the overdue record is annulled, kept in the strike log": "撤销逾期记录的理由，记入逾期记录日志",
        "why the record was made, in Chinese": "列入原因（中文）",
        "why, for the patient and the audit trail": "理由，告知本人并记入审计日志",
    }
)

# webhooks and events (treatfirst.messages.webhooks)
FIELDS.update(
    {
        "Attempt.attempt": "第几次尝试（从 1 起，含重投）",
        "Attempt.status_code": "回调地址返回的 HTTP 状态码",
        "Attempt.latency_ms": "耗时（毫秒）",
        "Attempt.next_at": "下次尝试的时间",
        "Attempt.replay": "是否为手动重投",
        "Delivery.endpoint_id": "回调地址编号",
        "Delivery.log": "每次尝试的记录",
        "Delivery.next_at": "下次尝试的时间",
        "Delivery.delivered_at": "投递成功的时间",
        "DeliveryLog.event_id": "事件编号",
        "DeliveryLog.type": "事件类型",
        "DeliveryLog.deliveries": "向每个回调地址的投递",
        "Endpoint.endpoint_id": "回调地址编号",
        "Endpoint.url": "回调地址",
        "Endpoint.events": "订阅的事件类型",
        "Endpoint.description": "说明",
        "Endpoint.rotated_at": "最近一次轮换密钥的时间",
        "Endpoint.disabled_at": "停用时间",
        "Endpoint.disabled_reason": "停用原因",
        "EndpointRequest.url": "回调地址",
        "EndpointRequest.events": "要接收的事件类型",
        "EndpointRequest.description": "说明（可选）",
        "EndpointWithSecret.endpoint": "回调地址",
        "Event.type": "事件类型（见事件目录）",
        "Event.timestamp": "事件写入时间",
        "Event.data": "事件数据（字段见事件目录）",
        "EventPage.after": "下次拉取时带上的位置",
        "Replay.event_id": "事件编号",
        "Replay.endpoints": "已安排重投的回调地址数",
    }
)
DESCRIPTIONS.update(
    {
        "a value of another form is EVENT_NOT_FOUND": "其他格式的值返回 EVENT_NOT_FOUND",
        "a value of another form is WEBHOOK_ENDPOINT_NOT_FOUND": "其他格式的值返回 WEBHOOK_ENDPOINT_NOT_FOUND",
        "disabled: the endpoint answered 410 Gone; register anew": "disabled：该地址曾回应 410 Gone，需重新登记",
        "endpoints of the caller the event is scheduled to, now": "本方已安排立即重投的回调地址数",
        "events per page": "每页事件数",
        "how long deliveries still carry a signature with the previous secret too (0: not at all)": (
            "在此时长内投递仍同时带旧密钥的签名（0 表示不带）"
        ),
        "https:// URL that resolves only to public addresses (the local stack also takes "
        "http://127.0.0.1:<port>/...)": "只解析到公网地址的 https:// 地址（本机平台也接受 http://127.0.0.1:<端口>/...）",
        "send it back as ?after= to continue; kept even when the page is empty (None: no event yet)": (
            "下次以 ?after= 带回即可继续；本页为空时也保留位置（None 表示尚无事件）"
        ),
        "the endpoint's HTTP status; None: no answer": "回调地址的 HTTP 状态码；None 表示没有响应",
        "the event id, also the webhook-id header of its deliveries": "事件编号，也是其每次投递的 webhook-id 请求头",
        "the event kinds to deliver to this endpoint": "投递到该地址的事件类型",
        "timeout, connection, tls, address_refused, ...": (
            "timeout 超时、connection 连接失败、tls、address_refused 地址被拒等"
        ),
        "until then deliveries carry two signatures (current secret first)": "在此之前投递带两个签名（当前密钥在前）",
        "when the next attempt is due (None: none)": "下次尝试的时间（None 表示没有）",
        "whsec_ + base64 of 32 bytes: shown once (and to a retry with the same Idempotency-Key)": (
            "whsec_ 加 32 字节的 base64：只显示一次（以及同一 Idempotency-Key 的重试）"
        ),
    }
)


# Listings waiting for a delivered notice (messages/blacklist.py WaitingListing)
FIELDS.update(
    {
        "WaitingListing.source": "列入的来源：催收阶梯步骤（ladder）或逾期次数规则（strikes）",
        "WaitingListing.step": "要求列入的阶梯步骤（或 strikes 规则）",
        "WaitingListing.since": "要求列入的业务日期",
        "WaitingListing.messages": "事先告知的短信（发件箱编号）；其中一条送达后才建立记录",
        "WaitingListings.items": "等待告知送达的列入，等待最久的在前",
    }
)
DESCRIPTIONS.update(
    {
        "A listing called for and not made yet: the record waits until a warning message is delivered.": (
            "已要求列入、尚未建立记录的账户：事先告知的短信送达后才建立记录。"
        ),
        "Every listing waiting for a delivered notice, the longest waiting first.": (
            "所有等待告知送达的列入，等待最久的在前。"
        ),
        "the business date the listing was called for": "要求列入的业务日期",
        "the warning messages (outbox ids); the record is made once one is delivered": (
            "事先告知的短信（发件箱编号）；其中一条送达后才建立记录"
        ),
    }
)
