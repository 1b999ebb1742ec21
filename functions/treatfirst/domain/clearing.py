"""Daily clearing (清算), pure: one business date's ledger entries -> figures, net positions and the files per party.

Input: the day's entries as the per-day index gives them (treatfirst.services.ledger_days), each with its kind,
amount and the parties stamped at commit (hospital_id, financier_id, channel_id, fund_id). The money each kind moves
between parties under each funding model is the movement table `treatfirst.domain.ledger.SETTLEMENT`; an entry's
model is the one it was committed under (an entry with a financier was committed under financier_advance).

Output (`clear_day`):
- totals by kind over every entry of the day (what reconciles to the ledger, to the fen);
- instructions: for each pair of parties, what one pays the other net, with the gross each way and the ids of the
  entries it nets (checking is containment, not fuzzy matching);
- per party (hospital, financier, channel, backstop fund): its figures (self-pay posted, refunds, payments collected,
  write-offs, recoveries, backstop reimbursements), its position with each counterparty (pay, receive, net) and the
  lines (entries) that name it.
Nothing depends on the order of the input or on the clock: the same entries give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from treatfirst.domain.ledger import FIGURES, FUND_FIGURES, SETTLEMENT

# Columns of a party's CSV file (one line per ledger entry that names the party), in order.
LINE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("entry_id", "账本分录编号", "ledger entry id"),
    ("business_date", "业务日期", "business date (the city's zone and cut-off, set at commit)"),
    ("kind", "分录类型", "movement kind (domain/ledger.py MOVEMENTS)"),
    ("figure", "清算项目", "the clearing figure the entry counts toward (empty: none)"),
    ("amount_fen", "金额（分）", "amount in fen, positive"),
    ("ref_type", "业务类型", "what caused it: charge, refund, bill, payment"),
    ("ref_id", "业务编号", "its id (a charge: <visit_id>/<fee_line_id>)"),
    ("hospital_id", "医疗机构", "hospital"),
    ("financier_id", "资金方", "financier (financier_advance cities)"),
    ("channel_id", "支付渠道", "payment channel (payments and recoveries)"),
    ("channel_txn_id", "渠道交易号", "the channel's transaction id"),
    ("fund_id", "托底资金", "backstop fund (its own entries)"),
    ("instruction_id", "清算指令", "the instruction that nets it (empty: it moves no money)"),
    ("payer", "付款方", "who pays for it: <kind>:<id>"),
    ("payee", "收款方", "who is paid: <kind>:<id>"),
)
# Fields of an instruction (JSON files and the day summary).
INSTRUCTION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("instruction_id", "指令编号", "stable: from the city, the date and the two parties"),
    ("payer", "付款方", "<kind>:<id> that pays the net amount"),
    ("payee", "收款方", "<kind>:<id> that receives it"),
    ("amount_fen", "净额（分）", "net amount, >= 0 (gross payer->payee minus gross payee->payer)"),
    ("gross_payer_to_payee_fen", "付款方应付总额", "gross the payer owes the payee"),
    ("gross_payee_to_payer_fen", "收款方应付总额", "gross the payee owes the payer"),
    ("entry_ids", "分录编号", "every ledger entry it nets, sorted"),
)
# Fields of a party's position with one counterparty.
POSITION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("counterparty", "对方", "<kind>:<id>"),
    ("instruction_id", "清算指令", "the instruction between the two"),
    ("pay_fen", "应付（分）", "gross this party pays the counterparty"),
    ("receive_fen", "应收（分）", "gross this party receives"),
    ("net_fen", "净额（分）", "receive - pay: positive, the party is paid"),
)
FIGURE_LABELS: dict[str, tuple[str, str]] = {
    "self_pay_posted_fen": ("自付记账", "self-pay posted"),
    "refunds_fen": ("退款", "refunds"),
    "payments_collected_fen": ("还款收取", "payments collected"),
    "write_offs_fen": ("核销", "write-offs"),
    "recoveries_fen": ("核销后追回", "recoveries"),
    "backstop_reimbursements_fen": ("托底补偿", "backstop reimbursements"),
}
FILE_NAMES = ("clearing.csv", "clearing.json", "manifest.json")  # per party, the manifest written last
FORMAT_VERSION = "1"


@dataclass
class PartyDay:
    party: str
    figures: dict[str, int]
    lines: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def net_fen(self) -> int:
        return sum(p["net_fen"] for p in self.positions)


@dataclass
class Day:
    city_code: str
    business_date: str
    totals: dict[str, dict[str, int]]  # kind -> {"count", "amount_fen"}
    instructions: list[dict[str, Any]]
    parties: dict[str, PartyDay]
    unassigned: list[str]  # entries whose movement names a party the entry lacks (written before parties were kept)


def model_of(entry: Mapping[str, Any]) -> str:
    return "financier_advance" if entry.get("financier_id") else "hospital_receivable"


def _role_party(entry: Mapping[str, Any], role: str) -> str | None:
    if role == "fund":
        fund = entry.get("fund_id")
        # a hospital or a financier named as the backstop absorbs the loss itself: it is that party
        if fund == "hospital" and entry.get("hospital_id"):
            return f"hospital:{entry['hospital_id']}"
        if fund == "financier" and entry.get("financier_id"):
            return f"financier:{entry['financier_id']}"
        return f"fund:{fund}" if fund else None
    value = entry.get(f"{role}_id")
    return f"{role}:{value}" if value else None


def parties_named(entry: Mapping[str, Any]) -> list[str]:
    """The parties whose files list the entry: each party it names."""
    named = [_role_party(entry, r) for r in ("hospital", "financier", "channel")]
    if entry.get("fund_id"):
        named.append(_role_party(entry, "fund"))
    return sorted({p for p in named if p})


def figure_of(kind: str, party: str) -> str:
    table = FUND_FIGURES if party.startswith("fund:") else FIGURES
    return next((name for name, kinds in table.items() if kind in kinds), "")


def instruction_id(city_code: str, business_date: str, a: str, b: str) -> str:
    first, second = sorted((a, b))
    return "ins_" + hashlib.sha256(f"{city_code}|{business_date}|{first}|{second}".encode()).hexdigest()[:24]


def clear_day(city_code: str, business_date: str, entries: Iterable[Mapping[str, Any]]) -> Day:
    ordered = sorted(entries, key=lambda e: e["entry_id"])
    totals: dict[str, dict[str, int]] = {}
    gross: dict[tuple[str, str], int] = {}
    netted: dict[frozenset[str], list[str]] = {}
    movement: dict[str, tuple[str, str]] = {}
    unassigned: list[str] = []
    for entry in ordered:
        if entry.get("business_date") not in (None, business_date):
            raise ValueError(f"entry {entry['entry_id']} belongs to {entry.get('business_date')}")
        kind, amount = entry["kind"], int(entry["amount_fen"])
        t = totals.setdefault(kind, {"count": 0, "amount_fen": 0})
        t["count"] += 1
        t["amount_fen"] += amount
        roles = SETTLEMENT[model_of(entry)].get(kind)
        if roles is None:
            continue
        payer, payee = _role_party(entry, roles[0]), _role_party(entry, roles[1])
        if payer is None or payee is None:
            unassigned.append(entry["entry_id"])
            continue
        if payer == payee:  # the backstop is the creditor itself: it absorbs the loss, no money moves
            continue
        gross[(payer, payee)] = gross.get((payer, payee), 0) + amount
        netted.setdefault(frozenset((payer, payee)), []).append(entry["entry_id"])
        movement[entry["entry_id"]] = (payer, payee)

    instructions: list[dict[str, Any]] = []
    by_pair: dict[frozenset[str], dict[str, Any]] = {}
    for pair, ids in netted.items():
        a, b = sorted(pair)
        ab, ba = gross.get((a, b), 0), gross.get((b, a), 0)
        payer, payee, forward, back = (a, b, ab, ba) if ab >= ba else (b, a, ba, ab)
        made: dict[str, Any] = {
            "instruction_id": instruction_id(city_code, business_date, a, b),
            "payer": payer,
            "payee": payee,
            "amount_fen": forward - back,
            "gross_payer_to_payee_fen": forward,
            "gross_payee_to_payer_fen": back,
            "entry_ids": sorted(ids),
        }
        instructions.append(made)
        by_pair[pair] = made
    instructions.sort(key=lambda i: i["instruction_id"])

    parties: dict[str, PartyDay] = {}

    def party_day(party: str) -> PartyDay:
        if party not in parties:
            table = FUND_FIGURES if party.startswith("fund:") else FIGURES
            parties[party] = PartyDay(party, dict.fromkeys(table, 0))
        return parties[party]

    for entry in ordered:
        moved = movement.get(entry["entry_id"])
        ins = by_pair[frozenset(moved)] if moved else None
        for party in parties_named(entry) + [p for p in (moved or ()) if p not in parties_named(entry)]:
            pd = party_day(party)
            figure = figure_of(entry["kind"], party)
            if figure:
                pd.figures[figure] += int(entry["amount_fen"])
            pd.lines.append(
                {
                    "entry_id": entry["entry_id"],
                    "business_date": business_date,
                    "kind": entry["kind"],
                    "figure": figure,
                    "amount_fen": int(entry["amount_fen"]),
                    "ref_type": entry.get("ref_type", ""),
                    "ref_id": entry.get("ref_id", ""),
                    "hospital_id": entry.get("hospital_id", ""),
                    "financier_id": entry.get("financier_id", ""),
                    "channel_id": entry.get("channel_id", ""),
                    "channel_txn_id": entry.get("channel_txn_id", ""),
                    "fund_id": entry.get("fund_id", ""),
                    "instruction_id": ins["instruction_id"] if ins else "",
                    "payer": moved[0] if moved else "",
                    "payee": moved[1] if moved else "",
                }
            )
    for instruction in instructions:
        payer_, payee_ = str(instruction["payer"]), str(instruction["payee"])
        for me, other in ((payer_, payee_), (payee_, payer_)):
            pay = gross.get((me, other), 0)
            receive = gross.get((other, me), 0)
            party_day(me).positions.append(
                {
                    "counterparty": other,
                    "instruction_id": instruction["instruction_id"],
                    "pay_fen": pay,
                    "receive_fen": receive,
                    "net_fen": receive - pay,
                }
            )
    for pd in parties.values():
        pd.positions.sort(key=lambda p: p["counterparty"])
    return Day(city_code, business_date, totals, instructions, dict(sorted(parties.items())), sorted(unassigned))


def reconciliation_problems(day: Day, entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Empty when the day reconciles to the ledger to the fen: totals by kind equal the entries', every entry that
    moves money is netted by exactly one instruction whose amount is its entries' signed sum, positions balance."""
    problems: list[str] = []
    listed = list(entries)
    sums: dict[str, int] = {}
    for e in listed:
        sums[e["kind"]] = sums.get(e["kind"], 0) + int(e["amount_fen"])
    if {k: v["amount_fen"] for k, v in day.totals.items()} != sums:
        problems.append("totals by kind differ from the ledger")
    by_id = {e["entry_id"]: e for e in listed}
    seen: dict[str, str] = {}
    for ins in day.instructions:
        signed = 0
        for entry_id in ins["entry_ids"]:
            if entry_id in seen:
                problems.append(f"{entry_id} is netted twice")
            seen[entry_id] = ins["instruction_id"]
            found = by_id.get(entry_id)
            if found is None:
                problems.append(f"{entry_id} is not an entry of the day")
                continue
            payer, payee = SETTLEMENT[model_of(found)][found["kind"]]
            forward = _role_party(found, payer) == ins["payer"] and _role_party(found, payee) == ins["payee"]
            signed += int(found["amount_fen"]) if forward else -int(found["amount_fen"])
        if signed != ins["amount_fen"] or ins["amount_fen"] < 0:
            problems.append(f"{ins['instruction_id']} nets {signed}, says {ins['amount_fen']}")
    for e in listed:
        roles = SETTLEMENT[model_of(e)].get(e["kind"])
        unnetted = roles and e["entry_id"] not in seen and e["entry_id"] not in day.unassigned
        if unnetted and roles and _role_party(e, roles[0]) != _role_party(e, roles[1]):
            problems.append(f"{e['entry_id']} moves money but no instruction nets it")
    if sum(pd.net_fen for pd in day.parties.values()) != 0:
        problems.append("net positions do not sum to zero")
    return problems


