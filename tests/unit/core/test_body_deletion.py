"""Deleting bodies for good: every version and delete marker of each key goes, on a bucket that
keeps versions and on one that does not, batched, and nothing of anyone else's."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.body_deletion import FOLDER_LISTING_ABOVE
from dms_desktop.core.ids import new_document_id
from tests.support.aws import USER_ID

BUCKET = schema.BUCKET_NAME
OTHER_USER = "eu-west-1:22222222-2222-4222-8222-222222222222"


def _keep_versions(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})


def _store(s3: Any, user_id: str, versions: int) -> str:
    key = schema.object_key(user_id, new_document_id())
    for number in range(versions):
        s3.put_object(Bucket=BUCKET, Key=key, Body=f"version {number}".encode())
    return key


def _versions(s3: Any, prefix: str = "private/") -> dict[str, int]:
    """Key -> how many versions and delete markers the bucket keeps of it."""
    counts: dict[str, int] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=prefix):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            counts[entry["Key"]] = counts.get(entry["Key"], 0) + 1
    return counts


def _count_requests(s3: Any) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        counts[operation] = counts.get(operation, 0) + 1

    s3.meta.events.register("before-send.s3", count)
    return counts


def test_every_version_and_delete_marker_goes_and_nothing_of_another_key(
    s3: Any, blobs: BlobStore
) -> None:
    _keep_versions(s3)
    key = _store(s3, USER_ID, 3)
    s3.delete_object(Bucket=BUCKET, Key=key)  # a delete marker on top (a plain delete did that)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"after the marker")
    longer = key + "0"  # the key as a prefix of another: kept
    s3.put_object(Bucket=BUCKET, Key=longer, Body=b"another")
    neighbour = _store(s3, USER_ID, 2)
    others = _store(s3, OTHER_USER, 3)

    outcome = blobs.delete_for_good([key])

    assert outcome.ok and outcome.done == [key]
    assert outcome.versions == 5
    assert key not in _versions(s3)
    assert _versions(s3) == {longer: 1, neighbour: 2, others: 3}


def test_on_a_bucket_without_versions_the_one_object_goes(s3: Any, blobs: BlobStore) -> None:
    key = _store(s3, USER_ID, 2)  # the second overwrote the first: one object
    kept = _store(s3, USER_ID, 1)

    outcome = blobs.delete_for_good([key, key])

    assert outcome.done == [key] and outcome.versions == 1
    assert _versions(s3) == {kept: 1}


def test_a_key_already_gone_is_deleted_without_a_delete_request(s3: Any, blobs: BlobStore) -> None:
    _keep_versions(s3)
    key = schema.object_key(USER_ID, new_document_id())
    counts = _count_requests(s3)

    outcome = blobs.delete_for_good([key])

    assert outcome.done == [key]
    assert counts == {"ListObjectVersions": 1}
    assert _versions(s3) == {}  # no delete marker made


def test_a_thousand_bodies_with_versions_take_a_few_requests_and_spare_the_others(
    s3: Any, blobs: BlobStore
) -> None:
    _keep_versions(s3)
    keys = [_store(s3, USER_ID, 3) for _ in range(1000)]
    kept = [_store(s3, USER_ID, 2) for _ in range(3)]
    others = [_store(s3, OTHER_USER, 2) for _ in range(3)]
    counts = _count_requests(s3)

    outcome = blobs.delete_for_good(keys)

    assert outcome.ok and outcome.done == keys and outcome.versions == 3000
    # 3,006 versions in the folder: 4 pages of 1,000; 3,000 versions: 3 DeleteObjects.
    assert counts == {"ListObjectVersions": 4, "DeleteObjects": 3}
    assert _versions(s3) == {key: 2 for key in [*kept, *others]}


def test_a_few_bodies_are_listed_key_by_key(s3: Any, blobs: BlobStore) -> None:
    _keep_versions(s3)
    keys = [_store(s3, USER_ID, 2) for _ in range(FOLDER_LISTING_ABOVE)]
    counts = _count_requests(s3)

    outcome = blobs.delete_for_good(keys)

    assert outcome.ok
    assert counts == {"ListObjectVersions": FOLDER_LISTING_ABOVE, "DeleteObjects": 1}
    assert _versions(s3) == {}


def test_a_refused_version_fails_its_key_only(s3: Any) -> None:
    _keep_versions(s3)
    keys = [_store(s3, USER_ID, 2) for _ in range(3)]

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            kept = [entry for entry in Delete["Objects"] if entry["Key"] != keys[1]]
            s3.delete_objects(Bucket=Bucket, Delete={"Objects": kept, "Quiet": True})
            refused = next(entry for entry in Delete["Objects"] if entry["Key"] == keys[1])
            return {"Errors": [{**refused, "Code": "AccessDenied", "Message": "Denied"}]}

    outcome = BlobStore(Refusing(), BUCKET).delete_for_good(keys)

    assert outcome.done == [keys[0], keys[2]]
    assert outcome.failed == {keys[1]: "AccessDenied: Denied"}
    assert set(_versions(s3)) == {keys[1]}


@pytest.mark.parametrize("many", [False, True])
def test_when_versions_cannot_be_listed_the_current_objects_still_go(s3: Any, many: bool) -> None:
    """A stack deployed before users could list versions: deleted as before (a delete marker)."""
    _keep_versions(s3)
    keys = [_store(s3, USER_ID, 1) for _ in range(FOLDER_LISTING_ABOVE + 1 if many else 1)]

    class NoListing:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        def list_object_versions(self, **_: Any) -> dict[str, Any]:
            from botocore.exceptions import ClientError

            error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
            raise ClientError(error, "ListObjectVersions")  # type: ignore[arg-type]

    outcome = BlobStore(NoListing(), BUCKET).delete_for_good(keys)

    assert outcome.ok and outcome.done == keys
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="private/")
    assert listed.get("KeyCount") == 0
