"""Admin cleanup and consistency check under moto in-process (several users, test and real data)."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from dms_desktop.core import schema
from dms_desktop.core.admin import (
    AdminService,
    CleanupCriteria,
    FindingKind,
    PlanReason,
    needs_typed_confirmation,
)
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import AuthError, ValidationError
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.models import Document, utc_now
from dms_desktop.core.repository import to_item
from tests.support.aws import OTHER_USER_ID, USER_ID
from tests.unit.core.conftest import BASE_TIME, make_document

THIRD_USER_ID = "us-east-1:33333333-3333-3333-3333-333333333333"


def admin_user(session: boto3.session.Session, *, is_admin: bool = True) -> SignedIn:
    return SignedIn(
        username="admin" if is_admin else "demo",
        user_id="us-east-1:aaaaaaaa-0000-0000-0000-000000000000",
        is_admin=is_admin,
        session=session,
    )


def store(dynamodb: Any, s3: Any, document: Document, *, body: bytes | None = None) -> Document:
    """Put a document's metadata and (unless ``body`` is b"" -> no body) a matching body."""
    data = os.urandom(document.size) if body is None else body
    stored = document.model_copy(
        update={"size": len(data), "checksum": hashlib.sha256(data).hexdigest()}
    )
    dynamodb.put_item(TableName=schema.TABLE_NAME, Item=to_item(stored))
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=stored.s3_key, Body=data)
    return stored


def stored_ids(dynamodb: Any) -> set[str]:
    items = dynamodb.scan(TableName=schema.TABLE_NAME)["Items"]
    return {item["documentId"]["S"] for item in items}


def body_keys(s3: Any) -> set[str]:
    response = s3.list_objects_v2(Bucket=schema.BUCKET_NAME, Prefix="private/")
    return {entry["Key"] for entry in response.get("Contents", [])}


def assert_consistent(dynamodb: Any, s3: Any) -> None:
    """No metadata points at a missing body."""
    keys = body_keys(s3)
    for item in dynamodb.scan(TableName=schema.TABLE_NAME)["Items"]:
        assert item["s3Key"]["S"] in keys, f"metadata without body: {item['documentId']['S']}"


@pytest.fixture
def admin(session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path) -> AdminService:
    return AdminService(
        dynamodb,
        s3,
        schema.TABLE_NAME,
        schema.BUCKET_NAME,
        admin_user(session),
        audit_dir=tmp_path / "audit",
        sleep=lambda _seconds: None,
    )


@pytest.fixture
def population(dynamodb: Any, s3: Any) -> dict[str, list[Document]]:
    """Three users, each with test documents (tag 'test' in various cases) and real ones."""
    test: list[Document] = []
    real: list[Document] = []
    for number, user in enumerate((USER_ID, OTHER_USER_ID, THIRD_USER_ID)):
        for index in range(3):
            tag = ["test", "TEST", "Test"][index]
            test.append(
                store(
                    dynamodb,
                    s3,
                    make_document(
                        user,
                        filename=f"seed-{number}-{index}.txt",
                        size=100 + index,
                        tags=[tag, "seed"],
                        created_at=BASE_TIME + timedelta(days=index),
                    ),
                )
            )
        real.append(
            store(
                dynamodb,
                s3,
                make_document(user, filename=f"Invoice {number}.pdf", size=500, tags=["tax"]),
            )
        )
        real.append(
            store(
                dynamodb,
                s3,
                make_document(user, filename="testing notes.md", size=50, tags=["testing"]),
            )
        )
    return {"test": test, "real": real}


# --- who -----------------------------------------------------------------------------------


def test_a_non_admin_is_refused_before_anything_runs(session: boto3.session.Session) -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} was called for a non-admin")

    with pytest.raises(AuthError, match="needs admin rights"):
        AdminService(
            Untouchable(),
            Untouchable(),
            schema.TABLE_NAME,
            schema.BUCKET_NAME,
            admin_user(session, is_admin=False),
        )


# --- criteria ------------------------------------------------------------------------------


def test_criteria_must_select_something_and_be_coherent() -> None:
    with pytest.raises(ValidationError, match="at least one criterion"):
        CleanupCriteria()
    with pytest.raises(ValidationError, match="prefix or a glob"):
        CleanupCriteria(name_prefix="a", name_glob="a*")
    with pytest.raises(ValidationError, match="minimum size"):
        CleanupCriteria(min_size=10, max_size=5)
    with pytest.raises(ValidationError, match="time zone"):
        CleanupCriteria(created_before=BASE_TIME.replace(tzinfo=None))
    assert not needs_typed_confirmation(100)
    assert needs_typed_confirmation(101)


