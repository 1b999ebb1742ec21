"""HMAC request signatures: what is covered, and the authenticator's refusals."""

from __future__ import annotations

import io
import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
from chalice.app import MultiDict
from treatfirst import client as client_module
from treatfirst.client import signed_headers
from treatfirst.domain import signing
from treatfirst.domain.errors import BadSignature, ClockSkew, ReplayedNonce, Unauthenticated
from treatfirst.services import callers as callers_service
from treatfirst.services.callers import Authenticator, register

from tests.unit.conftest import World


def _verify(world: World, headers: dict[str, str], body: bytes = b"{}", path: str = "/v1/visits") -> object:
    ctx = world.ctx()
    caller = Authenticator().verify(ctx, method="POST", path=path, query=None, headers=headers, body=body)
    ctx.flush()
    return caller


def test_signature_covers_method_path_query_time_nonce_and_body() -> None:
    key = signing.signing_key("s3cret")
    base = signing.sign(key, "POST", "/v1/visits", {"b": "2", "a": "1"}, "100", "n" * 16, b"{}")
    assert base == signing.sign(key, "post", "/v1/visits", {"a": "1", "b": "2"}, "100", "n" * 16, b"{}")
    for changed in (
        signing.sign(key, "GET", "/v1/visits", {"a": "1", "b": "2"}, "100", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visit", {"a": "1", "b": "2"}, "100", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1"}, "100", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1", "b": "2"}, "101", "n" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1", "b": "2"}, "100", "m" * 16, b"{}"),
        signing.sign(key, "POST", "/v1/visits", {"a": "1", "b": "2"}, "100", "n" * 16, b"{ }"),
    ):
        assert changed != base


def test_authenticator_accepts_once_and_refuses_replays_skew_and_tampering(world: World) -> None:
    # Given a registered hospital key
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-a", name="A")
    now = lambda: world.clock.now().timestamp()  # noqa: E731
    headers = signed_headers(made.key_id, made.secret, "POST", "/v1/visits", None, b"{}", now=now)

    # When the signed request arrives, it is accepted; the same request again is a replay
    assert _verify(world, headers).principal_id == "hospital-a"  # type: ignore[attr-defined]
    with pytest.raises(ReplayedNonce):
        _verify(world, headers)

    # And a changed body, a wrong secret, a stale clock or an unknown key are refused
    fresh = signed_headers(made.key_id, made.secret, "POST", "/v1/visits", None, b"{}", now=now)
    with pytest.raises(BadSignature):
        _verify(world, fresh, body=b'{"x":1}')
    wrong = signed_headers(made.key_id, "not-the-secret", "POST", "/v1/visits", None, b"{}", now=now)
    with pytest.raises(BadSignature):
        _verify(world, wrong)
    stale = signed_headers(made.key_id, made.secret, "POST", "/v1/visits", None, b"{}", now=lambda: now() - 301)
    with pytest.raises(ClockSkew):
        _verify(world, stale)
    unknown = signed_headers("key_nope", made.secret, "POST", "/v1/visits", None, b"{}", now=now)
    with pytest.raises(Unauthenticated):
        _verify(world, unknown)


def test_the_secret_is_never_stored(world: World) -> None:
    made = register(world.ctx(), None, kind="channel", principal_id="alipay", name="Alipay")
    stored = repr(world.store.tables)
    assert made.secret not in stored
    assert signing.signing_key(made.secret).hex() not in stored


