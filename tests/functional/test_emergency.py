"""Emergency care is never refused, but its claim on the emergency-aid fund is accountable (over HTTP)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from tests.factories import charge, enrollment
from tests.functional.conftest import PREFIX, Api, Key

DECLARED = {"triage_level": 2, "reason_code": "I21.9"}
THRESHOLD = 300_000  # lianyungang.yaml emergency.review_above_fen ("above": the amount itself opens nothing)


def body(response: Any) -> Any:
    return json.loads(response.body)


def enrol(api: Api, key: Key, platform: Any) -> str:
    made = api.post(key, "/v1/enrollments", enrollment(platform.policy))
    assert made.status_code == 201, made.body
    return str(body(made)["account_id"])


def open_emergency(api: Api, hospital: Key, account_id: str) -> str:
    opened = api.post(hospital, "/v1/visits", {"account_id": account_id, "emergency": DECLARED})
    assert opened.status_code == 201, opened.body
    return str(body(opened)["visit_id"])


def open_reviews(api: Api, operator: Key) -> list[dict[str, Any]]:
    listed = api.get(operator, "/v1/reviews")
    assert listed.status_code == 200, listed.body
    return list(body(listed)["items"])


def audit_actions(subject: str) -> list[str]:
    table = boto3.resource("dynamodb").Table(f"{PREFIX}audit")
    items = table.query(KeyConditionExpression="subject = :s", ExpressionAttributeValues={":s": subject})["Items"]
    return [str(i["action"]) for i in items]


def test_a_triage_level_the_city_does_not_cover_is_refused_and_opens_nothing(
    api: Api, hospital: Key, platform: Any
) -> None:
    # Given an enrolled patient, and a city that covers triage levels 1-3 as 急危重症
    account_id = enrol(api, hospital, platform)
    # When a hospital declares a level-4 (非急症) emergency
    refused = api.post(hospital, "/v1/visits", {"account_id": account_id, "emergency": {**DECLARED, "triage_level": 4}})
    # Then it is refused with its code and field, and no visit was opened
    assert refused.status_code == 422
    assert body(refused)["error"]["code"] == "EMERGENCY_NOT_COVERED"
    assert body(refused)["error"]["field"] == "emergency.triage_level"
    assert body(api.get(hospital, "/v1/visits"))["items"] == []


def test_charges_above_the_threshold_open_one_review_each_and_retries_open_no_more(
    api: Api, hospital: Key, operator: Key, platform: Any
) -> None:
    # Given an emergency visit
    visit_id = open_emergency(api, hospital, enrol(api, hospital, platform))
    at_threshold = charge(THRESHOLD, emergency=True)
    above = charge(THRESHOLD + 1, emergency=True)
    # When one charge of exactly the threshold and one just above it are posted, the second one twice
    for posted in (at_threshold, above, above):
        response = api.post(hospital, f"/v1/visits/{visit_id}/charges", posted)
        assert response.status_code == 201, response.body
    # Then exactly one review item is open: the charge above the threshold
    [item] = open_reviews(api, operator)
    assert (item["kind"], item["status"], item["fee_line_id"], item["amount_fen"], item["threshold_fen"]) == (
        "emergency_charge",
        "open",
        above["fee_line_id"],
        THRESHOLD + 1,
        THRESHOLD,
    )
    assert (item["hospital_id"], item["visit_id"]) == ("hospital-a", visit_id)

    # When the visit closes with an emergency total above the threshold
    closed = api.post(hospital, f"/v1/visits/{visit_id}/close")
    assert closed.status_code == 201, closed.body
    # Then a second item opens for the visit, carrying the declared triage level and reason
    visit_item = next(i for i in open_reviews(api, operator) if i["kind"] == "emergency_visit")
    assert visit_item["amount_fen"] == 2 * THRESHOLD + 1
    assert (visit_item["triage_level"], visit_item["reason_code"]) == (2, "I21.9")


def test_an_operator_decides_each_item_once_with_a_reason_and_nobody_else_can(
    api: Api, hospital: Key, channel: Key, operator: Key, platform: Any
) -> None:
    # Given an open review item
    visit_id = open_emergency(api, hospital, enrol(api, hospital, platform))
    api.post(hospital, f"/v1/visits/{visit_id}/charges", charge(THRESHOLD + 500, emergency=True))
    [item] = open_reviews(api, operator)
    path = f"/v1/reviews/{item['review_id']}"

    # When a hospital or a channel tries to list or decide it, Then 403 and nothing changes
    for key in (hospital, channel):
        assert api.get(key, "/v1/reviews").status_code == 403
        assert api.post(key, f"{path}/decision", {"outcome": "rejected", "reason": "x"}).status_code == 403
    # When the decision has no reason, Then 400
    assert api.post(operator, f"{path}/decision", {"outcome": "confirmed"}).status_code == 400
    assert body(api.get(operator, path))["status"] == "open"

    # When the operator confirms it with a reason
    decided = api.post(operator, f"{path}/decision", {"outcome": "confirmed", "reason": "胸痛中心确认 STEMI"})
    # Then it is confirmed, by whom and why, it leaves the open queue, and the decision is audited
    assert decided.status_code == 200, decided.body
    shown = body(api.get(operator, path))
    assert (shown["status"], shown["decided_by"], shown["decision_reason"]) == (
        "confirmed",
        "operator:city-operator",
        "胸痛中心确认 STEMI",
    )
    assert open_reviews(api, operator) == []
    assert "review.confirmed" in audit_actions(f"review#{item['review_id']}")
    # And a second decision is refused
    again = api.post(operator, f"{path}/decision", {"outcome": "rejected", "reason": "changed my mind"})
    assert again.status_code == 409 and body(again)["error"]["code"] == "REVIEW_ALREADY_DECIDED"
    # And an id of another form is not found before any read
    assert body(api.get(operator, "/v1/reviews/rev_" + "9" * 3000))["error"]["code"] == "REVIEW_NOT_FOUND"


def test_the_operator_sees_each_hospitals_emergency_totals_of_a_month(
    api: Api, hospital: Key, other_hospital: Key, operator: Key, platform: Any
) -> None:
    # Given emergency charges at two hospitals, one of them partly refunded, and an ordinary charge
    first = open_emergency(api, hospital, enrol(api, hospital, platform))
    second = open_emergency(api, other_hospital, enrol(api, other_hospital, platform))
    posted = [
        (hospital, first, charge(10_000, emergency=True)),
        (hospital, first, charge(2_500, emergency=True)),
        (hospital, first, charge(700)),
        (other_hospital, second, charge(40_000, emergency=True)),
    ]
    for key, visit_id, line in posted:
        assert api.post(key, f"/v1/visits/{visit_id}/charges", line).status_code == 201
    fee_line = posted[0][2]["fee_line_id"]
    refund = {"self_pay_fen": 4_000, "reason": "duplicate line"}
    refunded = api.post(hospital, f"/v1/visits/{first}/charges/{fee_line}/refunds", refund)
    assert refunded.status_code == 200, refunded.body
    shanghai_month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    # When the operator asks for the month's report
    report = api.get(operator, "/v1/reports/emergency", query={"month": shanghai_month})
    # Then each hospital's emergency self-pay, refunds and net are there, and the ordinary charge is not
    assert report.status_code == 200, report.body
    assert body(report)["hospitals"] == [
        {
            "hospital_id": "hospital-a",
            "charges": 2,
            "visits": 1,
            "self_pay_fen": 12_500,
            "refunded_self_pay_fen": 4_000,
            "net_self_pay_fen": 8_500,
        },
        {
            "hospital_id": "hospital-b",
            "charges": 1,
            "visits": 1,
            "self_pay_fen": 40_000,
            "refunded_self_pay_fen": 0,
            "net_self_pay_fen": 40_000,
        },
    ]
    assert body(report)["timezone"] == "Asia/Shanghai"
    # And another month is empty, a hospital may not read it, and bad parameters are 400s
    assert body(api.get(operator, "/v1/reports/emergency", query={"month": "2020-01"}))["hospitals"] == []
    assert api.get(hospital, "/v1/reports/emergency", query={"month": shanghai_month}).status_code == 403
    for bad in ({"month": "2026-13"}, {"month": "2026-1１"}, {}, {"month": shanghai_month, "hospital": "a"}):
        refused = api.get(operator, "/v1/reports/emergency", query=bad)
        assert refused.status_code == 400, (bad, refused.body)
        assert body(refused)["error"]["code"] == "VALIDATION_FAILED"
