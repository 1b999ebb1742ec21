"""DynamoDB adapter: PynamoDB models (the code's view of infra/tables.yaml) and a Store on top of them.

Reads go through PynamoDB; every commit is ONE TransactWriteItems request built from the models'
own serialisers, so a post of a charge is one write request. Cancellation reasons come back in write order
(we call the client directly, not PynamoDB's TransactWrite, which reorders them).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import MAP
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from treatfirst.domain.errors import InvalidCursor
from treatfirst.services import ports
from treatfirst.services.ports import CommitFailed, Delete, Item, Page, Put, Write


class _Base(Model):
    class Meta:
        abstract = True
        table_name = "unset"
        region = os.environ.get("AWS_DEFAULT_REGION", "cn-north-1")


def _s(**kw: Any) -> UnicodeAttribute:
    return UnicodeAttribute(null=True, **kw)


def _n(**kw: Any) -> NumberAttribute:
    return NumberAttribute(null=True, **kw)


def _j() -> JSONAttribute:
    return JSONAttribute(null=True)


def _plain_value(value: Any) -> Any:
    """A value read from DynamoDB as plain Python: Decimal -> int (money and counts are integers), sets -> lists."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain_value(v) for v in value]
    return value


class DocumentAttribute(Attribute[dict[str, Any]]):
    """A native DynamoDB map (not a JSON string), so an update can set or remove one entry by its path
    ("unpaid.bil_x") without reading the item. Values are strings, integers, booleans, lists and maps."""

    attr_type = MAP

    def serialize(self, value: dict[str, Any]) -> Any:
        return document_value(value)["M"]

    def deserialize(self, value: Any) -> dict[str, Any]:
        return _plain_value(plain_document({"M": value}))  # type: ignore[no-any-return]


def document_value(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute value (S, N, BOOL, NULL, L, M), without importing boto3, whose
    serializer would bring boto3 and s3transfer into every cold start."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list | tuple):
        return {"L": [document_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): document_value(v) for k, v in value.items()}}
    raise TypeError(f"a document holds strings, integers, booleans, lists and maps, not {type(value).__name__}")


def plain_document(value: dict[str, Any]) -> Any:
    """The inverse of document_value (numbers come back as int; a fraction as Decimal)."""
    ((kind, inner),) = value.items()
    if kind == "NULL":
        return None
    if kind in ("S", "BOOL"):
        return inner
    if kind == "N":
        return Decimal(inner) if any(c in inner for c in ".eE") else int(inner)
    if kind == "L":
        return [plain_document(v) for v in inner]
    if kind == "M":
        return {k: plain_document(v) for k, v in inner.items()}
    if kind in ("SS", "NS"):
        return [plain_document({kind[0]: v}) for v in inner]
    raise TypeError(f"unexpected DynamoDB type {kind} in a document attribute")


class AccountsByNextStep(GlobalSecondaryIndex["AccountModel"]):
    """Sparse and sharded: only accounts with a collection date ahead carry collect_shard and next_step_at."""

    class Meta:
        index_name = "by_next_step"
        projection = IncludeProjection(list(ports.INDEX_ATTRIBUTES["by_next_step"]))

    collect_shard = UnicodeAttribute(hash_key=True)
    next_step_at = UnicodeAttribute(range_key=True)


class AccountsByPurgeOn(GlobalSecondaryIndex["AccountModel"]):
    """Sparse and sharded: only erased accounts whose records wait for the end of a retention period carry
    purge_shard and purge_on (services/purge.purge_records)."""

    class Meta:
        index_name = "by_purge_on"
        projection = KeysOnlyProjection()

    purge_shard = UnicodeAttribute(hash_key=True)
    purge_on = UnicodeAttribute(range_key=True)


