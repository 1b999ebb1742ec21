"""Reading JSON request bodies strictly: wrong types, unknown fields and bad values name their field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from treatfirst.domain.clock import parse_rfc3339
from treatfirst.domain.errors import ValidationFailed
from treatfirst.domain.money import fen

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")


class Body:
    """A JSON object; each read marks a field as known, `done()` refuses the rest."""

    def __init__(self, data: Any, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            raise ValidationFailed(f"{prefix or 'the body'} must be a JSON object", field=prefix or None)
        self.data = data
        self.prefix = prefix
        self.seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def raw(self, key: str, required: bool = True) -> Any:
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise ValidationFailed(f"{self.name(key)} is required", field=self.name(key))
            return None
        return self.data[key]

    def text(
        self, key: str, *, max_len: int = 200, required: bool = True, pattern: re.Pattern[str] | None = None
    ) -> Any:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed(f"{self.name(key)} must be a non-empty string", field=self.name(key))
        if len(value) > max_len:
            raise ValidationFailed(f"{self.name(key)} is longer than {max_len} characters", field=self.name(key))
        if pattern is not None and not pattern.match(value):
            raise ValidationFailed(f"{self.name(key)} has characters that are not allowed", field=self.name(key))
        return value.strip()

    def token(self, key: str, *, required: bool = True) -> Any:
        """An external id: 1-64 of A-Z a-z 0-9 _ . : - (fee-line ids, transaction ids, HIS visit ids)."""
        return self.text(key, max_len=64, required=required, pattern=_TOKEN)

    def choice(self, key: str, options: Iterable[str], *, default: str | None = None) -> str:
        options = tuple(options)
        value = self.raw(key, required=default is None)
        if value is None:
            assert default is not None
            return default
        if value not in options:
            raise ValidationFailed(f"{self.name(key)} must be one of {', '.join(options)}", field=self.name(key))
        return str(value)

    def amount(self, key: str, *, required: bool = True, allow_zero: bool = True) -> Any:
        value = self.raw(key, required)
        return None if value is None else fen(value, field=self.name(key), allow_zero=allow_zero)

    def integer(self, key: str, *, minimum: int, maximum: int, required: bool = True) -> Any:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise ValidationFailed(
                f"{self.name(key)} must be an integer from {minimum} to {maximum}", field=self.name(key)
            )
        return value

    def flag(self, key: str, *, default: bool = False) -> bool:
        value = self.raw(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ValidationFailed(f"{self.name(key)} must be true or false", field=self.name(key))
        return value

    def moment(self, key: str, *, required: bool = True) -> datetime | None:
        value = self.raw(key, required)
        if value is None:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return parse_rfc3339(value)
        except ValueError as exc:
            raise ValidationFailed(
                f"{self.name(key)} must be an RFC 3339 time with an offset", field=self.name(key)
            ) from exc

    def obj(self, key: str, *, required: bool = True) -> Body | None:
        value = self.raw(key, required)
        return None if value is None else Body(value, self.name(key))

    def objs(self, key: str, *, max_items: int = 100) -> list[Body]:
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise ValidationFailed(f"{self.name(key)} must be a non-empty list", field=self.name(key))
        if len(value) > max_items:
            raise ValidationFailed(f"{self.name(key)} holds more than {max_items} items", field=self.name(key))
        return [Body(v, f"{self.name(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ValidationFailed(f"{self.name(unknown[0])} is not a known field", field=self.name(unknown[0]))
