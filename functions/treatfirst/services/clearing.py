"""Daily clearing (清算): after a business date's cut-off, its ledger entries become figures, net positions and
files per party (treatfirst.domain.clearing), written to the exports bucket (a folder locally).

How a run goes, per city (`run`): every business date after the clearing watermark (`sys#clearing#<city>` in the
accounts table, attribute `cleared_through`) up to the last date closed at least GRACE ago, in order:
1. read the day through the sparse, sharded per-day index (services.ledger_days: no scan, one item per entry);
2. compute the day (pure) and check that it reconciles to the entries read, to the fen;
3. write each party's CSV and JSON, then its manifest (SHA-256 and size of each file), then the day's summary
   (the manifest of manifests) last — deterministic bytes, so a rerun writes the very same files;
4. move the watermark past the date (a conditional write on the old value).
A crash anywhere leaves the watermark behind; the rerun recomputes the day from the same entries and rewrites the
same bytes, so a crashed run and its rerun equal one clean run. Late entries cannot change a cleared day: an
entry's business date is fixed at commit, and a date is cleared only GRACE after its cut-off.

Files: `clearing/<city>/<date>/<party kind>/<party id>/{clearing.csv, clearing.json, manifest.json}` and
`clearing/<city>/<date>/summary.json`. Each party reads only its own (`party_manifest`, `party_file`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from treatfirst.domain import clearing as c
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import ConcurrentUpdate, TreatFirstError
from treatfirst.services.ledger_days import entries_for_day
from treatfirst.services.ports import ACCOUNTS, Objects, Put, Update, Write
from treatfirst.services.unit_of_work import Context

GRACE = timedelta(minutes=10)  # a request that read the clock before the cut-off has committed by then
WATERMARK = "sys#clearing#"  # + city code
PREFIX = "clearing"
CONTENT_TYPES = {"clearing.csv": "text/csv; charset=utf-8", "manifest.json": "application/json"}
_log = logging.getLogger(__name__)


class ClearingUnbalanced(TreatFirstError):
    code = "CLEARING_UNBALANCED"


@dataclass
class ClearingResult:
    dates: list[str] = field(default_factory=list)
    entries: int = 0
    read: int = 0  # index items read
    parties: int = 0
    files: int = 0
    instructions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dates": self.dates,
            "entries": self.entries,
            "read": self.read,
            "parties": self.parties,
            "files": self.files,
            "instructions": self.instructions,
        }


def day_prefix(city_code: str, day: str) -> str:
    return f"{PREFIX}/{city_code}/{day}"


def party_key(city_code: str, day: str, party: str, name: str) -> str:
    return f"{day_prefix(city_code, day)}/{c.party_path(party)}/{name}"


def clearable_through(ctx: Context) -> date:
    """The last business date whose cut-off passed at least GRACE ago."""
    return closed_through(ctx.clock.now() - GRACE, zone=ctx.policy.timezone, cutoff=ctx.policy.due_at)


def run(ctx: Context, objects: Objects, *, through: date | None = None) -> ClearingResult:
    """Clear every business date after the watermark up to `through` (default: clearable_through), in order."""
    through = through or clearable_through(ctx)
    key = {"account_id": WATERMARK + ctx.policy.city_code}
    mark = ctx.store.get(ACCOUNTS, key)
    last = date.fromisoformat(mark["cleared_through"]) if mark else through - timedelta(days=1)
    result = ClearingResult()
    day = last + timedelta(days=1)
    while day <= through:
        clear_date(ctx, objects, day, result)
        done = {"cleared_through": day.isoformat()}
        write: Write = (
            Update(ACCOUNTS, key, set=done, expect={"cleared_through": last.isoformat()}, fail=ConcurrentUpdate)
            if mark
            else Put(ACCOUNTS, {**key, **done}, fail=ConcurrentUpdate)
        )
        ctx.commit([write])
        mark, last = {"cleared_through": day.isoformat()}, day
        day += timedelta(days=1)
    return result


def clear_date(ctx: Context, objects: Objects, day: date, result: ClearingResult | None = None) -> c.Day:
    """Clear one business date (idempotent: the same entries give the same files)."""
    result = result if result is not None else ClearingResult()
    city, text = ctx.policy.city_code, day.isoformat()
    entries = list(entries_for_day(ctx, city_code=city, business_date=text))
    computed = c.clear_day(city, text, entries)
    problems = c.reconciliation_problems(computed, entries)
    if problems:  # never expected: the run stops before writing anything of the day
        raise ClearingUnbalanced("; ".join(problems[:5]))
    manifests: dict[str, bytes] = {}
    for party in computed.parties:
        files = c.party_files(computed, party)
        for name, data in files.items():
            _write(objects, party_key(city, text, party, name), data, name)
        manifest = c.manifest_bytes(computed, party, files)
        _write(objects, party_key(city, text, party, "manifest.json"), manifest, "manifest.json")
        manifests[party] = manifest
        result.files += len(files) + 1
    _write(objects, f"{day_prefix(city, text)}/summary.json", c.summary_bytes(computed, manifests), "summary.json")
    result.files += 1
    result.dates.append(text)
    result.entries += len(entries)
    result.read += len(entries)
    result.parties += len(computed.parties)
    result.instructions += len(computed.instructions)
    _log.info("clearing.day", extra={"business_date": text, "entries": len(entries)})
    return computed


def _write(objects: Objects, key: str, data: bytes, name: str) -> None:
    with objects.writer(key, content_type=CONTENT_TYPES.get(name, "application/json")) as w:
        w.write(data)
