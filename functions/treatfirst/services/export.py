"""The blacklist export to the city credit platform: daily deltas, a signed manifest chain, and the platform's
three operations (list, download, acknowledge).

Rules (国办发〔2020〕49号: a list needs a legal basis; PIPL: minimum necessary):
- A city exports only when its policy enables export AND names the legal basis of reporting as a structured
  reference (document, title, text: `export_basis`). Otherwise nothing is written at all: the records stay inside
  the platform (`run` returns the reason and touches neither the bucket nor the registry).
- An addition is delivered only for a person whose credit-reporting consent (or, where the law is the basis, the
  notice) is on record (`services.consents.on_record`) when the policy requires it; a removal only for a record
  whose addition was delivered (a marker in the registry), so the platform never learns of a record it was not
  given. A delivered addition stays delivered in a re-run of its window (the marker decides, not today's consent):
  re-running a window gives identical bytes.
- Identifiers are decrypted only through `services.identity_data.identity_of`; the full ID number appears in the
  delivered files and nowhere else (not in logs, not in the registry).
- Days are business days of the city (its time zone, the policy's cut-off), one delivery per closed day, in order,
  with no gap: the scheduled run catches up every closed day since the last delivery (at most MAX_WINDOWS a run).
- Memory stays flat: changes are streamed page by page, lines go to the files as they come, each file is hashed
  while it is written and uploaded in parts; markers are committed in small batches.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any, Protocol

import msgspec

from treatfirst.domain import export as x
from treatfirst.domain.collection import closed_through
from treatfirst.domain.errors import ExportManifestMismatch, ExportNotFound, IdentityErased
from treatfirst.domain.policy import Policy
from treatfirst.messages import exports as msg
from treatfirst.messages.common import to_item
from treatfirst.services import consents, identity_data
from treatfirst.services.idempotency import FileOutcome, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.paging import PageQuery, decode_cursor, page_view
from treatfirst.services.ports import (
    ACCOUNTS,
    BATCH_GET_KEYS,
    DATA_KEYS,
    EXPORTS,
    TRANSACTION_ITEMS,
    Item,
    Objects,
    Put,
    Update,
    Write,
)
from treatfirst.services.records import audit
from treatfirst.services.unit_of_work import Context

log = logging.getLogger("treatfirst.export")

MAX_WINDOWS = 31  # closed days delivered by one run; a longer outage is caught up over the next runs
PAGE_ROWS = BATCH_GET_KEYS  # change rows handled together: their markers, consents, accounts and keys read in batches
CONSENT_KIND = "credit_reporting"
MAX_DOWNLOAD_BYTES = x.PART_BYTES + 64 * 1024


class Signer(Protocol):
    def signing(self) -> x.Signing: ...

    def sign(self, data: bytes) -> bytes: ...


def _changes(ctx: Context, **window: Any) -> Iterator[dict[str, Any]]:
    from treatfirst.services.blacklist import changes

    return changes(ctx, **window)


@dataclass
class Sources:
    """What the export reads besides the registry: the blacklist's change log, consents, identities. `on_record`
    and `identity_of` left None mean the privacy services (services.consents, services.identity_data), read a
    page of rows at a time; a per-row stand-in given here is called once per row that needs it."""

    changes: Callable[..., Iterator[Mapping[str, Any]]] = _changes
    on_record: Callable[[Context, str, str], bool] | None = None
    identity_of: Callable[[Context, Item], Mapping[str, Any] | None] | None = None


# ---- may this city export at all? -------------------------------------------------------------------------------
def export_basis(policy: Policy) -> dict[str, Any] | None:
    """The structured legal basis of reporting, or None when the policy does not allow export.

    Export needs `blacklist_export.enabled` and a legal basis naming its document (not only a sentence of text)."""
    if not policy.blacklist_export_enabled or policy.blacklist_export_basis is None:
        return None
    return policy.blacklist_export_basis.as_dict()


def why_not(policy: Policy) -> str | None:
    if not policy.blacklist_export_enabled:
        return "the city policy does not enable export (blacklist_export.enabled is false)"
    if export_basis(policy) is None:
        return "the city policy names no structured legal basis for export (blacklist_export.legal_basis.document)"
    return None


def consent_required(policy: Policy) -> bool:
    return policy.blacklist_export_consent_required


def source_of(policy: Policy) -> dict[str, str]:
    return {"code": policy.city_code, "name": policy.operator_name}


# ---- one window ---------------------------------------------------------------------------------------------------
@dataclass
class WindowResult:
    export_id: str
    window_from: str
    sequence: int
    manifest_sha256: str
    counts: dict[str, int]
    withheld: dict[str, int] = field(default_factory=dict)
    rerun: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "window_from": self.window_from,
            "sequence": self.sequence,
            "manifest_sha256": self.manifest_sha256,
            "counts": self.counts,
            "withheld": self.withheld,
            "rerun": self.rerun,
        }


class ExportChainBroken(Exception):
    """A window cannot be delivered: the one before it was not (deliver in order), or a re-run changed bytes."""


def _window_key(day: date) -> dict[str, str]:
    return {"stream": x.STREAM, "item_key": day.isoformat()}


def _marker_key(record_id: str) -> dict[str, str]:
    return {"stream": f"{x.STREAM}#rec#{record_id}", "item_key": "added"}


def latest_window(ctx: Context) -> Item | None:
    page = ctx.store.query(EXPORTS, x.STREAM, limit=1, forward=False)
    return page.items[0] if page.items else None


def export_window(
    ctx: Context, objects: Objects, signer: Signer, day: date, sources: Sources | None = None, *, part_bytes: int = 0
) -> WindowResult:
    """Deliver the business day `day` ([day, day + 1)): files, SHA256SUMS, key, signature, manifest (last), then
    the registry item. A day already delivered is re-run: the same bytes are written again, and a difference is
    an error (ExportChainBroken) rather than a silent change of a delivered file."""
    reason = why_not(ctx.policy)
    if reason:
        raise ExportChainBroken(reason)
    sources = sources or Sources()
    recorded = ctx.store.get(EXPORTS, _window_key(day))
    if recorded is not None:
        sequence, previous = int(recorded["sequence"]), recorded.get("previous_manifest_sha256")
    else:
        before = ctx.store.get(EXPORTS, _window_key(day - timedelta(days=1)))
        head = latest_window(ctx)
        if before is not None:
            sequence, previous = int(before["sequence"]) + 1, str(before["manifest_sha256"])
        elif head is None:
            sequence, previous = 1, None  # the chain starts here
        else:
            raise ExportChainBroken(f"{day.isoformat()}: the day before was not delivered; deliver days in order")

    base = x.folder(day)
    source = source_of(ctx.policy)
    counts = {"added": 0, "removed": 0}
    withheld = {"no_consent": 0, "never_delivered": 0, "erased": 0}
    markers: dict[str, Put] = {}  # records first added in this page, committed when its lines are written

    # A re-run writes its parts to a scratch folder first: only when its manifest equals the delivered one are the
    # (identical) files written to the bucket again, so a re-run can restore a lost file but never change one.
    scratch = _scratch() if recorded is not None else None
    first: Objects = scratch or objects

    def opener(name: str, content_type: str) -> Any:
        return first.writer(f"{base}/{name}", content_type=content_type)

    sizes = {"part_bytes": part_bytes} if part_bytes else {}
    outputs = [x.PartedFile("jsonl", opener, **sizes), x.PartedFile("csv", opener, **sizes)]
    start, end = x.window_of(day)
    try:
        rows = sources.changes(ctx, city_code=ctx.policy.city_code, from_date=start, to_date=end)
        while page := list(islice(rows, PAGE_ROWS)):
            for change, identity in _page_of(ctx, sources, page, day, markers, withheld):
                row = x.row_of(change, identity, source)
                outputs[0].write(x.jsonl_line(row))
                outputs[1].write(x.csv_line(row.values()))
                counts[str(change["kind"])] += 1
            _commit_all(ctx, list(markers.values()))  # the page's new markers, after its lines were written
            markers = {}
        parts = [part for output in outputs for part in output.finish()]
    except BaseException as exc:
        for output in outputs:
            output.abort(exc)
        raise

    signing = signer.signing()
    sums = x.checksums(parts)
    extra = {x.CHECKSUMS: sums, x.PUBLIC_KEY: signing.public_pem}
    document = x.manifest(
        city_code=ctx.policy.city_code,
        source=source,
        from_date=day,
        sequence=sequence,
        previous_sha256=previous,
        counts=counts,
        files=parts,
        extra_files=extra,
        legal_basis=export_basis(ctx.policy) or {},
        policy={"version": ctx.policy.version, "sha256": ctx.policy.sha256},
        signing=signing,
    )
    raw = x.canonical(document)
    manifest_sha = x.sha256_hex(raw)
    if scratch is not None:
        try:
            if recorded is not None and recorded.get("manifest_sha256") != manifest_sha:
                raise ExportChainBroken(
                    f"{day.isoformat()}: a re-run gives another manifest than the one delivered "
                    f"({str(recorded.get('manifest_sha256'))[:12]}…); the delivered files are left as they are"
                )
            for part in parts:  # the same bytes as delivered: written again, restoring any file lost since
                with objects.writer(f"{base}/{part.name}", content_type=x.PartedFile.CONTENT_TYPES[part.format]) as w:
                    for piece in scratch.chunks(f"{base}/{part.name}"):
                        w.write(piece)
        finally:
            _discard(scratch)
    for name, data in extra.items():
        _put(objects, f"{base}/{name}", data, "text/plain; charset=utf-8")
    _put(objects, f"{base}/{x.SIGNATURE}", base64.b64encode(signer.sign(raw)) + b"\n", "text/plain; charset=utf-8")
    _put(objects, f"{base}/{x.MANIFEST}", raw, "application/json; charset=utf-8")  # last: the commit marker

    if recorded is None:
        item: dict[str, Any] = {
            **_window_key(day),
            "export_id": x.export_id(day),
            "window_from": start.isoformat(),
            "window_to": end.isoformat(),
            "sequence": sequence,
            "previous_manifest_sha256": previous,
            "manifest_sha256": manifest_sha,
            "counts": counts,
            "files": document["files"] + [{"name": x.SIGNATURE}, {"name": x.MANIFEST, "sha256": manifest_sha}],
            "status": "ready",
            "written_at": ctx.now_text(),
            "request_id": ctx.request_id,
        }
        ctx.commit(
            [
                Put(EXPORTS, {k: v for k, v in item.items() if v is not None}),
                audit(ctx, None, f"export#{x.export_id(day)}", "export.written", sequence=sequence, **counts),
            ]
        )
    return WindowResult(
        x.export_id(day), day.isoformat(), sequence, manifest_sha, counts, withheld, recorded is not None
    )


def _page_of(
    ctx: Context,
    sources: Sources,
    page: list[Mapping[str, Any]],
    day: date,
    markers: dict[str, Put],
    withheld: dict[str, int],
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """The rows of one page to deliver, in order, each with the person's identity; what is withheld is counted.

    The page's reads are batched: the markers of its records and its accounts, then the consents of the persons
    first added here and the data keys of the persons who may be delivered (a few requests per page instead of
    three per row). Each row is then decided exactly as alone, in order: a delivered addition (a marker) needs no
    consent again; a removal needs the addition's marker; an erased person is withheld. `markers` gains the Put
    of each record first added here."""
    marked = {
        i["stream"][len(f"{x.STREAM}#rec#") :]
        for i in ctx.store.batch_get(EXPORTS, [_marker_key(str(c["record_id"])) for c in page])
    }
    account_ids = list(dict.fromkeys(str(c["account_id"]) for c in page))
    found = {a["account_id"]: a for a in ctx.store.batch_get(ACCOUNTS, [{"account_id": a} for a in account_ids])}
    accounts: dict[str, Item | None] = {a: found.get(a) for a in account_ids}
    first = [c for c in page if c["kind"] == "added" and str(c["record_id"]) not in marked]
    asking = {str(c["account_id"]) for c in first} if consent_required(ctx.policy) else set()
    consenting = _consenting(ctx, sources, {a: accounts[a] for a in asking})
    may_add = {str(c["record_id"]) for c in first if consenting.get(str(c["account_id"]), True)}
    maybe = {str(c["account_id"]) for c in page if str(c["record_id"]) in marked | may_add}
    keys = _data_keys(ctx, sources, [a for a in (accounts[i] for i in maybe) if a is not None])
    for change in page:
        record_id, account_id = str(change["record_id"]), str(change["account_id"])
        delivered = record_id in marked or record_id in markers
        if change["kind"] == "added":
            if not delivered and account_id in asking and not consenting[account_id]:
                withheld["no_consent"] += 1
                continue
        elif not delivered:
            withheld["never_delivered"] += 1
            continue
        account = accounts[account_id]
        identity = _identity(ctx, sources, account, keys) if account is not None else None
        if identity is None:
            withheld["erased"] += 1
            continue
        yield change, identity
        if change["kind"] == "added" and not delivered:
            marker = {**_marker_key(record_id), "window_from": day.isoformat()}
            markers[record_id] = Put(EXPORTS, marker, overwrite=True)


def _consenting(ctx: Context, sources: Sources, accounts: dict[str, Item | None]) -> dict[str, bool]:
    if sources.on_record is not None:
        ask = sources.on_record
        return {a: ask(ctx, a, CONSENT_KIND) for a in accounts}
    return consents.on_record_many(ctx, accounts, CONSENT_KIND)


def _data_keys(ctx: Context, sources: Sources, accounts: list[Item]) -> dict[str, Item]:
    if sources.identity_of is not None:
        return {}
    needed = [{"account_id": a["account_id"]} for a in accounts if identity_data.needs_key(a)]
    return {k["account_id"]: k for k in ctx.store.batch_get(DATA_KEYS, needed)}


def _identity(ctx: Context, sources: Sources, account: Item, keys: dict[str, Item]) -> Mapping[str, Any] | None:
    """The person's name and ID number; None once the person was erased (nothing left to deliver)."""
    if sources.identity_of is not None:
        return sources.identity_of(ctx, account)
    try:
        return identity_data.identity_with(ctx, account, keys.get(account["account_id"]))
    except IdentityErased:
        return None


