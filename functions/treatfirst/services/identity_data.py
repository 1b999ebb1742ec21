"""A person's identifiers, sealed with a data key of their own: the one place that encrypts and decrypts them.

Scheme "dk1" (crypto-shredding): at enrollment each account gets 32 random bytes, its data key. The name, the
resident ID number and the phone number are sealed with it (encrypt-then-MAC from HMAC-SHA256, standard library
only, bound to the account and field); the
data key itself is stored only wrapped by the city key (the KMS key on AWS, the local key locally) in the
`data_keys` table, one item per account. Erasing that one item makes every copy of the ciphertext unreadable:
the accounts table, its point-in-time backups and any export, because no copy of the unwrapped key exists and
the `data_keys` table keeps its own backups for a short recovery period only (infra/tables.yaml). The blind-index
entries (the resident guard item, `id_hash`, `phone_hash`) go in the same transaction (`erase_writes`).

Scheme "city" (accounts enrolled before dk1): the identifiers are sealed directly with the city key. They are
read the same way; erasing such an account removes the ciphertext from the live table (backups keep it until
their retention ends), which the privacy page says. `treatfirst-admin migrate data-keys`
(services/migrations.data_keys) seals them again under a data key of their own.

Everyone who needs a person's identity in clear text (the SMS dispatcher, a claimed phone task, the credit
export) calls `identity_of`; nobody decrypts an account's fields directly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING, Any, TypedDict

from treatfirst.domain.errors import IdentityErased
from treatfirst.services.ports import ACCOUNTS, DATA_KEYS, Cipher, Delete, Item, Put, Update, Write

if TYPE_CHECKING:
    from treatfirst.services.unit_of_work import Context

SCHEME = "dk1"
FIELDS = ("name", "id_number", "phone")
_STORED = {"name": "name_enc", "id_number": "id_enc", "phone": "phone_enc"}
# What an erasure removes from the account item: every identifier, its masked forms and its blind indexes.
ERASED_FIELDS = (
    "name_enc",
    "id_enc",
    "phone_enc",
    "id_hash",
    "phone_hash",
    "name_masked",
    "id_masked",
    "phone_masked",
    "key_scheme",
)


class Identity(TypedDict):
    name: str
    id_number: str
    phone: str


def _key_context(account_id: str) -> str:
    return f"account:{account_id}:data_key"


def _field_context(account_id: str, field: str) -> str:
    return f"account:{account_id}:{field}"


def _subkeys(data_key: bytes) -> tuple[bytes, bytes]:
    return (
        hmac.new(data_key, b"treatfirst/identity/encrypt", hashlib.sha256).digest(),
        hmac.new(data_key, b"treatfirst/identity/mac", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _seal(data_key: bytes, plaintext: str, context: str) -> str:
    """Encrypt-then-MAC with the standard library only (the Lambda package carries no native crypto library):
    HMAC-SHA256 in counter mode as the keystream, HMAC-SHA256 over the context, nonce and ciphertext as the tag."""
    enc, mac = _subkeys(data_key)
    nonce = os.urandom(16)
    body = plaintext.encode()
    sealed = bytes(a ^ b for a, b in zip(body, _keystream(enc, nonce, len(body)), strict=True))
    tag = hmac.new(mac, context.encode() + b"\x00" + nonce + sealed, hashlib.sha256).digest()
    return f"{SCHEME}:" + base64.urlsafe_b64encode(nonce + tag + sealed).decode()


def _open(data_key: bytes, token: str, context: str) -> str:
    scheme, _, body = token.partition(":")
    if scheme != SCHEME:
        raise ValueError("not a data-key ciphertext")
    raw = base64.urlsafe_b64decode(body)
    nonce, tag, sealed = raw[:16], raw[16:48], raw[48:]
    enc, mac = _subkeys(data_key)
    expected = hmac.new(mac, context.encode() + b"\x00" + nonce + sealed, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise ValueError("the ciphertext does not open with this key and context")
    return bytes(a ^ b for a, b in zip(sealed, _keystream(enc, nonce, len(sealed)), strict=True)).decode()


def seal_identity(ctx: Context, account_id: str, identity: Identity) -> tuple[dict[str, str], Put]:
    """The account's sealed fields and the Put of its wrapped data key (write both in one transaction)."""
    data_key = os.urandom(32)
    fields = {
        _STORED[f]: _seal(data_key, identity[f], _field_context(account_id, f))  # type: ignore[literal-required]
        for f in FIELDS
    }
    wrapped = ctx.cipher.encrypt(base64.b64encode(data_key).decode(), context=_key_context(account_id))
    key_item = {"account_id": account_id, "wrapped_key": wrapped, "key_scheme": SCHEME, "created_at": ctx.now_text()}
    return {**fields, "key_scheme": SCHEME}, Put(DATA_KEYS, key_item)


