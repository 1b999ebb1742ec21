"""The funding-model and clearing pages: generated from the code, checked against values written down by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import clearing_docs

SITE = Path(__file__).resolve().parents[2] / "site"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_page_asks_for_the_generated_blocks(lang: str) -> None:
    funding = (SITE / lang / "funding.md").read_text(encoding="utf-8")
    clearing = (SITE / lang / "clearing.md").read_text(encoding="utf-8")
    for marker in ("funding-diagrams", "funding-table", "financiers"):
        assert f"<!-- treatfirst:{marker} -->" in funding
    for marker in ("clearing-figures", "clearing-formats", "clearing-example"):
        assert f"<!-- treatfirst:{marker} -->" in clearing
    # and after rendering no marker is left
    assert "treatfirst:" not in clearing_docs.render(funding + clearing, lang)


def test_the_diagrams_draw_who_pays_whom_in_each_model() -> None:
    text = clearing_docs.funding_diagrams("en")
    receivable, advance = text.split("#### ")[1:]
    # hospital receivable: channels pay the hospital, the fund reimburses it, recoveries go to the fund
    assert 'channel -->|"payment<br>emergency payment"| hospital' in receivable
    assert 'fund -->|"backstop reimbursement of a write-off"| hospital' in receivable
    assert 'channel -->|"recovery after write-off"| fund' in receivable
    assert "financier" not in receivable
    # financier advance: the financier pays the hospital, refunds go back, payments and reimbursements to it
    assert 'financier -->|"self-pay posted<br>emergency self-pay posted"| hospital' in advance
    assert "hospital -->|" in advance and "| financier" in advance
    assert 'channel -->|"payment<br>emergency payment"| financier' in advance
    assert 'fund -->|"backstop reimbursement of a write-off"| financier' in advance


def test_the_file_format_lists_the_csv_columns_in_order() -> None:
    text = clearing_docs.clearing_formats("en")
    columns = [line.split("`")[1] for line in text.splitlines() if line.startswith("| `")][:15]
    assert columns == [
        "entry_id",
        "business_date",
        "kind",
        "figure",
        "amount_fen",
        "ref_type",
        "ref_id",
        "hospital_id",
        "financier_id",
        "channel_id",
        "channel_txn_id",
        "fund_id",
        "instruction_id",
        "payer",
        "payee",
    ]


def test_the_worked_example_nets_as_worked_out_by_hand() -> None:
    # 120 + 30 yuan posted, 30 refunded, 50 paid through wechat-pay, in Xiamen where hospital-a's financier is
    # xm-bank-a: the financier pays the hospital 120 yuan net, wechat-pay pays the financier 50
    text = clearing_docs.clearing_example("zh")
    assert (
        "- `financier:xm-bank-a` → `hospital:hospital-a`: 12000 fen (15000 − 3000), `led_01`, `led_02`, `led_03`"
        in (text)
    )
    assert "- `channel:wechat-pay` → `financier:xm-bank-a`: 5000 fen (5000 − 0), `led_05`" in text
    assert "led_04,2026-11-24,issue,,12000,bill,bil_1,hospital-a,xm-bank-a,,,,,," in text  # moves no money


def test_the_financiers_of_each_example_city() -> None:
    text = clearing_docs.financiers("en")
    assert "`funding_model: hospital_receivable`" in text and "`funding_model: financier_advance`" in text
    assert "- `xm-bank-a` Example partner bank A (default): `hospital-a`" in text
    assert "- `xm-bank-b` Example partner bank B: `hospital-b`" in text
