"""Enrollment: eligibility, limit decision with reasons, consents, uniqueness, withdrawal."""

from __future__ import annotations

import pytest
from treatfirst.consents import render_consent
from treatfirst.domain.errors import AlreadyEnrolled, AmountOwed, ConsentMissing, NotEligible
from treatfirst.messages.common import Empty
from treatfirst.messages.visits import CancelRequest, ChargeRequest
from treatfirst.services import charges, enrollment, refunds
from treatfirst.services.ports import ACCOUNTS, CONSENTS

from tests.factories import command, consents_for, resident_id
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
    with pytest.raises(NotEligible):
        world.enroll(id_number=resident_id(born="20150101"))


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


def test_withdrawal_only_when_nothing_is_owed_then_re_enrollment(world: World) -> None:
    rid = resident_id()
    account = world.enroll(id_number=rid)
    visit = world.open_visit(account["account_id"])
    from tests.factories import charge

    charges.post_charge(world.ctx(), world.hospital, visit["visit_id"], command(ChargeRequest, charge(100)), None)
    with pytest.raises(AmountOwed):
        enrollment.withdraw(world.ctx(), world.channel, account["account_id"], Empty(), None)
    refunds.cancel_charge(
        world.ctx(), world.hospital, visit["visit_id"], visits_fee_line(world, visit), command(CancelRequest), None
    )
    done = enrollment.withdraw(world.ctx(), world.channel, account["account_id"], Empty(), None)
    assert done.body["status"] == "withdrawn"
    again = world.enroll(id_number=rid)
    assert again["account_id"] != account["account_id"]


def visits_fee_line(world: World, visit: dict[str, object]) -> str:
    from treatfirst.services.ports import CHARGES

    return str(world.store.query(CHARGES, str(visit["visit_id"])).items[0]["fee_line_id"])
