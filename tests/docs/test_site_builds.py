"""The docs site builds strictly (links and anchors checked), and its generated pages carry what the code uses."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import pytest
from treatfirst.consents import render_consent
from treatfirst.domain.errors import all_error_classes
from treatfirst.domain.policy import example_policy

ROOT = Path(__file__).resolve().parents[2]
CITIES = ("lianyungang", "xiamen")


def html_file(built: Path, name: str) -> Path:
    """The built file of a page named as its source ("zh/access", "en/access", or "cities/xiamen" for Chinese):
    Chinese pages sit at the site's root and English ones under en/ (tools/mkdocs_i18n.py)."""
    # The site works from a folder (Material's offline plugin): one NAME.html per page, no directory URLs.
    return built / f"{name.removeprefix('zh/')}.html"


def page(built: Path, name: str) -> str:
    """The page's text without tags (highlighted code is split into spans)."""
    raw = html_file(built, name).read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.mark.parametrize("city", CITIES)
def test_city_page_carries_each_consent_text_with_the_hash_the_api_computes(built: Path, city: str) -> None:
    # Given the city's policy and the consents the API would render from it
    policy = example_policy(city)
    text = page(built, f"cities/{city}")
    assert policy.sha256 in text and policy.version in text
    for spec in policy.consents:
        consent = render_consent(policy, spec.kind)
        # Then the page prints that SHA-256 and version, and shows the text's body, not only its title
        assert consent.sha256 in text and consent.version in text
        assert consent.text.splitlines()[2][:40] in text
        # And the downloadable copy is the exact bytes hashed
        copy = built / "cities" / city / f"{consent.kind}-{consent.version}.txt"
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == consent.sha256


def test_city_page_shows_the_policy_rules(built: Path) -> None:
    text = page(built, "cities/lianyungang")
    policy = example_policy("lianyungang")
    assert policy.blacklist_legal_basis and policy.blacklist_legal_basis[:30] in text
    for step in policy.collection_ladder:
        assert step.name in text
    assert "未启用" in page(built, "cities/xiamen")
    assert "Not enabled" in page(built, "en/cities/xiamen")


@pytest.mark.parametrize("city", CITIES)
def test_city_page_promises_nothing_the_code_does_not_do(built: Path, city: str) -> None:
    zh, en = page(built, f"cities/{city}"), page(built, f"en/cities/{city}")
    # The daily sweep applies the ladder and the strike rule (enforced), and credit repair (the blacklist sweep)
    assert "The daily collection sweep (per business date) applies the most severe step" in en
    assert "每日催收扫描（城市营业日）按逾期天数" in zh
    assert not re.search(r"失信规则[^\n]{0,10}（尚未执行）", zh)
    assert not re.search(r"Strike rule[^\n]{0,10} \(not enforced yet\)", en)
    assert not re.search(r"信用修复[^\n]{0,10}（尚未执行）", zh)
    assert not re.search(r"Credit repair[^\n]{0,10} \(not enforced yet\)", en)
    assert "信用修复" in zh and "Credit repair" in en
    # Every policy field is listed with the code that enforces it, or as documentation only
    for text in (zh, en):
        assert "treatfirst.services.closing.close_visit" in text and "treatfirst.domain.eligibility.decide" in text
        assert "strikes.count" in text
    assert en.count("documentation only") >= 10 and zh.count("仅文档") >= 10
    # The due time to the second, as the policy sets it
    assert "23:59:59" in zh and "23:59:59" in en


def test_xiamen_follows_its_program(built: Path) -> None:
    text = page(built, "cities/xiamen")
    assert "账单生成后第 7 天 23:59:59" in text
    assert "累计逾期 3 次以上（含 3 次） → 暂停服务、列入失信名单（>= 3）" in text


