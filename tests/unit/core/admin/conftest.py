"""What the admin tools' tests share: an admin, documents stored behind the app's back, three users'
test and real documents, one problem of each kind, and clients that misbehave as AWS can."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from dms_desktop.core import schema
from dms_desktop.core.admin import AdminService
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
        key = schema.object_key(item["userId"]["S"], item["documentId"]["S"])
        assert key in keys, f"metadata without body: {item['documentId']['S']}"


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


def admin_with(
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


def later_admin(
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
