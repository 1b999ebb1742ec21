"""A person's rights through the API (PIPL arts. 15, 24, 44-47), and the operator's queue of what needs a person.

A channel (the patient's side) sends each request with fresh real-name evidence of the person; every request is
recorded in the `rights` table and audited. What the code can answer is answered at once:
- access: a machine-readable copy of the person's own records (identity in clear text, read through identity_of);
- correction: a new phone number or name, sealed again with the account's data key (blind index and masks too);
- withdraw_consent: the consent is marked withdrawn with its consequence: an optional one (credit reporting) stops
  counting from that moment (on_record is False); a necessary one ends the service, so it is withdrawn together
  with the account and only when nothing is owed or held (what is owed is still collected under the agreement);
- erasure: once the account is (or can be) withdrawn and nothing is owed or held, the identity is crypto-shredded
  (services/identity_data.erase_writes); financial and medical records stay pseudonymised for their retention;
- explanation: the reasons of the automated limit decision.
A human review of the limit decision waits in the operator queue (sparse index `open_rights`, ordered by its
deadline: opened_at + privacy.rights_answer_days); the operator upholds it or raises the limit, with a reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from treatfirst.domain.clock import rfc3339
from treatfirst.domain.errors import (
    AccountNotFound,
    AmountOwed,
    ConsentMissing,
    ErasureRefused,
    RightsRequestClosed,
    RightsRequestNotFound,
    TreatFirstError,
    ValidationFailed,
    VisitOpen,
)
from treatfirst.domain.ids import mask_name, mask_phone, new_id
from treatfirst.messages import privacy as msg
from treatfirst.messages.common import to_item
from treatfirst.services import consents
from treatfirst.services.enrollment import OWING, check_consents, fresh
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.identity_data import Identity, erase_writes, identity_of, seal_identity
from treatfirst.services.paging import PageQuery, decode_cursor, every, page_view
from treatfirst.services.ports import (
    ACCOUNTS,
    BILLS,
    CHARGES,
    CONSENTS,
    DATA_KEYS,
    LEDGER,
    OUTBOX,
    RIGHTS,
    VISITS,
    Delete,
    Item,
    Put,
    Update,
    Write,
)
from treatfirst.services.purge import purge_schedule, schedule_erasure
from treatfirst.services.records import audit, entry
from treatfirst.services.unit_of_work import Context

OPEN_QUEUE = "rights"
_PAGE = 100


def open_request(
    ctx: Context, caller: Caller, account_id: str, command: msg.PrivacyRequest, idempotency_key: str | None
) -> Outcome:
    """Record the request and answer it at once, or queue it for an operator (human_review)."""
    caller.may("privacy", "request")
    evidence = {**fresh(ctx, command.verification), "channel": caller.actor}
    # An access answer holds the person's data in clear text: it is never stored, so it is never replayed either.
    key = None if command.kind == "access" else idempotency_key
    idem = Idempotency(ctx, caller, key, f"privacy:{account_id}", command)
    answer_days = ctx.policy.privacy.rights_answer_days

    def build() -> tuple[list[Write], Outcome]:
        account = _load(ctx, account_id)
        now = ctx.clock.now()
        record: Item = {
            "request_id": new_id("prq"),
            "account_id": account_id,
            "opened_at": rfc3339(now),
            "due_at": rfc3339(now + timedelta(days=answer_days)),
            "kind": command.kind,
            "channel": caller.actor,
            "verification": evidence,
            "policy": ctx.policy.stamp,
        }
        handler = _HANDLERS[command.kind]
        writes, status, outcome, answer = handler(ctx, caller, account, command)
        if status == "open":
            record |= {"status": "open", "queue": OPEN_QUEUE, "details": {"reason": command.reason or ""}}
        else:
            record |= {
                "status": status,
                "answered_at": rfc3339(now),
                "answered_by": "system",
                "outcome": outcome,
                "answer": answer if command.kind != "access" else {"delivered": True},
            }
        if command.consent_kind:
            record["consent_kind"] = command.consent_kind
        writes = [
            *writes,
            Put(RIGHTS, record),
            audit(
                ctx,
                caller,
                f"account#{account_id}",
                f"privacy.{command.kind}",
                request_id_privacy=record["request_id"],
                outcome=outcome or "queued",
                verification_method=evidence["method"],
                check_id=evidence["check_id"],
            ),
        ]
        shown = {**record, "answer": answer} if status != "open" else record
        return writes, Outcome(201, request_view(shown))

    return idem.run(build)


Handled = tuple[list[Write], str, str | None, dict[str, Any] | None]


def _access(ctx: Context, caller: Caller, account: Item, command: msg.PrivacyRequest) -> Handled:
    return [], "answered", "copy_provided", copy_of(ctx, account)


def copy_of(ctx: Context, account: Item) -> dict[str, Any]:
    """Every record the platform keeps about the person, as plain JSON (the machine-readable copy)."""
    account_id = account["account_id"]
    identity: dict[str, Any] = dict(identity_of(ctx, account))
    keep = {k: v for k, v in account.items() if not k.endswith(("_enc", "_hash")) and k != "key_scheme"}
    bills = _all(ctx, BILLS, account_id, index="by_account")
    visits, charges = [], []
    for visit_id in sorted({b["visit_id"] for b in bills if b.get("visit_id")}):
        visit = ctx.store.get(VISITS, {"visit_id": visit_id})
        if visit is not None:
            visits.append(visit)
        charges += [c for c in _all(ctx, CHARGES, visit_id) if c.get("account_id") == account_id]
    return {
        "format": "treatfirst.personal-data-copy/1",
        "generated_at": ctx.now_text(),
        "identity": identity,
        "account": keep,
        "consents": consents.records(ctx, account_id),
        "visits": visits,
        "charges": charges,
        "bills": bills,
        "ledger": _all(ctx, LEDGER, account_id),
        "messages": _all(ctx, OUTBOX, account_id, index="outbox_by_account"),
        "privacy_requests": _all(ctx, RIGHTS, account_id, index="rights_by_account"),
    }


def _correction(ctx: Context, caller: Caller, account: Item, command: msg.PrivacyRequest) -> Handled:
    change = command.correction
    if change is None or (change.phone is None and change.name is None):
        raise ValidationFailed("correction needs phone or name", field="correction")
    from treatfirst.domain.ids import normalise_phone

    current = identity_of(ctx, account)
    new = Identity(
        name=change.name.strip() if change.name else current["name"],
        id_number=current["id_number"],
        phone=normalise_phone(change.phone, field="correction.phone") if change.phone else current["phone"],
    )
    account_id = account["account_id"]
    sealed, key_put = seal_identity(ctx, account_id, new)
    fields = {
        **sealed,
        "phone_hash": ctx.cipher.blind_index("phone", new["phone"]),
        "name_masked": mask_name(new["name"]),
        "phone_masked": mask_phone(new["phone"]),
        "updated_at": ctx.now_text(),
    }
    writes: list[Write] = [
        Update(ACCOUNTS, {"account_id": account_id}, set=fields, expect={"status": account["status"]}),
        Put(DATA_KEYS, key_put.item, overwrite=True),  # a new data key: the old one goes with the old ciphertext
    ]
    corrected = [f for f in ("phone", "name") if getattr(change, f) is not None]
    return writes, "answered", "corrected", {"corrected": corrected}


def _withdraw_consent(ctx: Context, caller: Caller, account: Item, command: msg.PrivacyRequest) -> Handled:
    kind = command.consent_kind
    if kind is None:
        raise ValidationFailed("withdraw_consent needs consent_kind", field="consent_kind")
    item = consents.latest(ctx, account["account_id"], kind)
    if item is None or item.get("withdrawn_at"):
        raise ConsentMissing(f"no {kind} consent of this person is on record", field="consent_kind")
    try:
        spec = ctx.policy.consent(kind)
    except KeyError:
        spec = None
    if spec is not None and spec.mode == "notice":
        raise ValidationFailed(
            f"{kind} is a notice on a statutory basis, not a consent: object to a record instead", field="consent_kind"
        )
    now = ctx.now_text()
    mark = Update(
        CONSENTS,
        {"account_id": account["account_id"], "consent_key": item["consent_key"]},
        set={"withdrawn_at": now},
        expect={"kind": kind},
    )
    if spec is None or not spec.required:
        consequence = {
            "consent_kind": kind,
            "consequence": "from now on the platform does not process your data for this purpose "
            "(for credit reporting: nothing of yours is reported); the service continues",
        }
        return [mark], "answered", "withdrawn", consequence
    refused = _why_not_closed(account)
    if refused is not None:
        raise refused
    close = _close_writes(ctx, account, now)
    consequence = {
        "consent_kind": kind,
        "consequence": "this consent is necessary for the service: your account is withdrawn with it; your "
        f"identity is erased within {ctx.policy.privacy.identity_days_after_close} days and the records are kept "
        f"pseudonymised for {ctx.policy.privacy.records_years_after_close} years (bills, payments and the ledger: "
        f"{ctx.policy.privacy.accounting_years} years from the end of the year, as accounting records), then deleted",
    }
    return [mark, *close], "answered", "withdrawn_with_account", consequence


def _erasure(ctx: Context, caller: Caller, account: Item, command: msg.PrivacyRequest) -> Handled:
    if account["status"] == "erased":
        raise ErasureRefused("the identity is already erased")
    refused = _why_not_closed(account)
    if refused is not None:
        raise ErasureRefused(f"{refused.message}; erasure needs nothing owed or held and no open visit")
    now = ctx.now_text()
    writes = [*redact_messages(ctx, account["account_id"]), *erase(ctx, account, now)]
    retained = {
        "erased": ["name", "id_number", "phone", "masked forms", "look-up indexes", "data key", "SMS texts"],
        "retained_pseudonymised": ["visits", "charges", "bills", "payments", "ledger", "consents", "messages"],
        "retained_years": ctx.policy.privacy.records_years_after_close,
        # accounting records, deleted that many years after the end of the year of leaving (services/purge)
        "accounting_records": ["bills", "payments", "ledger"],
        "accounting_years": ctx.policy.privacy.accounting_years,
    }
    return writes, "answered", "erased", retained


REDACTED = "（已删除）"
_IN_ONE_TRANSACTION = 80  # DynamoDB takes 100 items per transaction; the erasure itself needs a few


def redact_messages(ctx: Context, account_id: str) -> list[Write]:
    """The SMS texts (which greet the person by masked name) and their parameters, blanked. Up to a few dozen rows
    go into the erasure's own transaction; more are blanked first, in batches (blanking twice changes nothing)."""
    rows = [
        r
        for r in _all(ctx, OUTBOX, account_id, index="outbox_by_account")
        if r.get("text") not in (None, REDACTED) or "params" in r
    ]
    writes: list[Write] = [
        Update(OUTBOX, {"message_id": r["message_id"]}, set={"text": REDACTED}, remove=["params"]) for r in rows
    ]
    while len(writes) > _IN_ONE_TRANSACTION:
        batch, writes = writes[:_IN_ONE_TRANSACTION], writes[_IN_ONE_TRANSACTION:]
        ctx.commit(batch)
    return writes


