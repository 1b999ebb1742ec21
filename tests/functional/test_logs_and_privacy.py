"""A full scenario's logs carry request ids and never a personal identifier."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.factories import charge, enrollment
from tests.functional.conftest import Api, Key


def test_full_scenario_logs_no_identifiers(
    api: Api,
    hospital: Key,
    channel: Key,
    platform: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    # Given a resident's identifiers
    body = enrollment(platform.policy, name="欧阳娜娜", phone="13912345678")
    secrets = [body["id_number"], body["phone"], body["name"], body["id_number"][-8:], "13912345678"[3:]]

    # When the whole path runs, including failures that echo fields back
    account = json.loads(api.post(hospital, "/v1/enrollments", body).body)
    api.post(hospital, "/v1/enrollments", body)  # ALREADY_ENROLLED
    wrong_check = "1" if body["id_number"][-1] != "1" else "2"  # always differs from the real check character
    api.post(hospital, "/v1/enrollments", {**body, "id_number": body["id_number"][:-1] + wrong_check})
    api.post(hospital, "/v1/accounts/lookup", {"id_number": body["id_number"]})
    visit = json.loads(api.post(hospital, "/v1/visits", {"account_id": account["account_id"]}).body)
    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(100))
    bill = json.loads(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close").body)["bill"]
    api.post(
        channel,
        "/v1/payments",
        {
            "channel_txn_id": "t1",
            "amount_fen": 100,
            "paid_at": "2026-11-24T10:00:00Z",
            "allocations": [{"bill_id": bill["bill_id"], "amount_fen": 100}],
        },
    )
    api.get(hospital, f"/v1/accounts/{account['account_id']}")

    # Then the logs have one JSON line per request with its request id, and no identifier anywhere
    logged = caplog.text + capsys.readouterr().out
    request_lines = [
        json.loads(r.getMessage() and json.dumps(r.fields))
        for r in caplog.records
        if getattr(r, "fields", None) and r.getMessage() == "request"
    ]
    assert len(request_lines) == 9
    assert all(line["request_id"].startswith("req_") for line in request_lines)
    assert {line["code"] for line in request_lines} >= {"OK", "ALREADY_ENROLLED", "INVALID_ID_NUMBER"}
    for secret in secrets:
        assert secret not in logged
