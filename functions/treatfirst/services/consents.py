"""The consents and notices on record for an account: what the person accepted (or was told), when, and whether
they withdrew it.

One item per answer in the `consents` table, keyed `<kind>#<sortable id>`, so the latest answer of a kind is the
last of its prefix and every earlier version stays on record (a re-consent adds an item, never overwrites one).
A withdrawal marks the item (`withdrawn_at`, with the evidence); it is never deleted while the account's
records are kept.
"""

from __future__ import annotations

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
    item = latest(ctx, account_id, kind)
    if item is None or item.get("withdrawn_at"):
        return False
    return covers(ctx, item)


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
