"""The docs site builds strictly (links and anchors checked), and its generated pages carry what the code uses."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from treatfirst import openapi
from treatfirst.consents import render_consent
from treatfirst.domain import signing
from treatfirst.domain.errors import all_error_classes
from treatfirst.domain.policy import example_policy

ROOT = Path(__file__).resolve().parents[2]
CITIES = ("lianyungang", "xiamen")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def page(built: Path, name: str) -> str:
    """The page's text without tags (highlighted code is split into spans)."""
    raw = (built / name / "index.html").read_text(encoding="utf-8")
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
    assert "未启用 Not enabled" in page(built, "cities/xiamen")


def test_api_reference_lists_every_operation_of_the_document_and_publishes_it(built: Path) -> None:
    document = openapi.document()
    text = page(built, "reference/api")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert f"{method.upper()} {path}" in text, (method, path)
            scope = operation.get("x-treatfirst-scope")
            assert scope is None or scope in text
    published = json.loads((built / "reference" / "openapi.json").read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(document))


def test_error_code_page_lists_every_code_with_its_status(built: Path) -> None:
    text = page(built, "reference/errors")
    for error in all_error_classes():
        assert error.code in text and f"HTTP {error.status}" in text


def test_signing_pages_quote_the_real_code_and_a_signature_it_computes(built: Path) -> None:
    body = json.dumps({"account_id": "acc_01JDEMO"}, separators=(",", ":")).encode()
    expected = signing.sign(
        signing.signing_key("demo-secret-not-for-use"),
        "POST",
        "/v1/visits",
        None,
        "1795993200",
        "n0nce-0123456789ab",
        body,
    )
    for lang in ("zh", "en"):
        text = page(built, f"{lang}/authentication")
        assert "def string_to_sign(" in text and "def signed_headers(" in text
        assert "TreatFirstClient(url" in text
        assert expected in text


def test_workflow_pages_carry_the_diagrams(built: Path) -> None:
    for lang in ("zh", "en"):
        raw = (built / lang / "workflow" / "index.html").read_text(encoding="utf-8")
        assert raw.count('class="mermaid"') >= 3
        assert "held_fen" in raw and "owed_fen" in raw


def test_the_example_is_published_as_it_is_in_the_repository(built: Path) -> None:
    example = ROOT / "site" / "examples" / "treat_first.py"
    assert (built / "examples" / "treat_first.py").read_bytes() == example.read_bytes()