class AccountModel(_Base):
    """Accounts ("acc_...") and resident guard items ("rid#<blind index>") share this table."""

    class Meta(_Base.Meta):
        logical = ports.ACCOUNTS

    account_id = UnicodeAttribute(hash_key=True)
    ref_account_id, city_code, status, tier, insurance_status = _s(), _s(), _s(), _s(), _s()
    name_enc, id_enc, phone_enc, id_hash, phone_hash = _s(), _s(), _s(), _s(), _s()
    name_masked, id_masked, phone_masked, key_scheme, erased_at = _s(), _s(), _s(), _s(), _s()
    limit_fen, available_fen, held_fen, owed_fen = _n(), _n(), _n(), _n()
    emergency_held_fen, emergency_owed_fen = _n(), _n()
    open_visits = _n()
    decision, verification, withdrawal, policy = _j(), _j(), _j(), _j()
    enrolled_at, enrolled_by, updated_at, withdrawn_at = _s(), _s(), _s(), _s()
    # Collection state (treatfirst.domain.collection.State): kept by close, payment, refund and the sweep.
    collect_shard, next_step_at = _s(), _s()
    by_next_step = AccountsByNextStep()
    unpaid = DocumentAttribute(null=True)
    step, anchor = _s(), _s()
    applied, reminded, strikes, pauses = _j(), _j(), _j(), _j()
    stays = DocumentAttribute(null=True)  # inpatient stays: visit_id -> {start, end}, set by path (no read)
    # the scope hash of each necessary consent/notice answer on record (kind -> sha256): a visit compares it with
    # the policy's scopes without reading the consents (treatfirst.inventory.reconsent_due)
    consent_scopes = DocumentAttribute(null=True)
    # the records purge after the retention periods (services/purge.purge_records): the stage due next and its date
    purge_shard, purge_on, purge_stage = _s(), _s(), _s()
    by_purge_on = AccountsByPurgeOn()
    blocks = ListAttribute(null=True, of=UnicodeAttribute)  # a list, so a condition can ask NOT contains(...)
    strike_blocked = BooleanAttribute(null=True)
    collect_version = _n()
    # The blacklist (services/blacklist.py): a listing waiting for proof of notice, the open record
    strikes_reset_on = _s()
    blacklist_pending, blacklist_open = _j(), _j()
    # The sort key of the latest consent or notice answer of each kind (services/consents.py): kind -> consent_key
    consent_keys = DocumentAttribute(null=True)
    # sweep bookkeeping items ("sys#watermark#<shard>") in the same table
    swept_through = _s()
    # the daily clearing's watermark item ("sys#clearing#<city>"): the last business date cleared
    cleared_through = _s()
    # the test clock's offset ("sys#clock"), read only where the test clock is enabled (services/testclock.py)
    clock_offset_seconds = _n()


class ConsentModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.CONSENTS

    account_id = UnicodeAttribute(hash_key=True)
    consent_key = UnicodeAttribute(range_key=True)
    kind, version, title, text_sha256, accepted_at, accepted_via = _s(), _s(), _s(), _s(), _s(), _s()
    mode, scope_sha256, withdrawn_at = _s(), _s(), _s()
    policy, withdrawal = _j(), _j()


class VisitsByHospital(GlobalSecondaryIndex["VisitModel"]):
    class Meta:
        index_name = "by_hospital"
        projection = AllProjection()

    hospital_id = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class VisitModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.VISITS

    visit_id = UnicodeAttribute(hash_key=True)
    hospital_id, opened_at = UnicodeAttribute(), UnicodeAttribute()
    by_hospital = VisitsByHospital()
    account_id, his_visit_id, kind, department, status = _s(), _s(), _s(), _s(), _s()
    closed_at, bill_id, stay_start = _s(), _s(), _s()
    channel_id = _s()  # the payment channel that enrolled the patient: it hears of the visit's bill
    held_fen, emergency_held_fen, charge_count = _n(), _n(), _n()
    emergency_declared = BooleanAttribute(null=True)
    emergency, policy = _j(), _j()


class ChargesByEmergencyMonth(GlobalSecondaryIndex["ChargeModel"]):
    """Sparse: only emergency charges carry emergency_month."""

    class Meta:
        index_name = "by_emergency_month"
        projection = IncludeProjection(["hospital_id", "self_pay_fen", "refunded_self_pay_fen", "status"])

    emergency_month = UnicodeAttribute(hash_key=True)
    posted_at = UnicodeAttribute(range_key=True)


class ChargeModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.CHARGES

    visit_id = UnicodeAttribute(hash_key=True)
    fee_line_id = UnicodeAttribute(range_key=True)
    emergency_month, posted_at = _s(), _s()
    by_emergency_month = ChargesByEmergencyMonth()
    hospital_id, account_id, item_code, item_name, occurred_at, status = (_s() for _ in range(6))
    request_hash = _s()
    quantity, total_fen, insurance_fen, personal_account_fen, self_pay_fen = _n(), _n(), _n(), _n(), _n()
    refunded_insurance_fen, refunded_personal_account_fen, refunded_self_pay_fen = _n(), _n(), _n()
    emergency = BooleanAttribute(null=True)
    refunds, policy = _j(), _j()


