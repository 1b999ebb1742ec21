"""The city credit platform's view of the blacklist export: deliveries, their files, the acknowledgement."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from treatfirst.messages.common import Request, Response, Text200, UtcTime

Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$", description="SHA-256, 64 lowercase hex digits")]
BusinessDate = Annotated[str, Meta(pattern=r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$", description="a business date")]


class ExportCounts(Response):
    added: Annotated[int, Meta(ge=0, description="rows with op ADD (listed)")]
    removed: Annotated[int, Meta(ge=0, description="rows with op REMOVE (taken off the list)")]


class ExportFile(Response):
    name: Annotated[str, Meta(description="download it from /v1/exports/{export_id}/files/{name}")]
    format: Literal["jsonl", "csv"] | None = None
    rows: int | None = None
    bytes: int | None = None
    sha256: Sha256 | None = None


class ExportSummary(Response):
    export_id: Annotated[str, Meta(description="exp_YYYYMMDD: the business date the delivery covers")]
    window_from: Annotated[BusinessDate, Meta(description="first business date of the window (included)")]
    window_to: Annotated[BusinessDate, Meta(description="end of the window (excluded): window_from + 1 day")]
    sequence: Annotated[int, Meta(ge=1, description="1 for the first delivery, then +1 per day, without a gap")]
    manifest_sha256: Sha256
    previous_manifest_sha256: Annotated[
        Sha256 | None, Meta(description="the SHA-256 of the day before's manifest.json; null for the first delivery")
    ]
    counts: ExportCounts
    status: Literal["ready", "acknowledged"]
    written_at: UtcTime
    acknowledged_at: UtcTime | None = None


class ExportDetail(ExportSummary, kw_only=True):
    files: Annotated[
        list[ExportFile], Meta(description="the data parts, SHA256SUMS, the signing key, the signature, the manifest")
    ]


class ExportPage(Response):
    items: list[ExportSummary]
    has_more: bool
    cursor: str | None


class AcknowledgementRequest(Request):
    manifest_sha256: Annotated[
        Sha256, Meta(description="the SHA-256 of the manifest.json the platform received and verified")
    ]
    note: Annotated[Text200 | None, Meta(description="what the platform did with it, for the audit trail")] = None
