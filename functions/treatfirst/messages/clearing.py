"""Daily clearing files (清算文件): a party's manifest for a business date and its files, read in pieces."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from treatfirst.messages.common import Request, Response

PARTY_PATTERN = r"^(hospital|financier|channel|fund):[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
Party = Annotated[
    str,
    Meta(
        pattern=PARTY_PATTERN,
        description="<kind>:<id>, kind hospital, financier, channel or fund (operators only; others read their own)",
    ),
]
PIECE_BYTES = 4 * 1024 * 1024  # one answer carries at most this much of a file (base64 grows it by a third)


class ClearingQuery(Request):
    party: Party | None = None


class ClearingFileQuery(Request):
    party: Party | None = None
    offset: (
        Annotated[int, Meta(ge=0, le=10**12, description="byte offset of the piece (the last next_offset)")] | None
    ) = None


class ClearingFileEntry(Response):
    name: Literal["clearing.csv", "clearing.json"]
    sha256: Annotated[str, Meta(description="SHA-256 of the whole file, hex")]
    bytes: Annotated[int, Meta(ge=0)]


class ClearingManifest(Response):
    """The party's manifest of the day (written after its files): what to download and how to check it."""

    format_version: str
    city_code: str
    business_date: Annotated[str, Meta(description="YYYY-MM-DD, the city's business date")]
    party: str
    lines: Annotated[int, Meta(ge=0, description="ledger entries in the party's files")]
    net_fen: Annotated[int, Meta(description="the party's net position: receives when positive, pays when negative")]
    files: list[ClearingFileEntry]


class ClearingFile(Response):
    """One piece of a file: concatenate the decoded pieces and compare the SHA-256 with the manifest's."""

    name: Literal["clearing.csv", "clearing.json", "manifest.json"]
    content_type: str
    bytes: Annotated[int, Meta(ge=0, description="size of the whole file")]
    sha256: Annotated[str, Meta(description="SHA-256 of the whole file, hex")]
    offset: Annotated[int, Meta(ge=0)]
    content_base64: Annotated[str, Meta(description=f"the bytes from offset, at most {PIECE_BYTES}")]
    next_offset: Annotated[int | None, Meta(description="where the next piece starts; null at the end")] = None
