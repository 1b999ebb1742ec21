"""The files port (exports bucket): the same behaviour from the dict, the folder and S3 (moto) adapters."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from treatfirst.adapters.objects import FolderObjects, MemoryObjects, S3Objects, check_key
from treatfirst.services.ports import ObjectMissing, Objects

PART = 5 * 1024 * 1024  # S3's smallest part


@pytest.fixture(params=["memory", "folder", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryObjects()
    elif request.param == "folder":
        yield FolderObjects(tmp_path / "exports")
    else:
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
        with mock_aws():
            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="exports", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
            yield S3Objects("exports", client=s3, part_bytes=PART)


def test_a_file_written_in_pieces_reads_back_whole_with_its_hash(objects: Objects) -> None:
    # Given a file written in three pieces
    with objects.writer("exports/blacklist/a.csv", content_type="text/csv") as w:
        for piece in (b"\xef\xbb\xbfa,b\r\n", b"1,2\r\n", b""):
            w.write(piece)
    # Then it reads back whole, and the writer knew its SHA-256 and size
    data = b"\xef\xbb\xbfa,b\r\n1,2\r\n"
    assert objects.read("exports/blacklist/a.csv") == data
    assert (w.sha256, w.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert b"".join(objects.chunks("exports/blacklist/a.csv", size=4)) == data
    assert objects.exists("exports/blacklist/a.csv") and not objects.exists("exports/blacklist/b.csv")


def test_a_writer_that_fails_leaves_no_file(objects: Objects) -> None:
    # When the code writing a file fails halfway
    with pytest.raises(RuntimeError), objects.writer("clearing/x.csv", content_type="text/csv") as w:
        w.write(b"half")
        raise RuntimeError("crash")
    # Then there is no file, not even a partial one
    assert not objects.exists("clearing/x.csv")
    assert list(objects.keys("clearing/")) == []


def test_keys_are_listed_by_prefix_in_order_and_missing_files_are_named(objects: Objects) -> None:
    for key in ("exports/blacklist/2/m.json", "clearing/1.csv", "exports/blacklist/1/m.json"):
        with objects.writer(key, content_type="application/json") as w:
            w.write(b"{}")
    assert list(objects.keys("exports/blacklist/")) == ["exports/blacklist/1/m.json", "exports/blacklist/2/m.json"]
    with pytest.raises(ObjectMissing):
        objects.read("exports/blacklist/3/m.json")
    with pytest.raises(ValueError):
        objects.read("exports/blacklist/1/m.json", max_bytes=1)
    objects.delete("clearing/1.csv")
    assert list(objects.keys("clearing/")) == []


def test_a_large_file_goes_up_in_parts_and_never_whole_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given S3 (moto) with the smallest part size S3 accepts
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="cn-north-1")
        s3.create_bucket(Bucket="exports", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
        sent: list[int] = []
        original = s3.upload_part

        def upload_part(**kw: Any) -> Any:
            sent.append(len(kw["Body"]))
            return original(**kw)

        monkeypatch.setattr(s3, "upload_part", upload_part)
        objects = S3Objects("exports", client=s3, part_bytes=PART)
        # When 11 MiB are written in 64 KiB pieces
        piece = bytes(range(256)) * 256
        with objects.writer("exports/blacklist/big.jsonl", content_type="application/x-ndjson") as w:
            for _ in range(11 * 16):
                w.write(piece)
        # Then three parts went up (5, 5, 1 MiB): no part, hence no buffer, above the part size
        assert sent == [PART, PART, 1024 * 1024]
        data = s3.get_object(Bucket="exports", Key="exports/blacklist/big.jsonl")["Body"].read()
        assert hashlib.sha256(data).hexdigest() == w.sha256 and len(data) == w.size == 11 * 1024 * 1024
        # And a failed multipart write leaves no upload behind
        with pytest.raises(RuntimeError), objects.writer("exports/blacklist/bad", content_type="text/csv") as w:
            for _ in range(6 * 16):
                w.write(piece)
            raise RuntimeError("crash")
        assert s3.list_multipart_uploads(Bucket="exports").get("Uploads", []) == []
        assert not objects.exists("exports/blacklist/bad")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/./b", "a b", "a\\b", "é"])
def test_keys_are_plain_relative_paths(key: str) -> None:
    with pytest.raises(ValueError):
        check_key(key)
