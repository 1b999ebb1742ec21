"""Bad input gets its error code in the one error shape, and changes nothing (read back to check)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from treatfirst.client import signed_headers

from tests.factories import charge, enrollment
from tests.functional.conftest import Api, Key


def error_of(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    assert {"code", "message", "field", "request_id"} <= set(body["error"])
    assert response.headers["X-Request-Id"] == body["error"]["request_id"]
    return dict(body["error"])


class State:
    """Snapshot of everything a charge could change: the line, the visit and its charges."""

    def __init__(self, api: Api, hospital: Key, operator: Key, account_id: str, visit_id: str) -> None:
        self.api, self.hospital, self.operator = api, hospital, operator
        self.account_id, self.visit_id = account_id, visit_id

    def read(self) -> tuple[Any, ...]:
        account = json.loads(self.api.get(self.operator, f"/v1/accounts/{self.account_id}").body)  # every field
        visit = json.loads(self.api.get(self.hospital, f"/v1/visits/{self.visit_id}").body)
        charges = json.loads(self.api.get(self.hospital, f"/v1/visits/{self.visit_id}/charges").body)
        return account, visit, charges["items"]


@pytest.fixture
def state(api: Api, hospital: Key, operator: Key, enrolled: dict[str, Any], visit: dict[str, Any]) -> State:
    api.post(hospital, f"/v1/visits/{visit['visit_id']}/charges", charge(500))
    return State(api, hospital, operator, enrolled["account_id"], visit["visit_id"])


BAD_CHARGES = [
    ("float amount", {"self_pay_fen": 12.5}, 400, "INVALID_AMOUNT", "self_pay_fen"),
    ("float that looks whole", {"total_fen": 1000.0}, 400, "INVALID_AMOUNT", "total_fen"),
    ("negative amount", {"self_pay_fen": -1, "total_fen": -1}, 400, "INVALID_AMOUNT", "total_fen"),
    ("string amount", {"self_pay_fen": "1000"}, 400, "INVALID_AMOUNT", "self_pay_fen"),
    ("bool amount", {"insurance_fen": True}, 400, "INVALID_AMOUNT", "insurance_fen"),
    ("split off by one", {"total_fen": 1001}, 400, "SPLIT_MISMATCH", "total_fen"),
    ("wrong type of id", {"fee_line_id": 123}, 400, "VALIDATION_FAILED", "fee_line_id"),
    ("unknown field", {"discount_fen": 5}, 400, "VALIDATION_FAILED", "discount_fen"),
    ("time without offset", {"occurred_at": "2026-11-24T09:00:00"}, 400, "VALIDATION_FAILED", "occurred_at"),
    ("over the limit", {"self_pay_fen": 10**9, "total_fen": 10**9}, 422, "CREDIT_LIMIT_EXCEEDED", "self_pay_fen"),
]


@pytest.mark.parametrize(("name", "change", "status", "code", "field"), BAD_CHARGES, ids=[c[0] for c in BAD_CHARGES])
def test_bad_charges_are_refused_and_change_nothing(
    api: Api, hospital: Key, state: State, name: str, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    # Given a visit with one charge already posted
    before = state.read()
    # When a bad charge arrives
    response = api.post(hospital, f"/v1/visits/{state.visit_id}/charges", {**charge(1000), **change})
    # Then it is refused with its stable code, naming the field, and nothing changed
    assert response.status_code == status, response.body
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, field)
    assert state.read() == before


@pytest.mark.parametrize("raw", [b"{", b"[1, 2", b"\xff\xfe", b'{"total_fen": NaN}', b"null"])
def test_malformed_json(api: Api, hospital: Key, state: State, raw: bytes) -> None:
    before = state.read()
    response = api.post(hospital, f"/v1/visits/{state.visit_id}/charges", raw=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] in ("MALFORMED_JSON", "VALIDATION_FAILED")
    assert state.read() == before


def test_body_over_64_kb_is_413(api: Api, hospital: Key, state: State) -> None:
    before = state.read()
    big = {**charge(1), "item_name": "x" * (65 * 1024)}
    response = api.post(hospital, f"/v1/visits/{state.visit_id}/charges", big)
    assert response.status_code == 413 and error_of(response)["code"] == "PAYLOAD_TOO_LARGE"
    assert state.read() == before


def test_unknown_and_closed_visits(api: Api, hospital: Key, state: State) -> None:
    missing = api.post(hospital, "/v1/visits/vis_01NOPE/charges", charge(1))
    assert missing.status_code == 404 and error_of(missing)["code"] == "VISIT_NOT_FOUND"
    assert api.post(hospital, f"/v1/visits/{state.visit_id}/close").status_code == 201
    before = state.read()
    closed = api.post(hospital, f"/v1/visits/{state.visit_id}/charges", charge(1))
    assert closed.status_code == 409 and error_of(closed)["code"] == "VISIT_CLOSED"
    assert state.read() == before


def test_another_hospitals_visit_is_invisible(api: Api, hospital: Key, other_hospital: Key, state: State) -> None:
    before = state.read()
    for response in (
        api.post(other_hospital, f"/v1/visits/{state.visit_id}/charges", charge(1)),
        api.get(other_hospital, f"/v1/visits/{state.visit_id}"),
        api.get(other_hospital, f"/v1/visits/{state.visit_id}/charges"),
        api.post(other_hospital, f"/v1/visits/{state.visit_id}/close"),
    ):
        assert response.status_code == 404 and error_of(response)["code"] == "VISIT_NOT_FOUND"
    listed = json.loads(api.get(other_hospital, "/v1/visits").body)
    assert listed["items"] == []
    assert state.read() == before


def test_invalid_id_checksum_enrolls_nobody(api: Api, hospital: Key, platform: Any) -> None:
    body = enrollment(platform.policy, id_number="11010519491231002Y")
    response = api.post(hospital, "/v1/enrollments", body)
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["field"]) == ("INVALID_ID_NUMBER", "id_number")
    lookup = api.post(hospital, "/v1/accounts/lookup", {"id_number": "11010519491231002X"})
    assert error_of(lookup)["code"] == "ACCOUNT_NOT_FOUND"


def _send(api: Api, headers: dict[str, str], path: str, raw: bytes) -> Any:
    return api.client.http.request("POST", path, headers={"Content-Type": "application/json", **headers}, body=raw)


def test_bad_stale_and_replayed_signatures(api: Api, hospital: Key, state: State) -> None:
    before = state.read()
    path = f"/v1/visits/{state.visit_id}/charges"
    raw = json.dumps(charge(300)).encode()

    wrong_secret = signed_headers(hospital.key_id, "guess", "POST", path, None, raw)
    assert error_of(_send(api, wrong_secret, path, raw))["code"] == "BAD_SIGNATURE"

    tampered = signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw)
    assert error_of(_send(api, tampered, path, raw.replace(b"300", b"301")))["code"] == "BAD_SIGNATURE"

    stale = signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw, now=lambda: time.time() - 301)
    assert error_of(_send(api, stale, path, raw))["code"] == "CLOCK_SKEW"

    unsigned = api.client.http.request("POST", path, headers={"Content-Type": "application/json"}, body=raw)
    assert unsigned.status_code == 401 and error_of(unsigned)["code"] == "UNAUTHENTICATED"
    assert state.read() == before

    good = signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw)
    assert _send(api, good, path, raw).status_code == 201
    after = state.read()
    replayed = _send(api, good, path, raw)
    assert replayed.status_code == 401 and error_of(replayed)["code"] == "REPLAYED_NONCE"
    assert state.read() == after


def test_a_refused_request_cannot_be_replayed_later(api: Api, hospital: Key, state: State) -> None:
    # Given a signed post refused for lack of credit
    path = f"/v1/visits/{state.visit_id}/charges"
    raw = json.dumps(charge(10**8)).encode()
    headers = signed_headers(hospital.key_id, hospital.secret, "POST", path, None, raw)
    assert error_of(_send(api, headers, path, raw))["code"] == "CREDIT_LIMIT_EXCEEDED"
    # When the same signed request is sent again, it is a replay, whatever the credit is now
    assert error_of(_send(api, headers, path, raw))["code"] == "REPLAYED_NONCE"


def test_scopes_are_enforced(api: Api, channel: Key, hospital: Key, state: State) -> None:
    before = state.read()
    response = api.post(channel, f"/v1/visits/{state.visit_id}/charges", charge(1))
    assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"
    register = api.post(hospital, "/v1/callers", {"kind": "hospital", "id": "rogue", "name": "Rogue"})
    assert register.status_code == 403
    assert state.read() == before


def test_bad_cursor_and_limit(api: Api, hospital: Key, state: State) -> None:
    assert error_of(api.get(hospital, "/v1/visits", query={"cursor": "%%%"}))["code"] == "INVALID_CURSOR"
    assert error_of(api.get(hospital, "/v1/visits", query={"limit": "0"}))["field"] == "limit"


# ---- bodies decoded into their declared struct -------------------------------------------------------------
def test_deeply_nested_json_is_a_400_not_a_server_error(api: Api, hospital: Key, state: State) -> None:
    # Given a visit with a charge
    before = state.read()
    path = f"/v1/visits/{state.visit_id}/charges"
    # When 2 KB of nested arrays arrive, as the body and as a field's value
    for raw in (b"[" * 2048 + b"]" * 2048, b'{"total_fen": ' + b"[" * 2048 + b"]" * 2048 + b"}"):
        response = api.post(hospital, path, raw=raw)
        # Then each is a 400 in the one error shape, and nothing changed
        assert response.status_code == 400, response.body
        assert error_of(response)["code"] in ("VALIDATION_FAILED", "INVALID_AMOUNT")
    assert state.read() == before


def test_an_id_number_sent_as_a_key_is_never_echoed(api: Api, hospital: Key, platform: Any, state: State) -> None:
    # Given an enrollment body that carries an ID number as a key (a client bug)
    id_number = "11010519491231002X"
    body = {**enrollment(platform.policy), id_number: "oops"}
    # When it is sent
    response = api.post(hospital, "/v1/enrollments", body)
    # Then the 400 names no field and never repeats the key
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("VALIDATION_FAILED", None)
    assert id_number not in response.body.decode() and "11010519" not in response.body.decode()
    # while a key that looks like a field name is named, with its path
    nested = enrollment(platform.policy)
    nested["verification"]["score"] = 1
    named = error_of(api.post(hospital, "/v1/enrollments", nested))
    assert (named["code"], named["field"]) == ("VALIDATION_FAILED", "verification.score")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"kind": "unknown_kind"}, "VALIDATION_FAILED", "consents[0].kind"),
        ({"text_sha256": 5}, "VALIDATION_FAILED", "consents[0].text_sha256"),
        ({"text_sha256": "0" * 64}, "CONSENT_REQUIRED", "consents[0].text_sha256"),
    ],
)
def test_nested_fields_are_named_by_their_path(
    api: Api, hospital: Key, platform: Any, change: dict[str, Any], code: str, field: str
) -> None:
    body = enrollment(platform.policy)
    body["consents"][0].update(change)
    error = error_of(api.post(hospital, "/v1/enrollments", body))
    assert (error["code"], error["field"]) == (code, field)
    assert "unknown_kind" not in error["message"]
    lookup = api.post(hospital, "/v1/accounts/lookup", {"id_number": body["id_number"]})
    assert error_of(lookup)["code"] == "ACCOUNT_NOT_FOUND"


def test_a_bad_idempotency_key_is_refused_on_every_post(api: Api, hospital: Key, state: State) -> None:
    before = state.read()
    for key in ("x" * 129, "tab\there"):
        response = api.post(hospital, f"/v1/visits/{state.visit_id}/charges", charge(1), idempotency_key=key)
        assert (response.status_code, error_of(response)["field"]) == (400, "Idempotency-Key")
    assert state.read() == before


# ---- query, cursor and path parameters: checked before any read --------------------------------------------
@pytest.mark.parametrize(
    "query",
    [{"limit": "²"}, {"limit": "5" * 5000}, {"limit": "-1"}, {"limit": " 5"}, {"page": "2"}, {"cursor": "x" * 5000}],
    ids=["superscript", "5000 digits", "negative", "space", "unknown parameter", "5000-character cursor"],
)
def test_bad_query_parameters_are_a_400(api: Api, hospital: Key, state: State, query: dict[str, str]) -> None:
    before = state.read()
    response = api.get(hospital, f"/v1/visits/{state.visit_id}/charges", query=query)
    assert response.status_code == 400, response.body
    assert error_of(response)["code"] in ("VALIDATION_FAILED", "INVALID_CURSOR")
    assert state.read() == before


def test_unknown_query_parameters_are_refused_on_every_route(api: Api, hospital: Key, state: State) -> None:
    for path in (f"/v1/visits/{state.visit_id}", "/v1/health"):
        error = error_of(api.get(hospital, path, query={"expand": "all"}))
        assert (error["code"], error["field"]) == ("VALIDATION_FAILED", "expand")


def test_a_cursor_is_bound_to_its_list_and_its_caller(
    api: Api, hospital: Key, other_hospital: Key, state: State
) -> None:
    # Given a cursor from the first hospital's visit list
    for _ in range(2):
        api.post(hospital, "/v1/visits", {"account_id": state.account_id})
    page = json.loads(api.get(hospital, "/v1/visits", query={"limit": "1"}).body)
    cursor = page["cursor"]
    assert page["has_more"] and cursor
    # When it is used on another list, by another hospital, or edited
    charges_path = f"/v1/visits/{state.visit_id}/charges"
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for key, path, sent in (
        (hospital, charges_path, cursor),
        (other_hospital, "/v1/visits", cursor),
        (hospital, "/v1/visits", tampered),
    ):
        response = api.get(key, path, query={"limit": "1", "cursor": sent})
        # Then it is INVALID_CURSOR
        assert response.status_code == 400 and error_of(response)["code"] == "INVALID_CURSOR", response.body
    # while on its own list, for its own caller, it works
    assert api.get(hospital, "/v1/visits", query={"limit": "1", "cursor": cursor}).status_code == 200


@pytest.mark.parametrize(
    ("method", "template", "code"),
    [
        ("GET", "/v1/accounts/acc_{}", "ACCOUNT_NOT_FOUND"),
        ("GET", "/v1/accounts/acc_{}/bills", "ACCOUNT_NOT_FOUND"),
        ("GET", "/v1/visits/vis_{}", "VISIT_NOT_FOUND"),
        ("GET", "/v1/visits/vis_{}/charges", "VISIT_NOT_FOUND"),
        ("POST", "/v1/visits/vis_{}/close", "VISIT_NOT_FOUND"),
        ("GET", "/v1/bills/bil_{}", "BILL_NOT_FOUND"),
        ("POST", "/v1/visits/VISIT/charges/F{}/cancel", "CHARGE_NOT_FOUND"),
        ("GET", "/v1/reviews/{}", "REVIEW_NOT_FOUND"),
        ("POST", "/v1/tasks/{}/claim", "TASK_NOT_FOUND"),
        ("GET", "/v1/blacklist/{}", "BLACKLIST_RECORD_NOT_FOUND"),
        ("GET", "/v1/exports/{}", "EXPORT_NOT_FOUND"),
        ("GET", "/v1/suspense/{}", "SUSPENSE_NOT_FOUND"),
        ("DELETE", "/v1/webhook-endpoints/{}", "WEBHOOK_ENDPOINT_NOT_FOUND"),
        ("GET", "/v1/events/{}/deliveries", "EVENT_NOT_FOUND"),
    ],
)
def test_path_ids_over_their_form_are_404_before_any_read(
    api: Api, operator: Key, hospital: Key, state: State, platform: Any, method: str, template: str, code: str
) -> None:
    before = state.read()
    key = hospital if template.startswith(("/v1/visits", "/v1/webhook-endpoints", "/v1/events")) else operator
    path = template.replace("VISIT", state.visit_id).format("0" * 3000)
    reads: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        # Given a store that records every read
        for name in ("get", "query"):
            real = getattr(platform.store, name)

            def recorded(table: str, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
                reads.append(table)
                return _real(table, *args, **kwargs)

            patch.setattr(platform.store, name, recorded)
        # When a path id of 3000 characters arrives (DynamoDB refuses keys over 1-2 KB)
        response = api.call(key, method, path)
    # Then it is not found, no table but the callers' was read, and nothing changed
    assert response.status_code == 404 and error_of(response)["code"] == code, response.body
    assert set(reads) <= {"callers"}, reads
    assert state.read() == before
