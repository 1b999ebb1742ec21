"""The consents and notices on record for an account: what the person accepted (or was told), when, and whether
they withdrew it.

One item per answer in the `consents` table, keyed `<kind>#<sortable id>`, so the latest answer of a kind is the
last of its prefix and every earlier version stays on record (a re-consent adds an item, never overwrites one).
A withdrawal marks the item (`withdrawn_at`, with the evidence); it is never deleted while the account's
records are kept.

The account item names the latest answer of each kind (`consent_keys`: kind -> consent_key), written with every
answer (enrollment, a re-consent), so a reader of many accounts (the credit export) reads those answers by key,
a hundred per request (`on_record_many`), instead of querying each account. An account enrolled before the
pointer existed has none: its answers are queried, as before, until its next answer writes the pointer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from treatfirst.domain.ids import new_id
from treatfirst.services.ports import CONSENTS, Item, Put

if TYPE_CHECKING:
    from treatfirst.services.unit_of_work import Context

_PAGE = 100  # an account holds a few answers per kind; one page covers years of re-consents


def records(ctx: Context, account_id: str) -> list[Item]:
    """Every consent and notice answer of the account, oldest first within each kind."""
    out: list[Item] = []
    start = None
    while True:
        page = ctx.store.query(CONSENTS, account_id, limit=_PAGE, start=start)
        out.extend(page.items)
        if page.cursor is None:
            return out
        start = page.cursor


def latest(ctx: Context, account_id: str, kind: str, *, items: list[Item] | None = None) -> Item | None:
    """The account's latest answer of this kind (withdrawn or not), or None."""
    mine = [i for i in (records(ctx, account_id) if items is None else items) if i.get("kind") == kind]
    return max(mine, key=lambda i: i["consent_key"]) if mine else None


def on_record(ctx: Context, account_id: str, kind: str) -> bool:
    """True when the account's current answer of this kind stands: accepted (a consent) or shown (a notice), not
    withdrawn, and covering what the city policy now says for that kind (the same scope: purposes, categories
    and recipients). A policy change of that scope makes it False until the person answers again."""
    return standing(ctx, latest(ctx, account_id, kind))


def standing(ctx: Context, item: Item | None) -> bool:
    """Whether this latest answer of its kind stands: there is one, not withdrawn, covering the current scope."""
    if item is None or item.get("withdrawn_at"):
        return False
    return covers(ctx, item)


def on_record_many(ctx: Context, accounts: Mapping[str, Item | None], kind: str) -> dict[str, bool]:
    """`on_record` for many accounts at once (account id -> its item, None when absent): the latest answers named
    by the accounts' `consent_keys` are read by key in batches; an account without the pointer is queried."""
    answers: dict[str, bool] = {}
    keys = []
    for account_id, account in accounts.items():
        pointers = account.get("consent_keys") if account is not None else None
        if pointers is None:
            answers[account_id] = on_record(ctx, account_id, kind)
        elif kind in pointers:
            keys.append({"account_id": account_id, "consent_key": pointers[kind]})
        else:
            answers[account_id] = False  # the person never answered this kind
    found = {i["account_id"]: i for i in ctx.store.batch_get(CONSENTS, keys)}
    for key in keys:
        answers[key["account_id"]] = standing(ctx, found.get(key["account_id"]))
    return answers


def latest_keys(items: Iterable[Item]) -> dict[str, str]:
    """kind -> the consent_key of the latest answer of that kind among these answers (the account's pointer)."""
    keys: dict[str, str] = {}
    for item in items:
        kind = str(item["kind"])
        if kind not in keys or item["consent_key"] > keys[kind]:
            keys[kind] = str(item["consent_key"])
    return keys


def pointer_fields(account: Item, puts: list[Put], earlier: Iterable[Item]) -> dict[str, Any]:
    """The account fields that move its pointer to these new answers (`earlier`: the answers on record before them,
    used only when the account has no pointer yet, which then gets one naming every kind)."""
    if account.get("consent_keys") is None:
        return {"consent_keys": latest_keys([*earlier, *(p.item for p in puts)])}
    return {f"consent_keys.{k}": v for k, v in latest_keys(p.item for p in puts).items()}


def covers(ctx: Context, item: Item) -> bool:
    """Whether a stored answer covers the current policy's scope for its kind: the same purposes, categories and
    recipients (treatfirst.inventory.consent_scope). A new wording with the same scope needs no new answer; an
    answer stored before scopes were recorded covers only its own version of the text."""
    from treatfirst.inventory import consent_scope_sha256

    try:
        spec = ctx.policy.consent(item["kind"])
    except KeyError:  # the city no longer asks this kind at all
        return False
    if "scope_sha256" not in item:
        return bool(item.get("version") == spec.version)
    return bool(item["scope_sha256"] == consent_scope_sha256(ctx.policy, spec.kind))


def carried_scopes(ctx: Context, answers: list[dict[str, Any]]) -> dict[str, str]:
    """What an account carries of these answers (accepted now, or its consent records): the scope hash of the
    standing (latest, not withdrawn) answer of each kind that gates a visit (treatfirst.inventory.gating_kinds).
    An answer stored before scopes were recorded carries the current scope only if it is of the current version,
    as `covers` says."""
    from treatfirst.inventory import gating_kinds, gating_scopes

    out: dict[str, str] = {}
    for kind in gating_kinds(ctx.policy):
        mine = [a for a in answers if a.get("kind") == kind]
        if not mine:
            continue
        last = max(mine, key=lambda a: a.get("consent_key", ""))
        if last.get("withdrawn_at"):
            continue
        if "scope_sha256" in last:
            out[kind] = last["scope_sha256"]
        elif last.get("version") == ctx.policy.consent(kind).version:
            out[kind] = gating_scopes(ctx.policy)[kind]
        else:
            out[kind] = f"version:{last.get('version')}"
    return out


def record_put(ctx: Context, account_id: str, answer: dict[str, Any], via: str) -> Put:
    """The Put of one accepted consent (or shown notice): kind, version, title, mode, text and scope hashes."""
    return Put(
        CONSENTS,
        {
            "account_id": account_id,
            "consent_key": f"{answer['kind']}#{new_id('cns')}",
            **answer,
            "accepted_at": ctx.now_text(),
            "accepted_via": via,
            "policy": ctx.policy.stamp,
        },
    )
