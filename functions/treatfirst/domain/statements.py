"""Channel statements (渠道对账单), parsed into one common line (domain.reconciliation.Line), pure.

Two formats, each defined once here as data; the parsers read the definitions and the docs page prints them:
- `generic_csv`: TreatFirst's own format, for any channel (UTF-8, an optional BOM, a header row, amounts in fen);
- `wechat_bill`: a WeChat Pay-style merchant trade bill (交易账单, type ALL): a header row, detail rows whose every
  field is prefixed with a backtick (`), then a summary header and one summary row that must agree with the rows.
Another channel's format is one more parser of the same shape: rows in, `Line`s out, every refusal naming the row.

A malformed file is refused whole (StatementMalformed, naming the line number and the column, never a value:
a bill carries payers' identifiers), so nothing of it is reconciled.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from treatfirst.domain.errors import InvalidAmount, StatementMalformed
from treatfirst.domain.money import MAX_FEN, parse_yuan
from treatfirst.domain.reconciliation import Line

MAX_STATEMENT_LINES = 10_000
REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
_FEN = re.compile(r"^(0|[1-9][0-9]{0,12})$")


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    en: str
    example: str


@dataclass(frozen=True)
class StatementFormat:
    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]  # the detail header, in order
    summary: tuple[Column, ...] = ()  # the summary header, in order (none: no summary section)
    sample: str = ""  # the sample file under site/examples/reconciliation/


GENERIC_CSV = StatementFormat(
    "generic_csv",
    "通用 CSV：UTF-8（可带 BOM），逗号分隔，首行为表头，金额以分为单位的整数",
    "generic CSV: UTF-8 (a BOM is allowed), comma-separated, a header row, amounts as integer fen",
    (
        Column("kind", "`payment`（还款）或 `refund`（渠道退款）", "`payment` or `refund`", "payment"),
        Column("channel_txn_id", "渠道交易号，与还款通知时一致", "the channel's transaction id, as sent", "wx4200001"),
        Column("refund_id", "渠道退款单号（仅 refund 行，其余留空）", "the channel's refund id (refund rows only)", ""),
        Column("amount_fen", "金额（分，正整数）", "amount in fen, a positive integer", "12345"),
        Column("occurred_at", "交易时间（可留空，仅供查阅）", "when it happened (optional, informative)", ""),
    ),
    sample="generic.csv",
)

WECHAT_BILL = StatementFormat(
    "wechat_bill",
    "微信支付式商户交易账单（ALL）：每个字段前有反引号 `，明细之后是汇总表头和一行汇总，金额以元为单位",
    "a WeChat Pay-style merchant trade bill (ALL): every field prefixed with a backtick, then a summary header "
    "and one summary row; amounts in yuan",
    (
        Column("交易时间", "交易时间", "time", "2026-11-25 10:01:02"),
        Column("公众账号ID", "公众账号 ID", "app id", "wx0000"),
        Column("商户号", "商户号", "merchant id", "1900000109"),
        Column("特约商户号", "特约商户号", "sub-merchant id", "0"),
        Column("设备号", "设备号", "device", ""),
        Column("微信订单号", "微信订单号：SUCCESS 行作为 channel_txn_id", "transaction id: channel_txn_id", "42000"),
        Column("商户订单号", "商户订单号", "merchant order id", "TF0001"),
        Column("用户标识", "用户标识（不读取）", "payer id (never read)", "o_xxx"),
        Column("交易类型", "交易类型", "trade type", "JSAPI"),
        Column("交易状态", "`SUCCESS`（还款）或 `REFUND`（退款）", "`SUCCESS` (payment) or `REFUND`", "SUCCESS"),
        Column("付款银行", "付款银行", "bank", "OTHERS"),
        Column("货币种类", "货币种类，须为 CNY", "currency, must be CNY", "CNY"),
        Column("应结订单金额", "应结订单金额（元）：还款金额", "settlement amount (yuan): the payment", "123.45"),
        Column("代金券金额", "代金券金额", "coupon amount", "0.00"),
        Column("微信退款单号", "微信退款单号：REFUND 行的退款单号", "refund id: the refund's ref", ""),
        Column("商户退款单号", "商户退款单号", "merchant refund id", ""),
        Column("退款金额", "退款金额（元）：REFUND 行的金额", "refund amount (yuan)", "0.00"),
        Column("充值券退款金额", "充值券退款金额", "voucher refund", "0.00"),
        Column("退款类型", "退款类型", "refund type", ""),
        Column("退款状态", "退款状态", "refund status", ""),
        Column("商品名称", "商品名称（不读取）", "goods (never read)", ""),
        Column("商户数据包", "商户数据包（不读取）", "attach (never read)", ""),
        Column("手续费", "手续费", "fee", "0.00"),
        Column("费率", "费率", "rate", "0.60%"),
        Column("订单金额", "订单金额", "order amount", "123.45"),
        Column("申请退款金额", "申请退款金额", "refund asked", "0.00"),
        Column("费率备注", "费率备注", "rate note", ""),
    ),
    (
        Column("总交易单数", "总交易单数：须等于明细行数", "row count: must equal the detail rows", "1"),
        Column("应结订单总金额", "应结订单总金额：须等于 SUCCESS 行之和", "must equal the SUCCESS rows' sum", "123.45"),
        Column("退款总金额", "退款总金额：须等于 REFUND 行之和", "must equal the REFUND rows' sum", "0.00"),
        Column("充值券退款总金额", "充值券退款总金额", "voucher refunds", "0.00"),
        Column("手续费总金额", "手续费总金额", "fees", "0.00"),
        Column("订单总金额", "订单总金额", "orders", "123.45"),
        Column("申请退款总金额", "申请退款总金额", "refunds asked", "0.00"),
    ),
    sample="wechat_bill.csv",
)

FORMATS: dict[str, StatementFormat] = {f.name: f for f in (GENERIC_CSV, WECHAT_BILL)}


# ---- reading ---------------------------------------------------------------------------------------------------
def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line; a leading BOM is dropped."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise StatementMalformed("the statement holds a NUL character", field="content")
    for number, fields in enumerate(csv.reader(text.splitlines()), start=1):
        if any(f.strip() for f in fields):
            yield number, fields


def _ref(value: str, number: int, column: str) -> str:
    value = value.strip()
    if not REF_PATTERN.match(value):
        raise StatementMalformed(f"line {number}: {column} must be 1-64 of A-Z a-z 0-9 _ . : -", field="content")
    return value


def _fen(value: str, number: int, column: str) -> int:
    value = value.strip()
    if not _FEN.match(value) or not 0 < int(value) <= MAX_FEN:
        raise StatementMalformed(f"line {number}: {column} must be a positive integer number of fen", field="content")
    return int(value)


def _yuan(value: str, number: int, column: str) -> int:
    try:
        return parse_yuan(value, field=column)
    except InvalidAmount:
        message = f"line {number}: {column} must be an amount in yuan like 12.30"
        raise StatementMalformed(message, field="content") from None


def _header(fields: list[str], expected: tuple[Column, ...], number: int, strip: Callable[[str], str]) -> None:
    if [strip(f).strip() for f in fields] != [c.name for c in expected]:
        names = ",".join(c.name for c in expected)
        raise StatementMalformed(f"line {number}: the header must be {names}", field="content")


def _bounded(lines: list[Line]) -> list[Line]:
    if len(lines) > MAX_STATEMENT_LINES:
        raise StatementMalformed(f"a statement holds at most {MAX_STATEMENT_LINES} lines", field="content")
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        if (line.kind, line.ref) in seen:
            raise StatementMalformed(f"detail row {index + 1}: the same {line.kind} is listed twice", field="content")
        seen.add((line.kind, line.ref))
    return lines


def parse_generic(text: str) -> list[Line]:
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        raise StatementMalformed("the statement is empty: it needs at least its header row", field="content")
    _header(first[1], GENERIC_CSV.columns, first[0], str)
    lines: list[Line] = []
    width = len(GENERIC_CSV.columns)
    for number, fields in rows:
        if len(fields) != width:
            raise StatementMalformed(f"line {number}: expected {width} fields, found {len(fields)}", field="content")
        kind, txn, refund, amount, _ = (f.strip() for f in fields)
        if kind == "payment":
            if refund:
                raise StatementMalformed(f"line {number}: refund_id must be empty on a payment", field="content")
            ref = _ref(txn, number, "channel_txn_id")
        elif kind == "refund":
            _ref(txn, number, "channel_txn_id")
            ref = _ref(refund, number, "refund_id")
        else:
            raise StatementMalformed(f"line {number}: kind must be payment or refund", field="content")
        lines.append(Line(kind, ref, _fen(amount, number, "amount_fen")))
        if len(lines) > MAX_STATEMENT_LINES:
            break
    return _bounded(lines)


def _tick(value: str) -> str:
    return value[1:] if value.startswith("`") else value


def parse_wechat(text: str) -> list[Line]:
    """Detail header, backtick rows, summary header, one summary row (and nothing after it)."""
    columns, summary = WECHAT_BILL.columns, WECHAT_BILL.summary
    index = {c.name: i for i, c in enumerate(columns)}
    rows = _rows(text)
    first = next(rows, None)
    if first is None:
        raise StatementMalformed("the statement is empty: it needs its header row", field="content")
    _header(first[1], columns, first[0], str)
    lines: list[Line] = []
    totals = {"payment": 0, "refund": 0}
    summary_row: tuple[int, list[str]] | None = None
    for number, fields in rows:
        if fields and fields[0].strip() == summary[0].name:  # the summary section starts
            _header(fields, summary, number, str)
            summary_row = next(rows, None)
            if summary_row is None:
                raise StatementMalformed(f"line {number}: the summary header has no summary row", field="content")
            extra = next(rows, None)
            if extra is not None:
                raise StatementMalformed(f"line {extra[0]}: nothing may follow the summary row", field="content")
            break
        if len(fields) != len(columns):
            raise StatementMalformed(
                f"line {number}: expected {len(columns)} fields, found {len(fields)}", field="content"
            )
        if not all(f.startswith("`") for f in fields):
            raise StatementMalformed(f"line {number}: every field of a detail row starts with `", field="content")
        values = [_tick(f).strip() for f in fields]
        if values[index["货币种类"]] != "CNY":
            raise StatementMalformed(f"line {number}: 货币种类 must be CNY", field="content")
        status = values[index["交易状态"]]
        if status == "SUCCESS":
            amount = _yuan(values[index["应结订单金额"]], number, "应结订单金额")
            line = Line("payment", _ref(values[index["微信订单号"]], number, "微信订单号"), amount)
        elif status == "REFUND":
            amount = _yuan(values[index["退款金额"]], number, "退款金额")
            line = Line("refund", _ref(values[index["微信退款单号"]], number, "微信退款单号"), amount)
        else:
            raise StatementMalformed(f"line {number}: 交易状态 must be SUCCESS or REFUND", field="content")
        if amount <= 0:
            raise StatementMalformed(f"line {number}: the amount must be greater than zero", field="content")
        totals[line.kind] += amount
        lines.append(line)
        if len(lines) > MAX_STATEMENT_LINES:
            return _bounded(lines)
    if summary_row is None:
        raise StatementMalformed("the statement has no summary section (总交易单数,...)", field="content")
    number, fields = summary_row
    if len(fields) != len(summary):
        raise StatementMalformed(f"line {number}: expected {len(summary)} fields, found {len(fields)}", field="content")
    values = [_tick(f).strip() for f in fields]
    count = values[0]
    if not _FEN.match(count) or int(count) != len(lines):
        raise StatementMalformed(f"line {number}: 总交易单数 does not equal the detail rows", field="content")
    if _yuan(values[1], number, "应结订单总金额") != totals["payment"]:
        raise StatementMalformed(f"line {number}: 应结订单总金额 does not equal the SUCCESS rows", field="content")
    if _yuan(values[2], number, "退款总金额") != totals["refund"]:
        raise StatementMalformed(f"line {number}: 退款总金额 does not equal the REFUND rows", field="content")
    return _bounded(lines)


PARSERS: dict[str, Callable[[str], list[Line]]] = {"generic_csv": parse_generic, "wechat_bill": parse_wechat}
assert set(PARSERS) == set(FORMATS)


def parse(format_name: str, text: str) -> list[Line]:
    """The statement's lines, or StatementMalformed (naming the line) for the whole file."""
    try:
        return PARSERS[format_name](text)
    except csv.Error:
        raise StatementMalformed("the statement is not valid CSV", field="content") from None
