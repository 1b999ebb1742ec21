"""Cursor lists: `limit` (1-100, default 20), an opaque `cursor`, and `has_more`.

A cursor is the page's last key, signed (HMAC-SHA256, truncated to 128 bits) with a key derived from the
runtime cipher's blind index, over the list it belongs to and the caller it was given to: a cursor from
another list, for another caller, or edited by hand is INVALID_CURSOR, and never reaches DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from treatfirst.domain.errors import InvalidCursor
from treatfirst.services.ports import Cipher, Item, Page, Store

_MAC_BYTES = 16
_KEYS: dict[int, tuple[Cipher, bytes]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PageQuery:
    """A list request's paging, checked for its form at the HTTP edge."""

    limit: int = 20
    cursor: str | None = None


def _key(cipher: Cipher) -> bytes:
    """One derived key per cipher and process (on AWS the blind index is a KMS call: once, not per page)."""
    with _LOCK:
        found = _KEYS.get(id(cipher))
        if found is None or found[0] is not cipher:
            found = (cipher, bytes.fromhex(cipher.blind_index("cursor", "treatfirst/cursor-signing/v1")))
            _KEYS[id(cipher)] = found
        return found[1]


def _mac(cipher: Cipher, bound_to: str, payload: bytes) -> bytes:
    return hmac.new(_key(cipher), bound_to.encode() + b"\n" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(cipher: Cipher, bound_to: str, cursor: Item | None) -> str | None:
    if cursor is None:
        return None
    payload = json.dumps(cursor, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_mac(cipher, bound_to, payload) + payload).decode().rstrip("=")


def decode_cursor(cipher: Cipher, bound_to: str, text: str | None) -> Item | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(field="cursor") from exc
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(cipher, bound_to, payload)):
        raise InvalidCursor(field="cursor")
    data = json.loads(payload)
    if not isinstance(data, dict) or not all(isinstance(v, str | int) for v in data.values()):
        raise InvalidCursor(field="cursor")
    return data


def page_view(cipher: Cipher, bound_to: str, page: Page, view: Callable[[Item], Any]) -> dict[str, Any]:
    return {
        "items": [view(i) for i in page.items],
        "has_more": page.cursor is not None,
        "cursor": encode_cursor(cipher, bound_to, page.cursor),
    }


def every(
    store: Store,
    table: str,
    hash_value: str,
    *,
    index: str | None = None,
    page_size: int = 100,
    until: str | None = None,
    forward: bool = True,
) -> Iterator[Item]:
    """Every item under one key (of the table or `index`), page after page: reads grow with what is there."""
    start: Item | None = None
    while True:
        page = store.query(table, hash_value, index=index, limit=page_size, start=start, until=until, forward=forward)
        yield from page.items
        if page.cursor is None:
            return
        start = page.cursor