# ---- known answers -----------------------------------------------------------------------------------------------
# Written down once and checked with an independent implementation (`openssl dgst -sha256` for the signing keys,
# `openssl dgst -sha256 -mac HMAC -macopt hexkey:<signing key>` for the signatures), never recomputed here with the
# code under test. site/signing-vectors.json publishes the same values.
VECTORS = Path(__file__).resolve().parents[2] / "site" / "signing-vectors.json"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
KNOWN: list[dict[str, Any]] = [
    {
        "secret": "tf-test-secret-1",
        "method": "GET",
        "path": "/v1/visits",
        "query": [
            ("status", "open"),
            ("note", "张三 李四"),
            ("tag", "a+b/c~d"),
            ("status", "closed"),
            ("empty", ""),
            ("Zeta", "1"),
        ],
        "timestamp": "1795993200",
        "nonce": "vector-nonce-0001",
        "body": b"",
        "canonical_query": "Zeta=1&empty=&note=%E5%BC%A0%E4%B8%89%20%E6%9D%8E%E5%9B%9B&status=closed&status=open"
        "&tag=a%2Bb%2Fc~d",
        "body_sha256": EMPTY_SHA256,
        "signing_key_hex": "76046a028c24787918a010640bcb0860ebd4b5262475dca2d62f9a332649f71f",
        "signature": "eb76a5ecd543ba7dd83f52afdcd1e31fdce05587a28098efe908ab3ce3c63b33",
    },
    {
        "secret": "demo-secret-not-for-use",
        "method": "POST",
        "path": "/v1/visits",
        "query": [],
        "timestamp": "1795993200",
        "nonce": "n0nce-0123456789ab",
        "body": b'{"account_id":"acc_01JDEMO"}',
        "canonical_query": "",
        "body_sha256": "7058c5e9bd80616bf8892b0a415d49c456d329c5bbc0640df5a7b04613a41e90",
        "signing_key_hex": "d17a104b820cd4543f606e70e5710328a81265fe672be8d1e925d2bc4308ba91",
        "signature": "d35ff4320f769a3d356fa29f33db089d9e1acb21b91e96716f1fc2aef598784e",
    },
    {
        "secret": "tf-test-secret-3",
        "method": "POST",
        "path": "/v1/visits/vis_01JDEMO/close",
        "query": [],
        "timestamp": "1795996800",
        "nonce": "vector_nonce_0003",
        "body": b"",
        "canonical_query": "",
        "body_sha256": EMPTY_SHA256,
        "signing_key_hex": "5525109944122dc20ed0b44bee3bd7747e97814b104f328030366351721ad5a8",
        "signature": "ebfc7a1d6f5a36e9e26b96f4dbe09765dadae9771425b83cc1c46e0edd4c3659",
    },
]


def _expected_string(v: dict[str, Any]) -> str:
    return "\n".join(
        ["TF1-HMAC-SHA256", v["method"], v["path"], v["canonical_query"], v["timestamp"], v["nonce"], v["body_sha256"]]
    )


@pytest.mark.parametrize("v", KNOWN, ids=["get-query", "post-body", "post-empty"])
def test_signing_code_gives_the_known_answers(v: dict[str, Any]) -> None:
    # Given a vector's inputs, When the platform's code signs them, Then every step equals the fixed answer
    key = signing.signing_key(v["secret"])
    assert key.hex() == v["signing_key_hex"] and len(key) == 32  # the raw digest is the key, not its hex text
    assert signing.canonical_query(v["query"]) == v["canonical_query"]
    text = signing.string_to_sign(v["method"], v["path"], v["query"], v["timestamp"], v["nonce"], v["body"])
    assert text == _expected_string(v)
    assert (
        signing.sign(key, v["method"], v["path"], v["query"], v["timestamp"], v["nonce"], v["body"]) == v["signature"]
    )


def test_the_published_vectors_are_the_known_answers() -> None:
    # Given the JSON file the docs site publishes
    published = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert published["algorithm"] == "TF1-HMAC-SHA256"
    # Then each of its vectors carries exactly the fixed inputs and answers above
    assert len(published["vectors"]) == len(KNOWN)
    for got, v in zip(published["vectors"], KNOWN, strict=True):
        assert [tuple(p) for p in got["query"]] == v["query"]
        assert got["body"].encode("utf-8") == v["body"]
        assert got["string_to_sign"] == _expected_string(v)
        for name in (
            "secret",
            "method",
            "path",
            "timestamp",
            "nonce",
            "canonical_query",
            "body_sha256",
            "signing_key_hex",
            "signature",
        ):
            assert got[name] == v[name], name


