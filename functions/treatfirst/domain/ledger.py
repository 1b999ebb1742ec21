"""Ledger movements on a credit line: every effect is one named movement between buckets.

For every line at every moment: limit_fen == available_fen + held_fen + owed_fen, each >= 0.
Emergency charges (急危重症) never draw on the line: they move through the emergency buckets, which sit
outside the limit and fall to the emergency-aid backstop if unpaid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

BUCKETS = ("available_fen", "held_fen", "owed_fen", "emergency_held_fen", "emergency_owed_fen")

# kind -> {bucket: sign}; the amount is always positive, the sign gives the direction.
MOVEMENTS: dict[str, dict[str, int]] = {
    "open_line": {"available_fen": +1},
    "hold": {"available_fen": -1, "held_fen": +1},
    "release_hold": {"held_fen": -1, "available_fen": +1},
    "issue": {"held_fen": -1, "owed_fen": +1},
    "release_owed": {"owed_fen": -1, "available_fen": +1},
    "payment": {"owed_fen": -1, "available_fen": +1},
    "emergency_hold": {"emergency_held_fen": +1},
    "emergency_release_hold": {"emergency_held_fen": -1},
    "emergency_issue": {"emergency_held_fen": -1, "emergency_owed_fen": +1},
    "emergency_release_owed": {"emergency_owed_fen": -1},
    "emergency_payment": {"emergency_owed_fen": -1},
    # Write-off (核销): the debt leaves the line for the backstop fund; the line shrinks by the credit written off.
    "write_off": {"owed_fen": -1},
    "emergency_write_off": {"emergency_owed_fen": -1},
    # Money received for a written-off bill: a recovery for the fund, no effect on the line.
    "recovery": {},
    # The fund's side (entries on "fund#<fund>#<shard>"): what it absorbed and what it got back.
    "backstop_write_off": {},
    "backstop_recovery": {},
}

# ---- settlement: the money each movement makes between parties at the daily clearing -------------------------------
# Parties of the clearing (a backstop fund is a party too; the patient is not: the credit line is their side).
PARTIES = ("hospital", "financier", "channel", "fund")

# Per funding model: kind -> (payer, payee) of the money the clearing instructs for an entry of that kind. A kind not
# named moves no money between parties (it changes the patient's credit line only, or is the memo side of a pair).
# hospital_receivable: the hospital carries the receivable; the channels forward what they collected to it, and the
#   backstop fund reimburses what is written off.
# financier_advance: the hospital's financier (policy `financiers`) pays it the posted self-pay, the hospital returns
#   refunds to the financier, the channels forward collected payments to the financier, and the backstop fund
#   reimburses the financier's write-offs.
# In both, money collected on a written-off bill (a recovery) goes from the channel to the fund that absorbed it.
SETTLEMENT: dict[str, dict[str, tuple[str, str]]] = {
    "hospital_receivable": {
        "payment": ("channel", "hospital"),
        "emergency_payment": ("channel", "hospital"),
        "backstop_write_off": ("fund", "hospital"),
        "backstop_recovery": ("channel", "fund"),
    },
    "financier_advance": {
        "hold": ("financier", "hospital"),
        "emergency_hold": ("financier", "hospital"),
        "release_hold": ("hospital", "financier"),
        "release_owed": ("hospital", "financier"),
        "emergency_release_hold": ("hospital", "financier"),
        "emergency_release_owed": ("hospital", "financier"),
        "payment": ("channel", "financier"),
        "emergency_payment": ("channel", "financier"),
        "backstop_write_off": ("fund", "financier"),
        "backstop_recovery": ("channel", "fund"),
    },
}

# The figures of the daily clearing, each a sum of entries of these kinds (a fund's recoveries are its own side).
FIGURES: dict[str, tuple[str, ...]] = {
    "self_pay_posted_fen": ("hold", "emergency_hold"),
    "refunds_fen": ("release_hold", "release_owed", "emergency_release_hold", "emergency_release_owed"),
    "payments_collected_fen": ("payment", "emergency_payment"),
    "write_offs_fen": ("write_off", "emergency_write_off"),
    "recoveries_fen": ("recovery",),
    "backstop_reimbursements_fen": ("backstop_write_off",),
}
FUND_FIGURES: dict[str, tuple[str, ...]] = {
    "backstop_reimbursements_fen": ("backstop_write_off",),
    "recoveries_fen": ("backstop_recovery",),
}

# Kinds whose entries are in the per-day index (every entry has its business date; opening a line moves no money
# between parties, so it stays out of the index).
DAILY_KINDS = frozenset(MOVEMENTS) - {"open_line"}

# Movements that change the limit itself (the line grows or shrinks with them).
LIMIT_MOVEMENTS = {"open_line": +1, "write_off": -1}


def delta(kind: str, amount_fen: int) -> dict[str, int]:
    if amount_fen <= 0:
        raise ValueError("a movement moves a positive amount")
    return {bucket: sign * amount_fen for bucket, sign in MOVEMENTS[kind].items()}


def combine(*deltas: Mapping[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for d in deltas:
        for bucket, value in d.items():
            total[bucket] = total.get(bucket, 0) + value
    return {k: v for k, v in total.items() if v}


def limit_delta(kind: str, amount_fen: int) -> int:
    return LIMIT_MOVEMENTS.get(kind, 0) * amount_fen


def recompute(entries: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """Balances rebuilt from ledger entries alone (each entry has `kind`, `amount_fen`)."""
    balances = dict.fromkeys(("limit_fen", *BUCKETS), 0)
    for entry in entries:
        kind, amount = str(entry["kind"]), entry["amount_fen"]
        assert isinstance(amount, int)
        balances["limit_fen"] += limit_delta(kind, amount)
        for bucket, value in delta(kind, amount).items():
            balances[bucket] += value
    return balances


def invariant_violations(line: Mapping[str, object]) -> list[str]:
    """Empty when the line is sound."""
    problems = []
    values = {k: line[k] for k in ("limit_fen", *BUCKETS)}
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{name} is not an integer")
        elif value < 0:
            problems.append(f"{name} is negative ({value})")
    if not problems and values["limit_fen"] != values["available_fen"] + values["held_fen"] + values["owed_fen"]:  # type: ignore[operator]
        problems.append("limit_fen != available_fen + held_fen + owed_fen")
    return problems
