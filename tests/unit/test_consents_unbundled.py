"""Only necessary consents gate enrollment; credit reporting is optional (or a notice); minors; re-consent."""

from __future__ import annotations

import pytest
import yaml
from treatfirst.domain.errors import ConsentMissing, GuardianRequired
from treatfirst.domain.policy import POLICY_DIR, parse_policy
from treatfirst.inventory import consent_scope_sha256
from treatfirst.messages.accounts import ConsentGiven
from treatfirst.services.consents import on_record, record_put, records
from treatfirst.services.enrollment import check_consents
from treatfirst.services.ports import ACCOUNTS, CONSENTS

from tests.factories import command, consents_for, resident_id
from tests.unit.conftest import World


def _policy(**changes: object) -> object:
    data = yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text(encoding="utf-8"))
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return parse_policy(yaml.safe_dump(data, allow_unicode=True))


def test_enrollment_without_the_optional_credit_reporting_consent_succeeds(world: World) -> None:
    # Given only the two necessary consents (the patient refused credit reporting)
    necessary = [c for c in consents_for(world.policy) if c["kind"] != "credit_reporting"]
    # When the channel enrolls the patient
    account = world.enroll(consents=necessary)
    # Then the enrollment stands, same limit, and credit reporting is not on record (export reads this)
    assert account["credit_line"]["limit_fen"] == world.policy.tiers[0].limit_fen
    assert not on_record(world.ctx(), account["account_id"], "credit_reporting")
    assert on_record(world.ctx(), account["account_id"], "personal_information")


@pytest.mark.parametrize("left_out", ["service_agreement", "personal_information"])
def test_a_necessary_consent_still_gates_enrollment(world: World, left_out: str) -> None:
    given = [c for c in consents_for(world.policy) if c["kind"] != left_out]
    with pytest.raises(ConsentMissing) as caught:
        world.enroll(consents=given)
    assert left_out in caught.value.message and world.store.tables[ACCOUNTS] == {}


def test_a_statutory_city_shows_a_notice_and_records_it_as_shown() -> None:
    # Given a city whose credit reporting rests on a statutory basis (a notice)
    world = World(_policy(consents__2__mode="notice", blacklist_export__consent_required=False))  # type: ignore[arg-type]
    # Then leaving the notice out is refused (it must be shown) ...
    with pytest.raises(ConsentMissing):
        world.enroll(consents=[c for c in consents_for(world.policy) if c["kind"] != "credit_reporting"])
    # ... and showing it records a notice, not a consent
    account = world.enroll()
    stored = {c["kind"]: c for c in records(world.ctx(), account["account_id"])}
    assert stored["credit_reporting"]["mode"] == "notice"
    assert on_record(world.ctx(), account["account_id"], "credit_reporting")


def test_an_under_14_enrollment_is_refused_with_its_own_code_and_stores_nothing(world: World) -> None:
    # Given a 13-year-old with no guardian evidence (the platform cannot take any yet)
    with pytest.raises(GuardianRequired) as caught:
        world.enroll(id_number=resident_id(born="20130601"))
    # Then the code and text say why, in both languages, and nothing is stored
    assert caught.value.code == "GUARDIAN_REQUIRED" and caught.value.field == "id_number"
    assert "under 14" in caught.value.message and "不满 14 周岁须由监护人同意" in caught.value.message
    assert world.store.tables[ACCOUNTS] == {} and world.store.tables[CONSENTS] == {}


def test_a_policy_change_of_recipients_needs_a_new_answer_and_keeps_the_old_one(world: World) -> None:
    # Given a patient enrolled under the current policy
    account_id = world.enroll()["account_id"]
    old_scope = consent_scope_sha256(world.policy, "personal_information")
    # When the city adds a recipient (a new SMS provider) and a new version of the text
    recipients = [
        dict(r) for r in yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text())["privacy"]["recipients"]
    ]
    recipients.append({**next(r for r in recipients if r["kind"] == "sms_gateway"), "name": "新短信服务商（示例）"})
    changed = _policy(privacy__recipients=recipients, consents__1__version="2.2")
    world.policy = changed  # type: ignore[assignment]
    # Then the old answer no longer covers what the text says: the person must answer again
    assert consent_scope_sha256(changed, "personal_information") != old_scope  # type: ignore[arg-type]
    assert not on_record(world.ctx(), account_id, "personal_information")
    # while a consent whose scope did not change still stands
    assert on_record(world.ctx(), account_id, "service_agreement")
    # When the person accepts the new text, Then it is on record and both answers are kept
    fresh = [c for c in consents_for(changed) if c["kind"] == "personal_information"]  # type: ignore[arg-type]
    answers = check_consents(world.ctx(), [command(ConsentGiven, fresh[0])], require=False)
    world.ctx().commit([record_put(world.ctx(), account_id, a, "channel:wechat-pay") for a in answers])
    assert on_record(world.ctx(), account_id, "personal_information")
    versions = [c["version"] for c in records(world.ctx(), account_id) if c["kind"] == "personal_information"]
    assert versions == ["2.1", "2.2"]


def test_a_new_wording_with_the_same_scope_needs_no_new_answer(world: World) -> None:
    account_id = world.enroll()["account_id"]
    world.policy = _policy(consents__0__version="1.6")  # type: ignore[assignment]
    assert on_record(world.ctx(), account_id, "service_agreement")


def test_a_new_attribute_inside_a_described_category_needs_no_new_answer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from treatfirst import inventory

    # Given the scope of the personal-information consent as the city's text describes it
    before = consent_scope_sha256(world.policy, "personal_information")
    original = inventory.CATEGORIES
    first = next(c for c in original if c.code in inventory.CONSENT_SCOPE["personal_information"][0])
    # When the code stores one more attribute inside a category the text already describes
    wider = replace(first, fields=(*first.fields, "payments.some_new_id"))
    monkeypatch.setattr(inventory, "CATEGORIES", tuple(wider if c is first else c for c in original))
    # Then the scope (and every answer on record) stands
    assert consent_scope_sha256(world.policy, "personal_information") == before
    # But when what the text tells the person that category holds changes, the scope changes with it
    told = replace(first, zh=first.zh + "、诊断", en=first.en + ", diagnosis")
    monkeypatch.setattr(inventory, "CATEGORIES", tuple(told if c is first else c for c in original))
    assert consent_scope_sha256(world.policy, "personal_information") != before
