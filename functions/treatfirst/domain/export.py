"""The blacklist export to the city credit platform, pure: its field catalogue, the bytes of its files, its
manifest and the chain that makes a missing delivery detectable.

One delivery per business day: the changes of the window [from, to) (to = from + 1 day) as JSON Lines and as CSV
(UTF-8 with a byte-order mark, so Chinese Excel opens it), split into parts of at most PART_BYTES bytes each so any
part can be downloaded through the API; then SHA256SUMS (for `sha256sum -c`), the signing key's public half, the
detached signature of the manifest, and the manifest itself, written last: it is the commit marker. The manifest
names the previous day's manifest by its SHA-256 and carries a sequence number, so a delivery dropped from the
chain is found (verify_chain). No wall-clock time is written: re-running a window gives identical bytes.

FIELDS is the one catalogue: the CSV header, the JSON keys, their order and the docs table all come from it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

FORMAT = "treatfirst.blacklist-export/1"
STREAM = "blacklist"
PREFIX = "exports/blacklist"
PART_BYTES = 4 * 1024 * 1024  # a part downloads in one API answer (API Gateway and Lambda allow ~6 MB)
BOM = b"\xef\xbb\xbf"
MANIFEST, CHECKSUMS, PUBLIC_KEY = "manifest.json", "SHA256SUMS", "signing-key.pem"
SIGNATURE = "manifest.json.sig.b64"  # base64 text (every file is text, so every file downloads the same way)
SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"  # deterministic: a rerun signs to the same bytes
OPS = {"added": "ADD", "removed": "REMOVE"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | date | time
    zh: str
    en: str
    read: Callable[[Mapping[str, Any]], Any]


def _basis(row: Mapping[str, Any], key: str) -> Any:
    return (row.get("basis") or {}).get(key)


def _legal_basis(row: Mapping[str, Any]) -> str:
    basis = _basis(row, "legal_basis")
    if isinstance(basis, Mapping):
        return " ".join(str(basis[k]) for k in ("document", "article") if basis.get(k))
    return str(basis or "")


def _first_due(row: Mapping[str, Any]) -> str | None:
    dues = sorted(str(b["due_at"]) for b in row.get("bills") or [] if b.get("due_at"))
    return dues[0] if dues else None


# The credit platform's field catalogue (失信信息报送字段). `read` takes one change joined with the person's identity
# (`name`, `id_number`) and the source organisation (`source`).
FIELDS: tuple[Field, ...] = (
    Field(
        "op",
        "string",
        "操作：ADD 列入，REMOVE 移出",
        "ADD (listed) or REMOVE (taken off the list)",
        lambda r: OPS[r["kind"]],
    ),
    Field("change_id", "string", "变更编号（稳定，唯一）", "change id (stable, unique)", lambda r: r["change_id"]),
    Field("record_id", "string", "失信记录编号", "blacklist record id", lambda r: r["record_id"]),
    Field("business_date", "date", "变更所属业务日期", "business date of the change", lambda r: r["business_date"]),
    Field("name", "string", "姓名", "name", lambda r: r["name"]),
    Field(
        "id_number",
        "string",
        "居民身份证号码（完整，仅在本文件中出现）",
        "resident ID number (in full: this file is the one place it appears so)",
        lambda r: r["id_number"],
    ),
    Field(
        "reason",
        "string",
        "原因代码（列入原因或移出原因）",
        "reason code (why listed, or why removed)",
        lambda r: r["reason"],
    ),
    Field("amount_fen", "integer", "欠款金额（分）", "amount owed (fen)", lambda r: int(r["amount_fen"])),
    Field("bill_count", "integer", "所涉账单数", "number of bills", lambda r: len(r.get("bills") or [])),
    Field("first_due_at", "time", "最早到期时间", "earliest due time", _first_due),
    Field("listed_at", "time", "列入时间", "listed at", lambda r: r.get("listed_at")),
    Field("valid_until", "time", "有效期至", "valid until", lambda r: r.get("valid_until")),
    Field("legal_basis", "string", "认定依据（文件与条款）", "legal basis (document and article)", _legal_basis),
    Field(
        "policy_version",
        "string",
        "认定时政策版本",
        "policy version of the decision",
        lambda r: _basis(r, "policy_version"),
    ),
    Field(
        "policy_sha256",
        "string",
        "认定时政策文件 SHA-256",
        "SHA-256 of the policy file of the decision",
        lambda r: _basis(r, "policy_sha256"),
    ),
    Field(
        "source_org_code",
        "string",
        "报送单位代码（城市行政区划代码）",
        "source organisation code (city division code)",
        lambda r: r["source"]["code"],
    ),
    Field("source_org_name", "string", "报送单位名称", "source organisation name", lambda r: r["source"]["name"]),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)


def row_of(change: Mapping[str, Any], identity: Mapping[str, Any], source: Mapping[str, str]) -> dict[str, Any]:
    """One line of the delta: the catalogue's fields, in its order."""
    joined = {**change, "name": identity["name"], "id_number": identity["id_number"], "source": source}
    return {f.name: f.read(joined) for f in FIELDS}


