"""Verified downloads (moto in-process): byte-identical or nothing, broken streams continued."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ResponseStreamingError

from dms_desktop.core import schema
from dms_desktop.core.blob_downloads import DOWNLOAD_ATTEMPTS
from dms_desktop.core.blobs import BlobStore, MiB
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import (
    Cancelled,
    IntegrityError,
    TargetExists,
    Unavailable,
    ValidationError,
)

from .conftest import write_file
from .test_blobs import KEY, ProgressLog, partial_files

BUCKET = schema.BUCKET_NAME


# --- download -----------------------------------------------------------------------------------


@pytest.fixture
def stored(s3: Any) -> bytes:
    data = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MiB: several download chunks
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)
    return data


def download(blobs: BlobStore, data: bytes, target: Path, **kwargs: Any) -> Path:
    arguments: dict[str, Any] = {
        "expected_size": len(data),
        "expected_checksum": hashlib.sha256(data).hexdigest(),
    }
    arguments.update(kwargs)
    return blobs.download(KEY, target, **arguments)


def test_download_is_byte_identical(blobs: BlobStore, stored: bytes, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    progress = ProgressLog()
    assert download(blobs, stored, target, progress=progress) == target
    assert target.read_bytes() == stored
    progress.assert_complete(len(stored))
    assert partial_files(tmp_path) == []


def test_download_of_an_empty_object(blobs: BlobStore, s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"")
    target = tmp_path / "empty.txt"
    download(blobs, b"", target)
    assert target.read_bytes() == b""


def test_upload_then_download_round_trip(blobs: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = write_file(source, 6 * MiB + 3)
    body = blobs.upload(source, KEY, "x")
    target = tmp_path / "copy.bin"
    blobs.download(KEY, target, expected_size=body.size, expected_checksum=body.checksum)
    assert target.read_bytes() == data


def test_existing_target_is_not_overwritten(
    blobs: BlobStore, stored: bytes, tmp_path: Path
) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")
    with pytest.raises(TargetExists, match="already exists"):
        download(blobs, stored, target)
    assert target.read_bytes() == b"precious"
    assert partial_files(tmp_path) == []
    download(blobs, stored, target, overwrite=True)
    assert target.read_bytes() == stored


def test_download_into_a_missing_folder_is_rejected(
    blobs: BlobStore, stored: bytes, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        download(blobs, stored, tmp_path / "missing" / "out.bin")


@pytest.mark.parametrize("existing", [False, True], ids=["new-target", "existing-target"])
def test_wrong_checksum_writes_nothing(
    blobs: BlobStore, stored: bytes, tmp_path: Path, existing: bool
) -> None:
    target = tmp_path / "out.bin"
    if existing:
        target.write_bytes(b"old bytes")
    with pytest.raises(IntegrityError, match="checksum"):
        download(blobs, stored, target, expected_checksum="0" * 64, overwrite=True)
    assert target.exists() == existing
    if existing:
        assert target.read_bytes() == b"old bytes"
    assert partial_files(tmp_path) == []


def test_object_replaced_behind_the_apps_back_is_an_integrity_error(
    blobs: BlobStore, s3: Any, stored: bytes, tmp_path: Path
) -> None:
    tampered = bytearray(stored)
    tampered[12345] ^= 0xFF  # same size, different content
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=bytes(tampered))
    target = tmp_path / "out.bin"
    with pytest.raises(IntegrityError, match="changed or damaged"):
        download(blobs, stored, target)
    assert not target.exists()
    assert partial_files(tmp_path) == []


def test_object_of_another_size_is_an_integrity_error(
    blobs: BlobStore, s3: Any, stored: bytes, tmp_path: Path
) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=stored + b"extra")
    with pytest.raises(IntegrityError, match=f"expected {len(stored)}"):
        download(blobs, stored, tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []


def test_missing_object_is_not_found(blobs: BlobStore, s3: Any, tmp_path: Path) -> None:
    from dms_desktop.core.errors import NotFound

    with pytest.raises(NotFound):
        blobs.download(KEY, tmp_path / "out.bin", expected_size=1, expected_checksum="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_cancel_during_download_leaves_no_file(
    blobs: BlobStore, stored: bytes, tmp_path: Path
) -> None:
    token = CancelToken()
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        token.cancel()

    target = tmp_path / "out.bin"
    with pytest.raises(Cancelled, match="download was cancelled"):
        download(blobs, stored, target, progress=progress, cancel=token)
    assert calls and calls[-1] < len(stored)
    assert list(tmp_path.iterdir()) == []


class BreakingBody:
    """A streaming body that breaks (like a dropped connection) after ``limit`` bytes."""

    def __init__(self, body: Any, limit: int) -> None:
        self._body = body
        self._limit = limit

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        sent = 0
        for chunk in self._body.iter_chunks(min(chunk_size, 64 * 1024)):
            if sent + len(chunk) > self._limit:
                yield chunk[: self._limit - sent]
                raise ResponseStreamingError(error=ConnectionResetError("connection reset"))
            sent += len(chunk)
            yield chunk


class BreakingClient:
    """An S3 client whose first ``breaks`` GetObject streams break after ``limit`` bytes."""

    def __init__(self, client: Any, *, limit: int, breaks: int = 1) -> None:
        self._client = client
        self._limit = limit
        self._breaks = breaks
        self.requests: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        response = self._client.get_object(**request)
        if self._breaks:
            self._breaks -= 1
            response["Body"] = BreakingBody(response["Body"], self._limit)
        return response


def test_a_broken_stream_is_resumed_with_a_range_request(
    s3: Any, stored: bytes, tmp_path: Path
) -> None:
    client = BreakingClient(s3, limit=1_000_003)
    blobs = BlobStore(client, BUCKET)
    target = tmp_path / "out.bin"
    progress = ProgressLog()
    download(blobs, stored, target, progress=progress)
    assert target.read_bytes() == stored
    progress.assert_complete(len(stored))
    assert len(client.requests) == 2
    assert "Range" not in client.requests[0]
    assert client.requests[1]["Range"] == "bytes=1000003-"
    assert client.requests[1]["IfMatch"] == s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"]
    assert partial_files(tmp_path) == []


def test_a_stream_that_keeps_breaking_gives_up_cleanly(
    s3: Any, stored: bytes, tmp_path: Path
) -> None:
    client = BreakingClient(s3, limit=1000, breaks=DOWNLOAD_ATTEMPTS)
    target = tmp_path / "out.bin"
    with pytest.raises(Unavailable) as caught:
        download(BlobStore(client, BUCKET), stored, target)
    assert isinstance(caught.value.__cause__, ResponseStreamingError)
    assert len(client.requests) == DOWNLOAD_ATTEMPTS
    assert list(tmp_path.iterdir()) == []