# Each code, the HTTP status it is answered with and its general code, written down by hand (not computed by the
# page's own function): a new code, or a code moved in the hierarchy, must be added or changed here on purpose.
EXPECTED_CODES: dict[str, tuple[int, str | None]] = {
    "VALIDATION_FAILED": (400, None),
    "CONSENT_REQUIRED": (400, "VALIDATION_FAILED"),
    "INVALID_AMOUNT": (400, "VALIDATION_FAILED"),
    "INVALID_CURSOR": (400, "VALIDATION_FAILED"),
    "INVALID_DATE_RANGE": (400, "VALIDATION_FAILED"),  # reports: a range a report cannot cover
    "INVALID_ID_NUMBER": (400, "VALIDATION_FAILED"),
    "INVALID_PHONE": (400, "VALIDATION_FAILED"),
    "MALFORMED_JSON": (400, "VALIDATION_FAILED"),
    "SPLIT_MISMATCH": (400, "VALIDATION_FAILED"),
    "UNAUTHENTICATED": (401, None),
    "BAD_SIGNATURE": (401, "UNAUTHENTICATED"),
    "CLOCK_SKEW": (401, "UNAUTHENTICATED"),
    "REPLAYED_NONCE": (401, "UNAUTHENTICATED"),
    "FORBIDDEN": (403, None),
    "NOT_FOUND": (404, None),
    "ACCOUNT_NOT_FOUND": (404, "NOT_FOUND"),
    "BILL_NOT_FOUND": (404, "NOT_FOUND"),
    "REVIEW_NOT_FOUND": (404, "NOT_FOUND"),
    "EXPORT_NOT_FOUND": (404, "NOT_FOUND"),
    "CLEARING_NOT_FOUND": (404, "NOT_FOUND"),
    "CALLER_NOT_FOUND": (404, "NOT_FOUND"),
    "CHARGE_NOT_FOUND": (404, "NOT_FOUND"),
    "ROUTE_NOT_FOUND": (404, "NOT_FOUND"),
    "VISIT_NOT_FOUND": (404, "NOT_FOUND"),
    "TASK_NOT_FOUND": (404, "NOT_FOUND"),
    "PAUSE_NOT_FOUND": (404, "NOT_FOUND"),
    "TEST_CLOCK_DISABLED": (404, "NOT_FOUND"),
    "METHOD_NOT_ALLOWED": (405, None),
    "CONFLICT": (409, None),
    "ACCOUNT_NOT_ACTIVE": (409, "CONFLICT"),
    "ACCOUNT_RESTRICTED": (409, "CONFLICT"),
    "ALREADY_ENROLLED": (409, "CONFLICT"),
    "AMOUNT_OWED": (409, "CONFLICT"),
    "CALLER_EXISTS": (409, "CONFLICT"),
    "CALLER_REVOKED": (409, "CONFLICT"),
    "CHARGE_NOT_REFUNDABLE": (409, "CONFLICT"),
    "CONCURRENT_UPDATE": (409, "CONFLICT"),
    "REVIEW_ALREADY_DECIDED": (409, "CONFLICT"),
    "EXPORT_MANIFEST_MISMATCH": (409, "CONFLICT"),
    "FEE_LINE_CONFLICT": (409, "CONFLICT"),
    "IDEMPOTENCY_KEY_REUSED": (409, "CONFLICT"),
    "REFUND_EXCEEDS_OUTSTANDING": (409, "CONFLICT"),
    "TRANSACTION_ID_CONFLICT": (409, "CONFLICT"),
    "VISIT_CLOSED": (409, "CONFLICT"),
    "TASK_NOT_CLAIMABLE": (409, "CONFLICT"),
    "ALREADY_DISPUTED": (409, "CONFLICT"),
    "VISIT_OPEN": (409, "CONFLICT"),
    "PAYLOAD_TOO_LARGE": (413, None),
    "UNSUPPORTED_MEDIA_TYPE": (415, None),
    "UNPROCESSABLE": (422, None),
    "BILL_NOT_PAYABLE": (422, "UNPROCESSABLE"),
    "CREDIT_LIMIT_EXCEEDED": (422, "UNPROCESSABLE"),
    "EMERGENCY_NOT_DECLARED": (422, "UNPROCESSABLE"),
    "EMERGENCY_NOT_COVERED": (422, "UNPROCESSABLE"),
    "VERIFICATION_STALE": (422, "UNPROCESSABLE"),
    "NOT_ELIGIBLE": (422, "UNPROCESSABLE"),
    "OVERPAYMENT": (422, "UNPROCESSABLE"),
    "THROTTLED": (429, None),
    # reconciliation (对账)
    "STATEMENT_MALFORMED": (400, "VALIDATION_FAILED"),
    "SUSPENSE_NOT_FOUND": (404, "NOT_FOUND"),
    "SUSPENSE_ALREADY_RESOLVED": (409, "CONFLICT"),
    "STATEMENT_CONFLICT": (409, "CONFLICT"),
    "BUSINESS_DATE_OPEN": (422, "UNPROCESSABLE"),
    "INTERNAL_ERROR": (500, None),
    "POLICY_INVALID": (500, "INTERNAL_ERROR"),
    "CLEARING_UNBALANCED": (500, "INTERNAL_ERROR"),
    # webhooks and events
    "EVENT_NOT_FOUND": (404, "NOT_FOUND"),
    "WEBHOOK_ENDPOINT_NOT_FOUND": (404, "NOT_FOUND"),
    "WEBHOOK_URL_REFUSED": (400, "VALIDATION_FAILED"),
    "EVENT_KIND_NOT_ALLOWED": (400, "VALIDATION_FAILED"),
    "WEBHOOK_ENDPOINT_LIMIT": (422, "UNPROCESSABLE"),
    # the blacklist, appeals and strike annulment
    "BLACKLIST_RECORD_NOT_FOUND": (404, "NOT_FOUND"),
    "APPEAL_NOT_FOUND": (404, "NOT_FOUND"),
    "STRIKE_NOT_FOUND": (404, "NOT_FOUND"),
    "RECORD_NOT_LISTED": (409, "CONFLICT"),
    "APPEAL_PENDING": (409, "CONFLICT"),
    "APPEAL_ALREADY_DECIDED": (409, "CONFLICT"),
    "STRIKE_ALREADY_ANNULLED": (409, "CONFLICT"),
    "APPEAL_NOT_ALLOWED": (422, "UNPROCESSABLE"),
    # privacy (consents, rights, erasure)
    "IDENTITY_ERASED": (404, "NOT_FOUND"),
    "RIGHTS_REQUEST_NOT_FOUND": (404, "NOT_FOUND"),
    "ERASURE_REFUSED": (409, "CONFLICT"),
    "RIGHTS_REQUEST_CLOSED": (409, "CONFLICT"),
    "RECONSENT_REQUIRED": (409, "CONFLICT"),  # a policy change of a necessary consent's scope: answer again
    "GUARDIAN_REQUIRED": (422, "UNPROCESSABLE"),
}


