"""Operators and the collection ladder: an account's collection state, disputes and city-wide moratoriums.

Pauses do not age the debt (domain.collection.days_overdue). A dispute is a pause of one unpaid bill, opened and
closed by an operator, each with a reason: while it is open the ladder leaves that bill out, and its disputed days
never age it; a moratorium is a pause of the whole city, kept in
one item ("sys#moratoriums") that the sweep reads once per run (`moratoriums`). Pause records are append-only:
closing one sets its end date; nothing is removed. Every change is audited with who and why, and bumps the
account's `collect_version`, so a sweep step planned on the state before it fails its guard and is planned again.
"""

from __future__ import annotations

from typing import Any

from treatfirst.domain import collection as ladder
from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import AccountNotFound, AlreadyDisputed, BillNotFound, ConcurrentUpdate, PauseNotFound
from treatfirst.domain.ids import new_id
from treatfirst.messages.collection import CloseRequest, DisputeRequest, MoratoriumRequest
from treatfirst.services.collection import city_today, look_again
from treatfirst.services.identity import Caller
from treatfirst.services.paging import every
from treatfirst.services.ports import ACCOUNTS, Item, Put, Store, Update
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

MORATORIUMS_KEY = {"account_id": "sys#moratoriums"}


def moratoriums(store: Store) -> tuple[ladder.Pause, ...]:
    """The city's moratoriums, for the sweep (one read per run)."""
    item = store.get(ACCOUNTS, MORATORIUMS_KEY) or {}
    return tuple(ladder.pause_from_item(p) for p in item.get("pauses") or ())


def _account(ctx: Context, account_id: str) -> Item:
    item = ctx.store.get(ACCOUNTS, {"account_id": account_id}) if account_id.startswith("acc_") else None
    if item is None:
        raise AccountNotFound()
    return item


