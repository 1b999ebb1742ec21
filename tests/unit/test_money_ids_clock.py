"""Money, identifiers and due times."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric
from treatfirst.domain.clock import due_time, local_rfc3339, rfc3339
from treatfirst.domain.errors import InvalidAmount, InvalidIdNumber
from treatfirst.domain.ids import mask_phone, mask_resident_id, normalise_resident_id, ric_check_digit
from treatfirst.domain.money import fen, format_yuan, parse_yuan


@pytest.mark.parametrize("value", [12.0, 1.5, True, False, "100", None, -1, 10**13])
def test_fen_refuses_anything_but_a_non_negative_integer(value: object) -> None:
    with pytest.raises(InvalidAmount) as caught:
        fen(value, field="self_pay_fen")
    assert caught.value.field == "self_pay_fen"


def test_yuan_edges() -> None:
    assert parse_yuan("12.30") == 1230
    assert parse_yuan("0.05") == 5
    assert format_yuan(123456) == "1,234.56"
    assert format_yuan(-5) == "-0.05"
    with pytest.raises(InvalidAmount):
        parse_yuan("12.345")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_agrees_with_python_stdnum(first17: str) -> None:
    # stdnum expects the number with a (placeholder) check character appended
    assert ric_check_digit(first17) == ric.calc_check_digit(first17 + "0")


def test_resident_id_rules() -> None:
    valid = "11010519491231002X"
    assert normalise_resident_id(valid.lower()) == valid
    for bad in ("110105194912310021", "11010519491332002X", "1101051949123100", 110105194912310021):
        with pytest.raises(InvalidIdNumber):
            normalise_resident_id(bad)


def test_masks_show_only_prefix_and_last_four() -> None:
    assert mask_resident_id("11010519491231002X") == "1101**********002X"
    assert mask_phone("13812345678") == "138****5678"


def test_due_time_is_computed_in_the_city_zone() -> None:
    # Given a bill issued at 16:30 UTC, which is already 00:30 next day in Asia/Shanghai
    issued = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
    # When the policy says "23:00 the next day"
    due = due_time(issued, zone="Asia/Shanghai", days_after=1, at=time(23, 0))
    # Then the next day is counted from the local date (Nov 25), so it is due Nov 26 23:00 +08:00
    assert local_rfc3339(due, "Asia/Shanghai") == "2026-11-26T23:00:00+08:00"
    assert rfc3339(due) == "2026-11-26T15:00:00.000Z"