class BillsByAccount(GlobalSecondaryIndex["BillModel"]):
    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    issued_at = UnicodeAttribute(range_key=True)


class BillsByDue(GlobalSecondaryIndex["BillModel"]):
    """Sparse: only issued, unpaid bills carry due_shard."""

    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class BillModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.BILLS

    bill_id = UnicodeAttribute(hash_key=True)
    account_id, issued_at = UnicodeAttribute(), UnicodeAttribute()
    due_shard, due_at = _s(), UnicodeAttribute()
    by_account, by_due = BillsByAccount(), BillsByDue()
    visit_id, hospital_id, status, due_local, paid_at = _s(), _s(), _s(), _s(), _s()
    channel_id = _s()  # the payment channel that enrolled the patient (bill events go to it too)
    amount_fen, emergency_amount_fen, refunded_fen, paid_fen = _n(), _n(), _n(), _n()
    outstanding_fen, credit_outstanding_fen, emergency_outstanding_fen = _n(), _n(), _n()
    policy = _j()
    # write-off (terminal) and the recoveries received after it
    written_off_at, write_off, written_off_fen, recovered_fen = _s(), _j(), _n(), _n()


class LedgerByDay(GlobalSecondaryIndex["LedgerModel"]):
    """Sparse and sharded per business date: what clearing and reconciliation need is projected."""

    class Meta:
        index_name = "by_day"
        projection = IncludeProjection(list(ports.LEDGER_DAY_ATTRIBUTES))

    day_shard = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class LedgerModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.LEDGER

    account_id = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    kind, ref_type, ref_id, at, request_id, actor = (_s() for _ in range(6))
    amount_fen = _n()
    delta = _j()
    # set at commit, never changed (treatfirst.services.records.entry)
    business_date, day_shard = _s(), _s()
    by_day = LedgerByDay()
    hospital_id, channel_id, channel_txn_id, financier_id, fund_id = _s(), _s(), _s(), _s(), _s()


class PaymentModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.PAYMENTS

    payment_key = UnicodeAttribute(hash_key=True)
    payment_id, channel_id, channel_txn_id, paid_at, received_at, request_hash = (_s() for _ in range(6))
    amount_fen = _n()
    allocations, payer = _j(), _j()


class AuditModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.AUDIT

    subject = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    action, actor_kind, actor_id, at, request_id = (_s() for _ in range(5))
    details = _j()
    expires_at = TTLAttribute(null=True)  # privacy.retention.audit_days after `at`: the table's time to live


class IdempotencyModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.IDEMPOTENCY

    idem_key = UnicodeAttribute(hash_key=True)
    request_hash, created_at = _s(), _s()
    status_code = _n()
    response = _j()
    expires_at = TTLAttribute(null=True)


class CallerModel(_Base):
    """Caller keys ("key_...") and one guard item per principal ("principal#<kind>#<id>") share this table."""

    class Meta(_Base.Meta):
        logical = ports.CALLERS

    key_id = UnicodeAttribute(hash_key=True)
    kind, principal_id, name, status, created_at, signing_key_enc = (_s() for _ in range(6))
    scopes = _j()
    previous_key_enc, rotated_at, revoked_at, active_key_id = _s(), _s(), _s(), _s()
    previous_expires_at = _n()  # epoch seconds: the previous secret of a rotation works until then


class OpenReviews(GlobalSecondaryIndex["ReviewModel"]):
    """Sparse: only review items still waiting for an operator carry `queue`."""

    class Meta:
        index_name = "open_reviews"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class ReviewModel(_Base):
    """Operator review items (an emergency claim above the policy's threshold, ...)."""

    class Meta(_Base.Meta):
        logical = ports.REVIEWS

    review_id = UnicodeAttribute(hash_key=True)
    queue, opened_at = _s(), UnicodeAttribute()
    open_reviews = OpenReviews()
    kind, status, hospital_id, visit_id, account_id, fee_line_id, reason_code = (_s() for _ in range(7))
    decided_at, decided_by, outcome, decision_reason, request_id = (_s() for _ in range(5))
    amount_fen, threshold_fen, triage_level = _n(), _n(), _n()
    policy = _j()


