"""Identifiers: resident ID numbers (GB 11643-1999), phones, masking, and sortable record ids."""

from __future__ import annotations

import os
import re
import time
from datetime import date

from treatfirst.domain.errors import InvalidIdNumber, ValidationFailed

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RIC = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def ric_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_resident_id(value: object, *, field: str = "id_number") -> str:
    """Return the 18-character resident ID number, or raise INVALID_ID_NUMBER (format, date, checksum)."""
    if not isinstance(value, str):
        raise InvalidIdNumber("id_number must be a string", field=field)
    text = value.strip().upper()
    if not _RIC.match(text):
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
    if not isinstance(value, str):
        raise ValidationFailed("phone must be a string", field=field)
    text = value.strip().removeprefix("+86").replace(" ", "").replace("-", "")
    if not _PHONE.match(text):
        raise ValidationFailed("phone must be an 11-digit mainland mobile number", field=field)
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
