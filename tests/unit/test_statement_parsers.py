"""Channel statement parsers (domain.statements): golden files and the malformed rows each refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from treatfirst.domain.errors import StatementMalformed
from treatfirst.domain.reconciliation import Line
from treatfirst.domain.statements import FORMATS, MAX_STATEMENT_LINES, parse

SAMPLES = Path(__file__).resolve().parents[2] / "site" / "examples" / "reconciliation"

GENERIC_HEADER = "kind,channel_txn_id,refund_id,amount_fen,occurred_at"
WECHAT_HEADER = ",".join(c.name for c in FORMATS["wechat_bill"].columns)
SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def wechat_row(
    txn: str, status: str = "SUCCESS", amount: str = "1.00", refund_id: str = "", refund: str = "0.00"
) -> str:
    values = [""] * 27
    values[0], values[5], values[9], values[11] = "2026-11-25 10:00:00", txn, status, "CNY"
    values[12], values[14], values[16] = amount if status == "SUCCESS" else "0.00", refund_id, refund
    return ",".join("`" + v for v in values)


def wechat(*rows: str, summary: str | None = None) -> str:
    return "\n".join([WECHAT_HEADER, *rows, SUMMARY_HEADER, summary or "`0,`0.00,`0.00,`0.00,`0.00,`0.00,`0.00"])


def test_golden_generic_sample_with_bom_and_crlf():
    # Given the published generic sample (UTF-8 with a BOM, CRLF line ends)
    raw = (SAMPLES / "generic.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    # When parsed
    lines = parse("generic_csv", raw.decode("utf-8"))
    # Then it yields the common lines, refunds keyed by their refund id
    assert lines == [
        Line("payment", "wx4200001", 12345),
        Line("payment", "wx4200002", 3000),
        Line("refund", "wxr7700001", 500),
    ]


def test_golden_wechat_sample_backticks_and_summary():
    # Given the published WeChat Pay-style bill (BOM, backtick fields, summary header and row)
    text = (SAMPLES / "wechat_bill.csv").read_bytes().decode("utf-8")
    # When parsed
    lines = parse("wechat_bill", text)
    # Then SUCCESS rows are payments keyed by 微信订单号, REFUND rows refunds keyed by 微信退款单号, in yuan -> fen
    assert lines == [
        Line("payment", "4200001", 12345),
        Line("payment", "4200002", 3000),
        Line("refund", "wxr7700001", 500),
    ]


def test_an_empty_day_is_a_header_alone_or_a_zero_summary():
    # Given statements with no transactions
    # When parsed / Then they yield no lines
    assert parse("generic_csv", "\ufeff" + GENERIC_HEADER + "\n\n") == []
    assert parse("wechat_bill", wechat()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("kind,txn,amount\n", "line 1: the header must be"),
        (GENERIC_HEADER + "\npayment,t1,,12.30,\n", "line 2: amount_fen must be a positive integer"),
        (GENERIC_HEADER + "\npayment,t1,,0,\n", "line 2: amount_fen must be a positive integer"),
        (GENERIC_HEADER + "\npayment,t1,,-5,\n", "line 2: amount_fen must be a positive integer"),
        (GENERIC_HEADER + "\npayment,t1,,5\n", "line 2: expected 5 fields, found 4"),
        (GENERIC_HEADER + "\nchargeback,t1,,5,\n", "line 2: kind must be payment or refund"),
        (GENERIC_HEADER + "\npayment,t 1,,5,\n", "line 2: channel_txn_id must be"),
        (GENERIC_HEADER + "\npayment,t1,r1,5,\n", "line 2: refund_id must be empty on a payment"),
        (GENERIC_HEADER + "\nrefund,t1,,5,\n", "line 2: refund_id must be"),
        (GENERIC_HEADER + "\npayment,t1,,5,\npayment,t1,,6,\n", "the same payment is listed twice"),
        (GENERIC_HEADER + "\npayment,t1,,5,\x00\n", "NUL"),
    ],
)
def test_generic_malformed_rows_are_refused_naming_the_line(text: str, message: str):
    # Given a generic statement with one defect
    # When parsed
    with pytest.raises(StatementMalformed) as refused:
        parse("generic_csv", text)
    # Then the whole file is refused, naming the line and the column, never echoing the value
    assert message in refused.value.message
    assert refused.value.field == "content"
    assert "12.30" not in refused.value.message and "chargeback" not in refused.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (wechat_row("t1") + "\n", "line 1: the header must be"),
        (
            wechat(wechat_row("t1"), summary="`1,`1.00,`0.00,`0.00,`0.00,`1.00,`0.00").replace(
                SUMMARY_HEADER + "\n", ""
            ),
            "line 3: expected 27 fields, found 7",
        ),
        ("\n".join([WECHAT_HEADER, wechat_row("t1")]), "no summary section"),
        ("\n".join([WECHAT_HEADER, wechat_row("t1"), SUMMARY_HEADER]), "has no summary row"),
        (wechat(wechat_row("t1"), summary="`2,`1.00,`0.00,`0.00,`0.00,`1.00,`0.00"), "总交易单数 does not equal"),
        (wechat(wechat_row("t1"), summary="`1,`1.01,`0.00,`0.00,`0.00,`1.00,`0.00"), "应结订单总金额 does not equal"),
        (wechat(wechat_row("t1"), summary="`1,`1.00,`0.50,`0.00,`0.00,`1.00,`0.00"), "退款总金额 does not equal"),
        (wechat(wechat_row("t1").replace("`t1", "t1"), summary="`1,`1.00,`0.00,`0,`0,`1,`0"), "every field"),
        (wechat(wechat_row("t1", amount="1.005")), "line 2: 应结订单金额 must be an amount in yuan"),
        (wechat(wechat_row("t1", amount="0.00")), "line 2: the amount must be greater than zero"),
        (wechat(wechat_row("t1", status="REVOKED")), "line 2: 交易状态 must be SUCCESS or REFUND"),
        (wechat(wechat_row("t1", status="REFUND", refund="1.00")), "line 2: 微信退款单号 must be"),
        (wechat(wechat_row("t1").replace("`CNY", "`USD")), "line 2: 货币种类 must be CNY"),
        (wechat(wechat_row("t1")) + "\n`extra", "nothing may follow the summary row"),
    ],
)
def test_wechat_malformed_rows_are_refused_naming_the_line(text: str, message: str):
    # Given a WeChat-style bill with one defect
    # When parsed
    with pytest.raises(StatementMalformed) as refused:
        parse("wechat_bill", text)
    # Then the whole file is refused with the line and what is wrong
    assert message in refused.value.message


def test_a_wechat_refund_row_and_the_summary_in_fen():
    # Given a bill with a payment and a refund whose summary states both totals
    text = wechat(
        wechat_row("t1", amount="10.10"),
        wechat_row("t1", status="REFUND", refund_id="r1", refund="0.10"),
        summary="`2,`10.10,`0.10,`0.00,`0.00,`10.10,`0.10",
    )
    # When parsed / Then both lines come out in fen
    assert parse("wechat_bill", text) == [Line("payment", "t1", 1010), Line("refund", "r1", 10)]


def test_a_statement_is_bounded():
    # Given a generic statement one line over the bound
    rows = [f"payment,t{i},,1," for i in range(MAX_STATEMENT_LINES + 1)]
    # When parsed / Then it is refused as a whole
    with pytest.raises(StatementMalformed, match="at most"):
        parse("generic_csv", "\n".join([GENERIC_HEADER, *rows]))