class NonceModel(_Base):
    class Meta(_Base.Meta):
        logical = ports.NONCES

    nonce_key = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute(null=True)


class OutboxByQueue(GlobalSecondaryIndex["OutboxModel"]):
    """Sparse: only rows still to deliver or to finish carry `queue` ("sms#<n>", "phone#<n>")."""

    class Meta:
        index_name = "by_queue"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OutboxByAccount(GlobalSecondaryIndex["OutboxModel"]):
    class Meta:
        index_name = "outbox_by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OutboxModel(_Base):
    """Messages (SMS) and phone tasks, each written in the transaction of its cause (services/outbox.py)."""

    class Meta(_Base.Meta):
        logical = ports.OUTBOX

    message_id = UnicodeAttribute(hash_key=True)
    account_id, created_at = UnicodeAttribute(), UnicodeAttribute()
    queue = _s()
    by_queue, outbox_by_account = OutboxByQueue(), OutboxByAccount()
    kind, channel, dedupe_key, status, text, request_id, policy_version, bill_id, sent_via = (_s() for _ in range(9))
    lease_id, lease_until, sent_at, claimed_by, claimed_at, done_at, outcome = (_s() for _ in range(7))
    attempts = _n()
    params, history = _j(), _j()


class BlacklistChanges(GlobalSecondaryIndex["BlacklistModel"]):
    """Sparse and sharded per business day: only change-log rows carry change_day."""

    class Meta:
        index_name = "blacklist_changes"
        projection = AllProjection()

    change_day = UnicodeAttribute(hash_key=True)
    change_seq = UnicodeAttribute(range_key=True)


class BlacklistDue(GlobalSecondaryIndex["BlacklistModel"]):
    """Sparse and sharded: only records with a scheduled transition ahead carry due_shard and next_due."""

    class Meta:
        index_name = "blacklist_due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    next_due = UnicodeAttribute(range_key=True)


class BlacklistByAccount(GlobalSecondaryIndex["BlacklistModel"]):
    class Meta:
        index_name = "blacklist_by_account"
        projection = AllProjection()

    holder = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class BlacklistByState(GlobalSecondaryIndex["BlacklistModel"]):
    class Meta:
        index_name = "blacklist_by_state"
        projection = AllProjection()

    list_state = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class BlacklistModel(_Base):
    """Blacklist records ("blr_"), appeals ("bla_") and the export change log ("blc_"): services/blacklist.py."""

    class Meta(_Base.Meta):
        logical = ports.BLACKLIST

    item_id = UnicodeAttribute(hash_key=True)
    change_day, change_seq, due_shard, next_due, holder, opened_at, list_state = (_s() for _ in range(7))
    blacklist_changes, blacklist_due = BlacklistChanges(), BlacklistDue()
    blacklist_by_account, blacklist_by_state = BlacklistByAccount(), BlacklistByState()
    kind, record_id, city_code, account_id, state, reason, request_id = (_s() for _ in range(7))
    listed_at, listed_on, valid_until, publish_on, published_on, repaid_on = (_s() for _ in range(6))
    removed_on, purge_on, removed_at, purged_at = (_s() for _ in range(4))
    change_id, change_kind, business_date, at, appeal_id = (_s() for _ in range(5))
    appeal_status, filed_at, filed_by, decided_at, decided_by = (_s() for _ in range(5))
    updated_at, statement, filed_by_kind, verification_method, decision_reason = (_s() for _ in range(5))
    open, annul_strikes = BooleanAttribute(null=True), BooleanAttribute(null=True)
    state_version, amount_fen, change_count = _n(), _n(), _n()
    cause, bills, basis, notice, removal, changes, strike_bills, verification, appeal_ids = (_j() for _ in range(9))


class EventsByAudience(GlobalSecondaryIndex["EventModel"]):
    """Each receiver's events in order (`seq` = created_at#event_id): the pull fallback GET /v1/events?after=."""

    class Meta:
        index_name = "events_by_audience"
        projection = AllProjection()

    audience = UnicodeAttribute(hash_key=True)
    seq = UnicodeAttribute(range_key=True)


