"""Deleting many bodies: DeleteObjects of up to 1,000 keys, with S3's answer for each key."""

from __future__ import annotations

from typing import Any

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.errors import Unavailable
from tests.support.aws import USER_ID

from .conftest import make_document

BUCKET = schema.BUCKET_NAME


def _keys(count: int) -> list[str]:
    return [schema.object_key(USER_ID, make_document().document_id) for _ in range(count)]


def _stored(s3: Any) -> set[str]:
    paginator = s3.get_paginator("list_objects_v2")
    return {
        entry["Key"]
        for page in paginator.paginate(Bucket=BUCKET)
        for entry in page.get("Contents", [])
    }


def test_bodies_are_deleted_1000_per_request_and_missing_ones_count_as_deleted(
    s3: Any, blobs: BlobStore
) -> None:
    keys = _keys(1001)
    for key in keys[:-1]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    outcome = blobs.delete_many(keys)

    assert outcome.ok and outcome.done == keys
    assert outcome.requests == 2
    assert _stored(s3) == set()


def test_each_key_s3_refuses_fails_with_its_reason(s3: Any) -> None:
    keys = _keys(3)
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            kept = [entry for entry in Delete["Objects"] if entry["Key"] != keys[1]]
            s3.delete_objects(Bucket=Bucket, Delete={"Objects": kept, "Quiet": True})
            return {"Errors": [{"Key": keys[1], "Code": "AccessDenied", "Message": "Denied"}]}

    outcome = BlobStore(Refusing(), BUCKET).delete_many(keys)

    assert outcome.done == [keys[0], keys[2]]
    assert outcome.failed == {keys[1]: "AccessDenied: Denied"}
    assert _stored(s3) == {keys[1]}


def test_a_request_that_fails_fails_its_keys(s3: Any) -> None:
    keys = _keys(2)

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def delete_objects(self, **_: Any) -> dict[str, Any]:
            raise Unavailable("Could not delete stored files: the backend cannot be reached.")

    outcome = BlobStore(Unreachable(), BUCKET).delete_many(keys)

    assert outcome.done == [] and set(outcome.failed) == set(keys)
    assert all("cannot be reached" in reason for reason in outcome.failed.values())
