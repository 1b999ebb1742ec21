"""Enrollment (签约): identity, verification evidence, separate consents, eligibility and the limit decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from treatfirst.consents import render_consent
from treatfirst.domain.clock import rfc3339
from treatfirst.domain.eligibility import decide
from treatfirst.domain.errors import (
    AccountNotFound,
    AlreadyEnrolled,
    AmountOwed,
    ConcurrentUpdate,
    ConsentMissing,
    GuardianRequired,
    NotEligible,
    TreatFirstError,
    ValidationFailed,
    VerificationStale,
    VisitOpen,
)
from treatfirst.domain.ids import (
    age_on,
    mask_name,
    mask_phone,
    mask_resident_id,
    new_id,
    normalise_phone,
    normalise_resident_id,
)
from treatfirst.domain.ledger import BUCKETS
from treatfirst.messages import accounts as msg
from treatfirst.messages.common import to_item
from treatfirst.services.consents import carried_scopes, latest_keys, record_put
from treatfirst.services.idempotency import Idempotency, Outcome
from treatfirst.services.identity import Caller
from treatfirst.services.identity_data import Identity, seal_identity
from treatfirst.services.ports import ACCOUNTS, Delete, Item, Put, Update
from treatfirst.services.purge import schedule_erasure
from treatfirst.services.records import audit, entry
from treatfirst.services.unit_of_work import Context

VERIFICATION_MAX_AGE = timedelta(minutes=10)  # a withdrawal needs a real-name check this recent
VERIFICATION_SKEW = timedelta(minutes=5)  # and not further in the future than the signing clock skew
OWING = tuple(b for b in BUCKETS if b != "available_fen")  # held or owed, inside or outside the limit


def account_for(view: str, item: Item) -> dict[str, Any]:
    """The stored account in the named view (treatfirst.access.VIEWS)."""
    if view == "credit":
        return credit_view(item)
    if view == "payer":
        return payer_view(item)
    return account_view(item)


def credit_view(item: Item) -> dict[str, Any]:
    """A hospital's view: id, status and available credit; no name, ID number or phone."""
    return to_item(
        msg.AccountCredit(
            account_id=item["account_id"],
            status=item["status"],
            available_fen=item["available_fen"],
            emergency_only=item["status"] == "suspended",
        )
    )


def payer_view(item: Item) -> dict[str, Any]:
    """A channel's view: masked name and ID number and the amounts; no phone."""
    return to_item(
        msg.AccountForPayer(
            account_id=item["account_id"],
            status=item["status"],
            city_code=item["city_code"],
            name=item["name_masked"],
            id_number=item["id_masked"],
            credit_line=msg.CreditLine(**{k: item[k] for k in ("limit_fen", *BUCKETS)}),
            withdrawn_at=item.get("withdrawn_at"),
        )
    )


def account_view(item: Item) -> dict[str, Any]:
    """The masked full view of a stored account (operators, and the answer to an enrollment)."""
    return to_item(
        msg.Account(
            account_id=item["account_id"],
            status=item["status"],
            city_code=item["city_code"],
            name=item["name_masked"],
            id_number=item["id_masked"],
            phone=item["phone_masked"],
            tier=item.get("tier"),
            credit_line=msg.CreditLine(**{k: item[k] for k in ("limit_fen", *BUCKETS)}),
            decision=msg.Decision(
                **{**item["decision"], "reasons": [msg.Reason(**r) for r in item["decision"]["reasons"]]}
            ),
            enrolled_at=item["enrolled_at"],
            withdrawn_at=item.get("withdrawn_at"),
        )
    )


def guard_key(ctx: Context, id_number: str) -> dict[str, str]:
    """The resident's blind-index guard item: one account per resident, found without decrypting."""
    return {"account_id": f"rid#{ctx.cipher.blind_index('resident_id', id_number)}"}


