"""A user's clients refuse every request outside that user's documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from dms_desktop.core.ids import new_document_id
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.schema import BUCKET_NAME, TABLE_NAME, object_key
from dms_desktop.core.scope import OutOfScope
from dms_desktop.core.service import DocumentService
from tests.support.aws import OTHER_USER_ID, USER_ID


@pytest.fixture
def guarded(session: boto3.session.Session, dynamodb: Any, s3: Any) -> DocumentService:
    """The service exactly as the app builds it for a signed-in user (the tables exist)."""
    return DocumentService.for_user(session, None, TABLE_NAME, BUCKET_NAME, USER_ID)


def test_own_documents_work_through_the_guard(guarded: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "mine.txt"
    source.write_text("mine")

    document = guarded.upload(source, tags=["own"])
    assert [doc.document_id for doc in guarded.list_page(ListQuery()).documents] == [
        document.document_id
    ]
    assert guarded.tag_counts() == {"own": 1}
    assert guarded.find_duplicates(document.checksum)[0].document_id == document.document_id
    assert guarded.rename(document.document_id, "still-mine.txt").filename == "still-mine.txt"
    target = guarded.download(document.document_id, tmp_path / "out.txt")
    assert target.read_text() == "mine"
    guarded.delete(document.document_id)


def test_another_users_partition_is_refused(guarded: DocumentService, dynamodb: Any) -> None:
    repository = DocumentRepository(guarded._repository._client, TABLE_NAME)  # the guarded client

    with pytest.raises(OutOfScope, match="not yours"):
        repository.get(OTHER_USER_ID, "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d")
    with pytest.raises(OutOfScope):
        repository.list_page(OTHER_USER_ID, ListQuery())
    with pytest.raises(OutOfScope):
        repository.delete(OTHER_USER_ID, "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d")
    with pytest.raises(OutOfScope):
        guarded._repository._client.scan(TableName=TABLE_NAME)


def test_another_users_objects_are_refused(guarded: DocumentService) -> None:
    client = guarded._blobs._client
    foreign = object_key(OTHER_USER_ID, "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d")

    with pytest.raises(OutOfScope):
        client.get_object(Bucket=BUCKET_NAME, Key=foreign)
    with pytest.raises(OutOfScope):
        client.put_object(Bucket=BUCKET_NAME, Key=foreign, Body=b"x")
    with pytest.raises(OutOfScope):
        client.list_objects_v2(Bucket=BUCKET_NAME, Prefix="private/")
    with pytest.raises(OutOfScope):
        client.get_object(Bucket=BUCKET_NAME, Key=f"private/{USER_ID}x/../{OTHER_USER_ID}/a")


def test_batches_are_checked_key_by_key(guarded: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "mine.txt"
    source.write_text("mine")
    mine = guarded.upload(source)
    client = guarded._repository._client
    theirs = {"userId": {"S": OTHER_USER_ID}, "documentId": {"S": mine.document_id}}
    own = {"userId": {"S": USER_ID}, "documentId": {"S": mine.document_id}}

    with pytest.raises(OutOfScope):
        client.batch_get_item(RequestItems={TABLE_NAME: {"Keys": [own, theirs]}})
    with pytest.raises(OutOfScope):
        client.batch_write_item(
            RequestItems={TABLE_NAME: [{"DeleteRequest": {"Key": k}} for k in (own, theirs)]}
        )
    with pytest.raises(OutOfScope):
        client.transact_write_items(
            TransactItems=[{"Delete": {"TableName": TABLE_NAME, "Key": theirs}}]
        )
    with pytest.raises(OutOfScope):
        guarded._blobs._client.delete_objects(
            Bucket=BUCKET_NAME,
            Delete={
                "Objects": [
                    {"Key": mine.s3_key},
                    {"Key": object_key(OTHER_USER_ID, mine.document_id)},
                ]
            },
        )
    with pytest.raises(OutOfScope):
        guarded._blobs._client.delete_object(
            Bucket=BUCKET_NAME, Key=f"private/{USER_ID}/../{OTHER_USER_ID}/{mine.document_id}"
        )
    assert guarded.names_of([mine.document_id]) == {mine.document_id: "mine.txt"}
    report = guarded.delete_many([mine.document_id, new_document_id()])
    assert report.deleted == [mine.document_id]
