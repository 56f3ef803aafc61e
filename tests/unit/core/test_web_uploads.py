"""Files a web app uploads under a user's folder become that user's documents (moto in-process)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import content_disposition
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.web_uploads import (
    Adoption,
    adopt_web_upload,
    web_upload_of,
)
from tests.support.aws import OTHER_USER_ID, USER_ID

BUCKET = schema.BUCKET_NAME


def _listed(repository: DocumentRepository, user_id: str) -> list[Any]:
    return list(repository.iter_all(user_id, ListQuery()))


def _keys(s3: Any) -> list[str]:
    return [entry["Key"] for entry in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_web_upload_becomes_a_document_of_the_folders_owner(
    s3: Any, repository: DocumentRepository
) -> None:
    body = b"%PDF-1.7 quarterly numbers"
    key = f"private/{USER_ID}/reports/Q3 Bericht – Größe.pdf"
    s3.put_object(
        Bucket=BUCKET,
        Key=key,
        Body=body,
        ContentType="application/pdf",
        Metadata={"userid": OTHER_USER_ID, "documentid": "0" * 8},  # the uploader's own words
    )

    result = adopt_web_upload(s3, repository, BUCKET, key)

    assert result.outcome is Adoption.ADOPTED
    (document,) = _listed(repository, USER_ID)
    assert document.filename == "Q3 Bericht – Größe.pdf"
    assert document.folder == "reports"
    assert document.file_type == "application/pdf"
    assert document.size == len(body)
    assert document.checksum == hashlib.sha256(body).hexdigest()
    assert _listed(repository, OTHER_USER_ID) == []
    assert _keys(s3) == [document.s3_key]  # moved to the key owner and id give
    stored = s3.get_object(Bucket=BUCKET, Key=document.s3_key)
    assert stored["Body"].read() == body
    assert stored["ContentDisposition"] == content_disposition("Q3 Bericht – Größe.pdf")


def test_a_repeated_event_gives_no_second_document(s3: Any, repository: DocumentRepository) -> None:
    key = f"private/{USER_ID}/notes.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"notes")

    first = adopt_web_upload(s3, repository, BUCKET, key)
    again = adopt_web_upload(s3, repository, BUCKET, key)

    assert first.outcome is Adoption.ADOPTED
    assert again.outcome is Adoption.GONE
    (document,) = _listed(repository, USER_ID)
    assert document.file_type == "text/plain"


def test_the_same_object_always_gets_the_same_document_id(
    s3: Any, repository: DocumentRepository
) -> None:
    """Two handlers racing on one event store one document (the copy and the item agree)."""
    key = f"private/{USER_ID}/twice.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"twice")
    head = s3.head_object(Bucket=BUCKET, Key=key)
    from dms_desktop.core.web_uploads import adopted_document_id

    assert adopted_document_id(key, head["ETag"], head["LastModified"]) == adopted_document_id(
        key, head["ETag"], head["LastModified"]
    )
    adopt_web_upload(s3, repository, BUCKET, key)
    (document,) = _listed(repository, USER_ID)
    assert document.document_id == adopted_document_id(key, head["ETag"], head["LastModified"])


@pytest.mark.parametrize(
    "key",
    [
        f"private/{USER_ID}/0190f2c4-5b6e-7a8b-9c0d-1e2f3a4b5c6d",  # the app's own body
        f"private/{USER_ID}/folder/",  # a folder marker
        "public/shared.txt",
        "protected/someone/file.txt",
        "private/nobody-folder",
        "private/u1/small",  # a folder that is no identity id
        f"private/{USER_ID.upper()}/shouting.txt",
    ],
)
def test_keys_that_are_no_web_upload_are_left_alone(
    s3: Any, repository: DocumentRepository, key: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    result = adopt_web_upload(s3, repository, BUCKET, key)

    assert result.outcome is Adoption.NOT_A_WEB_UPLOAD
    assert _keys(s3) == [key]
    assert web_upload_of(key) is None


def test_a_name_the_data_model_refuses_is_reported_and_left_in_place(
    s3: Any, repository: DocumentRepository
) -> None:
    key = f"private/{USER_ID}/bad\x07name.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    result = adopt_web_upload(s3, repository, BUCKET, key)

    assert result.outcome is Adoption.REFUSED
    assert "control" in result.reason
    assert _keys(s3) == [key]
    assert _listed(repository, USER_ID) == []


def test_an_object_deleted_before_the_event_is_handled_is_gone(
    s3: Any, repository: DocumentRepository
) -> None:
    result = adopt_web_upload(s3, repository, BUCKET, f"private/{USER_ID}/never.txt")

    assert result.outcome is Adoption.GONE
    assert _listed(repository, USER_ID) == []
