"""MkDocs hook: the access page (who may do what), generated from the code's access table.

`site/zh/access.md` and `site/en/access.md` carry the marker `<!-- treatfirst:access -->`; this hook replaces it
with the table caller kind × resource × operation from `treatfirst.access.ACCESS` (the same table the services
ask before they act and the keys' scopes come from), with the API operations of each row from the OpenAPI
document the API serves. Registered in mkdocs.yml after tools/mkdocs_hooks.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

from treatfirst import openapi  # noqa: E402
from treatfirst.access import ACCESS, KINDS, ROUTES, VIEWS  # noqa: E402

MARKER = "<!-- treatfirst:access -->"

RESOURCES = {
    "accounts": ("账户", "accounts"),
    "visits": ("就诊", "visits"),
    "charges": ("费用", "charges"),
    "bills": ("账单", "bills"),
    "payments": ("还款", "payments"),
    "callers": ("调用方密钥", "caller keys"),
    "messages": ("短信与电话任务", "SMS and phone tasks"),
    "tasks": ("电话任务", "phone tasks"),
    "collection": ("催收状态", "collection state"),
    "moratoriums": ("全市暂停", "moratoriums"),
    "test_clock": ("测试时钟", "test clock"),
    "reviews": ("急诊复核项", "emergency review items"),
    "reports": ("报表", "reports"),
    "privacy": ("个人信息权利", "privacy rights"),
    "clearing": ("日清算文件", "daily clearing files"),
    "aging": ("账龄", "aging"),
    "exports": ("失信名单报送的交付", "blacklist export deliveries"),
    "blacklist": ("失信名单记录", "blacklist records"),
    "blacklist_appeals": ("失信记录异议", "blacklist appeals"),
    "webhooks": ("回调地址", "webhook endpoints"),
    "events": ("事件", "events"),
    "reconciliations": ("医院对账", "hospital reconciliation"),
    "statements": ("渠道对账单", "channel statements"),
    "suspense": ("挂账", "suspense items"),
}
OPERATIONS = {
    "enroll": ("签约", "enroll"),
    "lookup": ("按证件号查找", "look up by ID number"),
    "read": ("读取", "read"),
    "withdraw": ("解约", "withdraw"),
    "open": ("开立", "open"),
    "list": ("列出", "list"),
    "close": ("结束", "close"),
    "post": ("记账", "post"),
    "refund": ("退费、撤销", "refund, cancel"),
    "pay": ("通知还款", "notify"),
    "register": ("注册", "register"),
    "rotate": ("轮换", "rotate"),
    "revoke": ("吊销", "revoke"),
    "claim": ("领取", "claim"),
    "outcome": ("记录结果", "record the outcome"),
    "pause": ("争议暂停、结束", "open, close a dispute"),
    "advance": ("向前拨", "advance"),
    "decide": ("作出决定", "decide"),
    "emergency": ("急诊合计", "emergency totals"),
    "write_off": ("核销", "write off"),
    "download": ("下载文件", "download a file"),
    "acknowledge": ("确认收到", "acknowledge"),
    "status": ("查询状态与理由", "status and reasons"),
    "correct": ("更正", "correct"),
    "waiting": ("查看等待告知送达的列入", "see the listings waiting for a delivered notice"),
    "file": ("提出", "file"),
    "annul_strike": ("撤销逾期记录", "annul a strike"),
    "consents": ("同意记录与重新同意", "consents and re-consent"),
    "request": ("提出权利请求", "make a request"),
    "queue": ("待答复请求", "open requests"),
    "answer": ("答复请求", "answer a request"),
    "create": ("登记", "register"),
    "delete": ("删除", "delete"),
    "deliveries": ("查看投递记录", "read the delivery log"),
    "replay": ("重新投递", "replay"),
    "totals": ("对总账", "reconcile totals"),
    "lines": ("对明细账", "reconcile lines"),
    "upload": ("上传", "upload"),
    "resolve": ("了结", "resolve"),
}
HEAD = {
    "zh": ("调用方", "对象", "操作", "接口", "权限", "可见内容", "说明"),
    "en": ("Caller kind", "Resource", "Operation", "API", "Scope", "What it sees", "Notes"),
}


class AccessSourceError(Exception):
    """The access table and the OpenAPI document disagree."""


def _endpoints(doc: dict[str, Any]) -> dict[str, str]:
    out = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            out[op["operationId"]] = f"{method.upper()} {path}"
    return out


def access_table(lang: str) -> str:
    doc = openapi.document()
    endpoints = _endpoints(doc)
    pick = 0 if lang == "zh" else 1
    kinds = {k[0]: k[1 + pick] for k in KINDS}
    lines = ["| " + " | ".join(HEAD[lang]) + " |", "|" + "---|" * len(HEAD[lang])]
    for grant in ACCESS:
        ids = ROUTES[(grant.resource, grant.operation)]
        missing = [i for i in ids if i not in endpoints]
        if missing:
            raise AccessSourceError(f"the access table names operations the API does not have: {missing}")
        for op_id in ids:
            scope = doc["paths"][endpoints[op_id].split(" ", 1)[1]][endpoints[op_id].split(" ", 1)[0].lower()]
            if scope.get("x-treatfirst-scope") != grant.scope:
                raise AccessSourceError(f"{op_id}: the document's scope is not {grant.scope}")
        api = "<br>".join(f"[`{endpoints[i]}`](../reference/api.md#{i})" for i in ids)
        note = grant.note_zh if lang == "zh" else grant.note_en
        lines.append(
            f"| {kinds[grant.kind]} | {RESOURCES[grant.resource][pick]} | {OPERATIONS[grant.operation][pick]} | "
            f"{api} | `{grant.scope}` | `{grant.view}` | {note} |"
        )
    granted = {g.kind for g in ACCESS}
    reserved = [kinds[k] for k, *_ in KINDS if k not in granted]
    lines += ["", "| " + ("视图" if lang == "zh" else "View") + " | " + ("内容" if lang == "zh" else "Contents") + " |"]
    lines += ["|---|---|", *[f"| `{name}` | {texts[pick]} |" for name, texts in VIEWS.items()]]
    if reserved:
        lines += [
            "",
            (
                "尚无任何权限（其接口上线前不能签发密钥）："
                if lang == "zh"
                else "No grant yet (no key can be minted for them until their operations exist): "
            )
            + ("、" if lang == "zh" else ", ").join(reserved),
        ]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    src = page.file.src_uri
    if src in ("zh/access.md", "en/access.md"):
        if MARKER not in markdown:
            raise AccessSourceError(f"{src} lost its {MARKER} marker")
        markdown = markdown.replace(MARKER, access_table(src[:2]))
    return markdown