def _commit_all(ctx: Context, writes: list[Write]) -> None:
    """Commit in transactions of at most TRANSACTION_ITEMS writes (the first shares its room with the request's
    pending writes)."""
    while writes:
        room = TRANSACTION_ITEMS - len(ctx.pending)
        ctx.commit(writes[:room])
        writes = writes[room:]


def _scratch() -> Any:
    """A temporary folder standing in for the bucket while a re-run is compared (Lambda's /tmp on AWS)."""
    import tempfile

    from treatfirst.adapters.objects import FolderObjects

    return FolderObjects(tempfile.mkdtemp(prefix="treatfirst-rerun-"))


def _discard(scratch: Any) -> None:
    import shutil

    shutil.rmtree(scratch.root, ignore_errors=True)


def _put(objects: Objects, key: str, data: bytes, content_type: str) -> None:
    with objects.writer(key, content_type=content_type) as w:
        w.write(data)


# ---- the scheduled run -------------------------------------------------------------------------------------------
def due_windows(ctx: Context) -> list[date]:
    """Closed business days not delivered yet, oldest first (at most MAX_WINDOWS). The first run starts with the
    last closed day: nothing before the city enabled export is reported."""
    closed = closed_through(ctx.clock.now(), zone=ctx.policy.timezone, cutoff=ctx.policy.due_at)
    head = latest_window(ctx)
    first = date.fromisoformat(head["item_key"]) + timedelta(days=1) if head else closed
    days: list[date] = []
    day = first
    while day <= closed and len(days) < MAX_WINDOWS:
        days.append(day)
        day += timedelta(days=1)
    return days


