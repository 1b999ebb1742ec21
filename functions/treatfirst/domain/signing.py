"""HMAC-SHA256 request signatures, shared by the server, the Python client and webhooks.

String to sign (UTF-8, lines joined by "\\n"):
    TF1-HMAC-SHA256
    <METHOD>
    <path, e.g. /v1/visits/vis_01.../charges>
    <canonical query: keys sorted, each "k=v" percent-encoded, joined by "&"; empty when none>
    <timestamp: Unix seconds>
    <nonce: 16-64 characters [A-Za-z0-9_-]>
    <hex SHA-256 of the raw body bytes (of b"" when there is no body)>

Signing key: SHA-256("TF1:" + secret). The server keeps only that derived key, encrypted at rest;
the secret itself is shown once at registration and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import quote

ALGORITHM = "TF1-HMAC-SHA256"
MAX_SKEW_SECONDS = 300
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

HEADER_KEY_ID = "X-TF-Key-Id"
HEADER_TIMESTAMP = "X-TF-Timestamp"
HEADER_NONCE = "X-TF-Nonce"
HEADER_SIGNATURE = "X-TF-Signature"


def signing_key(secret: str) -> bytes:
    return hashlib.sha256(f"TF1:{secret}".encode()).digest()


def canonical_query(params: Mapping[str, str] | None) -> str:
    if not params:
        return ""
    return "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in sorted(params.items()))


# --8<-- [start:string-to-sign]
def string_to_sign(
    method: str, path: str, query: Mapping[str, str] | None, timestamp: str, nonce: str, body: bytes
) -> str:
    return "\n".join(
        (
            ALGORITHM,
            method.upper(),
            path,
            canonical_query(query),
            timestamp,
            nonce,
            hashlib.sha256(body).hexdigest(),
        )
    )


# --8<-- [end:string-to-sign]


def sign(
    key: bytes,
    method: str,
    path: str,
    query: Mapping[str, str] | None,
    timestamp: str,
    nonce: str,
    body: bytes,
) -> str:
    message = string_to_sign(method, path, query, timestamp, nonce, body)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
