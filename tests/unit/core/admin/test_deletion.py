"""The admin's batch delete: metadata first in batches of 25, then bodies in batches of 1,000;
retries, cancel, partial failures and the audit log."""

from __future__ import annotations

import json
from typing import Any

import boto3

from dms_desktop.core import schema
from dms_desktop.core.admin import (
    AdminService,
    CleanupCriteria,
)
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.models import Document
from tests.unit.core.admin.conftest import (
    FlakyBatchWrites,
    admin_with,
    assert_consistent,
    body_keys,
    store,
    stored_ids,
)
from tests.unit.core.conftest import make_document


def test_cleanup_deletes_only_the_matched_documents_and_writes_the_audit_log(
    admin: AdminService, population: dict[str, list[Document]], dynamodb: Any, s3: Any
) -> None:
    plan = admin.plan_cleanup(CleanupCriteria(tag="test"))
    seen: list[tuple[int, int]] = []

    report = admin.delete(plan, progress=lambda done, total: seen.append((done, total)))

    test_ids = {doc.document_id for doc in population["test"]}
    assert set(report.deleted) == test_ids
    assert report.ok and not report.cancelled and not report.failed
    assert report.bytes_freed == plan.total_bytes
    assert stored_ids(dynamodb) == {doc.document_id for doc in population["real"]}
    assert body_keys(s3) == {doc.s3_key for doc in population["real"]}
    # A few documents of each user: each body's versions listed by its own key.
    assert report.requests == {"BatchWriteItem": 1, "ListObjectVersions": 9, "DeleteObjects": 1}
    assert seen[0] == (0, 9) and seen[-1] == (9, 9)

    assert report.audit_log is not None and report.audit_log.parent == admin._audit_dir
    audit = json.loads(report.audit_log.read_text())
    assert audit["who"]["username"] == "admin"
    assert audit["criteria"]["tag"] == "test"
    assert set(audit["outcome"]["deleted"]) == test_ids
    assert audit["outcome"]["bytesFreed"] == plan.total_bytes
    assert audit["outcome"]["cancelled"] is False
    assert audit["when"]


def test_cleanup_deletes_every_stored_version_of_the_bodies_and_no_one_elses(
    admin: AdminService, population: dict[str, list[Document]], s3: Any
) -> None:
    s3.put_bucket_versioning(
        Bucket=schema.BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"}
    )
    for document in [*population["test"], *population["real"]]:
        for body in (b"v2", b"v3"):  # the first, stored before versioning, is version "null"
            s3.put_object(Bucket=schema.BUCKET_NAME, Key=document.s3_key, Body=body)

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="test")))

    assert report.ok
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=schema.BUCKET_NAME)
    left: dict[str, int] = {}
    for page in pages:
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            left[entry["Key"]] = left.get(entry["Key"], 0) + 1
    assert left == {document.s3_key: 3 for document in population["real"]}


def test_batches_are_25_metadata_deletes_and_1000_bodies_per_request(
    admin: AdminService, dynamodb: Any, s3: Any
) -> None:
    for index in range(60):
        store(dynamodb, s3, make_document(filename=f"bulk {index}.txt", size=1, tags=["bulk"]))

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="bulk")))

    assert len(report.deleted) == 60
    # Many documents of one user: the versions of their bodies from one listing of the folder.
    assert report.requests == {"BatchWriteItem": 3, "ListObjectVersions": 1, "DeleteObjects": 1}
    assert stored_ids(dynamodb) == set() and body_keys(s3) == set()


def test_cancel_mid_run_stops_between_batches_and_leaves_a_consistent_state(
    admin: AdminService, dynamodb: Any, s3: Any
) -> None:
    documents = [
        store(dynamodb, s3, make_document(filename=f"c {index}.txt", size=3, tags=["test"]))
        for index in range(70)
    ]
    plan = admin.plan_cleanup(CleanupCriteria(tag="test"))
    cancel = CancelToken()

    def progress(done: int, _total: int) -> None:
        if done >= 25:
            cancel.cancel()

    report = admin.delete(plan, progress=progress, cancel=cancel)

    assert report.cancelled and not report.ok
    assert len(report.deleted) == 25  # the first batch, bodies included
    assert report.not_attempted == 45
    remaining = stored_ids(dynamodb)
    assert remaining == {doc.document_id for doc in documents} - set(report.deleted)
    assert body_keys(s3) == {doc.s3_key for doc in documents if doc.document_id in remaining}
    assert_consistent(dynamodb, s3)
    audit = json.loads(report.audit_log.read_text())  # type: ignore[union-attr]
    assert audit["outcome"]["cancelled"] is True
    assert set(audit["outcome"]["deleted"]) == set(report.deleted)


