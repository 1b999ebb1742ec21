"""Signers of export manifests: KMS Sign with the stack's asymmetric key on AWS, an RSA key file locally.

Both sign RSASSA-PKCS1-v1_5 with SHA-256 (deterministic: a re-run window signs to the same bytes) over the
manifest's bytes, so a receiver verifies either with the same command:

    openssl dgst -sha256 -verify signing-key.pem -signature manifest.json.sig manifest.json

KMS is sent the SHA-256 digest (MessageType DIGEST): a manifest may be larger than KMS's 4 KB message limit.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from treatfirst.domain.export import Signing, public_pem, sha256_hex


class KmsSigner:
    def __init__(self, key_id: str, client: Any = None) -> None:
        self.key_id = key_id
        self._client = client
        self._signing: Signing | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("kms")
        return self._client

    def signing(self) -> Signing:
        if self._signing is None:
            der = bytes(self.client.get_public_key(KeyId=self.key_id)["PublicKey"])
            self._signing = Signing(self.key_id, sha256_hex(der), public_pem(der))
        return self._signing

    def sign(self, data: bytes) -> bytes:
        signed = self.client.sign(
            KeyId=self.key_id,
            Message=hashlib.sha256(data).digest(),
            MessageType="DIGEST",
            SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
        )
        return bytes(signed["Signature"])


class LocalSigner:
    """A PEM RSA private key (locally .local/<city>/export-signing.pem, made by `new_key_pem`)."""

    def __init__(self, private_pem: bytes) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the export signing key must be an RSA key")
        self._key = key
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._signing = Signing("local", sha256_hex(der), public_pem(der))

    @classmethod
    def from_file(cls, path: str | Path) -> LocalSigner:
        return cls(Path(path).read_bytes())

    @staticmethod
    def new_key_pem() -> bytes:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def signing(self) -> Signing:
        return self._signing

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def signature_ok(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    """What `openssl dgst -sha256 -verify` checks: RSASSA-PKCS1-v1_5 with SHA-256 under this public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except ValueError:
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def fingerprint(public_key_pem: bytes) -> str:
    """SHA-256 of the public key's DER: what the manifest names and the platform pins."""
    body = b"".join(line for line in public_key_pem.splitlines() if line and not line.startswith(b"-----"))
    return sha256_hex(base64.b64decode(body))
