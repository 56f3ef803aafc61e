"""A new document's record: its fields, and the one way it is written (after the body)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.errors import Conflict, NotFound
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.models import Document
from dms_desktop.core.records import (
    new_document_record,
    store_document_record,
    store_record_of_upload,
)
from dms_desktop.core.repository import DocumentRepository
from tests.support.aws import USER_ID

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _record(document_id: str, checksum: str = "a" * 64) -> Document:
    return new_document_record(
        user_id=USER_ID,
        document_id=document_id,
        filename="Re\u0301sume\u0301.pdf",  # NFD, as some file systems give it
        file_type="application/pdf",
        size=42,
        checksum=checksum,
        tags=["Invoice", "invoice", " 2024 "],
        folder="taxes\\2024",
        now=NOW,
    )


def test_a_new_record_follows_the_data_model() -> None:
    document_id = new_document_id()

    document = new_document_record(
        user_id=USER_ID,
        document_id=document_id,
        filename="Re\u0301sume\u0301.pdf",
        file_type="application/pdf",
        size=42,
        checksum="a" * 64,
        tags=["Invoice", "invoice", " 2024 "],
        folder="taxes\\2024",
        expires_at=1_900_000_000,
        now=NOW,
    )

    assert document.filename == "Résumé.pdf"  # NFC
    assert document.tags == ("Invoice", "2024")
    assert document.folder == "taxes/2024"
    assert document.s3_key == f"private/{USER_ID}/{document_id}"  # from owner and id only
    assert (document.created_at, document.updated_at, document.version) == (NOW, NOW, 1)
    assert document.expires_at == 1_900_000_000


def test_storing_a_record_twice_for_the_same_body_is_one_record(
    repository: DocumentRepository,
) -> None:
    document = _record(new_document_id())
    first = store_document_record(repository, document)

    again = store_document_record(repository, document)

    assert again == first
    assert repository.get(USER_ID, first.document_id) == first


def test_a_record_for_another_body_under_a_taken_id_is_a_conflict(
    repository: DocumentRepository,
) -> None:
    document_id = new_document_id()
    store_document_record(repository, _record(document_id))

    with pytest.raises(Conflict):
        store_document_record(repository, _record(document_id, "b" * 64))


def _uploaded(content: bytes) -> Document:
    return new_document_record(
        user_id=USER_ID,
        document_id=new_document_id(),
        filename="upload.bin",
        file_type="application/octet-stream",
        size=len(content),
        checksum=hashlib.sha256(content).hexdigest(),
        now=NOW,
    )


def test_an_uploaded_body_is_recorded_only_when_it_is_there_and_matches(
    repository: DocumentRepository, blobs: BlobStore, s3: Any
) -> None:
    content = b"sent by a client"
    document = _uploaded(content)

    with pytest.raises(Conflict, match="has not been uploaded yet"):
        store_record_of_upload(repository, blobs, document)
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=document.s3_key, Body=b"something else!!")
    with pytest.raises(Conflict, match="does not match"):
        store_record_of_upload(repository, blobs, document)
    with pytest.raises(NotFound):
        repository.get(USER_ID, document.document_id)

    s3.put_object(Bucket=schema.BUCKET_NAME, Key=document.s3_key, Body=content)
    assert store_record_of_upload(repository, blobs, document) == document
    assert repository.get(USER_ID, document.document_id) == document


def test_a_checksum_s3_verified_on_upload_is_used_without_reading_the_body() -> None:
    content = b"verified by S3"
    document = _uploaded(content)
    s3 = boto3.session.Session(
        aws_access_key_id="stub", aws_secret_access_key="stub", region_name="eu-west-1"
    ).client("s3")
    with Stubber(s3) as stubber:
        stubber.add_response(
            "head_object",
            {
                "ContentLength": len(content),
                "ChecksumSHA256": base64.b64encode(hashlib.sha256(content).digest()).decode(),
                "ChecksumType": "FULL_OBJECT",
            },
            {"Bucket": "bucket", "Key": document.s3_key, "ChecksumMode": "ENABLED"},
        )

        stored = BlobStore(s3, "bucket").describe(document.s3_key)  # no GET is stubbed

        stubber.assert_no_pending_responses()
    assert stored is not None
    assert (stored.size, stored.checksum) == (document.size, document.checksum)
