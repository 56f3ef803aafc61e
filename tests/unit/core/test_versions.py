"""Versions of a document (core.versions) on moto's versioned bucket: a new version keeps id,
name and tags; old versions download byte for byte and restore as a new version; a stale or
racing write is a conflict that leaves the stored body as it was."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.errors import Conflict, IntegrityError, InTrash, NotFound, Unavailable
from dms_desktop.core.models import utc_now
from dms_desktop.core.service import DocumentService
from dms_desktop.core.version_history import BodyVersion, kept_versions, read_history


@pytest.fixture
def versioned(s3: Any) -> None:
    s3.put_bucket_versioning(
        Bucket=schema.BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"}
    )


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _current_bytes(s3: Any, service: DocumentService, document_id: str) -> bytes:
    key = schema.object_key(service.user_id, document_id)
    body: bytes = s3.get_object(Bucket=schema.BUCKET_NAME, Key=key)["Body"].read()
    return body


@pytest.mark.usefixtures("versioned")
def test_a_version_round_trip_keeps_every_byte(
    service: DocumentService, tmp_path: Path, s3: Any
) -> None:
    first = service.upload(_file(tmp_path, "report.txt", b"first draft"), tags=["work"])
    changed = _file(tmp_path, "edited.txt", b"second draft, longer")

    second = service.upload_new_version(first.document_id, changed)

    assert (second.document_id, second.filename, second.tags) == (
        first.document_id,
        "report.txt",
        ("work",),
    )
    assert second.size == len(b"second draft, longer")
    history = service.versions.history(first.document_id)
    assert [version.number for version in history.versions] == [1, 2]
    assert history.versions[0].checksum == first.checksum
    assert all(version.s3_version_id for version in history.versions)
    out = tmp_path / "out"
    out.mkdir()
    old = service.versions.download_version(first.document_id, 1, out)
    assert old.name == "report (version 1).txt"
    assert old.read_bytes() == b"first draft"
    assert service.download(first.document_id, out).read_bytes() == b"second draft, longer"

    third = service.versions.restore_version(first.document_id, 1)

    assert third.checksum == first.checksum
    history = service.versions.history(first.document_id)
    assert [(v.number, v.restored_from) for v in history.versions] == [(1, None), (2, None), (3, 1)]
    assert _current_bytes(s3, service, first.document_id) == b"first draft"
    middle = service.versions.download_version(first.document_id, 2, out / "v2.txt")
    assert middle.read_bytes() == b"second draft, longer"


@pytest.mark.usefixtures("versioned")
def test_a_stale_version_number_is_a_conflict_and_stores_nothing(
    service: DocumentService, tmp_path: Path, s3: Any
) -> None:
    document = service.upload(_file(tmp_path, "a.txt", b"one"))
    service.upload_new_version(document.document_id, _file(tmp_path, "b", b"two"))

    with pytest.raises(Conflict, match="newest version is 2"):
        service.upload_new_version(
            document.document_id, _file(tmp_path, "c", b"three"), expected_number=1
        )
    with pytest.raises(Conflict):
        service.versions.restore_version(document.document_id, 1, expected_number=1)

    assert _current_bytes(s3, service, document.document_id) == b"two"
    assert len(service.versions.history(document.document_id).versions) == 2


@pytest.mark.usefixtures("versioned")
def test_a_change_while_the_file_is_sent_is_a_conflict_and_the_old_body_stays(
    service: DocumentService, tmp_path: Path, s3: Any
) -> None:
    document = service.upload(_file(tmp_path, "a.txt", b"one"))

    def someone_renames_it(done: int, total: int) -> None:
        if done == total:
            service.rename(document.document_id, "renamed.txt")

    with pytest.raises(Conflict, match="nothing was overwritten"):
        service.upload_new_version(
            document.document_id, _file(tmp_path, "b", b"two"), progress=someone_renames_it
        )

    assert _current_bytes(s3, service, document.document_id) == b"one"
    key = schema.object_key(service.user_id, document.document_id)
    versions = s3.list_object_versions(Bucket=schema.BUCKET_NAME, Prefix=key)["Versions"]
    assert len(versions) == 1  # the new S3 version was removed again


@pytest.mark.usefixtures("versioned")
def test_a_document_from_before_versions_gets_version_1_kept(
    service: DocumentService, tmp_path: Path, s3: Any
) -> None:
    s3.put_bucket_versioning(
        Bucket=schema.BUCKET_NAME, VersioningConfiguration={"Status": "Suspended"}
    )
    document = service.upload(_file(tmp_path, "old.txt", b"from before"))
    s3.put_bucket_versioning(
        Bucket=schema.BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"}
    )

    service.upload_new_version(document.document_id, _file(tmp_path, "n", b"new"))

    target = service.versions.download_version(document.document_id, 1, tmp_path / "v1")
    assert target.read_bytes() == b"from before"


def test_without_bucket_versioning_nothing_is_overwritten(
    service: DocumentService, tmp_path: Path, s3: Any
) -> None:
    document = service.upload(_file(tmp_path, "a.txt", b"only copy"))

    with pytest.raises(Unavailable, match="versioning is off"):
        service.upload_new_version(document.document_id, _file(tmp_path, "b", b"x"))

    assert _current_bytes(s3, service, document.document_id) == b"only copy"


@pytest.mark.usefixtures("versioned")
def test_versions_of_a_document_in_the_trash_come_back_with_it(
    service: DocumentService, tmp_path: Path
) -> None:
    document = service.upload(_file(tmp_path, "a.txt", b"one"))
    service.upload_new_version(document.document_id, _file(tmp_path, "b", b"two"))
    service.trash_many([document.document_id])

    with pytest.raises(InTrash):
        service.upload_new_version(document.document_id, _file(tmp_path, "c", b"3"))
    with pytest.raises(InTrash):
        service.versions.download_version(document.document_id, 1, tmp_path / "x")

    service.restore_many([document.document_id])
    assert [v.number for v in service.versions.history(document.document_id).versions] == [1, 2]
    assert service.versions.download_version(
        document.document_id, 1, tmp_path / "v1"
    ).read_bytes() == (b"one")


@pytest.mark.usefixtures("versioned")
def test_an_unknown_version_number_is_not_found(service: DocumentService, tmp_path: Path) -> None:
    document = service.upload(_file(tmp_path, "a.txt", b"one"))

    with pytest.raises(NotFound, match="has no version 7"):
        service.versions.download_version(document.document_id, 7, tmp_path)
    with pytest.raises(Conflict, match="already the current version"):
        service.versions.restore_version(document.document_id, 1)


@pytest.mark.usefixtures("versioned")
def test_old_versions_beyond_the_count_are_deleted(
    service: DocumentService, tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dms_desktop.core.version_history.MAX_OLD_VERSIONS", 2)
    document = service.upload(_file(tmp_path, "a.txt", b"v1"))
    for number in range(2, 6):
        service.upload_new_version(
            document.document_id, _file(tmp_path, f"v{number}", f"v{number}".encode())
        )

    history = service.versions.history(document.document_id)
    assert [v.number for v in history.versions] == [3, 4, 5]
    key = schema.object_key(service.user_id, document.document_id)
    stored = s3.list_object_versions(Bucket=schema.BUCKET_NAME, Prefix=key)["Versions"]
    assert len(stored) == 3


def test_old_versions_replaced_longer_ago_than_the_retention_are_left_out() -> None:
    now = utc_now()

    def at(days_ago: int, number: int) -> BodyVersion:
        return BodyVersion(number, 1, "c", f"v{number}", now - timedelta(days=days_ago))

    versions = [at(90, 1), at(40, 2), at(10, 3), at(0, 4)]  # 1 was replaced 40 days ago

    assert [v.number for v in kept_versions(versions, now)] == [
        2,
        3,
        4,
    ]


def test_a_damaged_history_is_an_integrity_error(
    service: DocumentService, tmp_path: Path, dynamodb: Any
) -> None:
    document = service.upload(_file(tmp_path, "a.txt", b"one"))
    dynamodb.update_item(
        TableName=schema.TABLE_NAME,
        Key=schema.item_key(service.user_id, document.document_id),
        UpdateExpression=f"SET {schema.BODY_VERSIONS} = :bad",
        ExpressionAttributeValues={":bad": {"L": [{"M": {"number": {"S": "x"}}}]}},
    )
    item = dynamodb.get_item(
        TableName=schema.TABLE_NAME, Key=schema.item_key(service.user_id, document.document_id)
    )["Item"]

    with pytest.raises(IntegrityError, match=r"version history of a\.txt"):
        read_history(item)