class EventsDue(GlobalSecondaryIndex["EventModel"]):
    """Sparse: only event rows not yet handed to the endpoints and delivery rows still to attempt carry it."""

    class Meta:
        index_name = "events_due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class EventModel(_Base):
    """Events to hospitals and channels (services/events.py), each written in the transaction of its cause; per
    endpoint its delivery state ("to#<endpoint>") and one row per attempt ("try#<endpoint>#<n>")."""

    class Meta(_Base.Meta):
        logical = ports.EVENTS

    event_id = UnicodeAttribute(hash_key=True)
    part = UnicodeAttribute(range_key=True)
    audience, seq, due_shard, due_at = _s(), _s(), _s(), _s()
    events_by_audience, events_due = EventsByAudience(), EventsDue()
    kind, subject, created_at, request_id, owner, endpoint_id, status = (_s() for _ in range(7))
    lease_id, lease_until, delivered_at, last_error, outcome, at, error, next_at, fanned_out_at = (
        _s() for _ in range(9)
    )
    attempts, tries, attempt, status_code, latency_ms, last_status_code, endpoints = (_n() for _ in range(7))
    replay = BooleanAttribute(null=True)
    data = _j()


class EndpointModel(_Base):
    """Webhook endpoints of hospitals and channels (services/webhooks.py); the secrets are encrypted."""

    class Meta(_Base.Meta):
        logical = ports.ENDPOINTS

    owner = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)
    url, status, description, secret_enc, previous_secret_enc, previous_expires_at = (_s() for _ in range(6))
    created_at, rotated_at, disabled_at, disabled_reason, request_id = (_s() for _ in range(5))
    events = _j()


class ReportModel(_Base):
    """Report counters ("<business date>#<shard>", "<counter name>") and each business date's closing balances
    ("closing", "<business date>"); services/reports.py."""

    class Meta(_Base.Meta):
        logical = ports.REPORTS

    day_shard = UnicodeAttribute(hash_key=True)
    counter = UnicodeAttribute(range_key=True)
    n, fen, lent_fen, lent_n = _n(), _n(), _n(), _n()
    cohorts = _j()
    written_at = _s()


class ExportModel(_Base):
    """The blacklist export's registry: delivered windows and the markers of records whose addition went out."""

    class Meta(_Base.Meta):
        logical = ports.EXPORTS

    stream = UnicodeAttribute(hash_key=True)
    item_key = UnicodeAttribute(range_key=True)
    export_id, window_from, window_to, manifest_sha256, previous_manifest_sha256, status = (_s() for _ in range(6))
    written_at, request_id, acknowledged_at, acknowledged_by, acknowledgement_note, window = (_s() for _ in range(6))
    sequence = _n()
    counts, files = _j(), _j()


# ---- privacy ----
class DataKeysByEraseOn(GlobalSecondaryIndex["DataKeyModel"]):
    """Sparse and sharded: only data keys of accounts that left carry erase_shard and erase_on."""

    class Meta:
        index_name = "by_erase_on"
        projection = KeysOnlyProjection()

    erase_shard = UnicodeAttribute(hash_key=True)
    erase_on = UnicodeAttribute(range_key=True)


class DataKeyModel(_Base):
    """One item per account: its data key wrapped by the city key (services/identity_data.py)."""

    class Meta(_Base.Meta):
        logical = ports.DATA_KEYS

    account_id = UnicodeAttribute(hash_key=True)
    wrapped_key, key_scheme, created_at = _s(), _s(), _s()
    erase_shard, erase_on = _s(), _s()
    by_erase_on = DataKeysByEraseOn()


class RightsByAccount(GlobalSecondaryIndex["RightsModel"]):
    class Meta:
        index_name = "rights_by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class OpenRights(GlobalSecondaryIndex["RightsModel"]):
    """Sparse: only requests still waiting for an operator carry `queue`."""

    class Meta:
        index_name = "open_rights"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class RightsModel(_Base):
    """Privacy requests (services/rights.py): what the person asked, through which channel, and the answer."""

    class Meta(_Base.Meta):
        logical = ports.RIGHTS

    request_id = UnicodeAttribute(hash_key=True)
    account_id, opened_at = UnicodeAttribute(), UnicodeAttribute()
    queue, due_at = _s(), UnicodeAttribute()
    rights_by_account, open_rights = RightsByAccount(), OpenRights()
    kind, status, channel, consent_kind, answered_at, answered_by, outcome = (_s() for _ in range(7))
    verification, details, answer, policy = _j(), _j(), _j(), _j()