def test_dry_run_lists_only_the_matching_documents_and_deletes_nothing(
    admin: AdminService, population: dict[str, list[Document]], dynamodb: Any, s3: Any
) -> None:
    before_ids, before_keys = stored_ids(dynamodb), body_keys(s3)

    plan = admin.plan_cleanup(CleanupCriteria(tag="tEsT"))

    assert {item.document_id for item in plan.items} == {
        doc.document_id for doc in population["test"]
    }
    assert plan.count == 9
    assert plan.total_bytes == 3 * (100 + 101 + 102)
    assert set(plan.per_user) == {USER_ID, OTHER_USER_ID, THIRD_USER_ID}
    assert plan.per_user[USER_ID].count == 3 and plan.per_user[USER_ID].bytes == 303
    assert all(item.reason is PlanReason.MATCHED for item in plan.items)
    assert stored_ids(dynamodb) == before_ids and body_keys(s3) == before_keys
    assert not (admin._audit_dir and admin._audit_dir.exists())  # no audit log for a dry run
    json.dumps(plan.to_json_dict())  # serialisable


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (CleanupCriteria(name_prefix="SEED-1-"), {"seed-1-0.txt", "seed-1-1.txt", "seed-1-2.txt"}),
        (CleanupCriteria(name_glob="SEED-*-2.TXT"), {f"seed-{n}-2.txt" for n in range(3)}),
        (
            CleanupCriteria(tag="test", owners=(OTHER_USER_ID,), min_size=101),
            {"seed-1-1.txt", "seed-1-2.txt"},
        ),
        (
            CleanupCriteria(
                tag="seed",
                created_after=BASE_TIME,
                created_before=BASE_TIME + timedelta(days=2),
            ),
            {f"seed-{n}-1.txt" for n in range(3)},
        ),
        (CleanupCriteria(max_size=50), {"testing notes.md"}),
        (CleanupCriteria(tag="testing", owners=(USER_ID, THIRD_USER_ID)), {"testing notes.md"}),
    ],
)
def test_criteria_combine_with_and(
    admin: AdminService,
    population: dict[str, list[Document]],
    criteria: CleanupCriteria,
    expected: set[str],
) -> None:
    plan = admin.plan_cleanup(criteria)

    assert {item.filename for item in plan.items} == expected
    for item in plan.items:
        if criteria.owners:
            assert item.user_id in criteria.owners


# --- deleting ------------------------------------------------------------------------------


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
    assert report.requests == {"BatchWriteItem": 1, "DeleteObjects": 1}
    assert seen[0] == (0, 9) and seen[-1] == (9, 9)

    assert report.audit_log is not None and report.audit_log.parent == admin._audit_dir
    audit = json.loads(report.audit_log.read_text())
    assert audit["who"]["username"] == "admin"
    assert audit["criteria"]["tag"] == "test"
    assert set(audit["outcome"]["deleted"]) == test_ids
    assert audit["outcome"]["bytesFreed"] == plan.total_bytes
    assert audit["outcome"]["cancelled"] is False
    assert audit["when"]


def test_batches_are_25_metadata_deletes_and_1000_bodies_per_request(
    admin: AdminService, dynamodb: Any, s3: Any
) -> None:
    for index in range(60):
        store(dynamodb, s3, make_document(filename=f"bulk {index}.txt", size=1, tags=["bulk"]))

    report = admin.delete(admin.plan_cleanup(CleanupCriteria(tag="bulk")))

    assert len(report.deleted) == 60
    assert report.requests == {"BatchWriteItem": 3, "DeleteObjects": 1}
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


class FlakyBatchWrites:
    """A DynamoDB client whose BatchWriteItem leaves items unprocessed (throttling)."""

    def __init__(self, client: Any, unprocessed_calls: int) -> None:
        self._client = client
        self.unprocessed_calls = unprocessed_calls
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls <= self.unprocessed_calls:
            ((table, requests),) = RequestItems.items()
            # Process the first one, hand back the rest as DynamoDB does when throttled.
            self._client.batch_write_item(RequestItems={table: requests[:1]})
            return {"UnprocessedItems": {table: requests[1:]} if requests[1:] else {}}
        return dict(self._client.batch_write_item(RequestItems=RequestItems))


