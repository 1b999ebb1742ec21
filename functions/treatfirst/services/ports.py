"""Ports: the small interfaces the services need. DynamoDB and in-memory adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

Item = dict[str, Any]

# Logical table names; physical names are "<prefix><logical>" (infra/tables.yaml).
ACCOUNTS, CONSENTS, VISITS, CHARGES, BILLS = "accounts", "consents", "visits", "charges", "bills"
LEDGER, PAYMENTS, AUDIT, IDEMPOTENCY, CALLERS, NONCES, REVIEWS = (
    "ledger",
    "payments",
    "audit",
    "idempotency",
    "callers",
    "nonces",
    "reviews",
)
OUTBOX = "outbox"
BLACKLIST = "blacklist"  # blacklist records ("blr_"), appeals ("bla_") and the export change log ("blc_")
EVENTS, ENDPOINTS = "events", "webhook_endpoints"  # services/events.py, services/webhooks.py
REPORTS = "reports"  # per-day report counters (sharded) and each business date's closing balances
EXPORTS = "exports"  # the blacklist export's registry of delivered windows (treatfirst.services.export)
DATA_KEYS, RIGHTS = "data_keys", "rights"  # per-account data keys (crypto-shredding); privacy requests
RECONCILIATION = (
    "reconciliation"  # services/reconciliation.py: hospital runs "rec_", statements "stm_", suspense "sus_"
)

# Key attribute names per table: (hash key, range key or None).
KEYS: dict[str, tuple[str, str | None]] = {
    ACCOUNTS: ("account_id", None),
    CONSENTS: ("account_id", "consent_key"),
    VISITS: ("visit_id", None),
    CHARGES: ("visit_id", "fee_line_id"),
    BILLS: ("bill_id", None),
    LEDGER: ("account_id", "entry_id"),
    PAYMENTS: ("payment_key", None),
    AUDIT: ("subject", "event_id"),
    IDEMPOTENCY: ("idem_key", None),
    CALLERS: ("key_id", None),
    NONCES: ("nonce_key", None),
    OUTBOX: ("message_id", None),
    REVIEWS: ("review_id", None),
    BLACKLIST: ("item_id", None),
    # event rows ("event"), their delivery state per endpoint ("to#<endpoint>") and attempt log ("try#...")
    EVENTS: ("event_id", "part"),
    ENDPOINTS: ("owner", "endpoint_id"),
    REPORTS: ("day_shard", "counter"),
    EXPORTS: ("stream", "item_key"),
    DATA_KEYS: ("account_id", None),
    RIGHTS: ("request_id", None),
    RECONCILIATION: ("recon_id", None),
}

# Secondary indexes: name -> (table, hash key, range key).
INDEXES: dict[str, tuple[str, str, str | None]] = {
    "by_hospital": (VISITS, "hospital_id", "opened_at"),
    "by_account": (BILLS, "account_id", "issued_at"),
    "by_due": (BILLS, "due_shard", "due_at"),
    # Sparse: only emergency charges carry emergency_month ("<local YYYY-MM>#<shard>"), for the operator's
    # per-hospital emergency totals; reads are proportional to the month's emergency charges.
    "by_emergency_month": (CHARGES, "emergency_month", "posted_at"),
    # Sparse: only review items still waiting for an operator carry `queue`.
    "open_reviews": (REVIEWS, "queue", "opened_at"),
    # Sparse and sharded: only accounts with a collection date ahead carry collect_shard/next_step_at (a business
    # date, YYYY-MM-DD). The projection holds what the sweep reads (INDEX_ATTRIBUTES), so a page costs no extra read.
    "by_next_step": (ACCOUNTS, "collect_shard", "next_step_at"),
    # Sparse: only messages still to deliver (SMS) or tasks still to finish (phone) carry `queue`.
    "by_queue": (OUTBOX, "queue", "created_at"),
    "outbox_by_account": (OUTBOX, "account_id", "created_at"),
    # Blacklist (services/blacklist.py). Sparse and sharded per business day: only change-log rows carry
    # change_day ("<city>#<YYYY-MM-DD>#<shard>"); change_seq ("<at>#<change_id>") orders a day.
    "blacklist_changes": (BLACKLIST, "change_day", "change_seq"),
    # Sparse and sharded: only records with a scheduled transition ahead carry due_shard/next_due (a business date).
    "blacklist_due": (BLACKLIST, "due_shard", "next_due"),
    # Records and appeals of one account (the patient's status route), newest last.
    "blacklist_by_account": (BLACKLIST, "holder", "opened_at"),
    # Records by state ("listed", "appealing", "removed"; purged records leave it): the operators' lists.
    "blacklist_by_state": (BLACKLIST, "list_state", "opened_at"),
    # Events: each receiver's own, in order (the pull fallback), and the sparse queue of the webhook dispatcher
    # (event rows not yet handed to the endpoints, delivery rows still to attempt).
    "events_by_audience": (EVENTS, "audience", "seq"),
    "events_due": (EVENTS, "due_shard", "due_at"),
    "rights_by_account": (RIGHTS, "account_id", "opened_at"),
    # Sparse and sharded: only data keys of accounts that left carry erase_shard/erase_on (the erasure date).
    "by_erase_on": (DATA_KEYS, "erase_shard", "erase_on"),
    # Sparse and sharded: only erased accounts whose records still wait for the end of a retention period carry
    # purge_shard/purge_on (the date the next stage is due, services/purge.purge_records).
    "by_purge_on": (ACCOUNTS, "purge_shard", "purge_on"),
    # Sparse: only privacy requests still waiting for an operator carry `queue`; ordered by their deadline.
    "open_rights": (RIGHTS, "queue", "due_at"),
    # Sparse and sharded per business date: ledger entries carry day_shard ("<city>#<YYYY-MM-DD>#<0..15>",
    # treatfirst.domain.days) from their commit; clearing and reconciliation read a day with no scan, one item
    # per entry (what they need is projected, LEDGER_DAY_ATTRIBUTES).
    "by_day": (LEDGER, "day_shard", "entry_id"),
    # Sparse: only suspense items (挂账) still open carry `queue` (services/reconciliation.py).
    "open_suspense": (RECONCILIATION, "queue", "opened_at"),
}

# Attributes an index projects besides the keys (INCLUDE); indexes not named here project everything or only keys.
LEDGER_DAY_ATTRIBUTES = (
    "kind",
    "amount_fen",
    "ref_type",
    "ref_id",
    "at",
    "business_date",
    "hospital_id",
    "channel_id",
    "channel_txn_id",
    "financier_id",
    "fund_id",
)
INDEX_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "by_day": LEDGER_DAY_ATTRIBUTES,
    "by_emergency_month": ("hospital_id", "self_pay_fen", "refunded_self_pay_fen", "status"),
    "by_next_step": (
        "status",
        "unpaid",
        "step",
        "anchor",
        "applied",
        "reminded",
        "strikes",
        "strike_blocked",
        "stays",
        "pauses",
        "blocks",
        "collect_version",
        "name_masked",
        "strikes_reset_on",
        "blacklist_pending",
        "blacklist_open",
    ),
}

Failure = Callable[[], Exception]
BATCH_GET_KEYS = 100  # keys one BatchGetItem request may name
TRANSACTION_ITEMS = 100  # writes one TransactWriteItems request may hold


@dataclass(frozen=True)
class Put:
    """Create an item; fails when an item with the same key exists (unless `overwrite`)."""

    table: str
    item: Item
    fail: Failure | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class Update:
    """Change an existing item.

    `add` adds integers; every field with a negative addition is also a condition that it stays >= 0.
    `expect` holds equality conditions; `lacks` conditions that a list field (absent counts as empty) does not
    contain a value; `set` and `remove` change other fields. A name in `set`/`remove` may be a path into a map
    field, "unpaid.bil_x" (the map must exist); a value None in `set` removes the field.
    `upsert`: the item may not exist yet (it is then created with its key; additions start from 0).
    """

    table: str
    key: Item
    add: Mapping[str, int] = field(default_factory=dict)
    set: Mapping[str, Any] = field(default_factory=dict)
    remove: Sequence[str] = ()
    expect: Mapping[str, Any] = field(default_factory=dict)
    fail: Failure | None = None
    lacks: Mapping[str, str] = field(default_factory=dict)
    upsert: bool = False


@dataclass(frozen=True)
class Delete:
    table: str
    key: Item
    expect: Mapping[str, Any] = field(default_factory=dict)
    fail: Failure | None = None


Write = Put | Update | Delete


class CommitFailed(Exception):
    """The transaction was cancelled; `reasons[i]` is why write i failed (None when it did not)."""

    def __init__(self, reasons: Sequence[str | None]) -> None:
        super().__init__(", ".join(str(r) for r in reasons))
        self.reasons = list(reasons)

    @property
    def conflict(self) -> bool:
        return any(r in ("TransactionConflict", "TransactionInProgress", "Throttling") for r in self.reasons)


@dataclass(frozen=True)
class Page:
    items: list[Item]
    cursor: Item | None  # the last evaluated key, or None when there is no more


class Store(Protocol):
    def get(self, table: str, key: Mapping[str, Any]) -> Item | None: ...

    def query(
        self,
        table: str,
        hash_value: str,
        *,
        index: str | None = None,
        limit: int = 100,
        start: Mapping[str, Any] | None = None,
        forward: bool = True,
        until: str | None = None,
    ) -> Page:
        """Items with this hash key (on the table or `index`), ordered by range key; `until` keeps range <= it."""
        ...

    def commit(self, writes: Sequence[Write]) -> None:
        """All writes or none. Raises CommitFailed."""
        ...

    def batch_get(self, table: str, keys: Sequence[Mapping[str, Any]]) -> list[Item]:
        """The items under these keys that exist (strongly consistent, in no particular order; a key given twice
        counts once). Reads BATCH_GET_KEYS keys per request (DynamoDB's BatchGetItem), retrying what the engine
        left unprocessed."""
        ...


class Scannable(Protocol):
    def scan(self, table: str, *, limit: int = 100, start: Mapping[str, Any] | None = None) -> Page:
        """Every item of the table, a page at a time. Only one-off migrations (treatfirst.services.migrations)
        scan; no request path and no scheduled function does."""
        ...


class Cipher(Protocol):
    """Encrypts personal identifiers and computes their keyed-hash (blind) index."""

    def encrypt(self, plaintext: str, *, context: str) -> str: ...

    def decrypt(self, token: str, *, context: str) -> str: ...

    def blind_index(self, kind: str, value: str) -> str: ...


class Publisher(Protocol):
    """Hands one message to the city's SMS gateway (an SNS topic on AWS). Raises when it was not accepted."""

    name: str

    def publish(self, message: Mapping[str, Any]) -> None: ...


# ---- files (exports bucket): shared by the blacklist export and clearing ------------------------------------------
class ObjectMissing(KeyError):
    """No object under that key."""


class ObjectWriter(Protocol):
    """One object being written in pieces. Hashes and counts while writing; `sha256` and `size` are final once
    the writer's `with` block has ended without an error (the object then exists, whole). An error inside the
    block leaves no object (and no partial upload)."""

    sha256: str
    size: int

    def write(self, data: bytes) -> None: ...


class Objects(Protocol):
    """Files under keys such as `exports/blacklist/...` or `clearing/...`: the exports bucket on AWS (S3, KMS-encrypted,
    TLS-only), a folder locally, a dict in unit tests (treatfirst.adapters.objects). Memory stays flat whatever the
    size of an object: writers upload in parts, readers read in chunks."""

    def writer(self, key: str, *, content_type: str) -> AbstractContextManager[ObjectWriter]: ...

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        """The whole object (ObjectMissing when absent; ValueError when it is larger than `max_bytes`)."""
        ...

    def chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        """The object in pieces of at most `size` bytes (ObjectMissing when absent)."""
        ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key starting with `prefix`, in byte order."""
        ...

    def delete(self, key: str) -> None: ...