def jsonl_line(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):  # a spreadsheet must not read a cell as a formula
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_line(values: Iterable[Any]) -> bytes:
    return (",".join(_csv_cell(v) for v in values) + "\r\n").encode()


CSV_HEADER = csv_line(FIELD_NAMES)


def window_of(from_date: date) -> tuple[date, date]:
    return from_date, from_date + timedelta(days=1)


def folder(from_date: date) -> str:
    """Where a window's files live in the exports bucket."""
    return f"{PREFIX}/{from_date.isoformat()}"


def export_id(from_date: date) -> str:
    return f"exp_{from_date.strftime('%Y%m%d')}"


def date_of_export_id(value: str) -> date | None:
    try:
        return date(int(value[4:8]), int(value[8:10]), int(value[10:12])) if value.startswith("exp_") else None
    except ValueError:
        return None


# ---- writing: parts of bounded size, hashed by the writer -------------------------------------------------------
@dataclass
class PartFile:
    name: str
    format: str  # jsonl | csv
    rows: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


Opener = Callable[[str, str], Any]  # (file name, content type) -> a context manager yielding an ObjectWriter


class PartedFile:
    """One format's lines, rolled over into a new part before a line would take it past PART_BYTES."""

    CONTENT_TYPES: ClassVar[dict[str, str]] = {
        "jsonl": "application/x-ndjson; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
    }

    def __init__(self, fmt: str, opener: Opener, part_bytes: int = PART_BYTES) -> None:
        self.fmt = fmt
        self.opener = opener
        self.part_bytes = part_bytes
        self.parts: list[PartFile] = []
        self._cm: Any = None
        self._writer: Any = None
        self._rows = 0

    def _head(self) -> bytes:
        return BOM + CSV_HEADER if self.fmt == "csv" else b""

    def _open(self) -> None:
        name = f"delta-{len(self.parts) + 1:05d}.{self.fmt}"
        self._cm = self.opener(name, self.CONTENT_TYPES[self.fmt])
        self._writer = self._cm.__enter__()
        self._name, self._rows = name, 0
        self._writer.write(self._head())

    def _close(self) -> None:
        self._cm.__exit__(None, None, None)
        self.parts.append(PartFile(self._name, self.fmt, self._rows, self._writer.size, self._writer.sha256))
        self._cm = self._writer = None

    def write(self, line: bytes) -> None:
        if self._writer is None:
            self._open()
        elif self._rows and self._writer.size + len(line) > self.part_bytes:
            self._close()
            self._open()
        self._writer.write(line)
        self._rows += 1

    def finish(self) -> list[PartFile]:
        if self._writer is None:
            self._open()  # an empty window still has its (empty) part: "nothing changed" is a statement too
        self._close()
        return self.parts

    def abort(self, exc: BaseException) -> None:
        if self._cm is not None:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            self._cm = self._writer = None