def test_canonical_query_rules() -> None:
    # Space is %20 never +, a + is %2B, unreserved characters stay, repeated keys are kept and sorted by value,
    # keys are sorted by their encoded form (upper case before lower case), a key without a value is "key="
    assert signing.canonical_query([("q", "a b")]) == "q=a%20b"
    assert signing.canonical_query([("q", "a+b")]) == "q=a%2Bb"
    assert signing.canonical_query([("q", "AZaz09-._~")]) == "q=AZaz09-._~"
    assert signing.canonical_query([("q", "!*'()/:?&=")]) == "q=%21%2A%27%28%29%2F%3A%3F%26%3D"
    assert signing.canonical_query([("k", "2"), ("k", "10"), ("k", "1")]) == "k=1&k=10&k=2"
    assert signing.canonical_query([("b", "1"), ("B", "1"), ("a", "")]) == "B=1&a=&b=1"
    assert signing.canonical_query([("é", "é")]) == "%C3%A9=%C3%A9"
    assert signing.canonical_query(None) == signing.canonical_query([]) == signing.canonical_query({}) == ""


def test_the_server_accepts_a_request_signed_with_a_vector(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a hospital whose secret is the first vector's, and the server's clock at the vector's timestamp
    v = KNOWN[0]
    monkeypatch.setattr(callers_service.secrets, "token_urlsafe", lambda _n=None: v["secret"])
    made = register(world.ctx(), None, kind="hospital", principal_id="hospital-v", name="V")
    world.clock.current = datetime.fromtimestamp(int(v["timestamp"]), UTC)
    headers = {
        "X-TF-Key-Id": made.key_id,
        "X-TF-Timestamp": v["timestamp"],
        "X-TF-Nonce": v["nonce"],
        "X-TF-Signature": v["signature"],
    }
    # When the request arrives with its query as Chalice parses it (a MultiDict of every value of each key)
    query = MultiDict(parse_qs(v["canonical_query"], keep_blank_values=True))
    ctx = world.ctx()
    caller = Authenticator().verify(ctx, method="GET", path=v["path"], query=query, headers=headers, body=v["body"])

    # Then it is accepted; and with one of the repeated values dropped, it is refused
    assert caller.principal_id == "hospital-v"
    fewer = MultiDict(parse_qs(v["canonical_query"].replace("status=closed&", ""), keep_blank_values=True))
    with pytest.raises(BadSignature):
        Authenticator().verify(world.ctx(), method="GET", path=v["path"], query=fewer, headers=headers, body=b"")


def test_the_client_sends_exactly_the_query_it_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a client whose network call is captured
    sent: list[urllib.request.Request] = []

    class Answer(io.BytesIO):
        status = 200
        headers: ClassVar[dict[str, str]] = {}

    def capture(req: urllib.request.Request, timeout: float) -> Answer:
        sent.append(req)
        return Answer(b"{}")

    monkeypatch.setattr(client_module.urllib.request, "urlopen", capture)
    client = client_module.TreatFirstClient("http://127.0.0.1:9", key_id="key_x", secret="s3cret")

    # When it sends a query with a repeated key, a space and a plus
    client.request("GET", "/v1/visits", query=[("status", "open"), ("q", "a b+c"), ("status", "closed")])

    # Then the URL carries the canonical query, and the signature verifies over the pairs the server decodes from it
    url = sent[0].full_url
    assert url == "http://127.0.0.1:9/v1/visits?q=a%20b%2Bc&status=closed&status=open"
    decoded = MultiDict(parse_qs(url.split("?", 1)[1], keep_blank_values=True))
    h = {k.lower(): v for k, v in sent[0].header_items()}
    expected = signing.sign(
        signing.signing_key("s3cret"), "GET", "/v1/visits", decoded, h["x-tf-timestamp"], h["x-tf-nonce"], b""
    )
    assert h["x-tf-signature"] == expected
