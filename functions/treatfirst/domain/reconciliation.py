"""Reconciliation (对账), pure: two levels like the national 医保 interfaces 3201 (day totals -> a verdict) and
3202 (detail lines -> a verdict per line), and the suspense list's running balance per reference (挂账).

A line is (kind, ref, amount_fen). Both sides' lines are summed per (kind, ref); each key then gets one verdict:
- `matched` (平账): both sides have it with the same amount;
- `platform_only` (单边账, 平台有): the platform recorded it, the counterparty's file does not list it;
- `counterparty_only` (单边账, 对方有): the counterparty lists it, the platform has no record of it;
- `amount_mismatch`: both have it with different amounts; `difference_fen` = counterparty - platform, 长款 when
  positive (the counterparty's money is more than the platform's records), 短款 when negative.

The platform side comes from the ledger's entries of one business date (the kinds below say which ledger
movements make up each reconciliation kind), so checking is containment against what was committed, never
fuzzy matching on times or names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from treatfirst.domain import ledger

# ---- the kinds, from the ledger's movements ------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    ledger_kinds: tuple[str, ...]  # the ledger movements summed into this kind
    ref: str  # what a line's `ref` is for this kind (English)
    ref_zh: str
    zh: str
    en: str


# A hospital's day: the self-pay it posted on credit and the self-pay it refunded or cancelled (before or after
# the visit closed; emergency charges included). Lines of a kind carry the ledger entry's own reference.
HOSPITAL_KINDS: tuple[Kind, ...] = (
    Kind(
        "self_pay_posted",
        ("hold", "emergency_hold"),
        "`<visit_id>/<fee_line_id>`: the visit id the platform returned and the HIS's own fee-line id",
        "`<visit_id>/<fee_line_id>`：平台返回的就诊编号与 HIS 自己的费用明细流水号",
        "记账自付金额",
        "self-pay posted on credit",
    ),
    Kind(
        "self_pay_refunded",
        ("release_hold", "release_owed", "emergency_release_hold", "emergency_release_owed"),
        "`refund_id`: the id the platform returned for the refund or cancellation",
        "`refund_id`：退费或撤销时平台返回的退费编号",
        "退费（含撤销）自付金额",
        "self-pay refunded or cancelled",
    ),
)

# A channel's day: the payments it collected (credit, emergency and recoveries of written-off bills alike: one
# line per payment, keyed by the channel's transaction id), and refunds (which the platform does not take from
# channels: every refund line in a statement is a break for an operator to look at).
CHANNEL_KINDS: tuple[Kind, ...] = (
    Kind(
        "payment",
        ("payment", "emergency_payment", "recovery"),
        "`channel_txn_id`: the channel's transaction id, as sent with the payment",
        "`channel_txn_id`：渠道交易号（还款通知时所带）",
        "还款",
        "payment collected",
    ),
    Kind(
        "refund",
        (),
        "the channel's refund id",
        "渠道退款单号",
        "渠道退款（平台不受理渠道退款：每一笔都进入挂账）",
        "channel refund (the platform takes no refunds from channels: each one goes to suspense)",
    ),
)

for _kind in (*HOSPITAL_KINDS, *CHANNEL_KINDS):
    assert set(_kind.ledger_kinds) <= set(ledger.MOVEMENTS), _kind.name

HOSPITAL_KIND_NAMES = tuple(k.name for k in HOSPITAL_KINDS)
CHANNEL_KIND_NAMES = tuple(k.name for k in CHANNEL_KINDS)


def kind_of(ledger_kind: str, kinds: Iterable[Kind]) -> str | None:
    """The reconciliation kind a ledger movement counts toward (None: it is not reconciled with this party)."""
    for kind in kinds:
        if ledger_kind in kind.ledger_kinds:
            return kind.name
    return None


# ---- results ------------------------------------------------------------------------------------------------
MATCHED, PLATFORM_ONLY, COUNTERPARTY_ONLY, AMOUNT_MISMATCH = (
    "matched",
    "platform_only",
    "counterparty_only",
    "amount_mismatch",
)
RESULTS: dict[str, tuple[str, str]] = {
    MATCHED: ("平账：两边都有，金额一致", "both sides have it with the same amount"),
    PLATFORM_ONLY: ("单边账（平台有、对方无）", "one-sided: the platform has it, the counterparty's file does not"),
    COUNTERPARTY_ONLY: ("单边账（对方有、平台无）", "one-sided: the counterparty lists it, the platform has no record"),
    AMOUNT_MISMATCH: (
        "金额不符：差额 = 对方 − 平台，为正是长款，为负是短款",
        "amounts differ: difference = counterparty - platform; positive is 长款 (over), negative 短款 (short)",
    ),
}
BREAKS = (PLATFORM_ONLY, COUNTERPARTY_ONLY, AMOUNT_MISMATCH)


@dataclass(frozen=True)
class Line:
    kind: str
    ref: str
    amount_fen: int


@dataclass(frozen=True)
class Verdict:
    kind: str
    ref: str
    result: str
    platform_amount_fen: int | None  # None: absent on that side
    counterparty_amount_fen: int | None

    @property
    def difference_fen(self) -> int:
        """counterparty - platform (an absent side counts as 0): positive is 长款, negative 短款."""
        return (self.counterparty_amount_fen or 0) - (self.platform_amount_fen or 0)


Key = tuple[str, str]


def summed(lines: Iterable[Line]) -> dict[Key, int]:
    """Amounts per (kind, ref), in first-seen order."""
    out: dict[Key, int] = {}
    for line in lines:
        out[(line.kind, line.ref)] = out.get((line.kind, line.ref), 0) + line.amount_fen
    return out


def verdict(key: Key, platform: int | None, counterparty: int | None) -> Verdict:
    if platform is None and counterparty is None:
        raise ValueError("a verdict needs at least one side")
    if platform is None:
        result = COUNTERPARTY_ONLY
    elif counterparty is None:
        result = PLATFORM_ONLY
    else:
        result = MATCHED if platform == counterparty else AMOUNT_MISMATCH
    return Verdict(key[0], key[1], result, platform, counterparty)


def match(platform: Iterable[Line], counterparty: Iterable[Line]) -> list[Verdict]:
    """One verdict per (kind, ref) on either side: the counterparty's keys in its order, then the platform's
    keys it lacks, in the platform's order."""
    ours, theirs = summed(platform), summed(counterparty)
    verdicts = [verdict(key, ours.get(key), amount) for key, amount in theirs.items()]
    verdicts += [verdict(key, amount, None) for key, amount in ours.items() if key not in theirs]
    return verdicts


