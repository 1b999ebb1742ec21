"""The blacklist record's states: the pure transition table, and a hypothesis state machine that drives a record
through the services (appeals, decisions, corrections, repair, the daily sweep over months) on the in-memory store
with a fixed clock, checking after every step that it moved only along the table and that the export's change log
stays coherent (added once, and only when published; removed only after added; nothing while an appeal waits)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from treatfirst.domain import blacklist as b
from treatfirst.domain.errors import TreatFirstError
from treatfirst.domain.policy import example_policy
from treatfirst.messages.blacklist import AppealDecision, AppealRequest, CorrectionRequest
from treatfirst.services import blacklist
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import ACCOUNTS, AUDIT, BLACKLIST, Update

from tests.unit.conftest import World

T = b.Timing(publish_after_days=7, validity_days=1095, cooling_days=30, retention_days=1825)
D0 = date(2026, 11, 24)


def test_the_table_has_one_target_per_state_and_event() -> None:
    pairs = [(frm, ev) for frm, _, ev, _ in b.RECORD_TRANSITIONS]
    assert len(pairs) == len(set(pairs))
    assert b.target("listed", "appeal") == "appealing" and b.target("appealing", "accept") == "removed"
    with pytest.raises(b.TransitionRefused):
        b.target("removed", "appeal")
    with pytest.raises(b.TransitionRefused):
        b.target("purged", "purge")
    assert b.allowed("purged") == ()


def test_due_events_in_order_of_decisiveness() -> None:
    dates = b.listing_dates(D0, T)
    assert (dates.publish_on, dates.valid_until) == (D0 + timedelta(days=7), D0 + timedelta(days=1094))
    assert b.due_event("listed", dates, T, D0 + timedelta(days=6)) is None
    assert b.due_event("listed", dates, T, D0 + timedelta(days=7)) == ("publish", D0 + timedelta(days=7))
    # never published while an appeal waits
    assert b.due_event("appealing", dates, T, D0 + timedelta(days=8)) is None
    repaid = b.Dates(**{**dates.__dict__, "repaid_on": D0 + timedelta(days=3)})
    assert b.due_event("appealing", repaid, T, D0 + timedelta(days=33)) == ("repair", D0 + timedelta(days=33))
    assert b.due_event("listed", repaid, T, D0 + timedelta(days=32)) == ("publish", D0 + timedelta(days=32))
    # expiry beats everything, dated the day after the validity ends
    assert b.due_event("listed", repaid, T, D0 + timedelta(days=2000)) == ("expire", D0 + timedelta(days=1095))
    removed = b.removed_dates(dates, D0 + timedelta(days=10), T)
    assert b.next_due("removed", removed, T) == D0 + timedelta(days=10 + 1825)
    assert b.due_event("removed", removed, T, D0 + timedelta(days=1834)) is None
    assert b.due_event("removed", removed, T, D0 + timedelta(days=1835)) == ("purge", D0 + timedelta(days=1835))
    assert b.next_due("purged", removed, T) is None


def test_a_removal_is_reported_only_for_a_published_record() -> None:
    dates = b.listing_dates(D0, T)
    assert b.export_change("publish", dates) == "added"
    assert b.export_change("accept", dates) is None
    published = b.Dates(**{**dates.__dict__, "published_on": D0 + timedelta(days=7)})
    assert [b.export_change(e, published) for e in ("accept", "repair", "expire", "correct")] == ["removed"] * 4
    assert b.export_change("appeal", published) is None and b.export_change("purge", published) is None


NOTICE = [{"message_id": "msg_" + "a" * 32, "sent_at": "2026-11-20T02:00:00.000Z"}]


class RecordMachine(RuleBasedStateMachine):
    """One record, moved by every way the services can move it, in any order."""

    @initialize()
    def listed(self) -> None:
        self.world = World(example_policy("lianyungang"))
        self.world.clock.current = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
        self.account_id = self.world.enroll()["account_id"]
        self.operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
        ctx = self.world.ctx()
        record = blacklist.record_item(
            ctx,
            account_id=self.account_id,
            cause={"source": "ladder", "step": "report_to_credit_platform", "anchor": "2026-08-01", "days_overdue": 90},
            bills=[{"bill_id": "bil_" + "1" * 26, "amount_fen": 9_000, "due_at": "2026-08-01T15:59:59.000Z"}],
            notice=NOTICE,
            strike_bills=[],
            on=D0,
        )
        ctx.commit(blacklist.record_writes_for_listing(ctx, record))
        ctx.commit(
            [
                Update(
                    ACCOUNTS,
                    {"account_id": self.account_id},
                    set={"blacklist_open": {"record_id": record["record_id"]}},
                )
            ]
        )
        self.record_id = record["record_id"]
        self.appeal_id: str | None = None

    def record(self) -> dict[str, Any]:
        item = self.world.store.get(BLACKLIST, {"item_id": self.record_id})
        assert item is not None
        return item

    def today(self) -> date:
        return blacklist.open_business_date(self.world.ctx()) - timedelta(days=1)

    @rule()
    def appeal(self) -> None:
        self.world.clock.advance(seconds=1)  # each step at its own time (the audit trail is ordered by time)
        state = self.record()["state"]
        try:
            out = blacklist.file_appeal(
                self.world.ctx(), self.operator, self.record_id, AppealRequest(statement="异议"), None
            )
        except TreatFirstError as exc:
            assert state != "listed", exc.code
            assert exc.code in ("APPEAL_PENDING", "RECORD_NOT_LISTED")
            return
        assert state == "listed"
        self.appeal_id = out.body["appeal_id"]

    @rule(accept=st.booleans())
    def decide(self, accept: bool) -> None:
        self.world.clock.advance(seconds=1)  # each step at its own time (the audit trail is ordered by time)
        if self.appeal_id is None:
            return
        state = self.record()["state"]
        decision = AppealDecision(outcome="accepted" if accept else "rejected", reason="核实")
        try:
            blacklist.decide_appeal(self.world.ctx(), self.operator, self.appeal_id, decision, None)
        except TreatFirstError as exc:
            assert exc.code == "APPEAL_ALREADY_DECIDED"
            return
        assert state == "appealing"
        assert self.record()["state"] == ("removed" if accept else "listed")

    @rule()
    def correct(self) -> None:
        self.world.clock.advance(seconds=1)  # each step at its own time (the audit trail is ordered by time)
        state = self.record()["state"]
        try:
            blacklist.correct(self.world.ctx(), self.operator, self.record_id, CorrectionRequest(reason="更正"), None)
        except TreatFirstError as exc:
            assert exc.code == "RECORD_NOT_LISTED" and state not in b.OPEN_STATES
            return
        assert state in b.OPEN_STATES

    @rule()
    def repaid(self) -> None:
        self.world.clock.advance(seconds=1)  # each step at its own time (the audit trail is ordered by time)
        # what a collection step does when it finds every overdue bill paid (services.blacklist.on_step)
        account = self.world.store.get(ACCOUNTS, {"account_id": self.account_id})
        assert account is not None
        mark = account.get("blacklist_open")
        if not mark or mark.get("repaid_on"):
            return
        out = blacklist.LadderOutcome()
        blacklist._repair_clock(self.world.ctx(), out, mark, self.today())
        self.world.ctx().commit(
            [
                *out.writes,
                Update(ACCOUNTS, {"account_id": self.account_id}, set=out.fields),
            ]
        )

    @rule(days=st.sampled_from([1, 6, 7, 29, 30, 31, 400, 1100, 1900]))
    def days_pass(self, days: int) -> None:
        self.world.clock.advance(seconds=1)  # each step at its own time (the audit trail is ordered by time)
        self.world.clock.advance(days=days)
        blacklist.sweep_due(self.world.ctx(), blacklist.due_shard(self.account_id), self.today())

    @invariant()
    def moved_only_along_the_table(self) -> None:
        events = [
            e["action"].removeprefix("blacklist.")
            for e in sorted(self.world.store.tables[AUDIT].values(), key=lambda e: (e["at"], e["event_id"]))
            if e["subject"] == f"blacklist#{self.record_id}" and e["details"].get("state_to")
        ]
        state = b.RECORD_START
        for event in events:
            state = b.target(state, event)
        assert state == self.record()["state"]

    @invariant()
    def the_change_log_is_coherent(self) -> None:
        record = self.record()
        rows = [r for r in self.world.store.tables[BLACKLIST].values() if r.get("kind") == "change"]
        kinds = [r["change_kind"] for r in sorted(rows, key=lambda r: r["change_id"])]
        if record["state"] == "purged":
            assert kinds == []
            return
        assert kinds in ([], ["added"], ["added", "removed"])
        assert bool(record.get("published_on")) == ("added" in kinds)
        assert ("removed" in kinds) == (record["state"] == "removed" and bool(record.get("published_on")))
        if record["state"] == "appealing":
            assert record.get("published_on") is None or "added" in kinds

    @invariant()
    def indexed_by_its_next_transition(self) -> None:
        record = self.record()
        state = record["state"]
        assert (record.get("next_due") is None) == (state == "purged")
        assert record.get("list_state") == {"listed": "open", "appealing": "open", "removed": "removed"}.get(state)
        account = self.world.store.get(ACCOUNTS, {"account_id": self.account_id})
        assert account is not None
        assert bool(account.get("blacklist_open")) == (state in b.OPEN_STATES)


RecordMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_record_states = RecordMachine.TestCase


def test_the_blacklist_duties_point_at_code_and_tests_that_exist() -> None:
    # Given the 国办发〔2020〕49号 rows (and PIPL art. 24) of the compliance registry
    import importlib
    from pathlib import Path

    from treatfirst.compliance import GUOBAN49, REGISTRY

    rows = [d for d in REGISTRY if d.law == GUOBAN49 or "blacklist" in " ".join(d.code)]
    assert {d.article for d in rows if d.law == GUOBAN49} >= {
        "依法依规认定（有依据）",
        "过惩相当",
        "事先告知",
        "异议与信用修复",
    }
    root = Path(__file__).resolve().parents[2]
    for duty in rows:
        # Then each code path imports and each test exists
        for dotted in duty.code:
            module, _, name = dotted.rpartition(".")
            assert hasattr(importlib.import_module(module), name), dotted
        for node in duty.tests:
            path, _, test = node.partition("::")
            assert f"def {test}(" in (root / path).read_text(encoding="utf-8"), node
