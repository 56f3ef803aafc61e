"""Uploads and downloads of one user through the service (core.transfers), end to end on moto
in-process: all of a document is stored or nothing, cancels and failures leave nothing behind."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dms_desktop.core import blob_downloads as blobs_module
from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import (
    Cancelled,
    LocalFileError,
    Throttled,
    ValidationError,
)
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.localfiles import file_checksum
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from tests.support.unreadable import unreadable_file

from .conftest import ids, write_file

BUCKET = schema.BUCKET_NAME


def stored_keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def listed(service: DocumentService) -> list[str]:
    return ids(list(service.iter_documents(ListQuery())))


def assert_nothing_stored(service: DocumentService, s3: Any) -> None:
    assert listed(service) == []
    assert stored_keys(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_upload_multipart_and_download(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "video.mp4"
    data = write_file(source, 11 * MiB)
    progress: list[tuple[int, int]] = []
    document = service.upload(source, progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (len(data), len(data))
    assert document.file_type == "video/mp4"
    out = tmp_path / "out"
    out.mkdir()
    assert service.download(document.document_id, out).read_bytes() == data


def test_upload_with_a_name_and_folder(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "scan0001.png"
    write_file(source, 10)
    document = service.upload(source, filename="Cafe\u0301 receipt.png", folder="Invoices\\2024")
    assert document.filename == "Café receipt.png"
    assert document.folder == "Invoices/2024"
    assert document.file_type == "image/png"


def test_zero_byte_upload(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "empty.txt"
    source.write_bytes(b"")
    document = service.upload(source)
    assert document.size == 0
    assert document.checksum == hashlib.sha256(b"").hexdigest()
    assert service.download(document.document_id, tmp_path / "copy.txt").read_bytes() == b""


def test_failed_metadata_write_removes_the_body(
    service: DocumentService,
    repository: DocumentRepository,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "a.pdf"
    write_file(source, 6 * MiB)

    def throttled(document: Any, **_options: Any) -> Any:
        assert stored_keys(s3) == [document.s3_key]  # the body really was stored first
        raise Throttled("Could not save the document's metadata: busy. Try again in a moment.")

    monkeypatch.setattr(repository, "create", throttled)
    with pytest.raises(Throttled, match="Try again"):
        service.upload(source)
    monkeypatch.undo()
    assert_nothing_stored(service, s3)


def test_failed_metadata_write_from_dynamodb_removes_the_body(
    service: DocumentService,
    dynamodb: Any,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "a.pdf"
    write_file(source, 100)
    real_put = dynamodb.put_item

    def failing_put(**request: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "PutItem",
        )

    monkeypatch.setattr(dynamodb, "put_item", failing_put)
    with pytest.raises(Throttled) as caught:
        service.upload(source)
    assert isinstance(caught.value.__cause__, ClientError)
    monkeypatch.setattr(dynamodb, "put_item", real_put)
    assert_nothing_stored(service, s3)


@pytest.mark.parametrize("size", [MiB, 12 * MiB])
def test_cancelled_upload_stores_nothing(
    service: DocumentService, s3: Any, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "file.bin"
    write_file(source, size)
    token = CancelToken()
    with pytest.raises(Cancelled):
        service.upload(source, progress=lambda done, total: token.cancel(), cancel=token)
    assert_nothing_stored(service, s3)


def test_cancel_after_the_body_is_stored_stores_nothing(
    service: DocumentService,
    blobs: BlobStore,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "file.bin"
    write_file(source, 100)
    token = CancelToken()
    real_upload = blobs.upload

    def upload_then_cancel(*args: Any, **kwargs: Any) -> Any:
        body = real_upload(*args, **kwargs)
        token.cancel()  # the user presses Cancel just as the body finishes
        return body

    monkeypatch.setattr(blobs, "upload", upload_then_cancel)
    with pytest.raises(Cancelled):
        service.upload(source, cancel=token)
    assert_nothing_stored(service, s3)


def test_find_duplicates(service: DocumentService, tmp_path: Path) -> None:
    first = tmp_path / "one.txt"
    data = write_file(first, 1000)
    second = tmp_path / "two.txt"
    second.write_bytes(data)
    other = tmp_path / "other.txt"
    write_file(other, 1000)
    a = service.upload(first)
    b = service.upload(second)
    service.upload(other)
    checksum = file_checksum(second)
    assert checksum == hashlib.sha256(data).hexdigest()
    assert sorted(ids(service.find_duplicates(checksum))) == sorted([a.document_id, b.document_id])
    service.delete(a.document_id)
    assert ids(service.find_duplicates(checksum)) == [b.document_id]


def test_file_checksum_can_be_cancelled(tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    write_file(source, 10)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        file_checksum(source, token)


def test_upload_of_missing_path_or_folder_is_rejected(
    service: DocumentService, s3: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pdf"
    with pytest.raises(LocalFileError, match="does not exist") as caught:
        service.upload(missing)
    assert str(missing) in str(caught.value)
    with pytest.raises(LocalFileError, match="is a folder") as caught:
        service.upload(tmp_path)
    assert str(tmp_path) in str(caught.value)
    assert_nothing_stored(service, s3)


@pytest.mark.nothing_lost(
    "bad input",
    "upload of a file without read permission (really unreadable, also as root)",
    "'… cannot be read (permission denied)' (exit 12); nothing stored",
)
def test_upload_of_an_unreadable_file_is_rejected(service: DocumentService, s3: Any) -> None:
    with (
        unreadable_file("secret.pdf") as source,
        pytest.raises(LocalFileError, match="cannot be read") as caught,
    ):
        service.upload(source)
    assert str(source) in str(caught.value)
    assert_nothing_stored(service, s3)


@pytest.mark.parametrize("name", ["a/b.txt", "bad\x00.txt", ".."])
def test_upload_with_a_bad_name_stores_nothing(
    service: DocumentService, s3: Any, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "ok.txt"
    write_file(source, 10)
    with pytest.raises(ValidationError):
        service.upload(source, filename=name)
    with pytest.raises(ValidationError):
        service.upload(source, tags=[""])
    assert_nothing_stored(service, s3)


def test_download_into_a_folder_uses_a_safe_name(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "upload.txt"
    data = write_file(source, 100)
    document = service.upload(source, filename="..hidden CON .txt. ")
    folder = tmp_path / "downloads"
    folder.mkdir()
    target = service.download(document.document_id, folder)
    assert target.parent == folder
    assert target.name == "hidden CON .txt"
    assert target.read_bytes() == data
    with pytest.raises(ValidationError, match="already exists"):
        service.download(document.document_id, folder)
    assert service.download(document.document_id, folder, overwrite=True) == target


def test_a_long_name_in_a_non_latin_script_downloads_into_a_folder(
    service: DocumentService, tmp_path: Path
) -> None:
    """~250 bytes of CJK: the hidden partial file is named within the byte limit too."""
    source = tmp_path / "upload.txt"
    data = write_file(source, 100)
    name = "報告書" * 27 + ".txt"  # 81 characters, 247 bytes
    document = service.upload(source, filename=name)
    folder = tmp_path / "downloads"
    folder.mkdir()
    target = service.download(document.document_id, folder)
    assert target == folder / name
    assert target.read_bytes() == data


def test_download_of_a_reserved_name_into_a_folder(
    service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "upload.txt"
    write_file(source, 1)
    document = service.upload(source, filename="aux.txt")
    folder = tmp_path / "downloads"
    folder.mkdir()
    assert service.download(document.document_id, folder) == folder / "_aux.txt"


def test_cancelled_download_leaves_nothing(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    write_file(source, 3 * MiB)
    document = service.upload(source)
    folder = tmp_path / "downloads"
    folder.mkdir()
    token = CancelToken()
    with pytest.raises(Cancelled):
        service.download(
            document.document_id, folder, progress=lambda d, t: token.cancel(), cancel=token
        )
    assert list(folder.iterdir()) == []


def test_a_disk_failing_during_a_download_is_one_clear_error(
    service: DocumentService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk side of a download runs on a thread of its own; its failure still reaches the
    user as one message, and nothing is left behind."""
    source = tmp_path / "big.bin"
    write_file(source, 3 * MiB)
    document = service.upload(source)
    out = tmp_path / "out"
    out.mkdir()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blobs_module, "SYNC_EVERY", MiB)  # synced while the body arrives
    monkeypatch.setattr(blobs_module.os, "fsync", disk_full)
    with pytest.raises(ValidationError, match=r"Could not write .*No space left on device"):
        service.download(document.document_id, out)
    assert list(out.iterdir()) == []