def run_nothing(ctx: Context) -> dict[str, Any]:
    """What a city that may not export does: nothing, and says why (no bucket, key or table is touched)."""
    return {"exported": 0, "skipped": why_not(ctx.policy)}


def log_fields(result: Mapping[str, Any]) -> dict[str, Any]:
    """A run's summary for the log: counts and days only."""
    windows = result.get("windows", [])
    return {
        "exported": result.get("exported", 0),
        "skipped": result.get("skipped"),
        "windows": [w["window_from"] for w in windows],
        "added": sum(w["counts"]["added"] for w in windows),
        "removed": sum(w["counts"]["removed"] for w in windows),
        "withheld": sum(sum(w["withheld"].values()) for w in windows),
    }


def run(ctx: Context, objects: Objects, signer: Signer, sources: Sources | None = None) -> dict[str, Any]:
    """The scheduled function: every closed day not delivered yet, in order. A city that may not export writes
    nothing and says why."""
    if why_not(ctx.policy):
        return run_nothing(ctx)
    delivered = [export_window(ctx, objects, signer, day, sources).as_dict() for day in due_windows(ctx)]
    return {"exported": len(delivered), "windows": delivered}


# ---- the credit platform's operations ----------------------------------------------------------------------------
def _summary(item: Item) -> dict[str, Any]:
    return {
        "export_id": item["export_id"],
        "window_from": item["window_from"],
        "window_to": item["window_to"],
        "sequence": int(item["sequence"]),
        "manifest_sha256": item["manifest_sha256"],
        "previous_manifest_sha256": item.get("previous_manifest_sha256"),
        "counts": {k: int(v) for k, v in item["counts"].items()},
        "status": item["status"],
        "written_at": item["written_at"],
        "acknowledged_at": item.get("acknowledged_at"),
    }


