"""Settings read once from the environment, and the runtime the functions share (no I/O at import).

Environment (the contract between infra/, the local stack and the code):
  TF_TABLE_PREFIX    prefix of every table name (default "treatfirst-local-")
  TF_POLICY          a packaged policy name ("lianyungang", "xiamen") or a path to a policy YAML file
  TF_KEY_MODE        "local" (AES-GCM with TF_LOCAL_KEY / TF_LOCAL_KEY_FILE) or "kms"
  TF_LOCAL_KEY       base64 of 32 bytes (local mode)
  TF_LOCAL_KEY_FILE  file holding that base64 text (local mode, used when TF_LOCAL_KEY is unset)
  TF_KMS_KEY_ID      KMS key that encrypts personal identifiers (kms mode)
  TF_KMS_MAC_KEY_ID  KMS HMAC key for the blind index (kms mode)
  TF_TEST_CLOCK      "1": the test clock (services/testclock.py); the local stack sets it, the packaged template never
  TF_EXPORTS_BUCKET  the exports bucket on AWS (files by prefix: exports/blacklist/..., clearing/...)
  TF_EXPORTS_DIR     the folder standing in for that bucket locally (.local/<city>/exports)
  TF_EXPORT_SIGNING_KEY_ID    the KMS key (RSA, SIGN_VERIFY) that signs export manifests on AWS
  TF_EXPORT_SIGNING_KEY_FILE  locally: an RSA private key (PEM) that signs them (.local/<city>/export-signing.pem)
  AWS_ENDPOINT_URL_DYNAMODB  DynamoDB Local / moto server locally; unset on AWS
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from treatfirst.domain.clock import Clock, SystemClock
from treatfirst.domain.policy import POLICY_DIR, Policy, load_policy
from treatfirst.services.callers import Authenticator
from treatfirst.services.ports import Cipher, Objects, Store

if TYPE_CHECKING:
    from treatfirst.services.export import Signer


class SettingsError(Exception):
    """A setting is missing or unusable; the message is one sentence saying which and what to set."""


@dataclass(frozen=True)
class Settings:
    table_prefix: str
    policy: str
    key_mode: str
    local_key: str | None
    kms_key_id: str | None
    kms_mac_key_id: str | None
    test_clock: bool = False
    exports_bucket: str | None = None
    exports_dir: str | None = None
    export_signing_key_id: str | None = None
    export_signing_key_file: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        local_key = os.environ.get("TF_LOCAL_KEY")
        key_file = os.environ.get("TF_LOCAL_KEY_FILE")
        if not local_key and key_file:
            try:
                local_key = Path(key_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"TF_LOCAL_KEY_FILE {key_file} cannot be read ({exc.strerror})") from exc
        return cls(
            table_prefix=os.environ.get("TF_TABLE_PREFIX", "treatfirst-local-"),
            policy=os.environ.get("TF_POLICY", "lianyungang"),
            key_mode=os.environ.get("TF_KEY_MODE", "local"),
            local_key=local_key,
            kms_key_id=os.environ.get("TF_KMS_KEY_ID"),
            kms_mac_key_id=os.environ.get("TF_KMS_MAC_KEY_ID"),
            test_clock=os.environ.get("TF_TEST_CLOCK") == "1",
            exports_bucket=os.environ.get("TF_EXPORTS_BUCKET") or None,
            exports_dir=os.environ.get("TF_EXPORTS_DIR") or None,
            export_signing_key_id=os.environ.get("TF_EXPORT_SIGNING_KEY_ID") or None,
            export_signing_key_file=os.environ.get("TF_EXPORT_SIGNING_KEY_FILE") or None,
        )


def policy_file(name_or_path: str) -> Path:
    candidate = POLICY_DIR / f"{name_or_path}.yaml"
    return candidate if candidate.exists() else Path(name_or_path)


def make_cipher(settings: Settings) -> Cipher:
    if settings.key_mode == "kms":
        from treatfirst.adapters.kms import KmsCipher

        if not settings.kms_key_id or not settings.kms_mac_key_id:
            raise SettingsError(
                "TF_KEY_MODE=kms needs TF_KMS_KEY_ID (the DataKeyArn output) and TF_KMS_MAC_KEY_ID (BlindIndexKeyArn)"
            )
        kms: Cipher = KmsCipher(settings.kms_key_id, settings.kms_mac_key_id)
        return kms
    from treatfirst.adapters.crypto import LocalCipher

    if settings.key_mode != "local":
        raise SettingsError(f"TF_KEY_MODE must be local or kms, not {settings.key_mode!r}")
    if not settings.local_key:
        raise SettingsError("TF_KEY_MODE=local needs TF_LOCAL_KEY or TF_LOCAL_KEY_FILE (base64 of 32 bytes)")
    try:
        return LocalCipher.from_base64(settings.local_key)
    except ValueError as exc:
        raise SettingsError("the local key (TF_LOCAL_KEY or TF_LOCAL_KEY_FILE) is not base64 of 32 bytes") from exc


def make_objects(settings: Settings) -> Objects:
    """The exports bucket (S3) on AWS, a folder locally: where exported and clearing files are written."""
    from treatfirst.adapters.objects import FolderObjects, S3Objects

    if settings.exports_bucket:
        return S3Objects(settings.exports_bucket)
    if settings.exports_dir:
        return FolderObjects(settings.exports_dir)
    raise SettingsError("files need TF_EXPORTS_BUCKET (the ExportBucketName output) on AWS or TF_EXPORTS_DIR locally")


def make_signer(settings: Settings) -> Signer:
    """What signs export manifests: KMS Sign on AWS, a local RSA key file locally."""
    if settings.export_signing_key_id:
        from treatfirst.adapters.signing import KmsSigner

        return KmsSigner(settings.export_signing_key_id)
    if settings.export_signing_key_file:
        from treatfirst.adapters.signing import LocalSigner

        try:
            return LocalSigner.from_file(settings.export_signing_key_file)
        except (OSError, ValueError) as exc:
            raise SettingsError(f"TF_EXPORT_SIGNING_KEY_FILE {settings.export_signing_key_file} is no RSA key") from exc
    raise SettingsError(
        "export needs TF_EXPORT_SIGNING_KEY_ID (the ExportSigningKeyArn output) on AWS or TF_EXPORT_SIGNING_KEY_FILE"
    )


@dataclass
class Runtime:
    settings: Settings
    store: Store
    cipher: Cipher
    policy: Policy
    clock: Clock
    auth: Authenticator

    @cached_property
    def objects(self) -> Objects:
        """Built on first use: only the functions that write or serve files need the bucket."""
        return make_objects(self.settings)

    @cached_property
    def signer(self) -> Signer:
        return make_signer(self.settings)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """Built on first use (not at import), then shared by every invocation of the warm function."""
    from treatfirst.adapters.dynamo import DynamoStore, configure

    settings = Settings.from_env()
    configure(settings.table_prefix)
    store = DynamoStore()
    clock: Clock = SystemClock()
    if settings.test_clock:
        from treatfirst.services.testclock import OffsetClock

        clock = OffsetClock(store)
    return Runtime(
        settings=settings,
        store=store,
        cipher=make_cipher(settings),
        policy=load_policy(policy_file(settings.policy)),
        clock=clock,
        auth=Authenticator(),
    )
