"""The consistency check and its repair."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from dms_desktop.core import schema
from dms_desktop.core.admin import (
    AdminService,
    FindingKind,
)
from dms_desktop.core.errors import IntegrityError, ValidationError
from dms_desktop.core.repository import from_item, to_item
from tests.support.aws import OTHER_USER_ID
from tests.unit.core.admin.conftest import (
    body_keys,
    later_admin,
    store,
    stored_ids,
)
from tests.unit.core.conftest import make_document


def test_check_finds_each_kind_of_problem(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path, broken: dict[str, Any]
) -> None:
    admin = later_admin(session, dynamodb, s3, tmp_path)

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
    admin = later_admin(session, dynamodb, s3, tmp_path)
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
    admin = later_admin(session, dynamodb, s3, tmp_path)
    report = admin.check()
    # The body comes back (say, a restore) before the admin confirms the repair.
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=broken["missing"].s3_key, Body=b"y" * 20)

    result = admin.repair(report, [FindingKind.MISSING_BODY])

    assert result.metadata_deleted == []
    assert [skip.document_id for skip in result.skipped] == [broken["missing"].document_id]
    assert broken["missing"].document_id in stored_ids(dynamodb)


def test_check_finds_items_the_app_cannot_list_and_only_flags_them(
    admin: AdminService, dynamodb: Any, s3: Any
) -> None:
    """The list says such items are damaged and points at the check (issue 21, item 6)."""
    healthy = store(dynamodb, s3, make_document(filename="fine.txt", size=20))
    damaged = store(dynamodb, s3, make_document(OTHER_USER_ID, filename="ok.txt", size=20))
    item = to_item(damaged)
    item["filename"] = {"S": "../../etc/passwd"}
    dynamodb.put_item(TableName=schema.TABLE_NAME, Item=item)
    with pytest.raises(IntegrityError, match="consistency check"):
        from_item(item)

    report = admin.check()

    (finding,) = report.findings
    assert finding.kind is FindingKind.DAMAGED_METADATA
    assert (finding.user_id, finding.document_id) == (OTHER_USER_ID, damaged.document_id)
    assert finding.key == damaged.s3_key and "filename" in finding.detail
    assert healthy.document_id not in {f.document_id for f in report.findings}
    with pytest.raises(ValidationError, match="cannot be repaired automatically"):
        admin.repair(report, [FindingKind.DAMAGED_METADATA])