def enroll(ctx: Context, caller: Caller, command: msg.EnrollmentRequest, idempotency_key: str | None) -> Outcome:
    caller.may("accounts", "enroll")
    name = command.name.strip()
    id_number = normalise_resident_id(command.id_number)
    phone = normalise_phone(command.phone)
    insurance_status = command.insurance_status
    verification = {
        "method": command.verification.method,
        "check_id": command.verification.check_id,
        "verified_at": rfc3339(command.verification.verified_at),
        "channel": caller.actor,
    }
    score = source = None
    if command.credit_score is not None:
        source, score = command.credit_score.source.strip(), command.credit_score.value
    accepted = _consents(ctx, command.consents)

    idem = Idempotency(ctx, caller, idempotency_key, "enroll", command)

    def build() -> tuple[list[Any], Outcome]:
        now = ctx.clock.now()
        age = age_on(id_number, now.date())
        if age < ctx.policy.privacy.guardian_consent_below_age:  # PIPL art. 31: only a guardian may consent
            below = ctx.policy.privacy.guardian_consent_below_age
            raise GuardianRequired(
                f"the person is under {below}: only a guardian may consent, with evidence of guardianship, which this "
                f"platform cannot take yet (不满 {below} 周岁须由监护人同意并提供监护证明，本平台暂不受理)",
                field="id_number",
            )
        decision = decide(
            ctx.policy,
            age=age,
            insurance_status=insurance_status,
            score=score,
            score_source=source,
        )
        if not decision.eligible:
            raise NotEligible(
                "not eligible: " + "; ".join(r.message for r in decision.reasons if not r.code.endswith("_OK")),
                reasons=[{"code": r.code, "message": r.message} for r in decision.reasons],
            )
        account_id = new_id("acc")
        limit = decision.limit_fen
        sealed, data_key = seal_identity(ctx, account_id, Identity(name=name, id_number=id_number, phone=phone))
        answers = [record_put(ctx, account_id, c, caller.actor) for c in accepted]
        item = {
            "account_id": account_id,
            "city_code": ctx.policy.city_code,
            "status": "active",
            "tier": decision.tier,
            "insurance_status": insurance_status,
            **sealed,
            "id_hash": ctx.cipher.blind_index("resident_id", id_number),
            "phone_hash": ctx.cipher.blind_index("phone", phone),
            "name_masked": mask_name(name),
            "id_masked": mask_resident_id(id_number),
            "phone_masked": mask_phone(phone),
            "limit_fen": limit,
            **dict.fromkeys(BUCKETS, 0),
            "open_visits": 0,
            "available_fen": limit,
            "unpaid": {},  # collection state: bills unpaid (treatfirst.services.collection)
            "consent_keys": latest_keys(p.item for p in answers),  # the latest answer of each kind (consents.py)
            "collect_version": 0,
            "consent_scopes": carried_scopes(ctx, accepted),
            "decision": decision.as_record(ctx.policy, ctx.now_text()),
            "verification": verification,
            "policy": ctx.policy.stamp,
            "enrolled_at": ctx.now_text(),
            "enrolled_by": caller.actor,
            "updated_at": ctx.now_text(),
        }
        writes: list[Any] = [
            Put(ACCOUNTS, {**guard_key(ctx, id_number), "ref_account_id": account_id}, fail=AlreadyEnrolled),
            Put(ACCOUNTS, item),
            data_key,
            *answers,
            entry(ctx, account_id, "open_line", limit, "account", account_id, caller.actor),
            audit(
                ctx,
                caller,
                f"account#{account_id}",
                "account.enrolled",
                limit_fen=limit,
                tier=decision.tier,
                consents=[c["kind"] for c in accepted],
                **ctx.policy.stamp,
            ),
        ]
        return writes, Outcome(201, account_view(item))

    return idem.run(build)


def _consents(ctx: Context, given: list[msg.ConsentGiven]) -> list[dict[str, str]]:
    """The answers an enrollment records: each names the current version and the SHA-256 of the exact text shown.

    Only the consents the service cannot work without gate enrollment (ConsentSpec.required: the agreement and
    the processing of personal information, PIPL art. 16); an optional consent (credit reporting) may be left out,
    which is a refusal that costs nothing. A notice (`mode: notice`, a statutory basis) must be shown, so its
    text is listed too, and it is recorded as shown, not as consented.
    """
    return check_consents(ctx, given, require=True)


def check_consents(ctx: Context, given: list[msg.ConsentGiven], *, require: bool) -> list[dict[str, str]]:
    from treatfirst.inventory import consent_scope_sha256

    accepted: dict[str, dict[str, str]] = {}
    offered = [spec.kind for spec in ctx.policy.consents]
    for i, c in enumerate(given):
        prefix = f"consents[{i}]"
        kind, version, sha = c.kind, c.version, c.text_sha256
        if kind not in offered:
            raise ValidationFailed(f"{prefix}.kind must be one of {', '.join(offered)}", field=f"{prefix}.kind")
        if kind in accepted:
            raise ValidationFailed(f"{prefix}.kind {kind} is listed twice", field=f"{prefix}.kind")
        rendered = render_consent(ctx.policy, kind)
        if version != rendered.version or sha != rendered.sha256:
            raise ConsentMissing(
                f"{prefix} does not match the current {kind} text (version {rendered.version}); "
                "show GET /v1/consents again",
                field=f"{prefix}.text_sha256",
            )
        spec = ctx.policy.consent(kind)
        accepted[kind] = {
            "kind": kind,
            "version": version,
            "title": rendered.title,
            "text_sha256": sha,
            "mode": spec.mode,
            "scope_sha256": consent_scope_sha256(ctx.policy, kind),
        }
    if require:
        for spec in ctx.policy.consents:
            if (spec.required or spec.mode == "notice") and spec.kind not in accepted:
                what = "notice must be shown" if spec.mode == "notice" else "consent is required"
                raise ConsentMissing(f"the {spec.kind} {what}", field="consents")
    return list(accepted.values())


