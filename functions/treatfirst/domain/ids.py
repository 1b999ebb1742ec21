"""Identifiers: resident ID numbers (GB 11643-1999), phones, masking, and sortable record ids."""

from __future__ import annotations

import os
import re
import time
import unicodedata
from datetime import date

from treatfirst.domain.errors import InvalidIdNumber, InvalidPhone

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RIC = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")
_MAX_RAW = 64  # longer input is refused before any normalisation work
_SEPARATORS = frozenset(" -")


def canonical_ascii(value: str, *, keep: str = "") -> str | None:
    """One canonical ASCII form of an identifier written with any Unicode digits, or None.

    NFKC first (full-width ０-９ and Ｘ, ideographic space, compatibility forms), then every character
    Unicode classes as a decimal digit (Arabic-Indic ٠-٩, Devanagari, ...) becomes its ASCII digit.
    Separators (space, hyphen) are dropped; characters in `keep` stay as they are (upper-cased). Anything
    else makes the value impossible to normalise: None, so the caller refuses it with its own code.
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", value).strip():
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            out.append(str(digit))
        elif char.upper() in keep:
            out.append(char.upper())
        elif char not in _SEPARATORS:
            return None
    return "".join(out)


def ric_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_resident_id(value: object, *, field: str = "id_number") -> str:
    """Return the 18-character ASCII resident ID number, or raise INVALID_ID_NUMBER (format, date, checksum).

    The same number written with full-width or other Unicode digits gives the same canonical text, so the
    checksum, the blind index, masking and storage all see one form (one resident, one credit line).
    """
    if not isinstance(value, str):
        raise InvalidIdNumber("id_number must be a string", field=field)
    if len(value) > _MAX_RAW:
        raise InvalidIdNumber("id_number is too long", field=field)
    text = canonical_ascii(value, keep="X")
    if text is None:
        raise InvalidIdNumber("id_number may hold only digits and a final X", field=field)
    if not _RIC.fullmatch(text):
        raise InvalidIdNumber("id_number must be 17 digits and a check character", field=field)
    try:
        birth_date(text)
    except ValueError as exc:
        raise InvalidIdNumber("id_number holds an impossible birth date", field=field) from exc
    if ric_check_digit(text[:17]) != text[17]:
        raise InvalidIdNumber("id_number check character does not match", field=field)
    return text


def birth_date(resident_id: str) -> date:
    return date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))


def age_on(resident_id: str, today: date) -> int:
    born = birth_date(resident_id)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def normalise_phone(value: object, *, field: str = "phone") -> str:
    """Return the 11-digit ASCII mainland mobile number (an optional +86 / 0086 prefix, spaces and hyphens
    dropped, any Unicode digit form accepted), or raise INVALID_PHONE."""
    if not isinstance(value, str):
        raise InvalidPhone("phone must be a string", field=field)
    if len(value) > _MAX_RAW:
        raise InvalidPhone("phone is too long", field=field)
    plus = unicodedata.normalize("NFKC", value).strip().startswith("+")
    text = canonical_ascii(unicodedata.normalize("NFKC", value).strip().removeprefix("+"))
    if text is not None and (plus or len(text) == 15) and text.startswith("0086" if not plus else "86"):
        text = text[2:] if plus else text[4:]
    elif plus:
        text = None  # only the mainland prefix +86 is accepted
    if text is None or not _PHONE.fullmatch(text):
        raise InvalidPhone("phone must be an 11-digit mainland mobile number", field=field)
    return text


def mask_resident_id(resident_id: str) -> str:
    """3502**********1234: the region prefix and the last four only."""
    return resident_id[:4] + "*" * (len(resident_id) - 8) + resident_id[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***."""
    return name[:1] + "*" * max(len(name) - 1, 1)


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id(prefix: str, *, millis: int | None = None) -> str:
    """A ULID-style id: 48-bit millisecond time + 80 random bits, sortable by creation time."""
    stamp = int(time.time() * 1000) if millis is None else millis
    value = (stamp << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(reversed(chars))}"
