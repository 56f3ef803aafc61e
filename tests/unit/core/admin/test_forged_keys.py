"""An ordinary user writes another user's S3 key into their own item (issue 21, item 1): the
admin's cleanup, check, repair and crash recovery act on the key owner and id give, so the
victim's file and metadata survive, and the check reports the forged item as damaged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from dms_desktop.core import schema
from dms_desktop.core.admin import AdminService, CleanupCriteria, FindingKind
from dms_desktop.core.journal import CleanupEntry, CleanupItem, Journal
from dms_desktop.core.models import Document
from tests.support.aws import OTHER_USER_ID, USER_ID
from tests.unit.core.admin.conftest import admin_user, body_keys, store, stored_ids
from tests.unit.core.conftest import make_document


def _forge(dynamodb: Any, forger: Document, victim: Document) -> None:
    """What the forger may write: their own item, naming the victim's file."""
    dynamodb.update_item(
        TableName=schema.TABLE_NAME,
        Key={"userId": {"S": forger.user_id}, "documentId": {"S": forger.document_id}},
        UpdateExpression="SET s3Key = :victim",
        ExpressionAttributeValues={":victim": {"S": victim.s3_key}},
    )


def _assert_victim_intact(dynamodb: Any, s3: Any, victim: Document) -> None:
    assert victim.document_id in stored_ids(dynamodb)
    assert victim.s3_key in body_keys(s3)


def test_cleanup_deletes_the_forgers_own_file_not_the_one_the_item_names(
    admin: AdminService, dynamodb: Any, s3: Any
) -> None:
    victim = store(dynamodb, s3, make_document(OTHER_USER_ID, filename="salary.pdf", size=30))
    forger = store(dynamodb, s3, make_document(USER_ID, filename="bait.txt", size=5, tags=["test"]))
    _forge(dynamodb, forger, victim)

    plan = admin.plan_cleanup(CleanupCriteria(tag="test"))
    report = admin.delete(plan)

    assert [item.s3_key for item in plan.items] == [forger.s3_key]
    assert report.deleted == [forger.document_id]
    assert report.bodies_deleted == [forger.s3_key]
    _assert_victim_intact(dynamodb, s3, victim)


def test_check_reports_the_forged_item_and_repair_leaves_the_victim_alone(
    admin: AdminService, dynamodb: Any, s3: Any
) -> None:
    victim = store(dynamodb, s3, make_document(OTHER_USER_ID, filename="salary.pdf", size=30))
    forger = store(dynamodb, s3, make_document(USER_ID, filename="bait.txt", size=5))
    s3.delete_object(Bucket=schema.BUCKET_NAME, Key=forger.s3_key)  # no file of its own
    _forge(dynamodb, forger, victim)

    report = admin.check()

    (damaged,) = report.of_kind(FindingKind.DAMAGED_METADATA)
    assert damaged.document_id == forger.document_id and victim.s3_key in damaged.detail
    assert [f.document_id for f in report.of_kind(FindingKind.MISSING_BODY)] == [forger.document_id]
    assert all(finding.document_id != victim.document_id for finding in report.findings)

    result = admin.repair(report, [FindingKind.MISSING_BODY])

    assert result.metadata_deleted == [forger.document_id] and result.bodies_deleted == []
    _assert_victim_intact(dynamodb, s3, victim)


def test_recovery_after_a_crash_deletes_derived_keys_not_journaled_ones(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    victim = store(dynamodb, s3, make_document(OTHER_USER_ID, filename="salary.pdf", size=30))
    forger = make_document(USER_ID, filename="bait.txt", size=5)
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=forger.s3_key, Body=b"bait!")
    journal = Journal(tmp_path / "journal")
    # A cleanup journaled by an earlier version, which took the key from the forged item, and
    # that died after deleting the forger's metadata.
    item = CleanupItem(
        user_id=USER_ID,
        document_id=forger.document_id,
        s3_key=victim.s3_key,
        has_metadata=True,
        has_body=True,
    )
    journal.track(CleanupEntry(admin="admin", items=(item,))).leave_for_next_start()
    admin = AdminService(
        dynamodb,
        s3,
        schema.TABLE_NAME,
        schema.BUCKET_NAME,
        admin_user(session),
        journal=journal,
    )

    (message,) = admin.recover_interrupted()

    assert "the file of 1 document whose metadata it had deleted is now removed" in message
    assert forger.s3_key not in body_keys(s3)
    _assert_victim_intact(dynamodb, s3, victim)
