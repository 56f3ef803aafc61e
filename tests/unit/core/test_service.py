"""The document operations for one user, end to end on moto in-process."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB
from dms_desktop.core.errors import (
    Conflict,
    NotFound,
    Throttled,
    ValidationError,
)
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService

from .conftest import USER_ID, ids, write_file

BUCKET = schema.BUCKET_NAME


def stored_keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def listed(service: DocumentService) -> list[str]:
    return ids(list(service.iter_documents(ListQuery())))


def assert_nothing_stored(service: DocumentService, s3: Any) -> None:
    assert listed(service) == []
    assert stored_keys(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_upload_get_list_download_delete(service: DocumentService, s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "Quarterly Report.pdf"
    data = write_file(source, 2 * MiB + 17)
    document = service.upload(source, tags=["Finance", "finance", " Q3 "])
    assert document.filename == "Quarterly Report.pdf"
    assert document.file_type == "application/pdf"
    assert document.size == len(data)
    assert document.checksum == hashlib.sha256(data).hexdigest()
    assert document.tags == ("Finance", "Q3")
    assert document.version == 1
    assert document.user_id == USER_ID
    assert document.s3_key == schema.object_key(USER_ID, document.document_id)
    assert service.get(document.document_id) == document
    assert listed(service) == [document.document_id]
    assert stored_keys(s3) == [document.s3_key]

    target = service.download(document.document_id, tmp_path / "copy.pdf")
    assert target.read_bytes() == data

    assert service.delete(document.document_id) == document
    with pytest.raises(NotFound):
        service.get(document.document_id)
    assert_nothing_stored(service, s3)


def test_rename(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "draft.txt"
    write_file(source, 5)
    document = service.upload(source)
    renamed = service.rename(document.document_id, "Final.txt")
    assert renamed.filename == "Final.txt"
    assert renamed.version == 2
    assert service.get(document.document_id).filename == "Final.txt"
    names = [doc.filename for doc in service.iter_documents(ListQuery(text="final"))]
    assert names == ["Final.txt"]
    with pytest.raises(Conflict, match="changed elsewhere"):
        service.rename(document.document_id, "Other.txt", expected_version=1)
    with pytest.raises(ValidationError, match="path separator"):
        service.rename(document.document_id, "../evil")


def test_retag_add_remove_replace(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    write_file(source, 5)
    document = service.upload(source, tags=["Work", "Draft"])
    added = service.retag(document.document_id, add=["work", "Urgent"])
    assert added.tags == ("Work", "Draft", "Urgent")
    removed = service.retag(document.document_id, remove=["DRAFT", "not-there"])
    assert removed.tags == ("Work", "Urgent")
    replaced = service.retag(document.document_id, replace=["Archive"], remove=["archive"])
    assert replaced.tags == ()
    replaced = service.retag(document.document_id, replace=["Archive", "2024"])
    assert replaced.tags == ("Archive", "2024")
    assert replaced.version == 5
    assert ids(list(service.iter_documents(ListQuery(tag="ARCHIVE")))) == [document.document_id]
    with pytest.raises(Conflict):
        service.retag(document.document_id, add=["x"], expected_version=4)


def test_delete_removes_metadata_even_if_the_body_delete_fails(
    service: DocumentService,
    blobs: BlobStore,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = tmp_path / "a.txt"
    write_file(source, 5)
    document = service.upload(source)
    order: list[str] = []

    def failing_delete(**_: Any) -> None:
        order.append("body")
        assert listed(service) == []  # the metadata was already gone
        raise Throttled("Could not delete the stored file: busy.")

    monkeypatch.setattr(s3, "delete_objects", failing_delete)
    with caplog.at_level(logging.ERROR, logger="dms_desktop.core.service"):
        assert service.delete(document.document_id) == document
    assert order == ["body"]
    assert listed(service) == []
    assert stored_keys(s3) == [document.s3_key]  # an invisible orphan, logged for cleanup
    assert document.document_id in caplog.text


@pytest.mark.parametrize("bad_id", ["", "nope", "../etc", "01938F2C-7A4E-7B1A-9C3D-5E6F7A8B9C0D"])
def test_malformed_document_ids_are_rejected(service: DocumentService, bad_id: str) -> None:
    for operation in (service.get, service.delete):
        with pytest.raises(ValidationError, match="not a document id"):
            operation(bad_id)
    with pytest.raises(ValidationError, match="not a document id"):
        service.rename(bad_id, "x.txt")


def test_unknown_document_ids_are_not_found(service: DocumentService, tmp_path: Path) -> None:
    unknown = "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d"
    with pytest.raises(NotFound):
        service.get(unknown)
    with pytest.raises(NotFound):
        service.delete(unknown)
    with pytest.raises(NotFound):
        service.rename(unknown, "x.txt")
    with pytest.raises(NotFound):
        service.download(unknown, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_document_ids_with_surrounding_whitespace_are_accepted(
    service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    write_file(source, 3)
    document = service.upload(source)
    assert service.get(f"  {document.document_id}\n") == document


def test_list_page_is_per_user(
    service: DocumentService, repository: DocumentRepository, blobs: BlobStore, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    write_file(source, 3)
    mine = service.upload(source)
    other = DocumentService(repository, blobs, "us-east-1:someone-else")
    theirs = other.upload(source)
    assert ids(service.list_page(ListQuery()).documents) == [mine.document_id]
    assert ids(other.list_page(ListQuery()).documents) == [theirs.document_id]
    with pytest.raises(NotFound):
        service.get(theirs.document_id)
    with pytest.raises(NotFound):
        service.delete(theirs.document_id)
    assert other.get(theirs.document_id) == theirs
