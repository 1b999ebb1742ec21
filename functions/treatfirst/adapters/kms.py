"""KMS cipher for personal identifiers on AWS.

Identifiers are encrypted with a customer-managed symmetric KMS key, bound to their record and field by the
encryption context, and looked up through a blind index computed by a KMS HMAC key (GenerateMac), so neither
key ever leaves KMS and a copy of the tables alone reveals nothing.
"""

from __future__ import annotations

import base64
from typing import Any

_PREFIX = "kms1:"


class KmsCipher:
    def __init__(self, key_id: str, mac_key_id: str, client: Any = None) -> None:
        self.key_id = key_id
        self.mac_key_id = mac_key_id
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # on Lambda, boto3 comes with the runtime

            self._client = boto3.client("kms")
        return self._client

    def encrypt(self, plaintext: str, *, context: str) -> str:
        sealed = self.client.encrypt(
            KeyId=self.key_id, Plaintext=plaintext.encode(), EncryptionContext={"purpose": context}
        )["CiphertextBlob"]
        return _PREFIX + base64.urlsafe_b64encode(sealed).decode()

    def decrypt(self, token: str, *, context: str) -> str:
        if not token.startswith(_PREFIX):
            raise ValueError("not a KMS ciphertext")
        blob = base64.urlsafe_b64decode(token[len(_PREFIX) :])
        opened = self.client.decrypt(KeyId=self.key_id, CiphertextBlob=blob, EncryptionContext={"purpose": context})[
            "Plaintext"
        ]
        return bytes(opened).decode()

    def blind_index(self, kind: str, value: str) -> str:
        mac = self.client.generate_mac(
            KeyId=self.mac_key_id, Message=f"{kind}:{value}".encode(), MacAlgorithm="HMAC_SHA_256"
        )["Mac"]
        return bytes(mac).hex()