def erase(ctx: Context, account: Item, now: str) -> list[Write]:
    """Close (if still open) and crypto-shred one account: every write of the erasure, in one transaction. The
    account then waits on the purge index for its records' retention to end (services/purge.purge_records)."""
    set_fields: dict[str, Any] = {"status": "erased", "erased_at": now, "updated_at": now}
    if account["status"] != "withdrawn":
        set_fields["withdrawn_at"] = now
    set_fields |= purge_schedule(ctx, {**account, **set_fields}, now)
    writes = erase_writes(account, set_fields=set_fields)
    if account.get("id_hash") and account["status"] != "withdrawn":
        writes.append(Delete(ACCOUNTS, {"account_id": f"rid#{account['id_hash']}"}))
    return writes


def _explanation(ctx: Context, caller: Caller, account: Item, command: msg.PrivacyRequest) -> Handled:
    decision = account["decision"]
    return (
        [],
        "answered",
        "explained",
        {
            "limit_fen": account["limit_fen"],
            "tier": account.get("tier"),
            "reasons": decision["reasons"],
            "automated": decision.get("automated", True),
            "policy_version": decision.get("policy_version"),
            "human_review": "send kind human_review to have a person review this decision",
        },
    )


def _human_review(ctx: Context, caller: Caller, account: Item, command: msg.PrivacyRequest) -> Handled:
    return [], "open", None, None


