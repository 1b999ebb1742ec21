"""The KMS cipher round-trips, binds each ciphertext to its field, and gives a stable blind index (moto KMS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from treatfirst.adapters.kms import KmsCipher


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    with mock_aws():
        yield boto3.client("kms")


def test_round_trip_context_binding_and_blind_index(kms: Any) -> None:
    key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    cipher = KmsCipher(key, mac_key)

    sealed = cipher.encrypt("11010519491231002X", context="account:acc_1:id_number")
    assert "11010519491231002X" not in sealed
    assert cipher.decrypt(sealed, context="account:acc_1:id_number") == "11010519491231002X"
    with pytest.raises(ClientError):
        cipher.decrypt(sealed, context="account:acc_2:id_number")

    first = cipher.blind_index("resident_id", "11010519491231002X")
    assert first == cipher.blind_index("resident_id", "11010519491231002X")
    assert first != cipher.blind_index("phone", "11010519491231002X")
