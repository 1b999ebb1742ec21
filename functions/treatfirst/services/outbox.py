"""The outbox: every message to a patient (an SMS) or to an operator (a phone task) is a row written in the SAME
transaction as the state change that causes it.

`outbox_put` returns the Put to add to that transaction. The row's id is derived from a dedupe key that names
the cause (e.g. f"{account_id}#{step}#{anchor_due_date}"), and the Put refuses an existing row, so one cause can
never produce two messages: a rerun of a step whose guard passed again would fail the whole transaction.

An SMS row's text is rendered when the row is written (Jinja2, StrictUndefined, templates/sms/), from a fixed
set of parameters: the masked name, amounts in fen, dates, the step — never an item, a diagnosis or any free
text. The dispatcher (services/dispatch.py) delivers pending SMS rows; phone rows are the operators' task queue
(services/tasks.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from treatfirst.domain.errors import AccountNotFound, ConcurrentUpdate
from treatfirst.domain.money import format_yuan
from treatfirst.domain.policy import BLOCKABLE, LADDER_ACTIONS, STRIKE_ACTIONS, Policy, label
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import ACCOUNTS, OUTBOX, Item, Put
from treatfirst.services.unit_of_work import Context

if TYPE_CHECKING:
    from jinja2 import Environment

# kind -> channel (domain.collection's KIND_* names). SMS kinds have a template templates/sms/<kind>.txt.j2.
KINDS: dict[str, str] = {
    "due_reminder": "sms",  # before a bill's due date
    "step_reminder": "sms",  # before a ladder step, so paying in time avoids it
    "step": "sms",  # a ladder step (or the strike rule) was reached: what it does, from its actions
    "cleared": "sms",  # everything paid: restrictions lifted
    "statement": "sms",  # 信用日账: the day before's charges and what is owed (services/statements.py)
    "phone_task": "phone",  # an operator calls the patient (the task queue, services/tasks.py)
}

QUEUE_SHARDS = 4  # pending SMS rows spread over this many index partitions ("sms#<n>")
PHONE_QUEUE = "phone#0"  # phone tasks (a few per day per operator) share one partition, listed oldest first

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MASKED = re.compile(r"^[^\s*0-9]{1,2}\*{1,63}$")  # 张*, 欧阳**: first character(s), the rest masked


def _date(value: Any) -> str:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("must be a date YYYY-MM-DD")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a non-negative integer")
    return value


def _masked_name(value: Any) -> str:
    if not isinstance(value, str) or not _MASKED.match(value):
        raise ValueError("must be a masked name such as 张*")
    return value


def _blocks(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or any(b not in BLOCKABLE for b in value):
        raise ValueError(f"must be a list of {', '.join(BLOCKABLE)}")
    return list(value)


def _actions(value: Any) -> list[str]:
    known = (*LADDER_ACTIONS, *STRIKE_ACTIONS)
    if not isinstance(value, list | tuple) or any(a not in known for a in value):
        raise ValueError(f"must be a list of {', '.join(dict.fromkeys(known))}")
    return list(value)


# The ONLY parameters a message may carry (a test checks every template uses nothing else, and that an item or a
# diagnosis cannot get through). `step` is checked against the policy's ladder names in check_params.
PARAMS: dict[str, Any] = {
    "name_masked": _masked_name,
    "amount_fen": _count,
    "bills": _count,
    "strikes": _count,
    "days_overdue": _count,
    "in_days": _count,
    "due_date": _date,
    "step": str,
    "actions": _actions,
    "blocks": _blocks,
    "bill_id": str,
    "charges": _count,  # statements: how many charges the day had
    "charged_fen": _count,  # statements: their self-pay
    "statement_date": _date,  # statements: the business date it covers
}
_ID = re.compile(r"^bil_[0-9A-Z]{26}$")


def message_id(dedupe_key: str) -> str:
    """The stable id of the message a cause produces (the same dedupe key always gives the same id)."""
    return "msg_" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]


def check_params(policy: Policy, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters, checked; ValueError naming the first one refused."""
    out: dict[str, Any] = {}
    steps = {s.name for s in policy.collection_ladder} | {"strikes"}
    for name, value in params.items():
        check = PARAMS.get(name)
        if check is None:
            raise ValueError(f"message parameter {name!r} is not allowed (allowed: {', '.join(PARAMS)})")
        if name == "step":
            if value not in steps:
                raise ValueError(
                    f"message parameter step must be a ladder step of the policy or strikes, not {value!r}"
                )
        elif name == "bill_id":
            if not isinstance(value, str) or not _ID.match(value):
                raise ValueError("message parameter bill_id must be a bill id")
        else:
            try:
                value = check(value)
            except ValueError as exc:
                raise ValueError(f"message parameter {name} {exc}") from None
        out[name] = value
    return out


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined  # first render only

    from treatfirst.consents import TEMPLATE_DIR

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR / "sms")),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for the SMS gateway  # noqa: S701
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = format_yuan
    env.filters["zh"] = lambda codes, sep="、": sep.join(label(c, "zh") for c in codes)
    return env