def get_account(ctx: Context, caller: Caller, account_id: str) -> dict[str, Any]:
    """The account in the view the caller's kind gets (treatfirst.access)."""
    view = caller.may("accounts", "read")
    return account_for(view, _load(ctx, account_id))


def lookup_account(ctx: Context, caller: Caller, command: msg.LookupRequest) -> dict[str, Any]:
    """Find an account by resident ID number (in the body, never the URL)."""
    view = caller.may("accounts", "lookup")
    id_number = normalise_resident_id(command.id_number)
    guard = ctx.store.get(ACCOUNTS, guard_key(ctx, id_number))
    if guard is None:
        raise AccountNotFound()
    return account_for(view, _load(ctx, guard["ref_account_id"]))


def _load(ctx: Context, account_id: str) -> Item:
    item = ctx.store.get(ACCOUNTS, {"account_id": account_id}) if account_id.startswith("acc_") else None
    if item is None:
        raise AccountNotFound()
    return item


def fresh(ctx: Context, verification: msg.Verification) -> dict[str, str]:
    """The verification as recorded, if it passed within VERIFICATION_MAX_AGE (and not beyond the clock skew
    in the future); else VERIFICATION_STALE."""
    now = ctx.clock.now()
    at = verification.verified_at
    if not now - VERIFICATION_MAX_AGE <= at <= now + VERIFICATION_SKEW:
        raise VerificationStale(
            f"verification.verified_at must lie within the last {VERIFICATION_MAX_AGE.seconds // 60} minutes",
            field="verification.verified_at",
        )
    return {"method": verification.method, "check_id": verification.check_id, "verified_at": rfc3339(at)}


def withdraw(
    ctx: Context, caller: Caller, account_id: str, command: msg.WithdrawalRequest, idempotency_key: str | None
) -> Outcome:
    """Withdraw, on fresh real-name evidence of the person, when no visit is open and nothing is held or owed.

    Only a channel (the patient's side) may; the resident may enroll again later. The open-visit count and the
    balances are conditions of the same write, so a visit opened meanwhile refuses the withdrawal.
    """
    view = caller.may("accounts", "withdraw")
    evidence = {**fresh(ctx, command.verification), "channel": caller.actor}
    idem = Idempotency(ctx, caller, idempotency_key, f"withdraw:{account_id}", command)

    def build() -> tuple[list[Any], Outcome]:
        item = _load(ctx, account_id)
        if item["status"] == "withdrawn":
            raise ValidationFailed("the account is already withdrawn", field="account_id")
        refused = _why_not_withdrawn(item)
        if refused is not None:
            raise refused
        now = ctx.now_text()
        change = {"status": "withdrawn", "withdrawn_at": now, "updated_at": now, "withdrawal": evidence}
        writes: list[Any] = [
            Update(
                ACCOUNTS,
                {"account_id": account_id},
                set=change,
                expect={"status": item["status"], "open_visits": 0, **{b: 0 for b in OWING}},
                fail=lambda: _why_not_withdrawn(_load(ctx, account_id)) or ConcurrentUpdate(),
            ),
            Delete(ACCOUNTS, {"account_id": f"rid#{item['id_hash']}"}),
            *schedule_erasure(ctx, item),  # the identity is erased privacy.retention.identity_days_after_close later
            audit(
                ctx,
                caller,
                f"account#{account_id}",
                "account.withdrawn",
                verification_method=evidence["method"],
                check_id=evidence["check_id"],
            ),
        ]
        return writes, Outcome(200, account_for(view, {**item, **change}))

    return idem.run(build)


def _why_not_withdrawn(item: Item) -> TreatFirstError | None:
    if item.get("open_visits", 0):
        return VisitOpen(f"the account has {item['open_visits']} open visit(s); close them first")
    if any(item[b] for b in OWING):
        return AmountOwed()
    return None