# ---- reconciliation (对账) ----
class OpenSuspense(GlobalSecondaryIndex["ReconciliationModel"]):
    """Sparse: only suspense items (挂账) still open carry `queue`."""

    class Meta:
        index_name = "open_suspense"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class ReconciliationModel(_Base):
    """Hospital reconciliations ("rec_"), channel statements ("stm_") and suspense items ("sus_")."""

    class Meta(_Base.Meta):
        logical = ports.RECONCILIATION

    recon_id = UnicodeAttribute(hash_key=True)
    queue, opened_at = _s(), _s()
    open_suspense = OpenSuspense()
    party, business_date, level, result, request_hash, created_at = (_s() for _ in range(6))
    channel_id, format, sha256, kind, ref, status, owner = (_s() for _ in range(7))
    opened_on, last_seen_on, settled_on, resolved_at, resolved_by, resolution = (_s() for _ in range(6))
    breaks, lines, platform_lines, platform_fen, counterparty_fen, version = (_n() for _ in range(6))
    statements = ListAttribute(null=True, of=UnicodeAttribute)  # a list, so a condition can ask NOT contains(...)
    counts, break_list = _j(), _j()
    breaks_truncated = BooleanAttribute(null=True)


MODELS: dict[str, type[Model]] = {
    m.Meta.logical: m
    for m in (
        AccountModel,
        ConsentModel,
        VisitModel,
        ChargeModel,
        BillModel,
        LedgerModel,
        PaymentModel,
        AuditModel,
        IdempotencyModel,
        CallerModel,
        NonceModel,
        OutboxModel,
        ReviewModel,
        BlacklistModel,
        ReconciliationModel,
        EventModel,
        EndpointModel,
        ReportModel,
        ExportModel,
        DataKeyModel,
        RightsModel,
    )
}


def configure(prefix: str, region: str | None = None) -> None:
    """Point every model at "<prefix><logical>" (read once at start-up)."""
    for logical, model in MODELS.items():
        model.Meta.table_name = f"{prefix}{logical}"
        if region:
            model.Meta.region = region
        model._connection = None  # drop a connection made for another table name


# ---- conversion between plain items and DynamoDB attribute values ------------------------------------------------
def _attr(model: type[Model], name: str) -> Attribute[Any]:
    attrs = model.get_attributes()
    if name not in attrs:
        raise KeyError(f"{model.__name__} has no attribute {name}")
    return attrs[name]


def _value_to_python(attr: Attribute[Any], value: Any) -> Any:
    if isinstance(attr, TTLAttribute) and isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    return value


def _to_av(model: type[Model], name: str, value: Any) -> dict[str, Any]:
    if "." in name:  # a path into a document attribute
        if not isinstance(_attr(model, name.split(".")[0]), DocumentAttribute):
            raise KeyError(f"{model.__name__}.{name.split('.')[0]} is not a document attribute")
        return document_value(value)
    attr = _attr(model, name)
    return {attr.attr_type: attr.serialize(_value_to_python(attr, value))}


def _serialize_item(model: type[Model], item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _to_av(model, name, value) for name, value in item.items() if value is not None}


def _plain(instance: Model) -> Item:
    out: Item = {}
    for name in type(instance).get_attributes():
        value = getattr(instance, name)
        if value is None:
            continue
        out[name] = int(value.timestamp()) if isinstance(value, datetime) else value
    return out


def _string(values: dict[str, Any], v: str) -> str:
    placeholder = f":v{len(values)}"
    values[placeholder] = {"S": v}
    return placeholder


# Indexes read through the client without PynamoDB model instances (their projections hold strings and numbers).
RAW_INDEXES = frozenset({"by_day"})


BATCH_ATTEMPTS = 8  # BatchGetItem requests for one chunk of keys before giving up on the unprocessed ones


class BatchIncomplete(Exception):
    """BatchGetItem left keys unprocessed request after request (the table is throttled)."""


