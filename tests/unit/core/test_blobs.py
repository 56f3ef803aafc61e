"""Document bodies in S3 (moto in-process): uploads, verified downloads, cancellation."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ResponseStreamingError

from dms_desktop.core import blobs as blobs_module
from dms_desktop.core import schema
from dms_desktop.core.blobs import (
    DOWNLOAD_ATTEMPTS,
    MAX_PARTS,
    BlobStore,
    MiB,
    StoredBody,
    TransferSettings,
    part_size_for,
)
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import (
    Cancelled,
    IntegrityError,
    TargetExists,
    Unavailable,
    ValidationError,
)

from .conftest import write_file

KEY = "private/user/document"
BUCKET = schema.BUCKET_NAME


class ProgressLog:
    """Records progress calls (they come from transfer threads)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            self.calls.append((done, total))

    def assert_complete(self, size: int) -> None:
        assert self.calls, "no progress was reported"
        assert self.calls[-1] == (size, size)
        done = [call[0] for call in self.calls]
        assert done == sorted(done), "progress went backwards"
        assert all(total == size for _, total in self.calls)


def object_bytes(s3: Any, key: str = KEY) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def assert_nothing_stored(s3: Any) -> None:
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def partial_files(folder: Path) -> list[Path]:
    return list(folder.glob("*.dms-partial")) + list(folder.glob(".*.dms-partial"))


# --- upload -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 1 * MiB, 5 * MiB - 1], ids=["empty", "1B", "1MiB", "<5MiB"])
def test_small_upload_stores_identical_bytes(
    blobs: BlobStore, s3: Any, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "small.bin"
    data = write_file(source, size)
    progress = ProgressLog()
    stored = blobs.upload(source, KEY, "application/pdf", progress=progress)
    assert stored == StoredBody(size, hashlib.sha256(data).hexdigest())
    assert object_bytes(s3) == data
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ContentType"] == "application/pdf"
    if size:
        progress.assert_complete(size)


def test_multipart_upload_stores_identical_bytes(blobs: BlobStore, s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = write_file(source, 12 * MiB)
    progress = ProgressLog()
    stored = blobs.upload(source, KEY, "application/octet-stream", progress=progress)
    assert stored.checksum == hashlib.sha256(data).hexdigest()
    assert stored.size == 12 * MiB
    assert object_bytes(s3) == data
    # 5 + 5 + 2 MiB: a multipart upload of three parts
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"').endswith("-3")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    progress.assert_complete(12 * MiB)
    assert len(progress.calls) > 1


def test_part_size_respects_the_10000_part_limit() -> None:
    size = 60 * 1000**3  # 60 GB: 5 MiB parts would need 11,445
    part = part_size_for(size, 5 * MiB)
    assert part % MiB == 0
    assert -(-size // part) <= MAX_PARTS
    assert -(-size // (part - MiB)) > MAX_PARTS  # the smallest whole-MiB size that fits
    assert part_size_for(12 * MiB, 5 * MiB) == 5 * MiB
    assert part_size_for(0, 5 * MiB) == 5 * MiB
    assert part_size_for(MAX_PARTS * 5 * MiB, 5 * MiB) == 5 * MiB


def test_cancel_from_the_progress_callback_aborts_a_multipart_upload(
    blobs: BlobStore, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    write_file(source, 16 * MiB)
    token = CancelToken()
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        token.cancel()

    with pytest.raises(Cancelled, match="cancelled"):
        blobs.upload(source, KEY, "x", progress=progress, cancel=token)
    assert calls  # it was cancelled mid-transfer, not before
    assert_nothing_stored(s3)


def test_cancel_from_the_progress_callback_of_a_small_upload(
    blobs: BlobStore, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "small.bin"
    write_file(source, MiB)
    token = CancelToken()
    with pytest.raises(Cancelled):
        blobs.upload(source, KEY, "x", progress=lambda done, total: token.cancel(), cancel=token)
    assert_nothing_stored(s3)


@pytest.mark.parametrize("size", [MiB, 12 * MiB])
def test_cancel_before_start_stores_nothing(
    blobs: BlobStore, s3: Any, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "file.bin"
    write_file(source, size)
    token = CancelToken()
    token.cancel()
    progress = ProgressLog()
    with pytest.raises(Cancelled):
        blobs.upload(source, KEY, "x", progress=progress, cancel=token)
    assert_nothing_stored(s3)
    assert progress.calls == []


@pytest.mark.parametrize("change", ["shrink", "grow"])
def test_a_file_changing_during_upload_is_rejected(
    blobs: BlobStore, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    source = tmp_path / "growing.log"
    write_file(source, 12 * MiB)
    changed = threading.Event()
    real_read = blobs_module._SendingReader.read

    def read_then_change(reader: Any, amount: int = -1) -> bytes:
        # Another program writes the file right after the first part was read. (Doing it from
        # the progress callback races with s3transfer reading ahead.)
        data = real_read(reader, amount)
        if data and not changed.is_set():
            changed.set()
            with source.open("r+b") as file:
                if change == "shrink":
                    file.truncate(7 * MiB)
                else:
                    file.seek(0, 2)
                    file.write(b"x" * MiB)
        return data

    monkeypatch.setattr(blobs_module._SendingReader, "read", read_then_change)
    with pytest.raises(ValidationError, match="changed while it was being uploaded") as caught:
        blobs.upload(source, KEY, "x")
    assert "growing.log" in str(caught.value)
    assert changed.is_set()
    assert_nothing_stored(s3)


def test_upload_of_a_missing_bucket_is_a_configuration_error(s3: Any, tmp_path: Path) -> None:
    from dms_desktop.core.errors import ConfigError

    source = tmp_path / "a.txt"
    write_file(source, 10)
    with pytest.raises(ConfigError):
        BlobStore(s3, "no-such-bucket-here").upload(source, KEY, "text/plain")


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


# --- other operations ---------------------------------------------------------------------------


def test_size_of(blobs: BlobStore, stored: bytes) -> None:
    assert blobs.size_of(KEY) == len(stored)
    assert blobs.size_of("private/user/missing") is None


def test_delete_is_idempotent(blobs: BlobStore, s3: Any, stored: bytes) -> None:
    blobs.delete(KEY)
    assert blobs.size_of(KEY) is None
    blobs.delete(KEY)  # already gone: no error
    assert_nothing_stored(s3)


def test_settings_are_used(s3: Any, tmp_path: Path) -> None:
    blobs = BlobStore(s3, BUCKET, TransferSettings(multipart_threshold=8 * MiB, part_size=8 * MiB))
    source = tmp_path / "seven.bin"
    write_file(source, 7 * MiB)
    blobs.upload(source, KEY, "x")
    assert "-" not in s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"]  # below the threshold