def test_unprocessed_items_are_retried_with_backoff(
    session: boto3.session.Session, dynamodb: Any, s3: Any
) -> None:
    documents = [
        store(dynamodb, s3, make_document(filename=f"u {index}.txt", size=2, tags=["test"]))
        for index in range(10)
    ]
    flaky = FlakyBatchWrites(dynamodb, unprocessed_calls=2)
    sleeps: list[float] = []
    admin = admin_with(session, flaky, s3, sleeps)

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="test")))

    assert set(report.deleted) == {doc.document_id for doc in documents}
    assert report.requests["BatchWriteItem"] == 3
    assert len(sleeps) == 2 and all(0 <= pause <= 2.0 for pause in sleeps)
    assert stored_ids(dynamodb) == set() and body_keys(s3) == set()


def test_items_unprocessed_after_every_retry_fail_and_keep_their_body(
    session: boto3.session.Session, dynamodb: Any, s3: Any
) -> None:
    for index in range(40):
        store(dynamodb, s3, make_document(filename=f"s {index}.txt", size=2, tags=["test"]))
    flaky = FlakyBatchWrites(dynamodb, unprocessed_calls=1000)  # one item per request gets in
    sleeps: list[float] = []
    admin = admin_with(session, flaky, s3, sleeps)

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="test")))

    # Two batches (25 + 15), 8 attempts each, one item processed per attempt.
    assert len(report.deleted) == 16
    assert len(report.failed) == 24
    assert all(f.what == "metadata" and "unprocessed" in f.reason for f in report.failed)
    assert report.requests["BatchWriteItem"] == 16
    assert len(stored_ids(dynamodb)) == 24 and len(body_keys(s3)) == 24
    assert_consistent(dynamodb, s3)


def test_nothing_processed_at_all_is_reported_per_document(
    session: boto3.session.Session, dynamodb: Any, s3: Any
) -> None:
    for index in range(3):
        store(dynamodb, s3, make_document(filename=f"n {index}.txt", size=2, tags=["test"]))

    class Throttled(FlakyBatchWrites):
        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            self.calls += 1
            return {"UnprocessedItems": RequestItems}

    sleeps: list[float] = []
    admin = admin_with(session, Throttled(dynamodb, 0), s3, sleeps)

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="test")))

    assert report.deleted == [] and len(report.failed) == 3
    assert report.requests["BatchWriteItem"] == 8 and len(sleeps) == 7
    assert len(stored_ids(dynamodb)) == 3 and len(body_keys(s3)) == 3  # bodies kept


def test_partial_delete_objects_failures_are_reported(
    session: boto3.session.Session, dynamodb: Any, s3: Any
) -> None:
    documents = [
        store(dynamodb, s3, make_document(filename=f"p {index}.txt", size=4, tags=["test"]))
        for index in range(5)
    ]
    refused = documents[2].s3_key

    class PartlyRefusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            kept = [entry for entry in Delete["Objects"] if entry["Key"] != refused]
            s3.delete_objects(Bucket=Bucket, Delete={"Objects": kept, "Quiet": True})
            return {
                "Errors": [{"Key": refused, "Code": "AccessDenied", "Message": "Access Denied"}]
            }

    admin = admin_with(session, dynamodb, PartlyRefusing(), [])

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="test")))

    assert set(report.deleted) == {doc.document_id for doc in documents} - {
        documents[2].document_id
    }
    (failure,) = report.failed
    assert failure.document_id == documents[2].document_id and failure.what == "body"
    assert "AccessDenied" in failure.reason and "consistency check" in failure.reason
    assert report.bytes_freed == 16
    assert body_keys(s3) == {refused}  # an orphan body, never metadata without a body
    assert_consistent(dynamodb, s3)