_HANDLERS = {
    "access": _access,
    "correction": _correction,
    "withdraw_consent": _withdraw_consent,
    "erasure": _erasure,
    "explanation": _explanation,
    "human_review": _human_review,
}


def _why_not_closed(account: Item) -> TreatFirstError | None:
    if account.get("open_visits", 0):
        return VisitOpen(f"the account has {account['open_visits']} open visit(s); close them first")
    if any(account.get(b, 0) for b in OWING):
        return AmountOwed()
    return None


def _close_writes(ctx: Context, account: Item, now: str) -> list[Write]:
    account_id = account["account_id"]
    if account["status"] == "withdrawn":
        return []
    writes: list[Write] = [
        Update(
            ACCOUNTS,
            {"account_id": account_id},
            set={"status": "withdrawn", "withdrawn_at": now, "updated_at": now},
            expect={"status": account["status"], "open_visits": 0, **{b: 0 for b in OWING}},
        )
    ]
    if account.get("id_hash"):
        writes.append(Delete(ACCOUNTS, {"account_id": f"rid#{account['id_hash']}"}))
    return [*writes, *schedule_erasure(ctx, account)]


def request_view(item: Item) -> dict[str, Any]:
    fields = {k: item[k] for k in msg.PrivacyRequestRecord.__struct_fields__ if item.get(k) is not None}
    return to_item(msg.PrivacyRequestRecord(**fields))


