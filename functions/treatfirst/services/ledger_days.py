"""Reading the ledger by business date: the sparse, sharded per-day index (`by_day`), never a scan.

Every ledger entry but open_line carries `business_date` and `day_shard` from its commit
(treatfirst.services.records.entry, treatfirst.domain.days). A day is DAY_SHARDS partitions; this module reads them
in order (shard 0..15, each by entry id), so a day always comes back in the same order. Each item read is one entry
with the attributes the index projects (treatfirst.services.ports.LEDGER_DAY_ATTRIBUTES): account_id, entry_id,
kind, amount_fen, ref_type, ref_id, at, business_date, and where they apply hospital_id, channel_id, channel_txn_id
(payments and recoveries), financier_id (financier_advance cities) and fund_id (a backstop fund's entries).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from treatfirst.domain.days import day_keys
from treatfirst.services.ports import LEDGER, Item
from treatfirst.services.unit_of_work import Context

PARTY_KINDS = ("hospital", "financier", "channel", "fund")
_PARTY_FIELD = {"hospital": "hospital_id", "financier": "financier_id", "channel": "channel_id", "fund": "fund_id"}


def party_of(party: str) -> tuple[str, str]:
    """ "hospital:hospital-a" -> ("hospital_id", "hospital-a"); kinds: hospital, financier, channel, fund."""
    kind, _, party_id = party.partition(":")
    if kind not in _PARTY_FIELD or not party_id:
        raise ValueError(f"a party is <kind>:<id> with kind one of {', '.join(PARTY_KINDS)}")
    return _PARTY_FIELD[kind], party_id


def entries_for_day(
    ctx: Context, *, city_code: str, business_date: date | str, party: str | None = None, page_size: int = 1000
) -> Iterator[Item]:
    """Every indexed ledger entry of the city's business date, in a stable order (shard, then entry id).

    `party` ("hospital:<id>", "financier:<id>", "channel:<id>", "fund:<fund>") keeps the entries that name it; the
    whole day is read either way (the index is sharded by entry, not by party), so a reader that needs several
    parties reads the day once and splits it itself, as the clearing does.
    """
    wanted = party_of(party) if party else None
    for key in day_keys(city_code, business_date):
        start = None
        while True:
            page = ctx.store.query(LEDGER, key, index="by_day", limit=page_size, start=start)
            for item in page.items:
                if wanted is None or item.get(wanted[0]) == wanted[1]:
                    yield item
            if page.cursor is None:
                break
            start = page.cursor
