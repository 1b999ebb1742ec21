"""Standard Webhooks, the pure part: secrets, signatures, the retry schedule, what an answer means, and which
endpoint URLs and addresses a delivery may go to (https://www.standardwebhooks.com, spec/standard-webhooks.md).

- Secret: "whsec_" + base64 of 32 random bytes (the specification allows 24-64), one per endpoint.
- Signed content: f"{webhook-id}.{webhook-timestamp}.{body}" over the exact body bytes; HMAC-SHA256; the header
  `webhook-signature` is a space-separated list "v1,<base64>" — two entries while a rotated secret's
  previous value is still valid, so a receiver that has only one of them keeps verifying.
- Retry schedule: the specification's example schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
  20 h, 24 h: 10 attempts over about 75.5 hours), each delay after the previous failure, plus up to 10 %
  jitter; a `Retry-After` answer waits at least that long (at most 24 h).
- Answers: 2xx delivered; 410 Gone disables the endpoint; anything else (3xx included: no redirect is followed,
  timeouts, refused connections) is a failure retried on the schedule.
- Addresses: only public (global unicast) addresses; private, loopback, link-local, multicast, reserved and
  unspecified ones are refused, also inside IPv4-mapped IPv6. The local stack may allow loopback (http too).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"  # noqa: S105 (the specification's prefix, not a secret)
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
RETRY_DELAYS_SECONDS: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS)
JITTER = 0.10
RETRY_AFTER_MAX_SECONDS = 86400
URL_MAX_LENGTH = 2048


class UrlRefused(ValueError):
    """Why a URL or an address may not receive deliveries (one sentence, no secret in it)."""


def new_secret(random_bytes: bytes) -> str:
    if not 24 <= len(random_bytes) <= 64:
        raise ValueError("a webhook secret has 24 to 64 bytes")
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a "whsec_..." secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ and base64") from exc
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret has 24 to 64 bytes")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature, "v1,<base64 HMAC-SHA256 of id.timestamp.body>"."""
    if "." in msg_id:
        raise ValueError("a webhook id may not contain '.'")
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one signature per valid secret, the current one first."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets)


def headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(secret: str, headers_in: dict[str, str], body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (used by the docs' example and the tests): the timestamp within `tolerance` seconds
    and one of the listed v1 signatures equal, compared in constant time."""
    h = {k.lower(): v for k, v in headers_in.items()}
    msg_id, stamp, listed = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature", "")
    if not msg_id or not stamp or not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(secret, msg_id, int(stamp), body).split(",", 1)[1]
    return any(
        version == SIGNATURE_VERSION and hmac.compare_digest(expected, value)
        for version, _, value in (entry.partition(",") for entry in listed.split(" "))
    )


# ---- the retry schedule ---------------------------------------------------------------------------------------
def next_delay(attempts_made: int, jitter_unit: float, retry_after: int | None = None) -> int | None:
    """Seconds to wait before the next attempt after `attempts_made` failed ones, or None: no attempt is left.

    `jitter_unit` in [0, 1) spreads retries by up to JITTER of the delay (the caller derives it from the delivery,
    so a rerun computes the same time)."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS_SECONDS[attempts_made]
    delay = base + int(base * JITTER * min(max(jitter_unit, 0.0), 0.999))
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, RETRY_AFTER_MAX_SECONDS)
    return delay


def outcome_of(status: int | None) -> str:
    """delivered (2xx) | gone (410: disable the endpoint) | failed (anything else, no answer included)."""
    if status is not None and 200 <= status <= 299:
        return "delivered"
    if status == 410:
        return "gone"
    return "failed"


# ---- where a delivery may go ----------------------------------------------------------------------------------
def check_url(url: str, *, allow_loopback: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an endpoint URL, or UrlRefused. https only, except http to a loopback host where
    the deployment allows loopback (the local stack); no user info, no fragment."""
    if not isinstance(url, str) or len(url) > URL_MAX_LENGTH or any(c.isspace() for c in url):
        raise UrlRefused(f"the URL must be at most {URL_MAX_LENGTH} characters without spaces")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UrlRefused("the URL must start with https://")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise UrlRefused("the URL may not hold user information or a fragment")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UrlRefused("the URL's port is not valid") from exc
    if parts.scheme == "http" and not (allow_loopback and _is_loopback_name(host)):
        raise UrlRefused("the URL must start with https://")
    with contextlib.suppress(_NotAnAddress):  # an address literal is checked now, a name when it is resolved
        address_allowed(host, allow_loopback=allow_loopback)
    return parts.scheme, host, port


class _NotAnAddress(Exception):
    pass


def is_address(host: str) -> bool:
    """Whether a URL's host is an address literal (nothing to resolve)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_allowed(address: str, *, allow_loopback: bool) -> None:
    """UrlRefused unless `address` is a public address (or loopback where allowed)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError as exc:
        raise _NotAnAddress() from exc
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        if allow_loopback:
            return
        raise UrlRefused("the URL resolves to a loopback address")
    refused = (
        not ip.is_global
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )
    if refused:
        raise UrlRefused("the URL resolves to a private, link-local or reserved address")


def allowed_addresses(addresses: Iterable[str], *, allow_loopback: bool) -> list[str]:
    """The resolved addresses, all checked: one refused address refuses the URL (a name that also resolves to an
    internal address is not used at all). UrlRefused when there is none."""
    found = list(dict.fromkeys(addresses))
    if not found:
        raise UrlRefused("the URL's host does not resolve")
    for address in found:
        try:
            address_allowed(address, allow_loopback=allow_loopback)
        except _NotAnAddress as exc:
            raise UrlRefused("the URL's host resolved to something that is not an address") from exc
    return found