# ---- consents on record, and answers after a policy change ------------------------------------------------------
def consent_states(ctx: Context, caller: Caller, account_id: str) -> dict[str, Any]:
    """Each consent or notice of the city for this account: on record, and whether the person must answer again."""
    caller.may("privacy", "consents")
    _load(ctx, account_id)
    return _states(ctx, account_id, consents.records(ctx, account_id))


def _states(ctx: Context, account_id: str, items: list[Item]) -> dict[str, Any]:
    states = []
    for spec in ctx.policy.consents:
        last = consents.latest(ctx, account_id, spec.kind, items=items)
        standing = last is not None and not last.get("withdrawn_at") and consents.covers(ctx, last)
        states.append(
            msg.ConsentState(
                kind=spec.kind,
                mode=spec.mode,  # type: ignore[arg-type]
                required=spec.required,
                current_version=spec.version,
                on_record=standing,
                needs_answer=not standing and (spec.required or spec.mode == "notice" or last is not None),
                accepted_version=last["version"] if last else None,
                accepted_at=last["accepted_at"] if last else None,
                withdrawn_at=last.get("withdrawn_at") if last else None,
            )
        )
    return to_item(msg.ConsentStates(account_id=account_id, items=states))


def answer_consents(
    ctx: Context, caller: Caller, account_id: str, command: msg.ConsentAnswer, idempotency_key: str | None
) -> Outcome:
    """Record the person's answers to the current texts (a re-consent after a policy change); old answers stay."""
    caller.may("privacy", "consents")
    evidence = {**fresh(ctx, command.verification), "channel": caller.actor}
    accepted = check_consents(ctx, command.consents, require=False)
    idem = Idempotency(ctx, caller, idempotency_key, f"consents:{account_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        account = _load(ctx, account_id)
        if account["status"] in ("withdrawn", "erased"):
            raise ValidationFailed("the account is withdrawn", field="account_id")
        puts = [consents.record_put(ctx, account_id, c, caller.actor) for c in accepted]
        earlier = consents.records(ctx, account_id)
        items = [*earlier, *(p.item for p in puts)]
        pointer = consents.pointer_fields(account, puts, earlier)
        writes: list[Write] = [*puts, *_carry_scopes(ctx, account, accepted, items, pointer)]
        writes += [
            audit(
                ctx,
                caller,
                f"account#{account_id}",
                "consents.answered",
                kinds=[c["kind"] for c in accepted],
                versions=[c["version"] for c in accepted],
                check_id=evidence["check_id"],
            ),
        ]
        return writes, Outcome(201, _states(ctx, account_id, items))

    return idem.run(build)


def _carry_scopes(
    ctx: Context, account: Item, accepted: list[dict[str, Any]], items: list[Item], pointer: dict[str, Any]
) -> list[Write]:
    """The account's copy of the answers' scopes (`consent_scopes`), which a visit compares with the policy without
    reading the consents: the answered kinds by path, or the whole map for an account written before it. The same
    Update moves the account's pointer to its latest answers (`pointer`: consents.pointer_fields)."""
    fields: dict[str, Any]
    if "consent_scopes" in account:
        fields = {f"consent_scopes.{k}": v for k, v in consents.carried_scopes(ctx, accepted).items()}
    else:
        fields = {"consent_scopes": consents.carried_scopes(ctx, items)}
    fields.update(pointer)
    if not fields:
        return []
    return [Update(ACCOUNTS, {"account_id": account["account_id"]}, set=fields, expect={"status": account["status"]})]


# ---- the operator queue ----------------------------------------------------------------------------------------
def list_open(ctx: Context, caller: Caller, query: PageQuery) -> dict[str, Any]:
    """Requests waiting for an operator, the earliest deadline first; each says whether it is past its deadline,
    and the page how many of the whole queue are."""
    caller.may("privacy", "queue")
    bound = f"privacy|{caller.actor}"
    start = decode_cursor(ctx.cipher, bound, query.cursor)
    page = ctx.store.query(RIGHTS, OPEN_QUEUE, index="open_rights", limit=query.limit, start=start)
    now = rfc3339(ctx.clock.now())
    view = page_view(ctx.cipher, bound, page, lambda item: request_view(item) | {"overdue": item["due_at"] < now})
    return view | {"overdue": overdue_count(ctx)}


def overdue_count(ctx: Context) -> int:
    """Open privacy requests past their deadline (opened_at + privacy.rights_answer_days): the sparse queue index
    read up to now, so only the overdue requests are read. The daily purge step logs it; an alarm watches it."""
    now = rfc3339(ctx.clock.now())
    return sum(
        1 for item in every(ctx.store, RIGHTS, OPEN_QUEUE, index="open_rights", until=now) if item["due_at"] < now
    )


def answer_request(
    ctx: Context, caller: Caller, request_id: str, command: msg.PrivacyAnswer, idempotency_key: str | None
) -> Outcome:
    """An operator's answer to an open request: the decision upheld, or the limit raised; audited."""
    caller.may("privacy", "answer")
    idem = Idempotency(ctx, caller, idempotency_key, f"privacy-answer:{request_id}", command)

    def build() -> tuple[list[Write], Outcome]:
        item = ctx.store.get(RIGHTS, {"request_id": request_id})
        if item is None:
            raise RightsRequestNotFound()
        if item["status"] != "open":
            raise RightsRequestClosed()
        account = _load(ctx, item["account_id"])
        writes: list[Write] = []
        answer: dict[str, Any] = {"reason": command.reason.strip(), "limit_fen": account["limit_fen"]}
        if command.outcome == "changed":
            top = max(t.limit_fen for t in ctx.policy.tiers)
            if command.limit_fen is None or not account["limit_fen"] < command.limit_fen <= top:
                raise ValidationFailed(
                    f"limit_fen must be above the current limit and at most {top}", field="limit_fen"
                )
            raise_by = command.limit_fen - account["limit_fen"]
            writes += [
                Update(
                    ACCOUNTS,
                    {"account_id": account["account_id"]},
                    add={"limit_fen": raise_by, "available_fen": raise_by},
                    set={"updated_at": ctx.now_text()},
                    expect={"limit_fen": account["limit_fen"]},
                ),
                entry(ctx, account["account_id"], "open_line", raise_by, "privacy_request", request_id, caller.actor),
            ]
            answer["limit_fen"] = command.limit_fen
        now = ctx.now_text()
        done = {
            "status": "answered",
            "answered_at": now,
            "answered_by": caller.actor,
            "outcome": command.outcome,
            "answer": answer,
        }
        writes += [
            Update(
                RIGHTS,
                {"request_id": request_id},
                set=done,
                remove=("queue",),
                expect={"status": "open"},
                fail=RightsRequestClosed,
            ),
            audit(
                ctx,
                caller,
                f"account#{account['account_id']}",
                f"privacy.answer.{command.outcome}",
                request_id_privacy=request_id,
                reason=answer["reason"],
            ),
        ]
        return writes, Outcome(200, request_view({**item, **done}))

    return idem.run(build)


# ---- helpers --------------------------------------------------------------------------------------------------
def _load(ctx: Context, account_id: str) -> Item:
    item = ctx.store.get(ACCOUNTS, {"account_id": account_id}) if account_id.startswith("acc_") else None
    if item is None:
        raise AccountNotFound()
    return item


def _all(ctx: Context, table: str, hash_value: str, *, index: str | None = None) -> list[Item]:
    out: list[Item] = []
    start = None
    while True:
        page = ctx.store.query(table, hash_value, index=index, limit=_PAGE, start=start)
        out.extend(page.items)
        if page.cursor is None:
            return out
        start = page.cursor
