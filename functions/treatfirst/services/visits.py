"""Visits (就诊): opening, reading and listing. Charges, refunds and closing have their own modules."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from treatfirst.domain.errors import (
    AccountNotActive,
    AccountNotFound,
    AccountRestricted,
    EmergencyNotCovered,
    ReconsentRequired,
    VisitNotFound,
)
from treatfirst.domain.ids import new_id
from treatfirst.inventory import reconsent_due
from treatfirst.messages import visits as msg
from treatfirst.messages.common import to_item
from treatfirst.services import collection
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import ACCOUNTS, VISITS, Item, Put, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context


def visit_view(item: Item) -> dict[str, Any]:
    declared = item.get("emergency")
    return to_item(
        msg.Visit(
            visit_id=item["visit_id"],
            hospital_id=item["hospital_id"],
            account_id=item["account_id"],
            his_visit_id=item.get("his_visit_id"),
            kind=item["kind"],
            department=item.get("department"),
            status=item["status"],
            opened_at=item["opened_at"],
            closed_at=item.get("closed_at"),
            held_fen=item["held_fen"],
            emergency_held_fen=item["emergency_held_fen"],
            charge_count=item["charge_count"],
            bill_id=item.get("bill_id"),
            emergency=msg.EmergencyDeclared(**declared) if declared else None,
        )
    )


class _VisitFacts:
    """A visit's hospital and account never change: cache them so a post needs no read."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, visit_id: str) -> tuple[str, str] | None:
        with self._lock:
            found = self._items.get(visit_id)
            if found:
                self._items.move_to_end(visit_id)
            return found

    def put(self, visit_id: str, hospital_id: str, account_id: str) -> None:
        with self._lock:
            self._items[visit_id] = (hospital_id, account_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


VISIT_FACTS = _VisitFacts()


def load_visit(ctx: Context, caller: Caller, visit_id: str) -> Item:
    """The visit; a hospital sees only its own (another hospital's is 404, not 403: the access table's "own")."""
    item = ctx.store.get(VISITS, {"visit_id": visit_id}) if visit_id.startswith("vis_") else None
    if item is None or (caller.kind == "hospital" and item["hospital_id"] != caller.principal_id):
        raise VisitNotFound()
    VISIT_FACTS.put(visit_id, item["hospital_id"], item["account_id"])
    return item


def visit_facts(ctx: Context, caller: Caller, visit_id: str) -> tuple[str, str]:
    """(hospital id, account id) of the caller's visit, from the cache when it can."""
    facts = VISIT_FACTS.get(visit_id)
    if facts is None:
        item = load_visit(ctx, caller, visit_id)
        facts = (item["hospital_id"], item["account_id"])
    if facts[0] != caller.principal_id:
        raise VisitNotFound()
    return facts


def open_visit(ctx: Context, caller: Caller, command: msg.VisitRequest, idempotency_key: str | None) -> Outcome:
    """Open a visit; the account's open-visit count rises in the same transaction (withdrawal checks it)."""
    caller.may("visits", "open")  # hospitals only (treatfirst.access)
    account_id, emergency = command.account_id, command.emergency
    if emergency is not None and emergency.triage_level not in ctx.policy.emergency_triage_levels:
        raise EmergencyNotCovered(
            f"triage level {emergency.triage_level} is not one the city covers as an emergency "
            f"({', '.join(map(str, ctx.policy.emergency_triage_levels))})",
            field="emergency.triage_level",
        )
    idem = Idempotency(ctx, caller, idempotency_key, "open_visit", command)

    def build() -> tuple[list[Write], Outcome]:
        account = ctx.store.get(ACCOUNTS, {"account_id": account_id}) if account_id.startswith("acc_") else None
        if account is None:
            raise AccountNotFound(field="account_id")
        if account["status"] == "withdrawn" or (account["status"] != "active" and emergency is None):
            raise AccountNotActive(f"the account is {account['status']}", field="account_id")
        if emergency is None:  # emergency care never waits for a re-consent (PIPL art. 13 para. 1 item (4))
            due = reconsent_due(ctx.policy, account.get("consent_scopes"))
            if due:
                raise ReconsentRequired(
                    f"the person must accept the current {', '.join(due)} text(s) again (the city's policy changed "
                    f"what they cover): GET /v1/accounts/{account_id}/consents, then POST the answers",
                    field="account_id",
                    kinds=due,
                )
        if emergency is None and "new_visits" in (account.get("blocks") or ()):
            raise AccountRestricted(
                "the account may not open new visits until its overdue bills are paid", field="account_id"
            )
        visit_id = new_id("vis")
        item: Item = {
            "visit_id": visit_id,
            "hospital_id": caller.principal_id,
            "account_id": account_id,
            "his_visit_id": command.his_visit_id,
            "kind": command.kind,
            "department": command.department.strip() if command.department else None,
            "status": "open",
            "opened_at": ctx.now_text(),
            "held_fen": 0,
            "emergency_held_fen": 0,
            "charge_count": 0,
            # the payment channel that enrolled the patient (their app): it gets the bill's events too
            "channel_id": home_channel(account),
            "policy": ctx.policy.stamp,
        }
        if emergency is not None:
            item["emergency"] = {
                "triage_level": emergency.triage_level,
                "reason_code": emergency.reason_code,
                "declared_at": ctx.now_text(),
            }
            item["emergency_declared"] = True
        stay: dict[str, Any] = {}
        if command.kind == "inpatient":  # an inpatient stay pauses the account's debt until the visit closes
            item["stay_start"] = collection.city_today(ctx).isoformat()
            stay = collection.stay_opened(ctx, account, visit_id, item["stay_start"])
        writes: list[Write] = [
            Put(VISITS, {k: v for k, v in item.items() if v is not None}),
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                add={"open_visits": 1} | ({"collect_version": 1} if stay else {}),
                set=stay,
                expect={"status": account["status"]},
                # an emergency visit is never blocked; any other re-checks the collection blocks in this write
                lacks={} if emergency is not None else {"blocks": "new_visits"},
                fail=lambda: AccountNotActive("the account changed while the visit opened; retry"),
            ),
            audit(
                ctx,
                caller,
                f"visit#{visit_id}",
                "visit.opened",
                account_id=account_id,
                kind=command.kind,
                emergency=item.get("emergency"),
            ),
        ]
        return writes, Outcome(201, visit_view(item))

    return idem.run(build)


def get_visit(ctx: Context, caller: Caller, visit_id: str) -> dict[str, Any]:
    caller.may("visits", "read")
    return visit_view(load_visit(ctx, caller, visit_id))


def list_visits(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """The calling hospital's visits, newest first."""
    caller.may("visits", "list")  # per hospital: hospitals only
    bound = f"visits|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(
        VISITS, caller.principal_id, index="by_hospital", limit=query.limit, start=start, forward=False
    )
    return page_view(ctx.cipher, bound, page, visit_view)


def home_channel(account: Item) -> str | None:
    """The payment channel through which the patient enrolled (their app), or None when a hospital enrolled them:
    the bill events of their visits go to that channel too."""
    kind, _, principal = str(account.get("enrolled_by", "")).partition(":")
    return principal if kind == "channel" and principal else None