def aging_bucket(days: int) -> str:
    """The central bank's repayment-status band of a debt `days` overdue: N (not overdue), 1-6 by 30 days, 7 over
    180 days."""
    if days <= 0:
        return "N"
    return str(min(7, (days - 1) // 30 + 1))


def collection_state(ctx: Context, caller: Caller, account_id: str) -> dict[str, Any]:
    """Step, days overdue, unpaid bills with their aging band, strikes, pauses, blocks and the next step date."""
    caller.may("collection", "read")
    item = _account(ctx, account_id)
    state = ladder.state_from_item(item)
    city = moratoriums(ctx.store)
    on = city_today(ctx)
    pauses = (*state.all_pauses, *city)
    anchor = state.earliest_due
    days = ladder.account_days(ladder.ladder_bills(state.unpaid, on, pauses), on, pauses)
    window = ctx.policy.strike_window_months
    return {
        "account_id": account_id,
        "status": item.get("status", "active"),
        "on": on.isoformat(),
        "step": state.step,
        "days_overdue": max(days, 0) if days is not None else None,
        "earliest_due_date": anchor.isoformat() if anchor else None,
        "unpaid_fen": state.unpaid_fen,
        "unpaid": [
            {
                "bill_id": b.bill_id,
                "due_date": b.due.isoformat(),
                "outstanding_fen": b.outstanding_fen,
                "overdue": b.overdue,
                "disputed": ladder.disputed(b.bill_id, on, pauses),
                "aging": aging_bucket(ladder.bill_days(b, on, pauses)),
            }
            for b in state.unpaid
        ],
        "strikes": {
            "in_window": ladder.strikes_in_window(state.strikes, on, window, state.strikes_reset_on),
            "total": len(state.strikes),
            "rule_applied": state.strike_blocked,
        },
        "blocks": list(item.get("blocks") or ()),
        "pauses": [_pause_view(p) for p in state.all_pauses],
        "moratoriums": [_pause_view(p) for p in city],
        "next_step_at": item.get("next_step_at"),
    }


def _pause_view(p: ladder.Pause) -> dict[str, Any]:
    return {k: v for k, v in ladder.pause_item(p).items() if v is not None}


def open_dispute(ctx: Context, caller: Caller, account_id: str, command: DisputeRequest) -> dict[str, Any]:
    """Dispute one unpaid bill from today until closed: the ladder leaves it out meanwhile, and it does not age."""
    caller.may("collection", "pause")
    item = _account(ctx, account_id)
    state = ladder.state_from_item(item)
    if command.bill_id not in {b.bill_id for b in state.unpaid}:
        raise BillNotFound("no unpaid bill with this id on the account", field="bill_id")
    if any(p.bill_id == command.bill_id and p.end is None for p in state.pauses):
        raise AlreadyDisputed(field="bill_id")
    pause = ladder.Pause(new_id("pau"), city_today(ctx), None, command.reason, command.bill_id)
    _write_pauses(ctx, caller, item, [*state.pauses, pause], "collection.dispute.opened", pause)
    return _pause_view(pause)


def close_dispute(
    ctx: Context, caller: Caller, account_id: str, pause_id: str, command: CloseRequest
) -> dict[str, Any]:
    """End a dispute today; the days it covered stay paused."""
    caller.may("collection", "pause")
    item = _account(ctx, account_id)
    state = ladder.state_from_item(item)
    found = next((p for p in state.pauses if p.pause_id == pause_id and p.end is None), None)
    if found is None:
        raise PauseNotFound()
    closed = ladder.Pause(found.pause_id, found.start, max(city_today(ctx), found.start), found.reason, found.bill_id)
    pauses = [closed if p.pause_id == pause_id else p for p in state.pauses]
    _write_pauses(ctx, caller, item, pauses, "collection.dispute.closed", closed, why=command.reason)
    return _pause_view(closed)


def _write_pauses(
    ctx: Context,
    caller: Caller,
    item: Item,
    pauses: list[ladder.Pause],
    action: str,
    pause: ladder.Pause,
    why: str | None = None,
) -> None:
    account_id = item["account_id"]
    version = item.get("collect_version", 0)
    ctx.commit(
        [
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                set={"pauses": [ladder.pause_item(p) for p in pauses], **look_again(ctx, account_id)},
                add={"collect_version": 1},
                expect={"collect_version": version},
                fail=ConcurrentUpdate,
            ),
            audit(
                ctx,
                caller,
                f"account#{account_id}",
                action,
                pause_id=pause.pause_id,
                bill_id=pause.bill_id,
                reason=why or pause.reason,
            ),
        ]
    )


def open_moratorium(ctx: Context, caller: Caller, command: MoratoriumRequest) -> dict[str, Any]:
    """A city-wide pause from today until closed (e.g. a disaster): no debt ages while it is open."""
    caller.may("moratoriums", "open")
    item = ctx.store.get(ACCOUNTS, MORATORIUMS_KEY)
    pause = ladder.Pause(new_id("pau"), city_today(ctx), None, command.reason)
    _write_moratoriums(ctx, caller, item, [*moratoriums(ctx.store), pause], "collection.moratorium.opened", pause)
    return _pause_view(pause)


def close_moratorium(ctx: Context, caller: Caller, pause_id: str, command: CloseRequest) -> dict[str, Any]:
    caller.may("moratoriums", "close")
    item = ctx.store.get(ACCOUNTS, MORATORIUMS_KEY)
    current = moratoriums(ctx.store)
    found = next((p for p in current if p.pause_id == pause_id and p.end is None), None)
    if found is None:
        raise PauseNotFound()
    closed = ladder.Pause(found.pause_id, found.start, max(city_today(ctx), found.start), found.reason)
    pauses = [closed if p.pause_id == pause_id else p for p in current]
    _write_moratoriums(ctx, caller, item, pauses, "collection.moratorium.closed", closed, why=command.reason)
    return _pause_view(closed)


def list_moratoriums(ctx: Context, caller: Caller) -> dict[str, Any]:
    caller.may("moratoriums", "list")
    return {"items": [_pause_view(p) for p in moratoriums(ctx.store)]}


def _write_moratoriums(
    ctx: Context,
    caller: Caller,
    item: Item | None,
    pauses: list[ladder.Pause],
    action: str,
    pause: ladder.Pause,
    why: str | None = None,
) -> None:
    rows = [ladder.pause_item(p) for p in pauses]
    version = (item or {}).get("collect_version", 0)
    write: Put | Update
    if item is None:
        write = Put(ACCOUNTS, {**MORATORIUMS_KEY, "pauses": rows, "collect_version": 1}, fail=ConcurrentUpdate)
    else:
        write = Update(
            ACCOUNTS,
            MORATORIUMS_KEY,
            set={"pauses": rows, "updated_at": rfc3339(ctx.clock.now())},
            add={"collect_version": 1},
            expect={"collect_version": version},
            fail=ConcurrentUpdate,
        )
    ctx.commit([write, audit(ctx, caller, "moratoriums", action, pause_id=pause.pause_id, reason=why or pause.reason)])


BANDS = ("N", "1", "2", "3", "4", "5", "6", "7")


def aging_report(ctx: Context, caller: Caller) -> dict[str, Any]:
    """Unpaid bills by the central bank's aging band (N, 1-7 by 30 days), counted and summed.

    Reads only the accounts in collection, from the sparse by_next_step index whose projection carries each
    account's unpaid bills and pauses (one query page per 100 accounts per shard; never a scan)."""
    from treatfirst.services.collection import COLLECT_SHARDS

    caller.may("aging", "read")
    on = city_today(ctx)
    city = moratoriums(ctx.store)
    bills = dict.fromkeys(BANDS, 0)
    amounts = dict.fromkeys(BANDS, 0)
    for shard in range(COLLECT_SHARDS):
        for item in every(ctx.store, ACCOUNTS, str(shard), index="by_next_step"):
            state = ladder.state_from_item(item)
            pauses = (*state.all_pauses, *city)
            for bill in state.unpaid:
                band = aging_bucket(ladder.bill_days(bill, on, pauses))
                bills[band] += 1
                amounts[band] += bill.outstanding_fen
    return {
        "on": on.isoformat(),
        "bands": [{"band": b, "bills": bills[b], "outstanding_fen": amounts[b]} for b in BANDS],
    }
