"""Daily clearing (清算): after a business date's cut-off, its ledger entries become figures, net positions and
files per party (treatfirst.domain.clearing), written to the exports bucket (a folder locally).

How a run goes, per city (`run`): every business date after the clearing watermark (`sys#clearing#<city>` in the
accounts table, attribute `cleared_through`) up to the last date closed at least GRACE ago, in order:
1. read the day through the sparse, sharded per-day index (services.ledger_days: no scan, one item per entry);
2. compute the day (pure) and check that it reconciles to the entries read, to the fen;
3. write each party's CSV and JSON, then its manifest (SHA-256 and size of each file), then the day's summary
   (the manifest of manifests) last — deterministic bytes, so a rerun writes the very same files;
4. tell each hospital, financier and channel of the day that its files are ready: one `clearing.ready` event per
   party (services.events.event_put, its id from the party and the date, so a rerun adds none);
5. move the watermark past the date (a conditional write on the old value).
A crash anywhere leaves the watermark behind; the rerun recomputes the day from the same entries and rewrites the
same bytes, so a crashed run and its rerun equal one clean run. Late entries cannot change a cleared day: an
entry's business date is fixed at commit, and a date is cleared only GRACE after its cut-off.

Files: `clearing/<city>/<date>/<party kind>/<party id>/{clearing.csv, clearing.json, manifest.json}` and
`clearing/<city>/<date>/summary.json`. Each party reads only its own (`party_manifest`, `party_file`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from treatfirst.domain import clearing as c
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import ClearingNotFound, ClearingUnbalanced, ConcurrentUpdate, ValidationFailed
from treatfirst.messages import clearing as msg
from treatfirst.messages.common import to_item
from treatfirst.services.events import event_put
from treatfirst.services.identity import Caller
from treatfirst.services.ledger_days import entries_for_day
from treatfirst.services.ports import ACCOUNTS, EVENTS, ObjectMissing, Objects, Put, Update, Write
from treatfirst.services.unit_of_work import Context

GRACE = timedelta(minutes=10)  # a request that read the clock before the cut-off has committed by then
WATERMARK = "sys#clearing#"  # + city code
PREFIX = "clearing"
CONTENT_TYPES = {"clearing.csv": "text/csv; charset=utf-8", "manifest.json": "application/json"}
_log = logging.getLogger(__name__)


@dataclass
class ClearingResult:
    dates: list[str] = field(default_factory=list)
    entries: int = 0
    read: int = 0  # index items read
    parties: int = 0
    files: int = 0
    instructions: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dates": self.dates,
            "entries": self.entries,
            "read": self.read,
            "parties": self.parties,
            "files": self.files,
            "instructions": self.instructions,
            "events": self.events,
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
    result.events += emit_ready(ctx, computed)
    result.dates.append(text)
    result.entries += len(entries)
    result.read += len(entries)
    result.parties += len(computed.parties)
    result.instructions += len(computed.instructions)
    _log.info("clearing.day", extra={"business_date": text, "entries": len(entries)})
    return computed


EVENT_RECEIVERS = ("hospital", "financier", "channel")  # parties that are callers (a backstop fund is not)


def emit_ready(ctx: Context, day: c.Day) -> int:
    """One `clearing.ready` event per hospital, financier and channel of the day, each in its own small transaction
    (a day may have more parties than a transaction takes items); an event already written (a rerun after a crash)
    is skipped, so each party hears of its day once. Returns the number written now."""
    written = 0
    for party, pd in day.parties.items():
        kind, _, party_id = party.partition(":")
        if kind not in EVENT_RECEIVERS:
            continue
        data = {"business_date": day.business_date, "party": party_id, "net_fen": pd.net_fen, "files": 3}
        put = event_put(ctx, kind="clearing.ready", audience=party, subject=f"{party}#{day.business_date}", data=data)
        try:
            ctx.commit([put])
        except ConcurrentUpdate:
            if ctx.store.get(EVENTS, {"event_id": put.item["event_id"], "part": put.item["part"]}) is None:
                raise  # not ours: a real conflict
            continue
        written += 1
    return written


def _write(objects: Objects, key: str, data: bytes, name: str) -> None:
    with objects.writer(key, content_type=CONTENT_TYPES.get(name, "application/json")) as w:
        w.write(data)


# ---- reading a party's files over the signed API ------------------------------------------------------------------
def _party_of(caller: Caller, view: str, asked: str | None) -> str:
    """The party whose files the caller reads: its own (hospital, financier, channel), or for operators the one
    asked. Another party's files are not found (their existence is not revealed)."""
    own = f"{caller.kind}:{caller.principal_id}"
    if view == "any":
        if asked is None:
            raise ValidationFailed("operators name the party (?party=<kind>:<id>)", field="party")
        return asked
    if asked is not None and asked != own:
        raise ClearingNotFound()
    return own


def _read(objects: Objects, key: str) -> bytes:
    try:
        return objects.read(key)
    except ObjectMissing as missing:
        raise ClearingNotFound() from missing


def party_manifest(
    ctx: Context, caller: Caller, objects: Objects, business_date: str, query: msg.ClearingQuery
) -> dict[str, Any]:
    """The caller's manifest of a cleared business date (its files with SHA-256 and size, its net position)."""
    view = caller.may("clearing", "read")
    party = _party_of(caller, view, query.party)
    data = _read(objects, party_key(ctx.policy.city_code, business_date, party, "manifest.json"))
    manifest = json.loads(data)
    return to_item(
        msg.ClearingManifest(
            **{k: manifest[k] for k in msg.ClearingManifest.__struct_fields__ if k != "files"},
            files=[msg.ClearingFileEntry(**f) for f in manifest["files"]],
        )
    )


def party_file(
    ctx: Context, caller: Caller, objects: Objects, business_date: str, name: str, query: msg.ClearingFileQuery
) -> dict[str, Any]:
    """One piece (at most PIECE_BYTES from `offset`) of one of the caller's files, base64, with the whole file's
    size and SHA-256 so the receiver checks what it put together."""
    view = caller.may("clearing", "read")
    party = _party_of(caller, view, query.party)
    data = _read(objects, party_key(ctx.policy.city_code, business_date, party, name))
    offset = query.offset or 0
    if offset > len(data):
        raise ValidationFailed("offset is beyond the end of the file", field="offset")
    end = min(len(data), offset + msg.PIECE_BYTES)
    return to_item(
        msg.ClearingFile(
            name=name,  # type: ignore[arg-type]
            content_type=CONTENT_TYPES.get(name, "application/json"),
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            offset=offset,
            content_base64=base64.b64encode(data[offset:end]).decode(),
            next_offset=end if end < len(data) else None,
        )
    )
