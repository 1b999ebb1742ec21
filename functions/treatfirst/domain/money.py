"""Money is integer fen (分) everywhere. Yuan appears only at the edges (templates, a parser)."""

from __future__ import annotations

import re
from typing import Any

from treatfirst.domain.errors import InvalidAmount

MAX_FEN = 10**12  # ten billion yuan: far above any single charge or limit, below JSON's safe integer range

_YUAN = re.compile(r"^(0|[1-9]\d{0,9})(?:\.(\d{1,2}))?$")


def fen(value: Any, *, field: str, allow_zero: bool = True) -> int:
    """Accept a JSON value as an amount in fen, or raise INVALID_AMOUNT naming the field.

    Floats (even 12.0), bools, strings and negatives are refused: money is never a float.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{field} must be an integer number of fen", field=field)
    if value < 0:
        raise InvalidAmount(f"{field} must not be negative", field=field)
    if value == 0 and not allow_zero:
        raise InvalidAmount(f"{field} must be greater than zero", field=field)
    if value > MAX_FEN:
        raise InvalidAmount(f"{field} is larger than {MAX_FEN}", field=field)
    return value


def parse_yuan(text: str, *, field: str = "amount") -> int:
    """Parse "12.30" (yuan) into 1230 fen without floats."""
    match = _YUAN.match(text.strip())
    if not match:
        raise InvalidAmount(f"{field} must look like 12.30", field=field)
    whole, frac = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(frac)


def format_yuan(amount_fen: int) -> str:
    """1230 -> "12.30"; negative amounts keep their sign."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise TypeError("amount_fen must be an int")
    sign = "-" if amount_fen < 0 else ""
    whole, frac = divmod(abs(amount_fen), 100)
    return f"{sign}{whole:,}.{frac:02d}"
