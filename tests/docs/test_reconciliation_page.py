"""The reconciliation walk-through: its generated tables say what the code does (fixed values, read by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.mkdocs_reconciliation import MARKER, ReconciliationSourceError, render

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_marker_of_the_page_is_rendered(lang: str) -> None:
    # Given the hand-written page of each language
    source = (ROOT / "site" / lang / "reconciliation.md").read_text(encoding="utf-8")
    assert MARKER.search(source)
    # When the hook renders it / Then no marker is left, and both sample files are included
    rendered = render(source, lang)
    assert not MARKER.search(rendered)
    assert '--8<-- "site/examples/reconciliation/generic.csv"' in rendered
    assert '--8<-- "site/examples/reconciliation/wechat_bill.csv"' in rendered


def test_the_kinds_table_names_the_ledger_movements_and_references() -> None:
    table = render("<!-- treatfirst:recon-kinds -->", "en")
    assert (
        "| hospital | `self_pay_refunded` | self-pay refunded or cancelled | `release_hold`, `release_owed`, "
        "`emergency_release_hold`, `emergency_release_owed` |"
    ) in table
    assert "| channel | `payment` | payment collected | `payment`, `emergency_payment`, `recovery` |" in table


def test_the_format_tables_list_the_columns_the_parsers_require() -> None:
    generic = render("<!-- treatfirst:recon-format:generic_csv -->", "zh")
    assert "| 4 | `amount_fen` | 金额（分，正整数） |" in generic
    wechat = render("<!-- treatfirst:recon-format:wechat_bill -->", "en")
    assert "| 6 | `微信订单号` |" in wechat and "| 1 | `总交易单数` |" in wechat
    with pytest.raises(ReconciliationSourceError):
        render("<!-- treatfirst:recon-format:alipay -->", "en")


def test_the_verdicts_say_which_way_a_difference_counts() -> None:
    results = render("<!-- treatfirst:recon-results -->", "zh")
    assert "| `amount_mismatch` | 金额不符：差额 = 对方 − 平台，为正是长款，为负是短款 |" in results
    assert "| `counterparty_only` | 单边账（对方有、平台无） | `operator`" in results


def test_the_statement_example_is_a_consistent_story() -> None:
    text = render("<!-- treatfirst:recon-example:uploadStatement -->", "en")
    request = json.loads(text.split("```json\n")[1].split("```")[0])
    answer = json.loads(text.split("```json\n")[2].split("```")[0])
    assert request["content"].count("\r\n") == 3  # header and two rows
    assert (answer["lines"], answer["counts"]["matched"], len(answer["breaks"])) == (2, 1, 1)
    assert answer["breaks"][0]["ref"] in request["content"]
