"""A person's rights over HTTP (moto): unbundled consents, access and copy, correction, withdrawal of a consent,
explanation and human review by an operator, erasure by crypto-shredding; an under-14 refusal; a re-consent."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import yaml
from treatfirst.domain.errors import IdentityErased
from treatfirst.domain.policy import POLICY_DIR, parse_policy
from treatfirst.services.identity_data import identity_of
from treatfirst.services.ports import ACCOUNTS, AUDIT, DATA_KEYS
from treatfirst.services.unit_of_work import Context

from tests.factories import charge, consents_for, enrollment, resident_id
from tests.functional.conftest import PREFIX, Api, Key


def body(response: Any) -> Any:
    return json.loads(response.body)


def fresh() -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(minutes=1)
    return {"method": "face", "check_id": f"face-{time.monotonic_ns()}", "verified_at": at.isoformat()}


def ask(api: Api, channel: Key, account_id: str, kind: str, **extra: Any) -> Any:
    return api.post(
        channel, f"/v1/accounts/{account_id}/privacy-requests", {"kind": kind, "verification": fresh(), **extra}
    )


def states(api: Api, channel: Key, account_id: str) -> dict[str, Any]:
    return {s["kind"]: s for s in body(api.get(channel, f"/v1/accounts/{account_id}/consents"))["items"]}


def table(name: str) -> list[dict[str, Any]]:
    return list(boto3.resource("dynamodb").Table(f"{PREFIX}{name}").scan()["Items"])


def test_rights_end_to_end(api: Api, hospital: Key, channel: Key, operator: Key, platform: Any) -> None:
    # Given a person enrolled through a channel with only the two necessary consents (credit reporting refused)
    person = enrollment(platform.policy, name="王五", phone="13700001234")
    person["consents"] = [c for c in person["consents"] if c["kind"] != "credit_reporting"]
    account = body(api.post(channel, "/v1/enrollments", person))
    account_id = account["account_id"]
    seen = states(api, channel, account_id)
    assert seen["credit_reporting"]["on_record"] is False and seen["credit_reporting"]["needs_answer"] is False
    assert seen["personal_information"]["on_record"] and seen["personal_information"]["required"]
    # When the person later accepts credit reporting on its own, Then it is on record
    reporting = [c for c in consents_for(platform.policy) if c["kind"] == "credit_reporting"]
    answered = api.post(
        channel, f"/v1/accounts/{account_id}/consents", {"verification": fresh(), "consents": reporting}
    )
    assert answered.status_code == 201 and states(api, channel, account_id)["credit_reporting"]["on_record"]

    # access and copy: a machine-readable copy with the identity in clear text; the copy is never stored
    copy = body(ask(api, channel, account_id, "access"))
    assert copy["status"] == "answered" and copy["answer"]["format"] == "treatfirst.personal-data-copy/1"
    assert copy["answer"]["identity"] == {"name": "王五", "id_number": person["id_number"], "phone": "13700001234"}
    assert {c["kind"] for c in copy["answer"]["consents"]} == {c.kind for c in platform.policy.consents}
    stored = json.dumps(table("rights") + table("idempotency"), default=str, ensure_ascii=False)
    assert person["id_number"] not in stored and "13700001234" not in stored and "王五" not in stored

    # correct: a new phone number, sealed again; the masked phone follows
    fixed = body(ask(api, channel, account_id, "correction", correction={"phone": "13900009999"}))
    assert fixed["outcome"] == "corrected" and fixed["answer"] == {"corrected": ["phone"]}
    assert body(ask(api, channel, account_id, "access"))["answer"]["identity"]["phone"] == "13900009999"
    assert body(api.get(operator, f"/v1/accounts/{account_id}"))["phone"] == "139****9999"

    # explanation of the automated limit decision, and a human review answered by an operator in the queue
    why = body(ask(api, channel, account_id, "explanation"))
    assert why["answer"]["automated"] is True and {r["code"] for r in why["answer"]["reasons"]} >= {"LIMIT"}
    review = body(ask(api, channel, account_id, "human_review", reason="我的收入足以支付更高额度"))
    assert review["status"] == "open"
    opened = datetime.fromisoformat(review["opened_at"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(review["due_at"].replace("Z", "+00:00"))
    assert due - opened == timedelta(days=platform.policy.privacy.rights_answer_days)
    queue = body(api.get(operator, "/v1/privacy-requests"))["items"]
    assert [q["request_id"] for q in queue] == [review["request_id"]]
    path = f"/v1/privacy-requests/{review['request_id']}/answer"
    done = body(api.post(operator, path, {"outcome": "upheld", "reason": "按政策统一额度，已人工复核"}))
    assert done["status"] == "answered" and done["answered_by"] == "operator:city-operator"
    again = api.post(operator, path, {"outcome": "upheld", "reason": "再次"})
    assert again.status_code == 409 and body(again)["error"]["code"] == "RIGHTS_REQUEST_CLOSED"
    assert body(api.get(operator, "/v1/privacy-requests"))["items"] == []

    # withdraw the optional consent: its consequence, and the service continues
    withdrawn = body(ask(api, channel, account_id, "withdraw_consent", consent_kind="credit_reporting"))
    assert withdrawn["outcome"] == "withdrawn" and "nothing of yours is reported" in withdrawn["answer"]["consequence"]
    assert states(api, channel, account_id)["credit_reporting"]["on_record"] is False
    assert body(api.get(operator, f"/v1/accounts/{account_id}"))["status"] == "active"

    # delete: refused while a visit is open, then done once nothing is owed or held
    visit = body(api.post(hospital, "/v1/visits", {"account_id": account_id}))
    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(1200))
    refused = ask(api, channel, account_id, "erasure")
    assert refused.status_code == 409 and body(refused)["error"]["code"] == "ERASURE_REFUSED"
    bill = body(api.post(hospital, f"/v1/visits/{visit['visit_id']}/close"))["bill"]
    payment = {
        "channel_txn_id": "wx-privacy-1",
        "amount_fen": bill["outstanding_fen"],
        "paid_at": datetime.now(UTC).isoformat(),
        "allocations": [{"bill_id": bill["bill_id"], "amount_fen": bill["outstanding_fen"]}],
    }
    assert api.post(channel, "/v1/payments", payment).status_code == 201
    backup = platform.store.get(ACCOUNTS, {"account_id": account_id})  # a copy, as a backup would hold it
    erased = body(ask(api, channel, account_id, "erasure"))
    assert erased["outcome"] == "erased" and "visits" in erased["answer"]["retained_pseudonymised"]
    # Then the ciphertext in the backup stays but cannot be decrypted; nothing identifies the person any more
    ctx = Context(store=platform.store, cipher=platform.cipher, clock=platform.clock, policy=platform.policy)
    assert backup["id_enc"].startswith("dk1:")
    with pytest.raises(IdentityErased):
        identity_of(ctx, backup)
    assert platform.store.get(DATA_KEYS, {"account_id": account_id}) is None
    live = platform.store.get(ACCOUNTS, {"account_id": account_id})
    assert live["status"] == "erased" and not {k for k in live if k.endswith(("_enc", "_hash", "_masked"))}
    lookup = api.post(hospital, "/v1/accounts/lookup", {"id_number": person["id_number"]})
    assert lookup.status_code == 404
    everything = json.dumps([table(t) for t in ("accounts", "consents", "rights", "audit")], default=str)
    assert person["id_number"] not in everything and backup["id_masked"] not in everything
    # And every request was audited
    actions = [e["action"] for e in platform.store.query(AUDIT, f"account#{account_id}", limit=100).items]
    for kind in ("access", "correction", "explanation", "human_review", "withdraw_consent", "erasure"):
        assert f"privacy.{kind}" in actions
    assert "privacy.answer.upheld" in actions


def test_an_under_14_enrollment_is_refused_over_http(api: Api, channel: Key, platform: Any) -> None:
    response = api.post(channel, "/v1/enrollments", enrollment(platform.policy, id_number=resident_id(born="20140301")))
    error = body(response)["error"]
    assert response.status_code == 422 and error["code"] == "GUARDIAN_REQUIRED" and error["field"] == "id_number"
    assert "监护人" in error["message"] and table("accounts") == []


def test_a_re_consent_after_a_policy_change_over_http(api: Api, hospital: Key, channel: Key, platform: Any) -> None:
    # Given a person enrolled under the current policy
    account_id = body(api.post(channel, "/v1/enrollments", enrollment(platform.policy)))["account_id"]
    # When the city adds a recipient of personal information (a new policy version, a new text)
    data = yaml.safe_load((POLICY_DIR / "lianyungang.yaml").read_text(encoding="utf-8"))
    sms = next(r for r in data["privacy"]["recipients"] if r["kind"] == "sms_gateway")
    data["privacy"]["recipients"].append({**sms, "name": "第二家短信服务商（示例）"})
    data["consents"][1]["version"] = "2.2"
    data["version"] = "2026.12.1"
    platform.policy = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    # Then the channel sees that the person must answer again, and only that consent
    seen = states(api, channel, account_id)
    assert seen["personal_information"]["needs_answer"] and not seen["personal_information"]["on_record"]
    assert not seen["service_agreement"]["needs_answer"]
    # And the next visit is refused until the person answers again, naming that consent
    refused = api.post(hospital, "/v1/visits", {"account_id": account_id})
    error = body(refused)["error"]
    assert refused.status_code == 409 and error["code"] == "RECONSENT_REQUIRED"
    assert error["details"] == {"kinds": ["personal_information"]} and error["field"] == "account_id"
    # When the person accepts the new text, Then it is on record, with the old answer kept
    new = [c for c in consents_for(platform.policy) if c["kind"] == "personal_information"]
    answered = body(
        api.post(channel, f"/v1/accounts/{account_id}/consents", {"verification": fresh(), "consents": new})
    )
    current = {s["kind"]: s for s in answered["items"]}["personal_information"]
    assert current["on_record"] and current["accepted_version"] == "2.2" and not current["needs_answer"]
    kept = sorted(c["version"] for c in table("consents") if c["kind"] == "personal_information")
    assert kept == ["2.1", "2.2"]
    # And the visit opens
    assert api.post(hospital, "/v1/visits", {"account_id": account_id}).status_code == 201
