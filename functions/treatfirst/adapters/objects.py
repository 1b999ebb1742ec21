"""Files of the exports bucket (treatfirst.services.ports.Objects): S3 on AWS, a folder locally, a dict in tests.

One bucket per city and stage holds every file the platform hands to others, by prefix: `exports/blacklist/...`
(the credit platform's deltas) and `clearing/...` (settlement files). Each writer hashes (SHA-256) and counts while
it writes and keeps at most one part in memory, so memory stays flat whatever the size of a file:
- S3Objects: one PutObject for a file smaller than a part, else a multipart upload of PART_BYTES parts (aborted
  when the writer fails, so no half file is ever visible); encryption is the bucket's default (the city's KMS key);
- FolderObjects: a temporary file next to the target, renamed over it at the end (atomic on one file system);
- MemoryObjects: bytes in a dict (unit tests).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from treatfirst.services.ports import ObjectMissing

PART_BYTES = 8 * 1024 * 1024  # S3's smallest part is 5 MiB (all parts but the last)
KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


def check_key(key: str) -> str:
    """Keys are relative paths of plain ASCII segments: no `..`, no leading `/`, no empty segment."""
    parts = key.split("/")
    if not key or not set(key) <= KEY_CHARS or any(p in ("", ".", "..") for p in parts) or len(key) > 512:
        raise ValueError(f"not an object key: {key!r}")
    return key


class _Writer:
    """Hashes and counts; `sink` takes each piece."""

    def __init__(self, sink: Any) -> None:
        self._hash = hashlib.sha256()
        self._sink = sink
        self.size = 0
        self.sha256 = ""

    def write(self, data: bytes) -> None:
        if data:
            self._hash.update(data)
            self.size += len(data)
            self._sink(data)

    def _finish(self) -> None:
        self.sha256 = self._hash.hexdigest()


class MemoryObjects:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}

    @contextmanager
    def writer(self, key: str, *, content_type: str) -> Iterator[_Writer]:
        pieces: list[bytes] = []
        w = _Writer(pieces.append)
        yield w
        w._finish()
        self.objects[check_key(key)] = b"".join(pieces)
        self.content_types[key] = content_type

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        if key not in self.objects:
            raise ObjectMissing(key)
        data = self.objects[key]
        if max_bytes is not None and len(data) > max_bytes:
            raise ValueError(f"{key} is larger than {max_bytes} bytes")
        return data

    def chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        data = self.read(key)
        for start in range(0, len(data), size):
            yield data[start : start + size]

    def exists(self, key: str) -> bool:
        return key in self.objects

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


class FolderObjects:
    """Keys as paths under `root` (locally .local/<city>/exports)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    @contextmanager
    def writer(self, key: str, *, content_type: str) -> Iterator[_Writer]:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".part-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                w = _Writer(out.write)
                yield w
                out.flush()
                os.fsync(out.fileno())
            w._finish()
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        with self._open(key) as f:
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise ValueError(f"{key} is larger than {max_bytes} bytes")
        return data

    def chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        with self._open(key) as f:
            while piece := f.read(size):
                yield piece

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self, prefix: str) -> Iterator[str]:
        if not self.root.is_dir():
            return
        found = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        yield from sorted(k for k in found if k.startswith(prefix) and not k.rsplit("/", 1)[-1].startswith(".part-"))

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


class S3Objects:
    """The exports bucket (TF_EXPORTS_BUCKET). Needs s3:PutObject (multipart uploads included), s3:GetObject and,
    for `keys`, s3:ListBucket; the role's KMS grant lets S3 use the data key on its behalf."""

    def __init__(self, bucket: str, client: Any = None, part_bytes: int = PART_BYTES) -> None:
        self.bucket = bucket
        self._client = client
        self.part_bytes = part_bytes

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    @contextmanager
    def writer(self, key: str, *, content_type: str) -> Iterator[_Writer]:
        check_key(key)
        buffer = bytearray()
        parts: list[dict[str, Any]] = []
        upload: dict[str, str] = {}

        def send_part() -> None:
            if not upload:
                made = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
                upload["id"] = made["UploadId"]
            number = len(parts) + 1
            sent = self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload["id"], PartNumber=number, Body=bytes(buffer)
            )
            parts.append({"PartNumber": number, "ETag": sent["ETag"]})
            buffer.clear()

        def sink(data: bytes) -> None:
            buffer.extend(data)
            while len(buffer) >= self.part_bytes:
                rest = bytes(buffer[self.part_bytes :])
                del buffer[self.part_bytes :]
                send_part()
                buffer.extend(rest)

        w = _Writer(sink)
        try:
            yield w
            w._finish()
            if not upload:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer), ContentType=content_type)
                return
            if buffer:
                send_part()
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload["id"], MultipartUpload={"Parts": parts}
            )
        except BaseException:
            if upload:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload["id"])
            raise

    def _get(self, key: str) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey as exc:
            raise ObjectMissing(key) from exc

    def read(self, key: str, *, max_bytes: int | None = None) -> bytes:
        got = self._get(key)
        if max_bytes is not None and int(got["ContentLength"]) > max_bytes:
            got["Body"].close()
            raise ValueError(f"{key} is larger than {max_bytes} bytes")
        return bytes(got["Body"].read())

    def chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        body = self._get(key)["Body"]
        try:
            while piece := body.read(size):
                yield piece
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)
