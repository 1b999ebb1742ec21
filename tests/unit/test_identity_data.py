"""Per-account data keys (crypto-shredding) and the consents on record, read as `export` and others read them."""

from __future__ import annotations

import pytest
from treatfirst.domain.errors import IdentityErased
from treatfirst.services.consents import on_record
from treatfirst.services.identity_data import erase_writes, identity_of
from treatfirst.services.ports import ACCOUNTS, CONSENTS, DATA_KEYS, Delete, Update

from tests.unit.conftest import World


def test_identifiers_are_sealed_with_the_accounts_own_key_and_read_only_through_identity_of(world: World) -> None:
    # Given an enrolled resident
    account = world.enroll(name="李四", phone="13900001234")
    stored = world.store.get(ACCOUNTS, {"account_id": account["account_id"]})
    assert stored is not None
    # Then the identifiers are sealed with the account's data key, which is stored only wrapped by the city key
    assert stored["key_scheme"] == "dk1" and stored["phone_enc"].startswith("dk1:")
    key_item = world.store.get(DATA_KEYS, {"account_id": account["account_id"]})
    assert key_item is not None and key_item["wrapped_key"].startswith("v1:")
    with pytest.raises(ValueError):  # the city key alone opens nothing
        world.cipher.decrypt(stored["phone_enc"], context=f"account:{account['account_id']}:phone")
    # And identity_of opens them
    identity = identity_of(world.ctx(), stored)
    assert identity["name"] == "李四" and identity["phone"] == "13900001234" and len(identity["id_number"]) == 18


def test_erasing_the_data_key_leaves_ciphertext_that_nothing_can_open(world: World) -> None:
    # Given an enrolled resident and a copy of the account item taken before the erasure (a backup)
    account = world.enroll()
    backup = world.store.get(ACCOUNTS, {"account_id": account["account_id"]})
    assert backup is not None
    # When the identity is erased
    world.ctx().commit(erase_writes(backup, set_fields={"status": "erased"}))
    # Then the live item holds no identifier, masked form or blind index, and the data key is gone
    live = world.store.get(ACCOUNTS, {"account_id": account["account_id"]})
    assert live is not None and live["status"] == "erased"
    assert not {"name_enc", "id_enc", "phone_enc", "id_hash", "phone_hash", "name_masked", "phone_masked"} & set(live)
    assert world.store.get(DATA_KEYS, {"account_id": account["account_id"]}) is None
    # And the backup's ciphertext is still there but cannot be decrypted any more
    assert backup["id_enc"].startswith("dk1:")
    with pytest.raises(IdentityErased):
        identity_of(world.ctx(), backup)


def test_on_record_is_the_latest_answer_of_a_kind_not_withdrawn(world: World) -> None:
    # Given an enrolled resident who accepted every consent of the city
    account_id = world.enroll()["account_id"]
    kinds = [c.kind for c in world.policy.consents]
    # Then each is on record, and a kind the person never answered is not
    assert all(on_record(world.ctx(), account_id, k) for k in kinds)
    assert not on_record(world.ctx(), account_id, "no_such_kind")
    assert not on_record(world.ctx(), "acc_unknown", kinds[0])
    # When the latest answer of one kind is marked withdrawn
    item = next(i for i in world.store.query(CONSENTS, account_id).items if i["kind"] == kinds[-1])
    world.ctx().commit(
        [
            Update(
                CONSENTS,
                {"account_id": account_id, "consent_key": item["consent_key"]},
                set={"withdrawn_at": "2026-11-24T02:00:00Z"},
            )
        ]
    )
    # Then that kind is no longer on record; the others still are
    assert not on_record(world.ctx(), account_id, kinds[-1])
    assert all(on_record(world.ctx(), account_id, k) for k in kinds[:-1])


def test_sealing_needs_no_native_crypto_library_and_binds_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no `cryptography` package (the Lambda zip does not carry it: KMS replaces the local cipher on AWS)
    import sys

    from treatfirst.services import identity_data

    monkeypatch.setitem(sys.modules, "cryptography", None)
    key = b"\x01" * 32
    # When a field is sealed and opened with its own context, Then it round-trips
    token = identity_data._seal(key, "11010519491231002X", "account:acc_1:id_number")
    assert identity_data._open(key, token, "account:acc_1:id_number") == "11010519491231002X"
    # And another field's context, another key or one flipped byte does not open it
    with pytest.raises(ValueError):
        identity_data._open(key, token, "account:acc_2:id_number")
    with pytest.raises(ValueError):
        identity_data._open(b"\x02" * 32, token, "account:acc_1:id_number")
    raw = bytearray(__import__("base64").urlsafe_b64decode(token[4:]))
    raw[-1] ^= 1
    with pytest.raises(ValueError):
        identity_data._open(
            key, "dk1:" + __import__("base64").urlsafe_b64encode(bytes(raw)).decode(), "account:acc_1:id_number"
        )


def _as_enrolled_before_data_keys(world: World, account_id: str) -> None:
    """Turn an account into one enrolled before per-account keys: identifiers sealed with the city key directly."""
    from treatfirst.services.identity_data import _field_context

    account = world.store.get(ACCOUNTS, {"account_id": account_id})
    assert account is not None
    person = identity_of(world.ctx(), account)
    legacy = {
        f"{short}_enc": world.cipher.encrypt(person[field], context=_field_context(account_id, field))  # type: ignore[literal-required]
        for field, short in (("name", "name"), ("id_number", "id"), ("phone", "phone"))
    }
    world.ctx().commit(
        [
            Update(ACCOUNTS, {"account_id": account_id}, set=legacy, remove=["key_scheme"]),
            Delete(DATA_KEYS, {"account_id": account_id}),
        ]
    )


def test_the_data_keys_migration_gives_older_accounts_a_key_of_their_own(world: World) -> None:
    from treatfirst.services.migrations import data_keys

    # Given an account enrolled before per-account keys, one enrolled after, and one already erased
    older, newer, gone = (world.enroll()["account_id"] for _ in range(3))
    _as_enrolled_before_data_keys(world, older)
    before = identity_of(world.ctx(), world.store.get(ACCOUNTS, {"account_id": older}) or {})
    erased = world.store.get(ACCOUNTS, {"account_id": gone}) or {}
    world.ctx().commit(erase_writes(erased, set_fields={"status": "erased"}))
    # When the migration runs, twice
    first, second = data_keys(world.ctx(), world.store), data_keys(world.ctx(), world.store)
    # Then only the older account was sealed again, once, and it reads as before
    assert (first.migrated, first.already, first.failed) == (1, 2, [])
    assert (second.migrated, second.already) == (0, 3)
    migrated = world.store.get(ACCOUNTS, {"account_id": older}) or {}
    assert migrated["key_scheme"] == "dk1" and world.store.get(DATA_KEYS, {"account_id": older}) is not None
    assert identity_of(world.ctx(), migrated) == before
    # And erasing it now leaves a copy taken after the migration unreadable, as for any newer account
    world.ctx().commit(erase_writes(migrated, set_fields={"status": "erased"}))
    with pytest.raises(IdentityErased):
        identity_of(world.ctx(), migrated)
    assert identity_of(world.ctx(), world.store.get(ACCOUNTS, {"account_id": newer}) or {})["name"]
