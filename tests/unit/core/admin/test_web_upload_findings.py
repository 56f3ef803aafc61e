"""A file a web app uploaded that did not become a document (its handler failed or refused its
name) is the user's file: the check reports it apart, and neither the repair nor a cleanup of
orphans deletes it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3

from dms_desktop.core import schema
from dms_desktop.core.admin import CleanupCriteria, FindingKind
from tests.support.aws import USER_ID
from tests.unit.core.admin.conftest import body_keys, later_admin

WEB_KEY = f"private/{USER_ID}/holiday\x07photo.jpg"  # a name the data model refuses
ORPHAN_KEY = schema.object_key(USER_ID, "01900000-0000-7000-8000-0000000000aa")


def test_the_check_reports_a_stranded_web_upload_and_the_repair_keeps_it(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=WEB_KEY, Body=b"jpeg")
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=ORPHAN_KEY, Body=b"left behind")
    admin = later_admin(session, dynamodb, s3, tmp_path)

    report = admin.check(orphan_grace=timedelta(0))
    [stranded] = report.of_kind(FindingKind.WEB_UPLOAD)
    [orphan] = report.of_kind(FindingKind.ORPHAN_BODY)
    admin.repair(report, [FindingKind.ORPHAN_BODY])

    assert (stranded.key, stranded.user_id, stranded.filename) == (
        WEB_KEY,
        USER_ID,
        "holiday\x07photo.jpg",
    )
    assert "is kept" in stranded.detail
    assert orphan.key == ORPHAN_KEY
    assert body_keys(s3) == {WEB_KEY}


def test_a_cleanup_of_orphans_leaves_web_uploads(
    session: boto3.session.Session, dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=WEB_KEY, Body=b"jpeg")
    s3.put_object(Bucket=schema.BUCKET_NAME, Key=ORPHAN_KEY, Body=b"left behind")
    admin = later_admin(session, dynamodb, s3, tmp_path)

    plan = admin.plan_cleanup(CleanupCriteria(orphans=True), orphan_grace=timedelta(0))

    assert [entry.s3_key for entry in plan.items] == [ORPHAN_KEY]
