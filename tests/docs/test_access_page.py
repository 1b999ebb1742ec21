"""The access page (who may do what) is generated from the access table the services enforce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.test_site_builds import html_file, page


def rows(built: Path, lang: str) -> list[list[str]]:
    raw = html_file(built, f"{lang}/access").read_text(encoding="utf-8")
    table = raw.split("<table>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_withdrawal_is_listed_for_channels_only_and_hospitals_see_credit_not_identity(
    built: Path,
    lang: str,
) -> None:
    table = rows(built, lang)
    withdraw = [r for r in table if "POST /v1/accounts/{account_id}/withdrawal" in r[3]]
    assert len(withdraw) == 1 and withdraw[0][0].startswith("channel" if lang == "en" else "渠道")
    reads = {r[0].split(" ")[0]: r[5] for r in table if r[3] == "GET /v1/accounts/{account_id}"}
    hospital = "hospital" if lang == "en" else "医院（HIS）"
    assert reads[hospital] == "credit"
    text = page(built, f"{lang}/access")
    assert "VERIFICATION_STALE" in text and "VISIT_OPEN" in text