# ---- level 1: totals by kind ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    count: int
    amount_fen: int


@dataclass(frozen=True)
class KindComparison:
    kind: str
    platform: Totals
    counterparty: Totals

    @property
    def balanced(self) -> bool:
        return self.platform == self.counterparty

    @property
    def difference_fen(self) -> int:
        return self.counterparty.amount_fen - self.platform.amount_fen


def totals(lines: Iterable[Line]) -> dict[str, Totals]:
    """Count and amount per kind; the count is of distinct references (a fee line refunded twice is one)."""
    per_kind: dict[str, tuple[int, int]] = {}
    for (kind, _), amount in summed(lines).items():
        count, total = per_kind.get(kind, (0, 0))
        per_kind[kind] = (count + 1, total + amount)
    return {kind: Totals(count, total) for kind, (count, total) in per_kind.items()}


def compare_totals(
    kinds: Iterable[str], platform: Mapping[str, Totals], counterparty: Mapping[str, Totals]
) -> list[KindComparison]:
    """Every kind, both sides (a kind absent on a side counts as zero lines and zero fen)."""
    zero = Totals(0, 0)
    return [KindComparison(k, platform.get(k, zero), counterparty.get(k, zero)) for k in kinds]


# ---- suspense (挂账): a running balance per reference ------------------------------------------------------------

# Who must act on a break, by result: the platform's operators when money arrived with no record of it; the channel
# when the platform recorded a payment its statement lacks or states differently.
OWNERS: dict[str, tuple[str, str, str]] = {
    COUNTERPARTY_ONLY: ("operator", "运营方：查明无记录的来款", "operator: find the money's missing record"),
    PLATFORM_ONLY: ("channel", "渠道：核实对账单漏记的交易", "channel: check the transaction its statement lacks"),
    AMOUNT_MISMATCH: ("channel", "渠道：核实金额", "channel: check the amount"),
}


@dataclass(frozen=True)
class Balance:
    """What each side has said about one reference so far (None: nothing yet)."""

    platform_fen: int | None
    counterparty_fen: int | None

    def plus(self, platform: int | None, counterparty: int | None) -> Balance:
        def add(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return Balance(add(self.platform_fen, platform), add(self.counterparty_fen, counterparty))

    @property
    def settled(self) -> bool:
        return self.platform_fen is not None and self.platform_fen == self.counterparty_fen

    def verdict(self, key: Key) -> Verdict:
        return verdict(key, self.platform_fen, self.counterparty_fen)
