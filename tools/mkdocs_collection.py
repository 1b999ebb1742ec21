"""MkDocs hook: the collection pages, generated from the code and the policies.

- each city page gets its ladder as a timeline (from the policy) and the exact SMS texts the platform sends
  (rendered by services.outbox.render_sms, the function that writes the outbox rows);
- reference/collection.md: the bill, SMS and phone task state machines (domain.states, the tables the tests hold
  the services to), each city's account ladder, the SMS gateway message format (services.dispatch.gateway_message)
  and the operator routes and test clock.
"""

from __future__ import annotations

import json
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from treatfirst.domain import states
from treatfirst.domain.money import format_yuan
from treatfirst.domain.policy import Policy, example_policy, label
from treatfirst.services.dispatch import LEASE_SECONDS, MESSAGE_FORMAT_VERSION
from treatfirst.services.outbox import KINDS, render_sms

from tools.mkdocs_i18n import GENERATED, add_file, language, page_language

CITIES = ("lianyungang", "xiamen")
PAGE = "reference/collection.md"
SAMPLE = {"name_masked": "张*", "amount_fen": 12345, "bills": 1, "days_overdue": 0, "due_date": "2026-12-01"}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _labels(codes: Any, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(label(c, lang) for c in codes)


def timeline(p: Policy, lang: str = "zh") -> list[str]:
    """The ladder from the due date on, least severe first, with the reminders before each step."""
    events: list[tuple[int, str, str]] = []
    if p.remind_before_due_days is not None:
        events.append((-p.remind_before_due_days, _t(lang, "短信提醒即将到期", "SMS: due soon"), "due_reminder"))
    events.append((0, _t(lang, f"到期（{p.due_at_text}）", f"Due ({p.due_at_text})"), ""))
    for step in reversed(p.collection_ladder):
        if step.remind_days_before:
            day = step.day_offset - step.remind_days_before
            events.append((day, _t(lang, f"短信预告 `{step.name}`", f"SMS: before `{step.name}`"), "step_reminder"))
        conditions = ""
        if step.min_unpaid_bills:
            conditions += _t(
                lang, f"，且未还账单 ≥ {step.min_unpaid_bills} 笔", f", and ≥ {step.min_unpaid_bills} unpaid bills"
            )
        if step.min_unpaid_fen:
            amount = format_yuan(step.min_unpaid_fen)
            conditions += _t(lang, f"，且未还金额 ≥ {amount} 元", f", and ≥ CNY {amount} unpaid")
        blocks = _t(lang, f"；限制：{_labels(step.blocks, lang)}", f"; blocks: {_labels(step.blocks, lang)}")
        events.append(
            (
                step.day_offset,
                f"**`{step.name}`**: {_labels(step.actions, lang)}{blocks if step.blocks else ''}{conditions}",
                "step",
            )
        )
    events.sort(key=lambda e: e[0])
    name = p.city_name if lang == "zh" else p.city_name_en
    lines = [
        _t(lang, "### 催收时间线 {#ladder-timeline}", "### Ladder timeline {#ladder-timeline}"),
        "",
        _t(
            lang,
            "从最早未还账单的到期日起算的逾期天数（扣除争议、住院、全市暂停等暂停天数）。每次还款或退款后重新起算。",
            "Days overdue since the earliest unpaid due date, minus paused days (disputes, stays, city moratoriums); "
            "re-anchored by every payment or refund.",
        ),
        "",
        "```mermaid",
        "timeline",
        f"    title {_t(lang, f'{name}催收阶梯', f'{name} collection ladder')}",
    ]
    day_word = _t(lang, "第 {} 天", "day {}")
    for day, text, _ in events:
        plain = text.split(" (")[0].split("（")[0].replace("**", "").replace("`", "").replace(":", " -")
        lines.append(f"    {day_word.format(day)} : {plain}")
    lines += ["```", "", _t(lang, "| 天 | 事件 |", "| Day | Event |"), "|---|---|"]
    lines += [f"| {day} | {text} |" for day, text, _ in events]
    lines.append("")
    return lines


def sms_texts(p: Policy, lang: str = "zh") -> list[str]:
    """Every SMS this city sends, rendered by the function that writes the outbox rows (sample amounts)."""
    lines = [
        _t(lang, "### 短信文本 {#sms-texts}", "### SMS texts {#sms-texts}"),
        "",
        _t(
            lang,
            "平台写入发件箱的确切文本（示例金额与日期）；只含脱敏姓名、金额、日期和热线，绝不含诊疗项目或诊断。",
            "The exact texts the platform writes to the outbox (sample amount and dates), in Chinese as the patient "
            "receives them: a masked name, amounts, dates and the hotline, never an item or a diagnosis.",
        ),
        "",
        _t(lang, "| `kind` | 步骤 | 文本 |", "| `kind` | Step | Text |"),
        "|---|---|---|",
    ]
    for kind in (k for k, channel in KINDS.items() if channel == "sms"):
        if kind == "step":
            for step in reversed(p.collection_ladder):
                if all(a == "phone_task" for a in step.actions):
                    continue
                params = {**SAMPLE, "step": step.name, "actions": list(step.actions), "days_overdue": step.day_offset}
                lines.append(f"| `step` | `{step.name}` | {render_sms(p, kind, params)} |")
            params = {"name_masked": "张*", "step": "strikes", "actions": list(p.strike_actions), "strikes": 3}
            lines.append(f"| `step` | `strikes` | {render_sms(p, kind, params)} |")
        elif kind == "statement":  # 信用日账, only where the policy sends it (services/statements.py)
            if p.daily_statement:
                params = {**SAMPLE, "statement_date": "2026-11-24", "charges": 2, "charged_fen": 3345}
                lines.append(f"| `statement` | — | {render_sms(p, kind, params)} |")
        elif kind == "step_reminder":
            step = p.collection_ladder[0]
            params = {**SAMPLE, "step": step.name, "actions": list(step.actions), "in_days": 3}
            lines.append(f"| `step_reminder` | `{step.name}` | {render_sms(p, kind, params)} |")
        else:
            lines.append(f"| `{kind}` | — | {render_sms(p, kind, SAMPLE)} |")
    lines.append("")
    return lines


def city_section(p: Policy, lang: str = "zh") -> str:
    return "\n".join([*timeline(p, lang), *sms_texts(p, lang)])


def _in(lang: str, transitions: tuple[states.Transition, ...]) -> tuple[states.Transition, ...]:
    """The transitions with their reason in one language (the tables write English, a slash, then Chinese)."""
    part = 1 if lang == "zh" else 0
    return tuple((a, b, why.split(" / ")[part] if " / " in why else why) for a, b, why in transitions)


def _diagram(transitions: tuple[states.Transition, ...], start: str, final: tuple[str, ...], lang: str) -> list[str]:
    transitions = _in(lang, transitions)
    rows = [f"| `{a}` | `{b}` | {why} |" for a, b, why in transitions]
    return [
        "```mermaid",
        states.mermaid(transitions, start, final),
        "```",
        "",
        _t(lang, "| 从 | 到 | 条件 |", "| From | To | When |"),
        "|---|---|---|",
        *rows,
        "",
    ]


def gateway_example() -> str:
    from treatfirst.services.dispatch import gateway_message

    class _Ctx:
        policy = example_policy("lianyungang")

    row = {
        "message_id": "msg_" + "0" * 32,
        "kind": "step",
        "created_at": "2026-12-02T16:00:05.123Z",
        "text": render_sms(_Ctx.policy, "step", {**SAMPLE, "step": "sms_reminder", "actions": ["sms_reminder"]}),
    }
    message = gateway_message(_Ctx(), row, "13800000000")  # type: ignore[arg-type]
    return json.dumps(message, ensure_ascii=False, indent=2, sort_keys=True)


def collection_page(policies: dict[str, Policy], lang: str = "zh") -> str:
    zh = lang == "zh"
    lines = [
        _t(lang, "# 催收与通知", "# Collection and notifications"),
        "",
        _t(lang, "## 账单状态 {#bill-states}", "## Bill states {#bill-states}"),
        "",
        *_diagram(states.BILL_TRANSITIONS, states.BILL_START, states.BILL_FINAL, lang),
        _t(lang, "## 账户催收阶段 {#account-step}", "## An account's collection step {#account-step}"),
        "",
        _t(
            lang,
            "阶段是条件成立的最严重一级（不是“上一级的下一级”），所以可以跳级；还款或退款重新起算后可回落。",
            "The step is the most severe one whose conditions hold (not the one after the current), so steps can "
            "be skipped; a payment or refund that re-anchors eases it back.",
        ),
        "",
    ]
    for p in policies.values():
        lines += [f"### {p.city_name if zh else p.city_name_en}", ""]
        lines += _diagram(states.ladder_transitions(p), "current", (), lang)
    lines += [
        _t(lang, "## 短信发件箱 {#sms-outbox}", "## The SMS outbox {#sms-outbox}"),
        "",
        "每条短信是与其原因（催收阶段、还款）在同一事务中写入的一行，编号由原因派生（同一原因永远只有一行）。"
        "投递程序每 5 分钟运行一次：以条件写入领取一行（租约 "
        f"{LEASE_SECONDS} 秒），发布到城市短信网关订阅的 SNS 主题，再标记为已发送。"
        if zh
        else "Every SMS is a row written in the same transaction as its cause (a ladder step, a payment), with an id "
        "derived from the cause (one cause, one row). The dispatcher runs every 5 minutes: it claims a row with a "
        f"conditional write (a {LEASE_SECONDS}-second lease), publishes it to the SNS topic the city's SMS gateway "
        "subscribes to, then marks it sent.",
        "",
        *_diagram(states.SMS_TRANSITIONS, states.SMS_START, states.SMS_FINAL, lang),
        _t(lang, "### 网关消息格式 {#gateway-message}", "### The gateway message {#gateway-message}"),
        "",
        _t(
            lang,
            "每条 SNS 消息的正文是一个 JSON 对象（UTF-8），消息属性 `message_id`、`kind`、`city_code` 与正文相同。"
            "至少投递一次：投递程序在发布后、标记前中断时，租约到期后会以**相同的** `message_id` 再发一次，"
            "网关须按 `message_id` 去重。",
            "Each SNS message's body is one JSON object (UTF-8); the message attributes `message_id`, `kind` and "
            "`city_code` repeat the body's. Delivered at least once: a dispatcher that stops after publishing and "
            "before marking the row publishes it again after the lease with the **same** `message_id`, so the "
            "gateway drops a repeat by `message_id`.",
        ),
        "",
        "```json",
        gateway_example(),
        "```",
        "",
        _t(lang, "| 字段 | 含义 |", "| Field | Meaning |"),
        "|---|---|",
        f"| `format` | {_t(lang, '格式版本', 'format version')} ({MESSAGE_FORMAT_VERSION}) |",
        f"| `message_id` | {_t(lang, '稳定编号，去重用', 'the stable id, for de-duplication')} |",
        "| `kind` | " + ", ".join(f"`{k}`" for k, c in KINDS.items() if c == "sms") + " |",
        f"| `city_code` | {_t(lang, '城市代码', 'the city')} |",
        "| `phone` | "
        + _t(lang, "收信手机号（主题以数据密钥加密）", "the recipient (the topic is encrypted with the data key)")
        + " |",
        f"| `text` | {_t(lang, '短信全文', 'the full SMS text')} |",
        f"| `created_at` | {_t(lang, '写入发件箱的时间（UTC）', 'when the row was written (UTC)')} |",
        "",
        _t(
            lang,
            "本机运行时没有网关：已投递的行可用 `treatfirst-admin outbox --account acc_…` 或 "
            "`GET /v1/accounts/{account_id}/messages` 查看。",
            "Locally there is no gateway: delivered rows are listed by `treatfirst-admin outbox --account acc_…` and "
            "`GET /v1/accounts/{account_id}/messages`.",
        ),
        "",
        _t(lang, "## 电话任务 {#phone-tasks}", "## Phone tasks {#phone-tasks}"),
        "",
        _t(
            lang,
            "催收阶段的 `phone_task` 措施写入一条电话任务（同一发件箱）。"
            "运营人员列出、领取（领取后可见完整手机号）并记录结果，均记入审计。",
            "A ladder step's `phone_task` action writes a phone task (in the same outbox). Operators list, claim (the "
            "claimer sees the full number) and record the outcome; each move is audited.",
        ),
        "",
        *_diagram(states.TASK_TRANSITIONS, states.TASK_START, states.TASK_FINAL, lang),
        _t(lang, "## 测试时钟 {#the-test-clock}", "## The test clock {#the-test-clock}"),
        "",
        _t(
            lang,
            "仅本机（`make serve`）和沙箱：`POST /v1/test-clock/advance` 或 "
            "`treatfirst-admin clock advance --days N --reason …` 把平台时钟向前拨，并在新时间运行定时任务。"
            "打包的生产模板无法启用它，其接口返回 404 `TEST_CLOCK_DISABLED`。",
            "Local stack (`make serve`) and sandboxes only: `POST /v1/test-clock/advance` or "
            "`treatfirst-admin clock advance --days N --reason …` moves the platform's clock forward and runs the "
            "scheduled functions at the new time. The packaged production template cannot enable it; there its "
            "routes answer 404 `TEST_CLOCK_DISABLED`.",
        ),
        "",
        _t(
            lang,
            "示例：一张未还账单沿城市催收阶梯逐级前进（`site/examples/collection_ladder.py`，"
            "测试在两个示例城市通过 HTTP "
            "运行它）。",
            "An example: one unpaid bill walked to every step of the city's ladder "
            "(`site/examples/collection_ladder.py`; a test runs it over HTTP for both example cities).",
        ),
        "",
        "```python",
        '--8<-- "site/examples/collection_ladder.py:walk"',
        "```",
        "",
    ]
    return "\n".join(lines)


@event_priority(GENERATED)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    policies = {name: example_policy(name) for name in CITIES}
    add_file(files, config, PAGE, collection_page(policies, language(config)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    src = page.file.src_uri.split("/", 1)[-1]
    name = src.removeprefix("cities/").removesuffix(".md")
    if src.startswith("cities/") and name in CITIES:
        lang = page_language(page)
        section = city_section(example_policy(name), lang)
        marker = "\n## " + ("信用报送" if lang == "zh" else "Credit reporting") + " {#credit-reporting}"
        if marker in markdown:
            return markdown.replace(marker, "\n" + section + marker, 1)
        return markdown + "\n" + section
    return markdown
