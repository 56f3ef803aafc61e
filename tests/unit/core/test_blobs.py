"""Document bodies in S3 (moto in-process): uploads, verified downloads, cancellation."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from dms_desktop.core import multipart_upload, schema
from dms_desktop.core.blobs import (
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
    real_read = multipart_upload._read_exactly

    def read_then_change(file: Any, amount: int) -> bytes:
        # Another program writes the file right after the first part was read. (Doing it from
        # the progress callback races with the reading of the next part.)
        data = real_read(file, amount)
        if data and not changed.is_set():
            changed.set()
            with source.open("r+b") as file:
                if change == "shrink":
                    file.truncate(7 * MiB)
                else:
                    file.seek(0, 2)
                    file.write(b"x" * MiB)
        return data

    monkeypatch.setattr(multipart_upload, "_read_exactly", read_then_change)
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


# --- other operations ---------------------------------------------------------------------------


@pytest.fixture
def stored(s3: Any) -> bytes:
    data = bytes(range(256)) * 4096
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)
    return data


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


def test_unfinished_uploads_of_a_key_whose_id_was_never_noted_are_aborted(
    s3: Any, blobs: BlobStore
) -> None:
    # What a crash right after CreateMultipartUpload leaves: an upload nobody knows the id of.
    s3.create_multipart_upload(Bucket=BUCKET, Key=KEY)
    s3.create_multipart_upload(Bucket=BUCKET, Key=KEY)
    other = s3.create_multipart_upload(Bucket=BUCKET, Key=f"{KEY}-2")["UploadId"]

    assert blobs.abort_unnoted_multipart(KEY) == 2

    left = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [upload["UploadId"] for upload in left] == [other]  # another key's is not touched


def test_where_uploads_may_not_be_listed_they_are_left_to_the_lifecycle_rule(
    s3: Any, blobs: BlobStore
) -> None:
    with Stubber(s3) as stubber:  # a user on AWS: ListBucketMultipartUploads is not theirs
        stubber.add_client_error(
            "list_multipart_uploads",
            "AccessDenied",
            "Access Denied",
            403,
            {"Bucket": BUCKET, "Prefix": KEY},
        )
        assert blobs.abort_unnoted_multipart(KEY) is None
        stubber.assert_no_pending_responses()