def _service(
    session: boto3.session.Session, dynamodb: Any, s3: Any, sleeps: list[float]
) -> AdminService:
    return AdminService(
        dynamodb,
        s3,
        schema.TABLE_NAME,
        schema.BUCKET_NAME,
        admin_user(session),
        sleep=sleeps.append,
    )


def test_unprocessed_items_are_retried_with_backoff(
    session: boto3.session.Session, dynamodb: Any, s3: Any
) -> None:
    documents = [
        store(dynamodb, s3, make_document(filename=f"u {index}.txt", size=2, tags=["test"]))
        for index in range(10)
    ]
    flaky = FlakyBatchWrites(dynamodb, unprocessed_calls=2)
    sleeps: list[float] = []
    admin = _service(session, flaky, s3, sleeps)

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
    admin = _service(session, flaky, s3, sleeps)

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
    admin = _service(session, Throttled(dynamodb, 0), s3, sleeps)

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

    admin = _service(session, dynamodb, PartlyRefusing(), [])

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


def test_expired_test_records_are_matched(admin: AdminService, dynamodb: Any, s3: Any) -> None:
    past = store(dynamodb, s3, make_document(filename="old.txt", size=1))
    future = store(dynamodb, s3, make_document(filename="new.txt", size=1))
    store(dynamodb, s3, make_document(filename="forever.txt", size=1))
    now = int(utc_now().timestamp())
    for document, expires in ((past, now - 60), (future, now + 3600)):
        dynamodb.update_item(
            TableName=schema.TABLE_NAME,
            Key={"userId": {"S": document.user_id}, "documentId": {"S": document.document_id}},
            UpdateExpression=f"SET {schema.EXPIRES_AT} = :e",
            ExpressionAttributeValues={":e": {"N": str(expires)}},
        )

    plan = admin.plan_cleanup(CleanupCriteria(expired=True))

    assert [item.filename for item in plan.items] == ["old.txt"]


# --- consistency check ---------------------------------------------------------------------


@pytest.fixture
def broken(dynamodb: Any, s3: Any) -> dict[str, Any]:
    """One problem of each kind, next to healthy documents."""
    healthy = store(dynamodb, s3, make_document(filename="fine.txt", size=20))
    missing = store(dynamodb, s3, make_document(OTHER_USER_ID, filename="lost.txt", size=20))
    s3.delete_object(Bucket=schema.BUCKET_NAME, Key=missing.s3_key)
    orphan_key = schema.object_key(THIRD_USER_ID, "01900000-0000-7000-8000-000000000001")
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=orphan_key, Body=b"left behind")
    resized = store(dynamodb, s3, make_document(filename="resized.txt", size=20))
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=resized.s3_key, Body=b"shorter")
    altered = store(dynamodb, s3, make_document(filename="altered.txt", size=20))
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=altered.s3_key, Body=b"x" * 20)
    upload_key = schema.object_key(USER_ID, "01900000-0000-7000-8000-000000000002")
    upload_id = s3.create_multipart_upload(Bucket=schema.BUCKET_NAME, Key=upload_key)["UploadId"]
    s3.upload_part(  # its last activity is now (moto's Initiated is a fixed date in 2010)
        Bucket=schema.BUCKET_NAME, Key=upload_key, UploadId=upload_id, PartNumber=1, Body=b"part"
    )
    return {
        "healthy": healthy,
        "missing": missing,
        "orphan_key": orphan_key,
        "resized": resized,
        "altered": altered,
        "upload": (upload_key, upload_id),
    }


def _later_admin(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path
) -> AdminService:
    """An admin whose clock is 25 hours ahead: the upload is stale, the orphan old enough."""
    return AdminService(
        dynamodb,
        s3,
        schema.TABLE_NAME,
        schema.BUCKET_NAME,
        admin_user(session),
        audit_dir=tmp_path / "audit",
        clock=lambda: utc_now() + timedelta(hours=25),
    )