def _unwrap(ctx: Context, account_id: str, key_item: Item) -> bytes:
    return base64.b64decode(ctx.cipher.decrypt(key_item["wrapped_key"], context=_key_context(account_id)))


def identity_of(ctx: Context, account_item: Item) -> Identity:
    """The person's name, resident ID number and phone in clear text, whatever the key scheme.

    IDENTITY_ERASED when the account was erased (its data key is gone, or its identifiers were removed).
    """
    key_item = ctx.store.get(DATA_KEYS, {"account_id": account_item["account_id"]}) if needs_key(account_item) else None
    return identity_with(ctx, account_item, key_item)


def stored_fields(account_item: Item) -> dict[str, str] | None:
    """The account's sealed identifiers as stored ({"name_enc": ..., ...}), or None once erased."""
    if any(_STORED[f] not in account_item for f in FIELDS):
        return None
    return {_STORED[f]: account_item[_STORED[f]] for f in FIELDS}


def needs_key(account_item: Item) -> bool:
    """Whether opening this account's identifiers takes its data key (the `data_keys` item)."""
    return account_item.get("key_scheme") == SCHEME and stored_fields(account_item) is not None


def identity_with(ctx: Context, account_item: Item, key_item: Item | None) -> Identity:
    """`identity_of` with the account's `data_keys` item already read (None when there is none), for a reader of
    many accounts that reads their keys in batches (the credit export). IDENTITY_ERASED as identity_of."""
    account_id = account_item["account_id"]
    sealed = stored_fields(account_item)
    if sealed is None:
        raise IdentityErased()
    if account_item.get("key_scheme") == SCHEME:
        if key_item is None:
            raise IdentityErased()
        data_key = _unwrap(ctx, account_id, key_item)
        opened = {f: _open(data_key, sealed[_STORED[f]], _field_context(account_id, f)) for f in FIELDS}
    else:
        opened = {f: _legacy_open(ctx.cipher, sealed[_STORED[f]], account_id, f) for f in FIELDS}
    return Identity(name=opened["name"], id_number=opened["id_number"], phone=opened["phone"])


def phone_of(ctx: Context, account_item: Item) -> str | None:
    """The phone number, or None once the identity is erased (a message to an erased person is not sent)."""
    try:
        return identity_of(ctx, account_item)["phone"]
    except IdentityErased:
        return None


def _legacy_open(cipher: Cipher, token: str, account_id: str, field: str) -> str:
    return cipher.decrypt(token, context=_field_context(account_id, field))


def erase_writes(account_item: Item, *, set_fields: dict[str, Any] | None = None) -> list[Write]:
    """The writes that shred a person's identity: the data key, the blind-index guard, and every identifier,
    masked form and keyed hash on the account item. The account item itself stays (its id is what the retained
    financial records point at) with status `erased`."""
    account_id = account_item["account_id"]
    writes: list[Write] = [
        Update(
            ACCOUNTS,
            {"account_id": account_id},
            set=set_fields or {},
            remove=[f for f in ERASED_FIELDS if f in account_item],
        )
    ]
    if account_item.get("key_scheme") == SCHEME:
        writes.append(Delete(DATA_KEYS, {"account_id": account_id}))
    return writes
