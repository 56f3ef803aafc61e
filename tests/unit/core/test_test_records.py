"""Test records: documents uploaded with an expiry (DynamoDB TTL) that cleanup honours."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from dms_desktop.core import schema
from dms_desktop.core.admin import AdminService, CleanupCriteria
from dms_desktop.core.errors import ValidationError
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.models import utc_now
from dms_desktop.core.service import DocumentService

from .admin.conftest import admin_user
from .conftest import write_file


def new_file(folder: Path, name: str, size: int = 10) -> Path:
    write_file(folder / name, size)
    return folder / name


def stored_item(dynamodb: Any, service: DocumentService, document_id: str) -> dict[str, Any]:
    key = {"userId": {"S": service.user_id}, "documentId": {"S": document_id}}
    item: dict[str, Any] = dynamodb.get_item(TableName=schema.TABLE_NAME, Key=key)["Item"]
    return item


def test_a_test_record_carries_its_ttl_attribute(
    service: DocumentService, dynamodb: Any, tmp_path: Path
) -> None:
    expires = utc_now() + timedelta(days=7)
    document = service.upload(new_file(tmp_path, "fixture.txt", 10), expires=expires)

    item = stored_item(dynamodb, service, document.document_id)
    assert int(item[schema.EXPIRES_AT]["N"]) == document.expires_at
    assert document.expires is not None
    assert abs((document.expires - expires).total_seconds()) < 1
    assert service.get(document.document_id).expires == document.expires
    # A rename keeps the expiry: the record stays a test record.
    renamed = service.rename(document.document_id, "renamed.txt", expected_version=1)
    assert renamed.expires == document.expires


def test_a_normal_document_has_no_expiry(
    service: DocumentService, dynamodb: Any, tmp_path: Path
) -> None:
    document = service.upload(new_file(tmp_path, "keep.txt", 10))

    assert document.expires is None
    assert schema.EXPIRES_AT not in stored_item(dynamodb, service, document.document_id)
    assert document.to_json_dict()["expiresAt"] is None


def test_an_expiry_in_the_past_is_refused_and_nothing_is_stored(
    service: DocumentService, s3: Any, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="expiry must be in the future"):
        service.upload(new_file(tmp_path, "late.txt", 10), expires=utc_now() - timedelta(minutes=1))

    assert list(service.iter_documents(ListQuery())) == []
    assert s3.list_objects_v2(Bucket=schema.BUCKET_NAME).get("KeyCount", 0) == 0


def test_cleanup_of_expired_records_takes_only_the_expired_test_records(
    service: DocumentService,
    session: boto3.session.Session,
    dynamodb: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    soon = service.upload(
        new_file(tmp_path, "soon.txt", 10), expires=utc_now() + timedelta(hours=1)
    )
    service.upload(new_file(tmp_path, "later.txt", 11), expires=utc_now() + timedelta(days=3))
    service.upload(new_file(tmp_path, "real.txt", 12))
    two_hours_later = utc_now() + timedelta(hours=2)
    admin = AdminService(
        dynamodb,
        s3,
        schema.TABLE_NAME,
        schema.BUCKET_NAME,
        admin_user(session),
        audit_dir=tmp_path / "audit",
        clock=lambda: two_hours_later,
    )

    plan = admin.plan_cleanup(CleanupCriteria(expired=True))

    assert [item.document_id for item in plan.items] == [soon.document_id]