def test_check_finds_each_kind_of_problem(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path, broken: dict[str, Any]
) -> None:
    admin = _later_admin(session, dynamodb, s3, tmp_path)

    report = admin.check(stale_hours=24, verify_checksums=True)

    by_kind = {kind: [f.key for f in report.of_kind(kind)] for kind in FindingKind}
    assert by_kind[FindingKind.MISSING_BODY] == [broken["missing"].s3_key]
    assert by_kind[FindingKind.ORPHAN_BODY] == [broken["orphan_key"]]
    assert by_kind[FindingKind.SIZE_MISMATCH] == [broken["resized"].s3_key]
    assert by_kind[FindingKind.CHECKSUM_MISMATCH] == [broken["altered"].s3_key]
    assert by_kind[FindingKind.STALE_UPLOAD] == [broken["upload"][0]]
    assert report.uploads == 1
    assert report.checksums_verified == 2  # healthy and altered (resized fails on size first)
    assert report.documents == 4
    json.dumps(report.to_json_dict())
    assert not (tmp_path / "audit").exists()  # checking is a dry run


def test_checksums_are_verified_only_when_asked_and_young_uploads_are_not_stale(
    admin: AdminService, broken: dict[str, Any]
) -> None:
    report = admin.check(stale_hours=24)

    assert report.checksums_verified == 0
    assert not report.of_kind(FindingKind.CHECKSUM_MISMATCH)
    assert not report.of_kind(FindingKind.STALE_UPLOAD)
    assert not report.of_kind(FindingKind.ORPHAN_BODY)  # younger than the grace period
    assert admin.check(orphan_grace=timedelta(0)).of_kind(FindingKind.ORPHAN_BODY)


def test_repair_fixes_the_repairable_kinds_and_flags_the_rest(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path, broken: dict[str, Any]
) -> None:
    admin = _later_admin(session, dynamodb, s3, tmp_path)
    report = admin.check(verify_checksums=True)
    with pytest.raises(ValidationError, match="cannot be repaired automatically"):
        admin.repair(report, [FindingKind.SIZE_MISMATCH])

    result = admin.repair(
        report, [FindingKind.MISSING_BODY, FindingKind.ORPHAN_BODY, FindingKind.STALE_UPLOAD]
    )

    assert result.ok, result.failed
    assert result.metadata_deleted == [broken["missing"].document_id]
    assert result.bodies_deleted == [broken["orphan_key"]]
    assert result.uploads_aborted == [" ".join(broken["upload"])]
    assert broken["missing"].document_id not in stored_ids(dynamodb)
    assert broken["orphan_key"] not in body_keys(s3)
    assert s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", []) == []
    again = admin.check(verify_checksums=True)
    assert {finding.kind for finding in again.findings} == {
        FindingKind.SIZE_MISMATCH,
        FindingKind.CHECKSUM_MISMATCH,
    }
    audit = json.loads(result.audit_log.read_text())  # type: ignore[union-attr]
    assert audit["criteria"] == {"repair": ["missing-body", "orphan-body", "stale-upload"]}
    assert {finding["kind"] for finding in audit["findings"]} == {
        "missing-body",
        "orphan-body",
        "stale-upload",
    }


def test_repair_skips_what_was_fixed_meanwhile(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path, broken: dict[str, Any]
) -> None:
    admin = _later_admin(session, dynamodb, s3, tmp_path)
    report = admin.check()
    # The body comes back (say, a restore) before the admin confirms the repair.
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=broken["missing"].s3_key, Body=b"y" * 20)

    result = admin.repair(report, [FindingKind.MISSING_BODY])

    assert result.metadata_deleted == []
    assert [skip.document_id for skip in result.skipped] == [broken["missing"].document_id]
    assert broken["missing"].document_id in stored_ids(dynamodb)


def test_cleanup_with_orphans_plans_broken_metadata_and_bare_bodies(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path, broken: dict[str, Any]
) -> None:
    admin = _later_admin(session, dynamodb, s3, tmp_path)

    plan = admin.plan_cleanup(CleanupCriteria(orphans=True))
    reasons = {item.s3_key: item.reason for item in plan.items}
    assert reasons == {
        broken["missing"].s3_key: PlanReason.BODY_MISSING,
        broken["orphan_key"]: PlanReason.NO_METADATA,
    }
    only_third = admin.plan_cleanup(CleanupCriteria(orphans=True, owners=(THIRD_USER_ID,)))
    assert [item.s3_key for item in only_third.items] == [broken["orphan_key"]]

    report = admin.delete(plan)

    assert set(report.deleted) == {item.document_id for item in plan.items}
    assert report.bodies_deleted == [broken["orphan_key"]]
    assert report.metadata_deleted == [broken["missing"].document_id]
    assert_consistent(dynamodb, s3)
    assert broken["healthy"].document_id in stored_ids(dynamodb)