# ---- files ----------------------------------------------------------------------------------------------------
def party_path(party: str) -> str:
    kind, _, party_id = party.partition(":")
    return f"{kind}/{party_id}"


def _json_bytes(value: Any) -> bytes:
    # compact (the C encoder; indenting falls back to the pure-Python one, ten times slower on a big day)
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def party_files(day: Day, party: str) -> dict[str, bytes]:
    """The party's CSV and JSON for the day (the manifest is `manifest_bytes`, written after them)."""
    pd = day.parties[party]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _, _ in LINE_FIELDS])
    for line in pd.lines:
        writer.writerow([line[name] for name, _, _ in LINE_FIELDS])
    ids = {p["instruction_id"] for p in pd.positions}
    document = {
        "format_version": FORMAT_VERSION,
        "city_code": day.city_code,
        "business_date": day.business_date,
        "party": party,
        "figures": pd.figures,
        "net_fen": pd.net_fen,
        "positions": pd.positions,
        "instructions": [i for i in day.instructions if i["instruction_id"] in ids],
        "lines": pd.lines,
    }
    return {"clearing.csv": out.getvalue().encode(), "clearing.json": _json_bytes(document)}


def manifest_bytes(day: Day, party: str, files: Mapping[str, bytes]) -> bytes:
    pd = day.parties[party]
    return _json_bytes(
        {
            "format_version": FORMAT_VERSION,
            "city_code": day.city_code,
            "business_date": day.business_date,
            "party": party,
            "lines": len(pd.lines),
            "net_fen": pd.net_fen,
            "files": [
                {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                for name, data in sorted(files.items())
            ],
        }
    )


def summary_bytes(day: Day, manifests: Mapping[str, bytes]) -> bytes:
    """The day's summary for operators (written last of all: the day's files are complete when it exists)."""
    return _json_bytes(
        {
            "format_version": FORMAT_VERSION,
            "city_code": day.city_code,
            "business_date": day.business_date,
            "totals": day.totals,
            "instructions": day.instructions,
            "unassigned": day.unassigned,
            "parties": [
                {
                    "party": party,
                    "net_fen": day.parties[party].net_fen,
                    "manifest_sha256": hashlib.sha256(data).hexdigest(),
                }
                for party, data in sorted(manifests.items())
            ],
        }
    )
