"""HMAC-SHA256 request signatures, shared by the server, the Python client and webhooks.

String to sign: seven lines joined by "\\n" (no trailing newline), encoded as UTF-8:
    TF1-HMAC-SHA256                      the algorithm constant, literally
    <METHOD>                             upper case, e.g. GET
    <path>                               as sent, without the query, e.g. /v1/visits/vis_01.../charges
    <canonical query>                    see below; an empty line when there is no query
    <timestamp>                          X-TF-Timestamp: Unix seconds, decimal digits
    <nonce>                              X-TF-Nonce: 16-64 characters [A-Za-z0-9_-]
    <body hash>                          lower-case hex SHA-256 of the raw body bytes (of b"" when there is none)

Canonical query: every (key, value) pair of the query, a key repeated as often as it is sent; each key and value
is the decoded text, UTF-8 encoded and percent-encoded per RFC 3986: the unreserved characters A-Z a-z 0-9
- . _ ~ stay as they are, every other byte becomes %XX with upper-case hex (a space is %20, never +; a + is %2B).
The pairs are sorted by encoded key, then by encoded value (byte order), and joined as key=value with &
(a key sent without = has the empty value: key=).

Signing key: the raw 32-byte SHA-256 digest of the UTF-8 bytes of "TF1:" + secret (the digest bytes, not its hex
text). The signature is the lower-case hex HMAC-SHA256 of the string to sign under that key. The server keeps only
the signing key, encrypted at rest; the secret itself is shown once at registration and never stored.

Known-answer vectors: site/signing-vectors.json (published on the docs site).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

ALGORITHM = "TF1-HMAC-SHA256"
MAX_SKEW_SECONDS = 300
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

HEADER_KEY_ID = "X-TF-Key-Id"
HEADER_TIMESTAMP = "X-TF-Timestamp"
HEADER_NONCE = "X-TF-Nonce"
HEADER_SIGNATURE = "X-TF-Signature"


class MultiValued(Protocol):
    """A query with repeated keys, like Chalice's `request.query_params` (a MultiDict)."""

    def __iter__(self) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


Query = MultiValued | Mapping[str, str] | Iterable[tuple[str, str]] | None


def signing_key(secret: str) -> bytes:
    """The raw 32-byte digest SHA-256("TF1:" + secret): the HMAC key (bytes, not hex)."""
    return hashlib.sha256(f"TF1:{secret}".encode()).digest()


def query_pairs(query: Query) -> list[tuple[str, str]]:
    """Every (key, value) pair of a query, repeated keys kept: from a MultiDict (all values of each key, via
    getlist), a plain mapping (one value per key) or a sequence of pairs."""
    if query is None:
        return []
    getlist = getattr(query, "getlist", None)
    if callable(getlist):
        return [(str(k), str(v)) for k in query for v in getlist(k)]
    if isinstance(query, Mapping):
        return [(str(k), str(v)) for k, v in query.items()]
    return [(str(k), str(v)) for k, v in query]


def encode(text: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 text: A-Z a-z 0-9 - . _ ~ kept, everything else %XX (upper case)."""
    return quote(text, safe="-._~", encoding="utf-8", errors="surrogatepass")


def canonical_query(query: Query) -> str:
    """The canonical query line of the string to sign; also the query string the client sends."""
    pairs = sorted((encode(k), encode(v)) for k, v in query_pairs(query))
    return "&".join(f"{k}={v}" for k, v in pairs)


# --8<-- [start:string-to-sign]
def string_to_sign(method: str, path: str, query: Query, timestamp: str, nonce: str, body: bytes) -> str:
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
    query: Query,
    timestamp: str,
    nonce: str,
    body: bytes,
) -> str:
    message = string_to_sign(method, path, query, timestamp, nonce, body)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
