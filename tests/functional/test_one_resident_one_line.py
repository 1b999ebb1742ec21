"""Security regression: one resident gets one credit line whatever digit forms the ID number is sent in."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.factories import enrollment, resident_id
from tests.functional.conftest import PREFIX, Api, Key

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def accounts_in_table() -> list[dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(f"{PREFIX}accounts").scan()["Items"]
    return [i for i in items if str(i["account_id"]).startswith("acc_")]


def test_other_digit_forms_cannot_open_a_second_line(api: Api, hospital: Key, channel: Key, platform: Any) -> None:
    # Given a resident enrolled with the ASCII ID number
    number = resident_id()
    first = api.post(hospital, "/v1/enrollments", enrollment(platform.policy, id_number=number))
    assert first.status_code == 201, first.body
    account_id = json.loads(first.body)["account_id"]

    # When the same number is sent in full-width and in Arabic-Indic digits (new phone, new check id)
    for other in (number.translate(FULL_WIDTH), number.translate(ARABIC_INDIC)):
        again = api.post(channel, "/v1/enrollments", enrollment(platform.policy, id_number=other))
        # Then each is refused as the same resident, and there is still one account
        assert again.status_code == 409, again.body
        assert json.loads(again.body)["error"]["code"] == "ALREADY_ENROLLED"
    assert [a["account_id"] for a in accounts_in_table()] == [account_id]


def test_lookup_finds_the_same_account_in_any_digit_form(api: Api, hospital: Key, platform: Any) -> None:
    # Given a resident enrolled with a full-width ID number
    number = resident_id()
    made = api.post(hospital, "/v1/enrollments", enrollment(platform.policy, id_number=number.translate(FULL_WIDTH)))
    assert made.status_code == 201, made.body
    account_id = json.loads(made.body)["account_id"]
    # Then what is stored is the canonical ASCII form (masked and blind-indexed from it)
    stored = accounts_in_table()
    assert len(stored) == 1 and stored[0]["id_masked"] == number[:4] + "*" * 10 + number[-4:]
    # When it is looked up in ASCII and in Arabic-Indic digits, it is the same account
    for form in (number, number.translate(ARABIC_INDIC)):
        found = api.post(hospital, "/v1/accounts/lookup", {"id_number": form})
        assert found.status_code == 200, found.body
        assert json.loads(found.body)["account_id"] == account_id


def test_an_identifier_that_cannot_be_normalised_is_refused(api: Api, hospital: Key, platform: Any) -> None:
    # Given an ID number with a character that is no digit in any script
    body = enrollment(platform.policy, id_number=resident_id()[:17] + "Ω")
    # When / Then: a 400 with its stable code, and nothing is stored
    refused = api.post(hospital, "/v1/enrollments", body)
    assert refused.status_code == 400
    assert json.loads(refused.body)["error"]["code"] == "INVALID_ID_NUMBER"
    phone = api.post(hospital, "/v1/enrollments", enrollment(platform.policy, phone="+1 2025550123"))
    assert json.loads(phone.body)["error"]["code"] == "INVALID_PHONE"
    assert accounts_in_table() == []
