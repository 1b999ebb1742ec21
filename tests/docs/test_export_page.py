"""The export page (both languages) shows the catalogue the files really carry, the files and the commands that
verify a delivery; the field list is compared with a list written down by hand, not recomputed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.test_site_builds import page

# The credit platform's field catalogue as agreed, in file order (a change here is a change of the files).
FIELDS = [
    "op",
    "change_id",
    "record_id",
    "business_date",
    "name",
    "id_number",
    "reason",
    "amount_fen",
    "bill_count",
    "first_due_at",
    "listed_at",
    "valid_until",
    "legal_basis",
    "policy_version",
    "policy_sha256",
    "source_org_code",
    "source_org_name",
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_export_page_shows_fields_files_and_verification(built: Path, lang: str) -> None:
    text = page(built, f"{lang}/export")
    # every field, in the files' order
    positions = [text.index(f"\n{name}\n") for name in FIELDS]
    assert positions == sorted(positions)
    # the files and the commands a receiver runs
    for shown in ("SHA256SUMS", "manifest.json.sig.b64", "signing-key.pem", "sha256sum -c SHA256SUMS"):
        assert shown in text, shown
    assert "openssl dgst -sha256 -verify signing-key.pem -signature manifest.json.sig manifest.json" in text
    assert "previous_manifest_sha256" in text and "/v1/exports/{export_id}/acknowledgement" in text
    # which example city exports, and which does not
    assert ("不报送" if lang == "zh" else "does not export") in text and "国办发〔2020〕49号" in text
