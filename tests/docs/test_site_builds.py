"""The docs site builds strictly, and its generated pages carry what the code really uses."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from treatfirst import openapi
from treatfirst.consents import render_all
from treatfirst.domain.errors import all_error_classes
from treatfirst.domain.policy import example_policy

ROOT = Path(__file__).resolve().parents[2]


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
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def page(built: Path, name: str) -> str:
    """The page's text without tags (highlighted code is split into spans)."""
    raw = (built / name / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.mark.parametrize("city", ["lianyungang", "xiamen"])
def test_city_page_carries_each_consent_text_and_hash(built: Path, city: str) -> None:
    policy = example_policy(city)
    text = page(built, f"cities/{city}")
    assert policy.sha256 in text and policy.version in text
    for consent in render_all(policy):
        assert consent.sha256 in text
        assert consent.text.splitlines()[2][:40] in text  # the body, not only the title


def test_api_reference_lists_every_operation_and_publishes_the_document(built: Path) -> None:
    text = page(built, "reference/api")
    for op in openapi.OPERATIONS:
        assert f"{op.method.upper()} {op.path}" in text, op.path
    published = json.loads((built / "reference" / "openapi.json").read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(openapi.document()))


def test_error_code_page_lists_every_code(built: Path) -> None:
    text = page(built, "reference/errors")
    for error in all_error_classes():
        assert error.code in text


def test_signing_page_quotes_the_real_code(built: Path) -> None:
    text = page(built, "en/authentication")
    assert "def string_to_sign(" in text and "def signed_headers(" in text
