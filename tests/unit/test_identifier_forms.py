"""One resident, one canonical identifier: other Unicode digit forms normalise to the same ASCII text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from treatfirst.domain.errors import InvalidIdNumber, InvalidPhone
from treatfirst.domain.ids import mask_resident_id, normalise_phone, normalise_resident_id

VALID = "11010519491231002X"
PHONE = "13800138000"

# Every Unicode decimal-digit block whose zero starts a run of ten (Arabic-Indic, Devanagari, Thai, ...).
ZEROS = sorted(
    {
        chr(cp)
        for cp in range(0x10FFFF)
        if unicodedata.decimal(chr(cp), None) == 0 and unicodedata.decimal(chr(cp + 9), None) == 9
    }
)


def in_script(text: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in text)


def test_fixed_forms_of_one_number_are_the_same_number() -> None:
    # Given the same ID number typed five ways: ASCII, full-width, Arabic-Indic, Devanagari, with a lower-case x
    forms = [
        VALID,
        "１１０１０５１９４９１２３１００２Ｘ",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
        "११०१०५१९४९१२३१००२X",
        "110105 19491231 002x",
    ]
    # When each is normalised / Then each is the one ASCII text, masked the same way
    assert {normalise_resident_id(f) for f in forms} == {VALID}
    assert mask_resident_id(normalise_resident_id(forms[2])) == "1101**********002X"


@given(st.lists(st.sampled_from(ZEROS), min_size=18, max_size=18))
def test_any_mix_of_digit_scripts_normalises_to_ascii(zeros: list[str]) -> None:
    # Given each digit of a valid number written in a randomly chosen script
    mixed = "".join(in_script(c, z) for c, z in zip(VALID, zeros, strict=True))
    # When / Then: one canonical form, so one blind index and one credit line
    assert normalise_resident_id(mixed) == VALID
    assert normalise_phone(in_script(PHONE, zeros[0])) == PHONE


@pytest.mark.parametrize(
    "bad",
    [
        "11010519491231002Y",  # a letter that is not the check character
        "11010519491231002X\u0000",  # a control character
        "110105194912310０2X" + "½",  # a fraction is no digit
        "1" * 5000,  # far too long: refused before any work
        "1101051949123100２1",  # wrong checksum in another script
    ],
)
def test_what_cannot_be_normalised_is_refused_with_its_code(bad: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        normalise_resident_id(bad)
    assert caught.value.field == "id_number"
    assert bad not in caught.value.message


@pytest.mark.parametrize(
    "good", ["+86 138-0013-8000", "008613800138000", "１３８００１３８０００", "＋８６１３８００１３８０００"]
)
def test_phone_forms(good: str) -> None:
    assert normalise_phone(good) == PHONE


@pytest.mark.parametrize(
    "bad", ["+1 3800138000", "+13800138000", "1380013800a", "23800138000", "1" * 500, "138001380001"]
)
def test_phone_refusals(bad: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(bad)