def checksums(files: Iterable[PartFile]) -> bytes:
    """SHA256SUMS, as `sha256sum` writes it (two spaces, file name): `sha256sum -c SHA256SUMS` checks the parts."""
    return "".join(f"{f.sha256}  {f.name}\n" for f in files).encode()


def canonical(document: Mapping[str, Any]) -> bytes:
    """The manifest's bytes: sorted keys, no spaces, UTF-8, one final newline. Equal content, equal bytes."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Signing:
    key_id: str  # the KMS key ARN on AWS, "local" locally
    key_sha256: str  # SHA-256 of the public key (DER): what the platform pins
    public_pem: bytes


def manifest(
    *,
    city_code: str,
    source: Mapping[str, str],
    from_date: date,
    sequence: int,
    previous_sha256: str | None,
    counts: Mapping[str, int],
    files: list[PartFile],
    extra_files: Mapping[str, bytes],
    legal_basis: Mapping[str, Any],
    policy: Mapping[str, str],
    signing: Signing,
) -> dict[str, Any]:
    start, end = window_of(from_date)
    return {
        "format": FORMAT,
        "export_id": export_id(from_date),
        "city_code": city_code,
        "source_org": dict(source),
        "window": {"from": start.isoformat(), "to": end.isoformat()},
        "sequence": sequence,
        "previous_manifest_sha256": previous_sha256,
        "fields": list(FIELD_NAMES),
        "counts": {"added": counts.get("added", 0), "removed": counts.get("removed", 0)},
        "files": [f.as_dict() for f in files]
        + [{"name": n, "bytes": len(b), "sha256": sha256_hex(b)} for n, b in sorted(extra_files.items())],
        "legal_basis": dict(legal_basis),
        "policy": dict(policy),
        "signature": {
            "file": SIGNATURE,
            "algorithm": SIGNING_ALGORITHM,
            "key_id": signing.key_id,
            "public_key_sha256": signing.key_sha256,
            "public_key_file": PUBLIC_KEY,
        },
    }


# ---- verifying a delivery and the chain ------------------------------------------------------------------------
@dataclass
class Verdict:
    checked: list[str] = field(default_factory=list)  # export ids whose files, signature and link all hold
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems}


Reader = Callable[[str], bytes | None]  # key -> bytes, None when absent
Chunks = Callable[[str], Iterator[bytes] | None]
SignatureCheck = Callable[[bytes, bytes, bytes], bool]  # (public key PEM, data, signature) -> valid


def verify_delivery(
    base: str, read: Reader, chunks: Chunks, signature_ok: SignatureCheck, pinned_key_sha256: str | None = None
) -> tuple[dict[str, Any] | None, bytes | None, list[str]]:
    """One window's folder: each file's size and SHA-256, the counts, the signature -> (manifest, bytes, problems)."""
    raw = read(f"{base}/{MANIFEST}")
    if raw is None:
        return None, None, [f"{base}: no {MANIFEST} (the delivery is missing or was not completed)"]
    problems: list[str] = []
    try:
        document = json.loads(raw)
    except ValueError:
        return None, raw, [f"{base}/{MANIFEST}: not JSON"]
    if canonical(document) != raw:
        problems.append(f"{base}/{MANIFEST}: not in canonical form (edited?)")
    rows = 0
    for item in document.get("files", []):
        name = str(item.get("name", ""))
        pieces = chunks(f"{base}/{name}")
        if pieces is None:
            problems.append(f"{base}/{name}: missing")
            continue
        digest, size = hashlib.sha256(), 0
        for piece in pieces:
            digest.update(piece)
            size += len(piece)
        if digest.hexdigest() != item.get("sha256") or size != item.get("bytes"):
            problems.append(f"{base}/{name}: SHA-256 or size differs from the manifest")
        if item.get("format") == "jsonl":
            rows += int(item.get("rows", 0))
    counts = document.get("counts", {})
    if rows != int(counts.get("added", 0)) + int(counts.get("removed", 0)):
        problems.append(f"{base}: the JSON Lines parts hold {rows} rows, the counts say otherwise")
    signed = document.get("signature", {})
    signature, public = read(f"{base}/{SIGNATURE}"), read(f"{base}/{PUBLIC_KEY}")
    if signature is None or public is None:
        problems.append(f"{base}: the signature or the public key is missing")
    else:
        from_pem = _der_sha256(public)
        if from_pem != signed.get("public_key_sha256"):
            problems.append(f"{base}: {PUBLIC_KEY} is not the key the manifest names")
        if pinned_key_sha256 and from_pem != pinned_key_sha256:
            problems.append(f"{base}: signed with key {from_pem[:16]}…, not the pinned key {pinned_key_sha256[:16]}…")
        if not signature_ok(public, raw, signature):
            problems.append(f"{base}/{SIGNATURE}: the signature does not verify")
    return document, raw, problems


def _der_sha256(pem: bytes) -> str:
    import base64

    body = b"".join(line for line in pem.splitlines() if line and not line.startswith(b"-----"))
    return sha256_hex(base64.b64decode(body))


def public_pem(der: bytes) -> bytes:
    import base64
    import textwrap

    text = base64.b64encode(der).decode()
    return (
        "-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(text, 64)) + "\n-----END PUBLIC KEY-----\n"
    ).encode()


def verify_chain(
    windows: list[date],
    read: Reader,
    chunks: Chunks,
    signature_ok: SignatureCheck,
    pinned_key_sha256: str | None = None,
) -> Verdict:
    """Every delivery in `windows` (business dates, in any order) and the links between them: each manifest names the
    previous day's manifest by SHA-256 and the next sequence number, and the days follow without a gap. A delivery
    deleted, replaced or never written breaks a link: the verdict names it."""
    verdict = Verdict()
    previous: tuple[date, dict[str, Any], str] | None = None
    for day in sorted(set(windows)):
        base = folder(day)
        document, raw, problems = verify_delivery(base, read, chunks, signature_ok, pinned_key_sha256)
        verdict.problems += problems
        if document is None or raw is None:
            previous = None
            continue
        if document.get("window", {}).get("from") != day.isoformat():
            verdict.problems.append(f"{base}: the manifest's window is {document.get('window')}")
        link = document.get("previous_manifest_sha256")
        sequence = int(document.get("sequence", 0))
        if previous is None:
            if link is not None and day != min(windows):
                verdict.problems.append(f"{base}: the delivery before it is missing")
            elif link is not None:
                prev_day = day - timedelta(days=1)
                if read(f"{folder(prev_day)}/{MANIFEST}") is None:
                    verdict.problems.append(
                        f"{base}: names a previous delivery ({prev_day.isoformat()}) that is not there"
                    )
        else:
            prev_day, prev_doc, prev_sha = previous
            if day - prev_day != timedelta(days=1):
                verdict.problems.append(
                    f"{base}: deliveries from {(prev_day + timedelta(days=1)).isoformat()} to "
                    f"{(day - timedelta(days=1)).isoformat()} are missing"
                )
            if link != prev_sha:
                verdict.problems.append(
                    f"{base}: previous_manifest_sha256 does not match {folder(prev_day)}/{MANIFEST}"
                )
            if sequence != int(prev_doc.get("sequence", 0)) + 1:
                verdict.problems.append(f"{base}: sequence {sequence} does not follow {prev_doc.get('sequence')}")
        if not problems:
            verdict.checked.append(str(document.get("export_id")))
        previous = (day, document, sha256_hex(raw))
    return verdict