def _answered_with(cls: type) -> int:
    """The HTTP status the API answers an error class with (from the one error-to-status table once it exists)."""
    try:
        from treatfirst.http_status import status_of  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return int(cls.status)
    return int(status_of(cls))


def error_table(built: Path) -> dict[str, tuple[int, str | None]]:
    """{code: (the HTTP section it is listed under, the general code in its row)} as the built page shows it."""
    raw = (built / "reference" / "errors.html").read_text(encoding="utf-8")
    found: dict[str, tuple[int, str | None]] = {}
    for section in re.split(r"<h2 id=\"http-", raw)[1:]:
        status = int(section[:3])
        for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            if not cells:
                continue
            code = re.sub(r"<[^>]+>", "", cells[0]).strip()
            general = re.sub(r"<[^>]+>", "", cells[2]).strip()
            assert code not in found, f"{code} is listed twice"
            found[code] = (status, None if general == "—" else general)
    return found


def test_error_code_page_puts_each_code_under_its_status_and_its_general_code(built: Path) -> None:
    # Given the error-code page as built
    table = error_table(built)

    # Then every code sits under the status the API answers with and names its real general code
    assert table == EXPECTED_CODES
    # And a general code is never a different status's code (a credit refusal is never a platform fault)
    for code, (status, general) in table.items():
        assert general is None or table[general][0] == status, code
    # And the codes are exactly the code's (the page does not list codes the code does not have)
    assert {c.code for c in all_error_classes()} == set(EXPECTED_CODES)
    assert {c.code: _answered_with(c) for c in all_error_classes()} == {c: s for c, (s, _) in EXPECTED_CODES.items()}


