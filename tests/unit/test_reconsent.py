"""Re-consent at the next interaction: a policy change of a necessary consent's scope stops a new (non-emergency)
visit until the person answers again, with no extra request on the visit's path; optional consents never gate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from treatfirst.domain.errors import ReconsentRequired
from treatfirst.domain.policy import POLICY_DIR, Policy, parse_policy
from treatfirst.inventory import gating_kinds, reconsent_due
from treatfirst.messages.privacy import ConsentAnswer, PrivacyRequest
from treatfirst.services import rights
from treatfirst.services.migrations import consent_scopes
from treatfirst.services.ports import ACCOUNTS, Update

from tests.factories import command, consents_for
from tests.unit.conftest import World


def _changed(*, sms: bool = False, platform_contact: str | None = None) -> Policy:
    """Lianyungang with a new SMS provider (personal_information's recipients change) and/or a new contact of the
    credit platform (only the optional credit_reporting consent's scope changes)."""
    data = yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text(encoding="utf-8"))
    recipients = data["privacy"]["recipients"]
    if sms:
        recipients.append({**next(r for r in recipients if r["kind"] == "sms_gateway"), "name": "新短信服务商（示例）"})
        data["consents"][1]["version"] = "2.2"
    if platform_contact:
        next(r for r in recipients if r["kind"] == "credit_platform")["contact"] = platform_contact
        data["consents"][2]["version"] = "2.2"
    data["version"] = "2026.12.1"
    return parse_policy(yaml.safe_dump(data, allow_unicode=True))


def _verification(world: World) -> dict[str, Any]:
    at = world.clock.now() - timedelta(minutes=1)
    return {"method": "face", "check_id": "face-reconsent-1", "verified_at": at.isoformat()}


def _answer(world: World, account_id: str, kinds: set[str]) -> dict[str, Any]:
    given = [c for c in consents_for(world.policy) if c["kind"] in kinds]
    body = {"verification": _verification(world), "consents": given}
    return rights.answer_consents(world.ctx(), world.channel, account_id, command(ConsentAnswer, body), None).body


def test_a_changed_necessary_consent_refuses_a_new_visit_until_the_person_answers_again(world: World) -> None:
    # Given a person enrolled under the current policy, who can open a visit
    account_id = world.enroll()["account_id"]
    assert world.open_visit(account_id)["status"] == "open"
    # When the city adds a recipient of personal information (a new scope of that consent)
    world.policy = _changed(sms=True)
    # Then a new visit is refused with a stable code naming the consent to answer again, and nothing is written
    before = dict(world.store.tables[ACCOUNTS])
    with pytest.raises(ReconsentRequired) as caught:
        world.open_visit(account_id)
    assert caught.value.code == "RECONSENT_REQUIRED" and caught.value.details == {"kinds": ["personal_information"]}
    assert "personal_information" in caught.value.message and caught.value.field == "account_id"
    assert world.store.tables[ACCOUNTS] == before
    # But emergency care still opens (PIPL art. 13 para. 1 item (4): no consent needed to save a life)
    emergency = {"triage_level": world.policy.emergency_triage_levels[0], "reason_code": "chest_pain"}
    assert world.open_visit(account_id, emergency=emergency)["status"] == "open"
    # When the person accepts the new text through the channel, Then the next visit opens
    _answer(world, account_id, {"personal_information"})
    assert world.open_visit(account_id)["status"] == "open"


def test_optional_consents_never_gate_a_visit(world: World) -> None:
    # Given one person who refused credit reporting and one who accepted then withdrew it
    refused = world.enroll(consents=[c for c in consents_for(world.policy) if c["kind"] != "credit_reporting"])
    withdrew = world.enroll()["account_id"]
    body = {"kind": "withdraw_consent", "consent_kind": "credit_reporting", "verification": _verification(world)}
    rights.open_request(world.ctx(), world.channel, withdrew, command(PrivacyRequest, body), None)
    # and one who accepted it, whose scope then changes (a new contact of the credit platform)
    accepted = world.enroll()["account_id"]
    world.policy = _changed(platform_contact="0518-12345678")
    assert "credit_reporting" not in gating_kinds(world.policy)
    # Then every one of them still opens a visit
    for account_id in (refused["account_id"], withdrew, accepted):
        assert world.open_visit(account_id)["status"] == "open"


def test_the_visit_checks_re_consent_on_the_account_it_already_reads(world: World) -> None:
    # Given an enrolled person and a store that records every read
    account_id = world.enroll()["account_id"]
    reads: list[tuple[str, str]] = []
    get, query = world.store.get, world.store.query

    def counted_get(table: str, key: Any) -> Any:
        reads.append(("get", table))
        return get(table, key)

    def counted_query(table: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(("query", table))
        return query(table, *args, **kwargs)

    world.store.get, world.store.query = counted_get, counted_query  # type: ignore[method-assign]
    # When a visit opens, and when one is refused after a policy change
    world.open_visit(account_id)
    world.policy = _changed(sms=True)
    with pytest.raises(ReconsentRequired):
        world.open_visit(account_id)
    # Then each read the account once and nothing else (the consents are not read)
    assert reads == [("get", ACCOUNTS), ("get", ACCOUNTS)]


def test_the_account_carries_the_scopes_and_a_migration_fills_older_accounts(world: World) -> None:
    # Given an account enrolled before accounts carried their consent scopes
    account_id = world.enroll()["account_id"]
    carried = world.store.get(ACCOUNTS, {"account_id": account_id})["consent_scopes"]  # type: ignore[index]
    assert set(carried) == {"service_agreement", "personal_information"} and reconsent_due(world.policy, carried) == []
    world.ctx().commit([Update(ACCOUNTS, {"account_id": account_id}, set={"consent_scopes": None})])
    # When the city changes the scope and the migration runs (twice)
    world.policy = _changed(sms=True)
    first = consent_scopes(world.ctx(), world.store)
    second = consent_scopes(world.ctx(), world.store)
    # Then the older account is checked like any other, and a rerun changes nothing
    assert (first.migrated, second.migrated, second.already) == (1, 0, 1)
    with pytest.raises(ReconsentRequired):
        world.open_visit(account_id)
    # And an answer on an account without the map writes the whole map from its records
    world.ctx().commit([Update(ACCOUNTS, {"account_id": account_id}, set={"consent_scopes": None})])
    _answer(world, account_id, {"personal_information"})
    assert world.open_visit(account_id)["status"] == "open"
