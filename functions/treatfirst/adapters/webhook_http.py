"""The HTTP sender of webhook deliveries (standard library only).

Against server-side request forgery: the host is resolved here, EVERY address must be allowed
(treatfirst.domain.webhooks.allowed_addresses), and the connection goes to one of those checked addresses (no
second lookup, so a name that changes its answer between the check and the connection — DNS rebinding — cannot
send the request inside). HTTPS verifies the certificate for the URL's host name (SNI). No redirect is followed
(3xx is a failure). Every socket operation has the timeout; the answer's body is not read beyond 1 KB.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from treatfirst.domain import webhooks as wh
from treatfirst.services.webhooks import Answer

READ_LIMIT = 1024


def resolve(host: str, port: int) -> list[str]:
    """Every address of a host name (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


class HttpSender:
    """POSTs a delivery to a checked, pinned address. `resolver` is injectable (tests of DNS rebinding)."""

    def __init__(self, resolver: Callable[[str, int], list[str]] = resolve) -> None:
        self.resolver = resolver
        self.tls = ssl.create_default_context()

    def send(
        self, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float, allow_loopback: bool
    ) -> Answer:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            scheme, host, port = wh.check_url(url, allow_loopback=allow_loopback)
            addresses = [host] if wh.is_address(host) else self.resolver(host, port)
            address = wh.allowed_addresses(addresses, allow_loopback=allow_loopback)[0]
        except wh.UrlRefused:
            return Answer(None, "address_refused", latency_ms=took())
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection = (
            _PinnedHTTPSConnection(host, port, address, timeout, self.tls)
            if scheme == "https"
            else _PinnedHTTPConnection(host, port, address, timeout)
        )
        try:
            connection.request("POST", target, body=body, headers={**headers, "content-length": str(len(body))})
            response = connection.getresponse()
            response.read(READ_LIMIT)
            return Answer(response.status, None, _retry_after(response.getheader("retry-after")), took())
        except TimeoutError:
            return Answer(None, "timeout", latency_ms=took())
        except ssl.SSLError:
            return Answer(None, "tls", latency_ms=took())
        except (OSError, http.client.HTTPException):
            return Answer(None, "connection", latency_ms=took())
        finally:
            connection.close()