def render_sms(policy: Policy, kind: str, params: Mapping[str, Any]) -> str:
    """The SMS text of a message kind: city name and hotline from the policy, the rest from the parameters."""
    template = environment().get_template(f"{kind}.txt.j2")
    checked = check_params(policy, params)
    step = next((s for s in policy.collection_ladder if s.name == checked.get("step")), None)
    try:
        text = template.render(
            city_name=policy.city_name,
            hotline=policy.hotline,
            step_blocks=list(step.blocks) if step else [],
            **checked,
        )
    except Exception as exc:  # StrictUndefined: a parameter the template needs is missing
        raise ValueError(f"message kind {kind} lacks a parameter it needs ({exc})") from None
    return "".join(line.strip() for line in text.splitlines())  # Chinese text: lines join without spaces


def outbox_put(
    ctx: Context, *, account_id: str, kind: str, dedupe_key: str, params: Mapping[str, Any], bill_id: str | None = None
) -> Put:
    """The outbox row of one message, to commit in the same transaction as its cause.

    `dedupe_key` names the cause (e.g. f"{account_id}#{step}#{anchor_due_date}"); the row id is derived from it
    and the Put fails (CONCURRENT_UPDATE) when that row exists, so one cause never makes two messages.
    Raises ValueError for an unknown kind or parameter (a programming error, never a caller's input).
    """
    channel = KINDS.get(kind)
    if channel is None:
        raise ValueError(f"unknown message kind {kind!r} (known: {', '.join(KINDS)})")
    checked = check_params(ctx.policy, params)
    mid = message_id(dedupe_key)
    item: dict[str, Any] = {
        "message_id": mid,
        "account_id": account_id,
        "kind": kind,
        "channel": channel,
        "dedupe_key": dedupe_key,
        "params": checked,
        "status": "pending" if channel == "sms" else "open",
        "queue": f"sms#{int(mid[4:12], 16) % QUEUE_SHARDS}" if channel == "sms" else PHONE_QUEUE,
        "created_at": ctx.now_text(),
        "request_id": ctx.request_id,
        "policy_version": ctx.policy.version,
    }
    if bill_id is not None:
        item["bill_id"] = bill_id
    if channel == "sms":
        item["text"] = render_sms(ctx.policy, kind, checked)
    return Put(OUTBOX, item, fail=lambda: ConcurrentUpdate("this message was already written"))


VIEW_FIELDS = (
    "message_id",
    "account_id",
    "kind",
    "channel",
    "status",
    "created_at",
    "text",
    "params",
    "bill_id",
    "sent_at",
    "attempts",
)


def message_view(row: Item) -> dict[str, Any]:
    return {name: row[name] for name in VIEW_FIELDS if name in row}


def list_account_messages(ctx: Context, caller: Caller, account_id: str, query: PageQuery) -> dict[str, Any]:
    """An account's SMS and phone tasks, newest first (operators)."""
    caller.may("messages", "list")
    bound = f"messages|{account_id}|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    if not account_id.startswith("acc_") or ctx.store.get(ACCOUNTS, {"account_id": account_id}) is None:
        raise AccountNotFound()
    page = ctx.store.query(OUTBOX, account_id, index="outbox_by_account", limit=query.limit, start=start, forward=False)
    return page_view(ctx.cipher, bound, page, message_view)
