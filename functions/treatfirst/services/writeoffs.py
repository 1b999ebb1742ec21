"""An operator's write-off of one unpaid bill: hardship certified by the civil-affairs office, a deceased patient, an
unidentified emergency patient, or an operator's decision (the sweep writes off by itself only at the end of the
ladder, as `ladder_exhausted`).

The write-off is ONE transaction: the bill becomes `written_off` with its reason (terminal), its debt leaves the
account's unpaid map and the line (the credit part shrinks the limit, as the sweep's write-off does), balanced
ledger entries move it to the funds — the self-pay part to the policy's `hardship_backstop` for hardship and to the
first fund of the backstop order otherwise, the emergency part to the emergency backstop — and the audit log keeps
who, why and the note; when it was the last unpaid bill, the ladder's step and blocks are lifted in the same
transaction, as a payment of everything lifts them. The account's guard (its collection version) is re-checked in
the same write, so a sweep or a payment racing it makes one of the two fail and retry; money received later is a
recovery.
"""

from __future__ import annotations

from treatfirst.domain import collection as c
from treatfirst.domain.errors import AccountNotFound, BillNotFound, BillNotPayable, ConcurrentUpdate
from treatfirst.domain.policy import Policy
from treatfirst.messages.collection import WriteOffRequest
from treatfirst.services import reports
from treatfirst.services.collection import (
    _write_off_writes,
    city_today,
    cleared,
    collect_shard,
    look_again,
    write_off_line,
    write_off_record,
)
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.payments import bill_view
from treatfirst.services.ports import ACCOUNTS, BILLS, Update, Write
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context


def credit_fund(policy: Policy, reason: str) -> str:
    """The fund that takes the self-pay part of an operator's write-off."""
    return policy.hardship_backstop if reason == "hardship" else policy.backstop_order[0]


def write_off_bill(
    ctx: Context, caller: Caller, bill_id: str, command: WriteOffRequest, idempotency_key: str | None
) -> Outcome:
    caller.may("bills", "write_off")  # operators only (treatfirst.access)
    idem = Idempotency(ctx, caller, idempotency_key, f"write_off:{bill_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        bill = ctx.store.get(BILLS, {"bill_id": bill_id}) if bill_id.startswith("bil_") else None
        if bill is None:
            raise BillNotFound()
        if bill["status"] not in ("issued", "overdue") or bill["outstanding_fen"] <= 0:
            raise BillNotPayable(f"the bill is {bill['status']}: only an unpaid bill can be written off")
        account_id = bill["account_id"]
        account = ctx.store.get(ACCOUNTS, {"account_id": account_id})
        if account is None:
            raise AccountNotFound()
        w = c.WriteOff(bill_id, bill["credit_outstanding_fen"], bill["emergency_outstanding_fen"], command.reason)
        on = city_today(ctx)
        fund = credit_fund(ctx.policy, command.reason)
        record = write_off_record(ctx, w, on, fund)
        add = {"collect_version": 1, **write_off_line(w.credit_fen, w.emergency_fen)}
        writes: list[Write] = [
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                # the sweep re-anchors on what is left; when nothing is left the ladder's step and blocks go now,
                # in this transaction, as a payment of everything does (the strike rule's blocks stay)
                set={**look_again(ctx, account_id), **(cleared(ctx, account, {bill_id}) or {})},
                remove=(f"unpaid.{bill_id}",) if "unpaid" in account else (),
                add=add,
                expect={"collect_version": int(account.get("collect_version", 0))},
                fail=ConcurrentUpdate,
            ),
            *_write_off_writes(
                ctx,
                account_id,
                w,
                bill["status"] == "overdue",
                on,
                collect_shard(account_id),
                credit_fund=fund,
                actor=caller.actor,
                due=reports.due_date(ctx, bill),  # the report counters' due-date group
            ),
            audit(
                ctx,
                caller,
                f"bill#{bill_id}",
                "bill.written_off",
                account_id=account_id,
                reason=command.reason,
                note=command.note.strip(),
                credit_fen=w.credit_fen,
                emergency_fen=w.emergency_fen,
                **{k: v for k, v in record.items() if k.endswith("_fund")},
                **ctx.policy.stamp,
            ),
        ]
        after = {**bill, "status": "written_off", "write_off": record, "outstanding_fen": 0, "recovered_fen": 0}
        return writes, Outcome(200, bill_view(after))

    return idem.run(build)