def summary(item: Item) -> dict[str, Any]:
    return to_item(msgspec.convert(_summary(item), msg.ExportSummary))


def detail(item: Item) -> dict[str, Any]:
    files = [
        {
            k: (int(v) if k in ("bytes", "rows") else v)
            for k, v in f.items()
            if k in ("name", "format", "rows", "bytes", "sha256")
        }
        for f in item["files"]
    ]
    return to_item(msgspec.convert({**_summary(item), "files": files}, msg.ExportDetail))


def list_exports(ctx: Context, caller: Caller, page: PageQuery) -> dict[str, Any]:
    caller.may("exports", "list")
    bound = f"exports:{caller.key_id}"
    found = ctx.store.query(
        EXPORTS, x.STREAM, limit=page.limit, start=decode_cursor(ctx.cipher, bound, page.cursor), forward=False
    )
    return page_view(ctx.cipher, bound, found, summary)


def _window(ctx: Context, export_id: str) -> Item:
    day = x.date_of_export_id(export_id)
    item = ctx.store.get(EXPORTS, _window_key(day)) if day else None
    if item is None:
        raise ExportNotFound(field="export_id")
    return item


def get_export(ctx: Context, caller: Caller, export_id: str) -> dict[str, Any]:
    caller.may("exports", "read")
    return detail(_window(ctx, export_id))


