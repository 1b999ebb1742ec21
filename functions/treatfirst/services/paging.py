"""Cursor lists: `limit` (1-100, default 20), an opaque `cursor`, and `has_more`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from treatfirst.domain.errors import InvalidCursor, ValidationFailed
from treatfirst.services.ports import Item, Page


def page_params(query: Mapping[str, str] | None) -> tuple[int, Item | None]:
    query = query or {}
    unknown = sorted(set(query) - {"limit", "cursor"})
    if unknown:
        raise ValidationFailed(f"{unknown[0]} is not a known query parameter", field=unknown[0])
    raw_limit = query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise ValidationFailed("limit must be an integer from 1 to 100", field="limit")
    return int(raw_limit), decode_cursor(query.get("cursor"))


def encode_cursor(cursor: Item | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(cursor, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> Item | None:
    if not text:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(field="cursor") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str | int) for v in data.values()):
        raise InvalidCursor(field="cursor")
    return data


def page_view(page: Page, view: Callable[[Item], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [view(i) for i in page.items],
        "has_more": page.cursor is not None,
        "cursor": encode_cursor(page.cursor),
    }
