"""The sandbox's stand-in for the bucket's lifecycle rule (``expire_old_versions``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dms_desktop.sandbox.lifecycle import expire_old_versions

BUCKET = "bucket"
STORED = datetime(2026, 12, 6, 7, 35, 42, tzinfo=UTC)  # S3 gives whole seconds


class _Bucket:
    """One listing page of object versions; records the versions deleted."""

    def __init__(self, versions: list[dict[str, Any]], markers: list[dict[str, Any]]) -> None:
        self.page = {"Versions": versions, "DeleteMarkers": markers}
        self.deleted: list[str] = []

    def get_paginator(self, _operation: str) -> Any:
        page = self.page

        class Pages:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return [page]

        return Pages()

    def delete_object(self, Bucket: str, Key: str, VersionId: str) -> None:  # noqa: N803
        self.deleted.append(VersionId)


def _entry(version_id: str, latest: bool, at: datetime = STORED) -> dict[str, Any]:
    return {"Key": "private/u1/d1", "VersionId": version_id, "IsLatest": latest, "LastModified": at}


def test_an_object_deleted_in_the_second_it_was_stored_stays_deleted() -> None:
    """Its delete marker has the same time as its version: ordered by time alone, the marker
    was taken for the old one and deleted, and the deleted file was back (a flaky test found
    it once starts got fast)."""
    bucket = _Bucket([_entry("stored", latest=False)], [_entry("marker", latest=True)])

    expire_old_versions(bucket, BUCKET, now=STORED + timedelta(days=31))

    assert sorted(bucket.deleted) == ["marker", "stored"]  # nothing left of it


def test_the_current_version_stays_and_old_ones_go_once_their_time_is_over() -> None:
    later = STORED + timedelta(seconds=1)
    bucket = _Bucket([_entry("new", latest=True, at=later), _entry("old", latest=False)], [])

    expire_old_versions(bucket, BUCKET, now=STORED + timedelta(days=1))
    assert bucket.deleted == []  # replaced a day ago: kept
    expire_old_versions(bucket, BUCKET, now=STORED + timedelta(days=31))
    assert bucket.deleted == ["old"]
