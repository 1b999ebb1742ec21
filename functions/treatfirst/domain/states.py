"""State machines, as tables: (from, to, why). The workflow and collection pages draw their diagrams from these
tables, and tests check that what the services do moves only along them (tests/unit/test_state_tables.py)."""

from __future__ import annotations

from treatfirst.domain.policy import Policy

Transition = tuple[str, str, str]

BILL_START = "issued"
BILL_TRANSITIONS: tuple[Transition, ...] = (
    ("issued", "paid", "paid in full before or on the due time / 到期前还清"),
    ("issued", "overdue", "unpaid after the due time (daily collection sweep) / 到期未还清"),
    ("overdue", "paid", "paid in full / 还清"),
    ("issued", "written_off", "the ladder's write-off step / 催收阶梯核销"),
    ("overdue", "written_off", "the ladder's write-off step / 催收阶梯核销"),
)
BILL_FINAL = ("paid", "written_off")

SMS_START = "pending"
SMS_TRANSITIONS: tuple[Transition, ...] = (
    ("pending", "sending", "a dispatcher claims it (lease) / 投递程序领取"),
    ("sending", "sent", "the gateway took it / 网关已接收"),
    ("sending", "pending", "the gateway refused it / 网关拒收，下次重试"),
    ("sending", "sending", "the lease ran out: claimed again, same message_id / 租约到期后重新领取"),
    ("sending", "undeliverable", "no phone number on the account / 账户无手机号"),
)
SMS_FINAL = ("sent", "undeliverable")

TASK_START = "open"
TASK_TRANSITIONS: tuple[Transition, ...] = (
    ("open", "claimed", "an operator claims it (audited) / 运营人员领取（审计）"),
    ("claimed", "claimed", "the same operator claims it again / 同一人再次领取"),
    ("claimed", "done", "the claimer records the outcome (audited) / 领取人记录结果（审计）"),
)
TASK_FINAL = ("done",)


def states(transitions: tuple[Transition, ...]) -> set[str]:
    return {s for t in transitions for s in t[:2]}


def ladder_transitions(policy: Policy) -> tuple[Transition, ...]:
    """An account's collection steps under a policy: from no step up the ladder as days overdue grow, eased back
    when a payment or refund re-anchors, and out of collection when everything is paid (domain.collection)."""
    up = list(reversed(policy.collection_ladder))  # least severe first
    out: list[Transition] = []
    names = ["current", *[s.name for s in up]]
    for i, frm in enumerate(names):
        for step in up[i:]:
            out.append((frm, step.name, f"day {step.day_offset} / 逾期第 {step.day_offset} 天"))
    for step in up:
        out.append((step.name, "current", "everything paid / 全部还清"))
    return tuple(out)


def mermaid(transitions: tuple[Transition, ...], start: str, final: tuple[str, ...] = ()) -> str:
    """A Mermaid state diagram of the table."""
    lines = ["stateDiagram-v2", f"    [*] --> {start}"]
    for frm, to, why in transitions:
        # A colon inside a label ends Mermaid's parse: written as the entity #58;
        lines.append(f"    {frm} --> {to}: {why.split(' / ')[0].replace(':', '#58;')}")
    for state in final:
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines)
