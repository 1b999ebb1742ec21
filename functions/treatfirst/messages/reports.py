"""The operator report of a date range (treatfirst.domain.reports defines every figure)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from treatfirst.messages.common import Fen, Request, Response

Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="a business date of the city")]
Ppm = Annotated[int | None, Meta(description="parts per million (1 000 000 = 100 %); null when 0/0")]


class ReportQuery(Request):
    from_: Annotated[Day, Meta(description="first business date (inclusive)")] = msgspec.field(name="from")
    to: Annotated[Day, Meta(description="last business date (inclusive); a closed date")]
    format: Annotated[
        Literal["json", "csv"] | None,
        Meta(description="csv: text/csv (UTF-8 with a byte order mark); otherwise the Accept header decides"),
    ] = None


class ReportAmount(Response):
    bills: int
    fen: Fen


class ReportBand(Response):
    band: Literal["N", "1", "2", "3", "4", "5", "6", "7", "C", "M", "D", "B"]
    bills: int
    fen: Fen


class ReportRoll(Response):
    from_: Annotated[str, Meta(description="band at the start of the period")] = msgspec.field(name="from")
    to: Annotated[str, Meta(description="band at its end")]
    base_fen: Annotated[int | None, Meta(description="null when the reports had not begun 30 days before")]
    rolled_fen: int | None
    rate_ppm: Ppm


class ReportCure(Response):
    base_fen: Fen
    cured_fen: Fen
    rate_ppm: Ppm


class ReportRepaid(Response):
    on_time_fen: Fen
    late_fen: Fen
    fen: Fen


class ReportWriteOffs(Response):
    reason: str
    n: int
    fen: Fen


class ReportFundDraws(Response):
    fund: str
    draws: int
    drawn_fen: Fen
    recovered_fen: Fen


class ReportEmergency(Response):
    hospital_id: str
    visits: int
    fen: Fen


class ReportMessages(Response):
    kind: str
    n: int


class ReportBlacklist(Response):
    listed: int
    removed: int


class ReportDay(Response):
    day: Day
    lent_fen: Fen
    repaid_fen: Fen
    written_off_fen: Fen
    past_due_fen: Fen


class OperatorReport(Response):
    """Every figure of the reports page, for business dates `from`..`to` (amounts in fen)."""

    from_: Day = msgspec.field(name="from")
    to: Day
    lent: ReportAmount
    lent_since_start_fen: Fen
    past_due: ReportAmount
    arrears_rate_ppm: Ppm
    aging: list[ReportBand]
    roll_rates: list[ReportRoll]
    cure: ReportCure
    repaid: ReportRepaid
    refunded: ReportAmount
    write_offs: list[ReportWriteOffs]
    backstop: list[ReportFundDraws]
    emergency: list[ReportEmergency]
    messages: list[ReportMessages]
    blacklist: Annotated[ReportBlacklist, Meta(description="persons, from the blacklist's change log")]
    daily: list[ReportDay]
