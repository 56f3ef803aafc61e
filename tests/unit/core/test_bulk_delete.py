"""Deleting many documents at once: batched requests, a report per document, metadata before
bodies, and what the next start does when the app dies in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.bulk_delete import DeleteStatus
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import (
    Cancelled,
    IntegrityError,
    NotFound,
    Unavailable,
    ValidationError,
)
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.journal import DeleteManyEntry, Journal
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository, to_item
from dms_desktop.core.service import DocumentService
from tests.support.aws import OTHER_USER_ID, USER_ID

from .conftest import make_document, put_documents

BUCKET = schema.BUCKET_NAME


def _store(dynamodb: Any, s3: Any, count: int) -> list[str]:
    """``count`` documents with bodies, written straight into the table and bucket (fast)."""
    documents = [make_document(filename=f"doc {n:04d}.txt", size=1) for n in range(count)]
    put_documents(dynamodb, documents)
    for document in documents:
        s3.put_object(Bucket=BUCKET, Key=document.s3_key, Body=b"x")
    return [document.document_id for document in documents]


def _bodies(s3: Any) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {entry["Key"] for page in pages for entry in page.get("Contents", [])}


def _listed(service: DocumentService) -> set[str]:
    return {document.document_id for document in service.iter_documents(ListQuery())}


def _count_requests(dynamodb: Any, s3: Any) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        counts[operation] = counts.get(operation, 0) + 1

    dynamodb.meta.events.register("before-send.dynamodb", count)
    s3.meta.events.register("before-send.s3", count)
    return counts


def test_a_large_delete_is_a_few_dozen_batched_requests_with_a_report_per_document(
    service: DocumentService, dynamodb: Any, s3: Any
) -> None:
    ids = _store(dynamodb, s3, 230)
    unknown = new_document_id()
    counts = _count_requests(dynamodb, s3)
    seen: list[tuple[int, int]] = []

    report = service.delete_many([*ids, unknown, ids[0]], progress=lambda *p: seen.append(p))

    assert report.deleted == ids  # in the order asked, each once
    assert [(o.document_id, o.status) for o in report.problems] == [
        (unknown, DeleteStatus.NOT_FOUND)
    ]
    assert isinstance(report.first_error, NotFound)
    assert report.results[0].filename == "doc 0000.txt"
    # The bodies' versions: one page of the user's folder, then one DeleteObjects.
    assert counts == {
        "BatchGetItem": 3,
        "BatchWriteItem": 10,
        "ListObjectVersions": 1,
        "DeleteObjects": 1,
    }
    assert seen[0] == (0, 231) and seen[-1] == (231, 231)
    assert _listed(service) == set() and _bodies(s3) == set()


def _stored_versions(s3: Any) -> dict[str, int]:
    """Key -> how many versions and delete markers of it the bucket keeps."""
    counts: dict[str, int] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            counts[entry["Key"]] = counts.get(entry["Key"], 0) + 1
    return counts


def test_deleting_1000_documents_for_good_removes_every_version_in_a_few_dozen_requests(
    service: DocumentService, dynamodb: Any, s3: Any
) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    ids = _store(dynamodb, s3, 1000)
    for document_id in ids:  # a second version of each
        s3.put_object(Bucket=BUCKET, Key=schema.object_key(USER_ID, document_id), Body=b"v2")
    other = make_document(OTHER_USER_ID, size=1)
    put_documents(dynamodb, [other])
    for body in (b"1", b"2"):
        s3.put_object(Bucket=BUCKET, Key=other.s3_key, Body=body)
    counts = _count_requests(dynamodb, s3)

    report = service.delete_many(ids)

    assert report.deleted == ids
    # 2,000 versions: two pages of the user's folder and two DeleteObjects, not 1,000 listings.
    assert counts == {
        "BatchGetItem": 10,
        "BatchWriteItem": 40,
        "ListObjectVersions": 2,
        "DeleteObjects": 2,
    }
    assert _stored_versions(s3) == {other.s3_key: 2}  # no version, no delete marker left


def test_every_id_is_checked_before_anything_is_deleted(
    service: DocumentService, dynamodb: Any, s3: Any
) -> None:
    ids = _store(dynamodb, s3, 2)

    with pytest.raises(ValidationError, match="not a document id"):
        service.delete_many([*ids, "../x"])

    assert _listed(service) == set(ids)


def test_bodies_go_only_after_their_metadata_and_a_failure_leaves_invisible_orphans(
    dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    ids = _store(dynamodb, s3, 3)
    order: list[str] = []

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def delete_objects(self, **_: Any) -> dict[str, Any]:
            order.append("bodies")
            assert _listed(service) == set()  # every document was gone from the list first
            raise Unavailable("Could not delete stored files: the backend cannot be reached.")

    journal = Journal(tmp_path / "journal")
    repository = DocumentRepository(dynamodb, schema.TABLE_NAME)
    service = DocumentService(repository, BlobStore(Unreachable(), BUCKET), USER_ID, journal)

    report = service.delete_many(ids)

    assert order == ["bodies"]
    assert report.deleted == ids  # gone for the user; the files are left for the next start
    assert len(_bodies(s3)) == 3
    with journal.unfinished() as entries:
        assert [type(tracked.entry) for tracked in entries] == [DeleteManyEntry]

    later = DocumentService(repository, BlobStore(s3, BUCKET), USER_ID, journal)
    messages = later.recover_interrupted()

    assert messages == [
        "Deleting 3 document(s) was interrupted; 3 of them are now deleted completely."
    ]
    assert _bodies(s3) == set()
    with journal.unfinished() as entries:
        assert entries == []


def test_the_next_start_deletes_every_version_of_bodies_a_failed_delete_left(
    dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    ids = _store(dynamodb, s3, 2)
    for document_id in ids:
        s3.put_object(Bucket=BUCKET, Key=schema.object_key(USER_ID, document_id), Body=b"v2")

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def delete_objects(self, **_: Any) -> dict[str, Any]:
            raise Unavailable("Could not delete stored files: the backend cannot be reached.")

    journal = Journal(tmp_path / "journal")
    repository = DocumentRepository(dynamodb, schema.TABLE_NAME)
    failing = DocumentService(repository, BlobStore(Unreachable(), BUCKET), USER_ID, journal)
    assert failing.delete_many(ids).deleted == ids
    assert sum(_stored_versions(s3).values()) == 4

    later = DocumentService(repository, BlobStore(s3, BUCKET), USER_ID, journal)
    later.recover_interrupted()

    assert _stored_versions(s3) == {}


def test_after_a_crash_between_batches_the_rest_is_kept_and_said_so(
    service: DocumentService,
    repository: DocumentRepository,
    blobs: BlobStore,
    dynamodb: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    ids = _store(dynamodb, s3, 40)
    journal = Journal(tmp_path / "journal")
    journal.track(DeleteManyEntry(user_id=USER_ID, document_ids=tuple(ids))).leave_for_next_start()
    repository.delete_items([(USER_ID, document_id) for document_id in ids[:25]])  # the first batch

    messages = DocumentService(repository, blobs, USER_ID, journal).recover_interrupted()

    assert messages == [
        "Deleting 40 document(s) was interrupted; 25 of them are now deleted completely; the "
        "other 15 were not deleted: delete them again if you still want to."
    ]
    assert _listed(service) == set(ids[25:])
    assert _bodies(s3) == {schema.object_key(USER_ID, document_id) for document_id in ids[25:]}


def test_cancel_stops_between_batches_and_what_was_not_reached_is_kept(
    service: DocumentService, dynamodb: Any, s3: Any
) -> None:
    ids = _store(dynamodb, s3, 60)
    cancel = CancelToken()

    def progress(done: int, _total: int) -> None:
        if done >= 25:
            cancel.cancel()

    report = service.delete_many(ids, cancel=cancel, progress=progress)

    assert report.deleted == ids[:25]
    assert report.ids(DeleteStatus.CANCELLED) == ids[25:]
    assert isinstance(report.first_error, Cancelled)
    assert _listed(service) == set(ids[25:])
    assert _bodies(s3) == {schema.object_key(USER_ID, document_id) for document_id in ids[25:]}


@pytest.mark.parametrize("count", [1, 3])
def test_a_delete_cancelled_before_it_starts_deletes_nothing_and_says_so(
    service: DocumentService, dynamodb: Any, s3: Any, count: int
) -> None:
    ids = _store(dynamodb, s3, count)
    cancel = CancelToken()
    cancel.cancel()

    report = service.delete_many(ids, cancel=cancel)

    assert report.ids(DeleteStatus.CANCELLED) == ids
    assert _listed(service) == set(ids) and len(_bodies(s3)) == count


def test_items_the_table_keeps_refusing_are_reported_and_keep_their_body(
    dynamodb: Any, s3: Any
) -> None:
    ids = _store(dynamodb, s3, 3)

    class Throttled:
        def __getattr__(self, name: str) -> Any:
            return getattr(dynamodb, name)

        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            return {"UnprocessedItems": RequestItems}

    repository = DocumentRepository(Throttled(), schema.TABLE_NAME, sleep=lambda _s: None)
    service = DocumentService(repository, BlobStore(s3, BUCKET), USER_ID)

    report = service.delete_many(ids)

    assert report.ids(DeleteStatus.FAILED) == ids
    assert "unprocessed" in report.results[0].message
    assert isinstance(report.first_error, Unavailable)
    assert len(_bodies(s3)) == 3


def test_the_owner_can_delete_a_damaged_document_one_or_many_at_a_time(
    service: DocumentService, dynamodb: Any, s3: Any
) -> None:
    damaged_ids = []
    for number in range(3):
        document = make_document(filename=f"fine-{number}.txt")
        item = to_item(document)
        item["filename"] = {"S": "../../etc/passwd"}
        dynamodb.put_item(TableName=schema.TABLE_NAME, Item=item)
        s3.put_object(Bucket=BUCKET, Key=document.s3_key, Body=b"body")
        damaged_ids.append(document.document_id)
    with pytest.raises(IntegrityError, match="its owner can delete it"):
        service.get(damaged_ids[0])

    one = service.delete_many(damaged_ids[:1])
    many = service.delete_many(damaged_ids[1:])

    assert one.deleted == damaged_ids[:1] and many.deleted == damaged_ids[1:]
    assert many.results[0].filename == "../../etc/passwd"
    assert dynamodb.scan(TableName=schema.TABLE_NAME)["Items"] == []
    assert _bodies(s3) == set()


def test_one_document_takes_the_single_conditional_delete(
    service: DocumentService, dynamodb: Any, s3: Any
) -> None:
    (document_id,) = _store(dynamodb, s3, 1)
    counts = _count_requests(dynamodb, s3)

    report = service.delete_many([document_id])
    again = service.delete_many([document_id])

    assert report.deleted == [document_id]
    # Each time one DeleteItem and one listing of the key's versions; the second finds none.
    assert counts == {"DeleteItem": 2, "ListObjectVersions": 2, "DeleteObjects": 1}
    assert again.results[0].status is DeleteStatus.NOT_FOUND
