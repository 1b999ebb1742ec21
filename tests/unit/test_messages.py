"""Message structs: strict decoding, the field names and codes clients see, and the one status table."""

from __future__ import annotations

import pytest
from treatfirst.domain import errors
from treatfirst.domain.errors import TreatFirstError, all_error_classes
from treatfirst.domain.money import MAX_FEN
from treatfirst.http_status import STATUS, by_status, status_of
from treatfirst.messages.accounts import EnrollmentRequest
from treatfirst.messages.common import decode, refusal
from treatfirst.messages.payments import PaymentRequest
from treatfirst.messages.visits import ChargeRequest, RefundRequest

CHARGE = (
    b'{"fee_line_id": "F1", "item_code": "LAB", "item_name": "x", "occurred_at": "2026-11-24T09:00:00+08:00", '
    b'"total_fen": 10, "insurance_fen": 0, "personal_account_fen": 0, "self_pay_fen": 10}'
)


def _refused(raw: bytes, kind: type) -> TreatFirstError:
    with pytest.raises(TreatFirstError) as caught:
        decode(raw, kind)
    return caught.value


def test_every_code_sits_under_exactly_one_status() -> None:
    # Given every error class, When each is looked up in the one table, Then it has one status
    grouped = by_status()
    codes = [c.code for classes in grouped.values() for c in classes]
    assert sorted(codes) == sorted({c.code for c in all_error_classes()})
    assert len(codes) == len(set(codes))
    # fixed, independently known statuses
    assert status_of(errors.SplitMismatch) == 400 and status_of(errors.ReplayedNonce) == 401
    assert status_of(errors.VisitOpen()) == 409 and status_of(errors.EmergencyNotDeclared) == 422
    assert status_of(errors.PolicyInvalid) == 500 and status_of(TreatFirstError) == 500
    assert not any(hasattr(cls, "status") for cls in STATUS)  # the domain carries no HTTP status


def test_money_is_integer_only_and_bounded_by_the_one_maximum() -> None:
    for value, ok in ((b"10", True), (b"10.0", False), (b"true", False), (b'"10"', False), (b"-1", False)):
        raw = CHARGE.replace(b'"self_pay_fen": 10', b'"self_pay_fen": ' + value)
        if ok:
            assert decode(raw, ChargeRequest).self_pay_fen == 10
        else:
            error = _refused(raw, ChargeRequest)
            assert (error.code, error.field) == ("INVALID_AMOUNT", "self_pay_fen")
    over = str(MAX_FEN + 1).encode()
    raw = b'{"self_pay_fen": ' + over + b"}"
    assert _refused(raw, RefundRequest).code == "INVALID_AMOUNT"


def test_rules_beyond_json_schema_keep_their_codes() -> None:
    split = _refused(CHARGE.replace(b'"total_fen": 10', b'"total_fen": 11'), ChargeRequest)
    assert (split.code, split.field) == ("SPLIT_MISMATCH", "total_fen")
    payment = (
        b'{"channel_txn_id": "t1", "amount_fen": 5, "paid_at": "2026-11-24T09:00:00Z", '
        b'"allocations": [{"bill_id": "b1", "amount_fen": 4}]}'
    )
    added = _refused(payment, PaymentRequest)
    assert (added.code, added.field) == ("VALIDATION_FAILED", "allocations")


@pytest.mark.parametrize(
    ("message", "code", "field", "text"),
    [
        ("Object contains unknown field `discount_fen`", "VALIDATION_FAILED", "discount_fen", "discount_fen"),
        ("Object contains unknown field `11010519491231002X`", "VALIDATION_FAILED", None, "an unknown field"),
        ("Object contains unknown field `Name` - at `$.verification`", "VALIDATION_FAILED", None, "verification"),
        ("Object missing required field `kind` - at `$.consents[0]`", "VALIDATION_FAILED", "consents[0].kind", ""),
        ("Invalid enum value '3207' - at `$.consents[0].kind`", "VALIDATION_FAILED", "consents[0].kind", ""),
        (
            "Expected `int`, got `float` - at `$.allocations[1].amount_fen`",
            "INVALID_AMOUNT",
            "allocations[1].amount_fen",
            "",
        ),
        ("Expected `str`, got `int` - at `$.id_number`", "INVALID_ID_NUMBER", "id_number", ""),
        ("Expected `object`, got `array`", "VALIDATION_FAILED", None, ""),
    ],
)
def test_msgspec_paths_become_the_field_names_clients_see(
    message: str, code: str, field: str | None, text: str
) -> None:
    error = refusal(message)
    assert (error.code, error.field) == (code, field)
    assert text in error.message
    assert "3207" not in error.message and "11010519" not in error.message


def test_deep_nesting_and_bad_bytes_never_raise_anything_but_a_400() -> None:
    for raw in (b"[" * 5000, b'{"name": ' + b"[" * 5000, b"\xff\xfe", b'{"name": "\xe4\xb8"}', b"{", b"NaN"):
        assert status_of(_refused(raw, EnrollmentRequest)) == 400