CONTENT_TYPES = {
    ".jsonl": "application/x-ndjson; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
}


def download(ctx: Context, caller: Caller, objects: Objects, export_id: str, name: str) -> FileOutcome:
    """One file of a delivery, as stored (a part is at most PART_BYTES): only files the delivery lists."""
    caller.may("exports", "download")
    item = _window(ctx, export_id)
    listed = {str(f["name"]): f for f in item["files"]}
    if name not in listed:
        raise ExportNotFound("no such file in this export", field="file_name")
    data = objects.read(f"{x.folder(date.fromisoformat(item['window_from']))}/{name}", max_bytes=MAX_DOWNLOAD_BYTES)
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    return FileOutcome(
        data.decode("utf-8"),
        CONTENT_TYPES.get(suffix, "text/plain; charset=utf-8"),
        {"X-Content-SHA256": x.sha256_hex(data), "Content-Disposition": f'attachment; filename="{name}"'},
    )


def acknowledge(ctx: Context, caller: Caller, export_id: str, command: msg.AcknowledgementRequest) -> Outcome:
    """The platform confirms it received and verified a delivery (the manifest's SHA-256 it checked). Audited;
    a second acknowledgement of the same manifest returns the first."""
    caller.may("exports", "acknowledge")
    manifest_sha256, note = command.manifest_sha256, command.note
    item = _window(ctx, export_id)
    if manifest_sha256 != item["manifest_sha256"]:
        raise ExportManifestMismatch(field="manifest_sha256")
    if item.get("acknowledged_at"):
        return Outcome(200, summary(item), replayed=True)
    now = ctx.now_text()
    change = {"status": "acknowledged", "acknowledged_at": now, "acknowledged_by": caller.actor}
    if note:
        change["acknowledgement_note"] = note
    ctx.commit(
        [
            Update(
                EXPORTS,
                _window_key(date.fromisoformat(item["window_from"])),
                set=change,
                expect={"status": "ready"},
                fail=ExportManifestMismatch,
            ),
            audit(
                ctx, caller, f"export#{export_id}", "export.acknowledged", manifest_sha256=manifest_sha256, note=note
            ),
        ]
    )
    return Outcome(200, summary({**item, **change}))


# ---- verifying what is in the bucket ----------------------------------------------------------------------------
def verify(objects: Objects, pinned_key_sha256: str | None = None, days: list[date] | None = None) -> x.Verdict:
    """Every delivery in the bucket (or those of `days`) and the chain between them (domain.export.verify_chain)."""
    from treatfirst.adapters.signing import signature_ok

    if days is None:
        found = {k[len(x.PREFIX) + 1 :].split("/", 1)[0] for k in objects.keys(x.PREFIX + "/")}
        days = sorted(date.fromisoformat(d) for d in found if _is_date(d))

    def read(key: str) -> bytes | None:
        try:
            return objects.read(key)
        except KeyError:
            return None

    def chunks(key: str) -> Iterator[bytes] | None:
        return objects.chunks(key) if objects.exists(key) else None

    def check(public: bytes, data: bytes, signature: bytes) -> bool:
        try:
            raw = base64.b64decode(signature.strip(), validate=True)
        except ValueError:
            return False
        return signature_ok(public, data, raw)

    return x.verify_chain(days, read, chunks, check, pinned_key_sha256)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