def _raw_item(model: type[Model], raw: Mapping[str, Any]) -> Item:
    """An item as the client returns it, each attribute deserialised by its model attribute (the same plain item
    as _plain, without building a model instance)."""
    attributes = model.get_attributes()
    item: Item = {}
    for name, av in raw.items():
        attr = attributes[name]
        if attr.attr_type not in av:
            continue
        value = attr.deserialize(av[attr.attr_type])
        if value is not None:
            item[name] = int(value.timestamp()) if isinstance(value, datetime) else value
    return item


class DynamoStore:
    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._connection: Connection | None = None
        self.sleep = sleep  # the pause before asking again for unprocessed keys (tests pass a recorder)

    @property
    def client(self) -> Any:
        """The botocore client every request of this store goes through (one place to count requests)."""
        if self._connection is None:
            self._connection = Connection(region=AccountModel.Meta.region)
        return self._connection.client

    def get(self, table: str, key: Mapping[str, Any]) -> Item | None:
        model = MODELS[table]
        hash_name, range_name = ports.KEYS[table]
        try:
            found = model.get(key[hash_name], key[range_name] if range_name else None, consistent_read=True)
        except model.DoesNotExist:
            return None
        return _plain(found)

    def batch_get(self, table: str, keys: Sequence[Mapping[str, Any]]) -> list[Item]:
        """BatchGetItem, ports.BATCH_GET_KEYS keys a request, strongly consistent. Keys the engine leaves
        unprocessed (throttling, the 16 MB answer limit) are asked again after a jittered, growing pause; after
        BATCH_ATTEMPTS requests that still leave keys unread, BatchIncomplete."""
        model = MODELS[table]
        names = [n for n in ports.KEYS[table] if n]
        unique = {tuple(k[n] for n in names): k for k in keys}
        found: list[Item] = []
        pending = [{n: _to_av(model, n, k[n]) for n in names} for k in unique.values()]
        for start in range(0, len(pending), ports.BATCH_GET_KEYS):
            request = {
                model.Meta.table_name: {"Keys": pending[start : start + ports.BATCH_GET_KEYS], "ConsistentRead": True}
            }
            for attempt in range(BATCH_ATTEMPTS):
                answer = self.client.batch_get_item(RequestItems=request)
                found += [_raw_item(model, raw) for raw in answer.get("Responses", {}).get(model.Meta.table_name, [])]
                request = {t: r for t, r in (answer.get("UnprocessedKeys") or {}).items() if r.get("Keys")}
                if not request:
                    break
                self.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
            else:
                raise BatchIncomplete(f"{table}: keys still unprocessed after {BATCH_ATTEMPTS} requests")
        return found

    def scan(self, table: str, *, limit: int = 100, start: Mapping[str, Any] | None = None) -> Page:
        """One page of a full-table scan (one-off migrations only)."""
        model = MODELS[table]
        start_key = {n: _to_av(model, n, v) for n, v in start.items()} if start is not None else None
        result = model.scan(limit=limit, page_size=limit, last_evaluated_key=start_key, consistent_read=True)
        items = [_plain(m) for m in result]
        last = result.last_evaluated_key
        cursor = {n: _plain_value(next(iter(v.values()))) for n, v in last.items()} if last else None
        return Page(items, cursor)

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
        model = MODELS[table]
        source: Any = getattr(model, index) if index else model
        names = {*filter(None, ports.KEYS[table])}
        if index:
            _, ih, ir = ports.INDEXES[index]
            names |= {ih, *([ir] if ir else [])}
        start_key = None
        if start is not None:
            if set(start) != names:
                raise InvalidCursor("the cursor does not belong to this list", field="cursor")
            start_key = {n: _to_av(model, n, v) for n, v in start.items()}
        range_name = ports.INDEXES[index][2] if index else ports.KEYS[table][1]
        if index in RAW_INDEXES and until is None:
            items = self._raw_query(model, index, hash_value, limit + 1, start_key, forward)
            cursor = {n: items[limit - 1][n] for n in names} if len(items) > limit else None
            return Page(items[:limit], cursor)
        condition = getattr(model, range_name) <= until if until is not None and range_name else None
        # Ask for one item more than the page: has_more is then exact, never true before an empty page.
        result = source.query(
            hash_value,
            condition,
            limit=limit + 1,
            page_size=limit + 1,
            last_evaluated_key=start_key,
            scan_index_forward=forward,
            **({} if index else {"consistent_read": True}),
        )
        items = [_plain(m) for m in result]
        cursor = {n: items[limit - 1][n] for n in names} if len(items) > limit else None
        items = items[:limit]
        if index and isinstance(source.Meta.projection, KeysOnlyProjection):
            items = [i for i in (self.get(table, i) for i in items) if i is not None]
        return Page(items, cursor)

    def _raw_query(
        self, model: type[Model], index: str, hash_value: str, want: int, start_key: Any, forward: bool
    ) -> list[Item]:
        """An index query through the client, each attribute deserialised by its model attribute without building
        a model instance (a day of 100 000 ledger entries reads in a fraction of the time). Same items as _plain."""
        hash_name = ports.INDEXES[index][1]
        items: list[Item] = []
        while len(items) < want:
            request: dict[str, Any] = {
                "TableName": model.Meta.table_name,
                "IndexName": index,
                "KeyConditionExpression": "#h = :h",
                "ExpressionAttributeNames": {"#h": hash_name},
                "ExpressionAttributeValues": {":h": {"S": hash_value}},
                "Limit": want - len(items),
                "ScanIndexForward": forward,
            }
            if start_key:
                request["ExclusiveStartKey"] = start_key
            answer = self.client.query(**request)
            items += [_raw_item(model, raw) for raw in answer.get("Items", [])]
            start_key = answer.get("LastEvaluatedKey")
            if not start_key:
                break
        return items

    def commit(self, writes: Sequence[Write]) -> None:
        request = [self._transact_item(w) for w in writes]
        try:
            self.client.transact_write_items(TransactItems=request, ClientRequestToken=uuid.uuid4().hex)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                raise CommitFailed([None if r.get("Code") in (None, "None") else r["Code"] for r in reasons]) from exc
            if code in (
                "TransactionConflictException",
                "TransactionInProgressException",
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
            ):
                raise CommitFailed(["TransactionConflict"] * len(writes)) from exc
            raise

    def _transact_item(self, write: Write) -> dict[str, Any]:
        model = MODELS[write.table]
        table_name = model.Meta.table_name
        hash_name = ports.KEYS[write.table][0]
        aliases: dict[str, str] = {}
        values: dict[str, Any] = {}

        def name(n: str) -> str:
            return ".".join(aliases.setdefault(part, f"#a{len(aliases)}") for part in n.split("."))

        def value(attr: str, v: Any) -> str:
            placeholder = f":v{len(values)}"
            values[placeholder] = _to_av(model, attr, v)
            return placeholder

        if isinstance(write, Put):
            put: dict[str, Any] = {"TableName": table_name, "Item": _serialize_item(model, write.item)}
            if not write.overwrite:
                put["ConditionExpression"] = f"attribute_not_exists({name(hash_name)})"
                put["ExpressionAttributeNames"] = {v: k for k, v in aliases.items()}
            return {"Put": put}

        upsert = isinstance(write, ports.Update) and write.upsert
        conditions = [] if upsert else [f"attribute_exists({name(hash_name)})"]
        conditions += [f"{name(k)} = {value(k, v)}" for k, v in write.expect.items()]
        if isinstance(write, ports.Update):
            conditions += [f"NOT contains({name(k)}, {_string(values, v)})" for k, v in write.lacks.items()]
        key = _serialize_item(model, write.key)
        if isinstance(write, Delete):
            return {
                "Delete": {
                    "TableName": table_name,
                    "Key": key,
                    "ConditionExpression": " AND ".join(conditions),
                    "ExpressionAttributeNames": {v: k for k, v in aliases.items()},
                    **({"ExpressionAttributeValues": values} if values else {}),
                }
            }

        sets = []
        for k, amount in write.add.items():
            if amount < 0:
                conditions.append(f"{name(k)} >= {value(k, -amount)}")
            sets.append(f"{name(k)} = if_not_exists({name(k)}, {value(k, 0)}) + {value(k, amount)}")
        sets += [f"{name(k)} = {value(k, v)}" for k, v in write.set.items() if v is not None]
        removes = [name(k) for k in write.remove] + [name(k) for k, v in write.set.items() if v is None]
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        update = {
            "TableName": table_name,
            "Key": key,
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": {v: k for k, v in aliases.items()},
        }
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        if values:
            update["ExpressionAttributeValues"] = values
        return {"Update": update}
