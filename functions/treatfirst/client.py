"""A small Python client for the TreatFirst API that signs every request (standard library only).

from treatfirst.client import TreatFirstClient
client = TreatFirstClient("http://127.0.0.1:8000", key_id="key_...", secret="...")
visit = client.post("/v1/visits", {"account_id": "acc_..."}, idempotency_key="his-visit-123")
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from treatfirst.domain import signing


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"]["code"])
        return None


# --8<-- [start:sign]
def signed_headers(
    key_id: str,
    secret: str,
    method: str,
    path: str,
    query: signing.Query,
    body: bytes,
    *,
    now: Callable[[], float] = time.time,
) -> dict[str, str]:
    """The four X-TF-* headers for one request (a fresh nonce each time)."""
    stamp = str(int(now()))
    nonce = secrets.token_urlsafe(18)
    signature = signing.sign(signing.signing_key(secret), method, path, query, stamp, nonce, body)
    return {
        signing.HEADER_KEY_ID: key_id,
        signing.HEADER_TIMESTAMP: stamp,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_SIGNATURE: signature,
    }


# --8<-- [end:sign]


class TreatFirstClient:
    def __init__(self, base_url: str, key_id: str, secret: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: signing.Query = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse:
        """Send one signed request. `query` is a mapping or a list of (key, value) pairs (a key may repeat);
        it is sent exactly in its canonical form, the form that is signed."""
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        pairs = signing.query_pairs(query)  # read once: a one-shot iterable signs and sends the same pairs
        headers = {
            "Content-Type": "application/json",
            **signed_headers(self.key_id, self.secret, method, path, pairs, raw),
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        canonical = signing.canonical_query(pairs)
        url = self.base_url + path + (f"?{canonical}" if canonical else "")
        if not url.startswith(("http://", "https://")):
            raise ValueError("base_url must be http(s)")
        req = urllib.request.Request(url, data=raw if method != "GET" else None, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - scheme checked above
                return ApiResponse(resp.status, json.loads(resp.read() or b"null"), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return ApiResponse(err.code, json.loads(err.read() or b"null"), dict(err.headers))

    def get(self, path: str, **query: str) -> ApiResponse:
        return self.request("GET", path, query=query or None)

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> ApiResponse:
        return self.request("POST", path, body, idempotency_key=idempotency_key)