def test_error_code_page_never_tells_clients_to_treat_a_refusal_as_a_fault(built: Path) -> None:
    assert "只有 HTTP 500 表示平台故障" in page(built, "reference/errors")
    assert "only HTTP 500 is a platform fault" in page(built, "en/reference/errors")


def test_signing_pages_show_the_whole_string_to_sign_and_the_published_vectors(built: Path) -> None:
    # Fixed values of the published vector with a query (see tests/unit/test_signing.py for how they were checked)
    canonical = "Zeta=1&empty=&note=%E5%BC%A0%E4%B8%89%20%E6%9D%8E%E5%9B%9B&status=closed&status=open&tag=a%2Bb%2Fc~d"
    signature = "eb76a5ecd543ba7dd83f52afdcd1e31fdce05587a28098efe908ab3ce3c63b33"
    key_hex = "76046a028c24787918a010640bcb0860ebd4b5262475dca2d62f9a332649f71f"
    for lang in ("zh", "en"):
        text = page(built, f"{lang}/authentication")
        # The quoted code and the client
        assert "def string_to_sign(" in text and "def signed_headers(" in text
        assert "TreatFirstClient(url" in text
        # The complete string to sign, starting with the algorithm constant line, for a request with a query
        assert f"TF1-HMAC-SHA256\nGET\n/v1/visits\n{canonical}\n1795993200\nvector-nonce-0001\n" in text
        assert canonical in text and signature in text and key_hex in text
        # The rules: raw digest, RFC 3986, %20, repeated keys
        assert "RFC 3986" in text and "%20" in text and "32" in text
        # And a link to the vectors file, which the site publishes byte for byte
        raw = html_file(built, f"{lang}/authentication").read_text(encoding="utf-8")
        # the site's root, from authentication.html and from en/authentication.html
        assert f'href="{"../" if lang == "en" else ""}signing-vectors.json"' in raw
    published = built / "signing-vectors.json"
    assert published.read_bytes() == (ROOT / "site" / "signing-vectors.json").read_bytes()
    assert json.loads(published.read_text(encoding="utf-8"))["vectors"][0]["signature"] == signature


def test_conventions_pages_state_scopes_idempotency_time_and_content_type(built: Path) -> None:
    for lang in ("zh", "en"):
        text = page(built, f"{lang}/conventions")
        # Scopes per caller kind, from the code's table, and what bills:read means for a hospital
        for scope in (
            "enrollments:write",
            "accounts:read",
            "visits:write",
            "visits:read",
            "bills:read",
            "payments:write",
            "callers:write",
        ):
            assert scope in text, scope
        assert "BILL_NOT_FOUND" in text and "FORBIDDEN" in text
        # Idempotency: scope of a key, which operations, and the 409
        assert "IDEMPOTENCY_KEY_REUSED" in text
        for operation in ("POST /v1/enrollments", "POST /v1/visits/{visit_id}/close", "POST /v1/payments"):
            assert operation in text, operation
        # Times in UTC, and the content type
        assert "UTC" in text and "application/json" in text


def test_workflow_pages_carry_the_diagrams(built: Path) -> None:
    for lang in ("zh", "en"):
        raw = html_file(built, f"{lang}/workflow").read_text(encoding="utf-8")
        assert raw.count('class="mermaid"') >= 3
        assert "held_fen" in raw and "owed_fen" in raw


def test_the_example_is_published_as_it_is_in_the_repository(built: Path) -> None:
    example = ROOT / "site" / "examples" / "treat_first.py"
    assert (built / "examples" / "treat_first.py").read_bytes() == example.read_bytes()


def test_the_webhooks_pages_carry_the_catalogue_the_schedule_and_both_examples(built: Path) -> None:
    for lang in ("zh", "en"):
        text = page(built, f"{lang}/webhooks")
        for kind in ("bill.issued", "bill.paid", "bill.overdue", "charge.refunded", "collection.step"):
            assert kind in text, kind
        assert "75:35:05" in text and "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" in text
        assert "MessageDigest.isEqual" in text and "Webhook(secret).verify" in text
        assert "GET /v1/events?after=" in text
