"""MkDocs hook: the webhooks page's tables, generated from the code that sends the webhooks.

- the event catalogue (treatfirst.domain.events.CATALOGUE: kinds, receivers, subject, data fields);
- the retry schedule (treatfirst.domain.webhooks.RETRY_DELAYS_SECONDS) and the delivery rules' numbers
  (timeout, lease, endpoints per caller, pull settle time) from services/webhooks.py and services/events.py.
Markers in site/zh/webhooks.md and site/en/webhooks.md are replaced in the page's own language.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from treatfirst.domain import webhooks as wh
from treatfirst.domain.events import CATALOGUE, FIELDS
from treatfirst.services import events, webhooks

CATALOGUE_MARKER = "<!-- treatfirst:event-catalogue -->"
SCHEDULE_MARKER = "<!-- treatfirst:retry-schedule -->"
FACTS_MARKER = "<!-- treatfirst:webhook-facts -->"

PAGES = ("zh/webhooks.md", "en/webhooks.md")  # the hand-written guides (site/<lang>/webhooks.md)
KIND_NAMES = {
    "hospital": {"zh": "医院", "en": "hospital"},
    "channel": {"zh": "渠道", "en": "channel"},
    "financier": {"zh": "资金方", "en": "financier"},
}
TYPE_NAMES = {
    "id": {"zh": "编号", "en": "id"},
    "fen": {"zh": "整数（分）", "en": "integer (fen)"},
    "count": {"zh": "非负整数", "en": "integer ≥ 0"},
    "code": {"zh": "代码", "en": "code"},
    "codes": {"zh": "代码列表", "en": "list of codes"},
    "ids": {"zh": "编号列表", "en": "list of ids"},
    "date": {"zh": "日期 YYYY-MM-DD", "en": "date YYYY-MM-DD"},
    "time": {"zh": "RFC 3339 时间", "en": "RFC 3339 time"},
    "bool": {"zh": "布尔", "en": "boolean"},
}


class DocsSourceError(RuntimeError):
    pass


def _duration(seconds: int, lang: str) -> str:
    if seconds == 0:
        return "立即" if lang == "zh" else "immediately"
    units = ((3600, "小时", "h"), (60, "分钟", "min"), (1, "秒", "s"))
    for size, zh, en in units:
        if seconds % size == 0:
            return f"{seconds // size} {zh if lang == 'zh' else en}"
    return f"{seconds} s"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def catalogue_table(lang: str) -> str:
    zh = lang == "zh"
    head = (
        "| 类型 `type` | 含义 | 接收方 | 主体（决定事件编号） | 数据字段 `data` |"
        if zh
        else "| `type` | Meaning | Receivers | Subject (makes the event id) | `data` fields |"
    )
    lines = [head, "|---|---|---|---|---|"]
    for kind in CATALOGUE:
        fields = "<br>".join(
            f"`{name}`: {FIELDS[name][1] if zh else FIELDS[name][2]} ({TYPE_NAMES[FIELDS[name][0]][lang]})"
            for name in kind.fields
        )
        receivers = (
            "、".join(KIND_NAMES[a][lang] for a in kind.audiences)
            if zh
            else ", ".join(KIND_NAMES[a][lang] for a in kind.audiences)
        )
        lines.append(
            f"| `{kind.name}` | {kind.zh if zh else kind.en} | {receivers} | "
            f"{kind.subject_zh if zh else kind.subject_en} | {fields} |"
        )
    return "\n".join(lines)


def schedule_table(lang: str) -> str:
    zh = lang == "zh"
    lines = [
        "| 第几次 | 距上次失败 | 距首次 |" if zh else "| Attempt | After the previous failure | Since the first |",
        "|---|---|---|",
    ]
    total = 0
    for n, delay in enumerate(wh.RETRY_DELAYS_SECONDS, start=1):
        total += delay
        lines.append(f"| {n} | {_duration(delay, lang)} | {_clock(total)} |")
    return "\n".join(lines)


def facts(lang: str) -> str:
    timeout = int(webhooks.TIMEOUT_SECONDS)
    if lang == "zh":
        return "\n".join(
            [
                f"- 每次投递的超时：{timeout} 秒（连接、发送、等待响应）；不跟随重定向，3xx 视为失败。",
                f"- 重试加入最多 {int(wh.JITTER * 100)}% 的随机抖动；响应带 `Retry-After`（秒）时至少等待该时长"
                f"（最多 {wh.RETRY_AFTER_MAX_SECONDS // 3600} 小时）。",
                f"- 共 {wh.MAX_ATTEMPTS} 次尝试仍失败：该投递标记为 `failed`，可在投递记录中查看并重投。",
                "- 投递程序每分钟运行一次：某次尝试在其计划时间之后的第一次运行中发出。",
                f"- 每个调用方最多 {webhooks.MAX_ENDPOINTS} 个回调地址。",
                f"- 拉取列表只列出写入 {events.SETTLE_SECONDS} 秒以前的事件，晚提交的事件不会被跳过。",
            ]
        )
    return "\n".join(
        [
            f"- Each attempt times out after {timeout} s (connect, send, answer); redirects are not followed, 3xx "
            "is a failure.",
            f"- Retries add up to {int(wh.JITTER * 100)} % random jitter; an answer with `Retry-After` (seconds) "
            f"waits at least that long (at most {wh.RETRY_AFTER_MAX_SECONDS // 3600} h).",
            f"- After {wh.MAX_ATTEMPTS} failed attempts the delivery is `failed`: visible in the delivery log, "
            "and it can be replayed.",
            "- The dispatcher runs every minute: an attempt goes out at the first run after its scheduled time.",
            f"- At most {webhooks.MAX_ENDPOINTS} endpoints per caller.",
            f"- The pull list shows events written at least {events.SETTLE_SECONDS} s ago, so an event committed "
            "late is never skipped.",
        ]
    )


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    src = page.file.src_uri
    if src not in PAGES:
        return markdown
    lang = "en" if src.startswith("en/") else "zh"
    for marker, render in (
        (CATALOGUE_MARKER, catalogue_table),
        (SCHEDULE_MARKER, schedule_table),
        (FACTS_MARKER, facts),
    ):
        if marker not in markdown:
            raise DocsSourceError(f"{src} lost its {marker} marker")
        markdown = markdown.replace(marker, render(lang))
    return markdown
