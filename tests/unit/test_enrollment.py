"""Enrollment: eligibility, limit decision with reasons, consents, uniqueness, withdrawal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from treatfirst.consents import render_consent
from treatfirst.domain.errors import (
    AlreadyEnrolled,
    AmountOwed,
    ConsentMissing,
    Forbidden,
    NotEligible,
    VerificationStale,
    VisitOpen,
)
from treatfirst.messages.accounts import WithdrawalRequest
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import CancelRequest, ChargeRequest
from treatfirst.services import charges, closing, enrollment, refunds
from treatfirst.services.identity import SCOPES, Caller
from treatfirst.services.ports import ACCOUNTS, CONSENTS

from tests.factories import charge, command, consents_for, resident_id
from tests.unit.conftest import World


def test_zero_threshold_city_grants_the_single_tier_with_reasons(world: World) -> None:
    account = world.enroll()
    assert account["credit_line"]["limit_fen"] == world.policy.tiers[0].limit_fen
    assert account["decision"]["policy_sha256"] == world.policy.sha256
    assert {r["code"] for r in account["decision"]["reasons"]} >= {"AGE_OK", "INSURANCE_OK", "ZERO_THRESHOLD", "LIMIT"}
    assert account["id_number"].count("*") == 10 and account["phone"].count("*") == 4
    world.assert_sound(account["account_id"])


@pytest.mark.parametrize(("score", "limit"), [(550, 50000), (649, 100000), (650, 200000), (999, 300000)])
def test_score_banded_city_picks_the_band(xiamen: World, score: int, limit: int) -> None:
    account = xiamen.enroll(credit_score={"source": "bailu", "value": score})
    assert account["credit_line"]["limit_fen"] == limit


def test_refusal_explains_itself_and_stores_nothing(xiamen: World) -> None:
    with pytest.raises(NotEligible) as caught:
        xiamen.enroll(credit_score={"source": "bailu", "value": 549})
    assert "SCORE_TOO_LOW" in {r["code"] for r in caught.value.details["reasons"]}
    assert xiamen.store.tables[ACCOUNTS] == {}


def test_minor_is_not_eligible_alone(world: World) -> None:
    # a 16-year-old (14 or older, under the policy's 18) is not eligible; under 14 is GUARDIAN_REQUIRED
    with pytest.raises(NotEligible):
        world.enroll(id_number=resident_id(born="20100101"))


def test_consents_are_recorded_with_version_and_hash_of_the_exact_text(world: World) -> None:
    account = world.enroll()
    stored = world.store.query(CONSENTS, account["account_id"]).items
    assert {c["kind"] for c in stored} == {"service_agreement", "personal_information", "credit_reporting"}
    for consent in stored:
        assert consent["text_sha256"] == render_consent(world.policy, consent["kind"]).sha256
        assert consent["policy"]["policy_version"] == world.policy.version


def test_a_missing_or_stale_consent_is_refused(world: World) -> None:
    partial = consents_for(world.policy)[:1]
    with pytest.raises(ConsentMissing):
        world.enroll(consents=partial)
    stale = consents_for(world.policy)
    stale[0]["text_sha256"] = "0" * 64
    with pytest.raises(ConsentMissing) as caught:
        world.enroll(consents=stale)
    assert caught.value.field == "consents[0].text_sha256"


def test_one_account_per_resident_and_identifiers_stored_encrypted(world: World) -> None:
    rid = resident_id()
    world.enroll(id_number=rid, phone="13900001111")
    with pytest.raises(AlreadyEnrolled):
        world.enroll(id_number=rid)
    dump = repr(world.store.tables)
    assert rid not in dump and "13900001111" not in dump and "张三" not in dump


def withdrawal(world: World, *, minutes_ago: float = 1) -> WithdrawalRequest:
    """A channel's withdrawal with the person's real-name check from `minutes_ago` minutes ago."""
    at = world.clock.now() - timedelta(minutes=minutes_ago)
    return command(
        WithdrawalRequest,
        {"verification": {"method": "face", "check_id": "face-wd-1", "verified_at": at.isoformat()}},
    )


def test_withdrawal_only_when_no_visit_is_open_and_nothing_is_owed_then_re_enrollment(world: World) -> None:
    # Given an account with an open visit and a charge on it
    rid = resident_id()
    account = world.enroll(id_number=rid)
    account_id = account["account_id"]
    visit = world.open_visit(account_id)
    charges.post_charge(world.ctx(), world.hospital, visit["visit_id"], command(ChargeRequest, charge(100)), None)
    before = repr(world.store.tables)
    # When the channel asks to withdraw it, it is refused (a visit is open), and nothing changed
    with pytest.raises(VisitOpen):
        enrollment.withdraw(world.ctx(), world.channel, account_id, withdrawal(world), None)
    assert repr(world.store.tables) == before
    # When the charge is cancelled but the visit stays open, still refused
    refunds.cancel_charge(
        world.ctx(), world.hospital, visit["visit_id"], visits_fee_line(world, visit), command(CancelRequest), None
    )
    with pytest.raises(VisitOpen):
        enrollment.withdraw(world.ctx(), world.channel, account_id, withdrawal(world), None)
    # When the visit is closed (a zero bill), the withdrawal goes through and records its evidence
    closing.close_visit(world.ctx(), world.hospital, visit["visit_id"], Empty(), None)
    done = enrollment.withdraw(world.ctx(), world.channel, account_id, withdrawal(world), None)
    assert done.body["status"] == "withdrawn" and "phone" not in done.body
    stored = world.store.get(ACCOUNTS, {"account_id": account_id})
    assert stored is not None and stored["withdrawal"]["check_id"] == "face-wd-1"
    # Then the resident may enroll again
    again = world.enroll(id_number=rid)
    assert again["account_id"] != account_id


def test_withdrawal_with_an_owed_bill_is_refused(world: World) -> None:
    account_id = world.enroll()["account_id"]
    visit = world.open_visit(account_id)
    charges.post_charge(world.ctx(), world.hospital, visit["visit_id"], command(ChargeRequest, charge(100)), None)
    closing.close_visit(world.ctx(), world.hospital, visit["visit_id"], Empty(), None)
    before = repr(world.store.tables)
    with pytest.raises(AmountOwed):
        enrollment.withdraw(world.ctx(), world.channel, account_id, withdrawal(world), None)
    assert repr(world.store.tables) == before


@pytest.mark.parametrize("minutes_ago", [11, -6], ids=["older than 10 minutes", "in the future"])
def test_withdrawal_needs_fresh_real_name_evidence(world: World, minutes_ago: float) -> None:
    # Given an account with nothing open or owed
    account_id = world.enroll()["account_id"]
    before = repr(world.store.tables)
    # When the channel sends a verification that is not fresh
    with pytest.raises(VerificationStale) as caught:
        enrollment.withdraw(world.ctx(), world.channel, account_id, withdrawal(world, minutes_ago=minutes_ago), None)
    # Then it is refused, naming the field, and nothing changed
    assert caught.value.field == "verification.verified_at"
    assert repr(world.store.tables) == before


def test_only_a_channel_may_withdraw(world: World) -> None:
    account_id = world.enroll()["account_id"]
    operator = Caller("key_op", "operator", "city-operator", SCOPES["operator"])
    before = repr(world.store.tables)
    for caller in (world.hospital, world.other_hospital, operator):
        with pytest.raises(Forbidden):
            enrollment.withdraw(world.ctx(), caller, account_id, withdrawal(world), None)
    assert repr(world.store.tables) == before


def visits_fee_line(world: World, visit: dict[str, object]) -> str:
    from treatfirst.services.ports import CHARGES

    return str(world.store.query(CHARGES, str(visit["visit_id"])).items[0]["fee_line_id"])
