"""Deleting for good through `dms` on the sandbox (whose bucket keeps versions): `dms delete
--permanently` and `dms trash empty` leave no version and no delete marker of the document's file
in the bucket, and another user's versions stay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core.schema import object_key
from dms_desktop.sandbox.server import sandbox_client
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


@pytest.fixture
def s3(shared_sandbox: SandboxHome) -> Iterator[Any]:
    client = sandbox_client(shared_sandbox.info.endpoint_url, "s3", None)
    yield client
    client.close()


def _with_versions(sandbox: SandboxHome, path: Path, count: int) -> tuple[str, str]:
    """A document whose file has ``count`` versions: (its id, its key)."""
    path.write_text("version 1")
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep")
    assert result.code == 0, result.err
    document = json.loads(result.out)[0]
    for number in range(2, count + 1):
        path.write_text(f"version {number}")
        added = sandbox.dms("upload", str(path), "--new-version", document["documentId"])
        assert added.code == 0, added.err
    return document["documentId"], object_key(document["userId"], document["documentId"])


def _stored_versions(s3: Any, bucket: str, key: str) -> list[str]:
    """The version ids of the key's versions and delete markers in the bucket."""
    page = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [
        entry["VersionId"]
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        if entry["Key"] == key
    ]


def test_delete_permanently_leaves_no_version_of_the_file_and_spares_other_users(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    bucket = shared_sandbox.info.bucket
    shared_sandbox.sign_in_as_new_user(monkeypatch, "olga")
    _other_id, other_key = _with_versions(shared_sandbox, tmp_path / "hers.txt", 3)
    shared_sandbox.sign_in_as_new_user(monkeypatch, "paul")
    document_id, key = _with_versions(shared_sandbox, tmp_path / "report.txt", 3)
    kept_id, kept_key = _with_versions(shared_sandbox, tmp_path / "kept.txt", 2)
    assert len(_stored_versions(s3, bucket, key)) == 3

    deleted = shared_sandbox.dms("delete", "--permanently", "--yes", document_id)

    assert deleted.code == 0, deleted.err
    assert _stored_versions(s3, bucket, key) == []
    assert len(_stored_versions(s3, bucket, kept_key)) == 2
    assert len(_stored_versions(s3, bucket, other_key)) == 3
    assert shared_sandbox.dms("info", kept_id).code == 0


def test_emptying_the_trash_leaves_no_version_of_the_files(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    bucket = shared_sandbox.info.bucket
    shared_sandbox.sign_in_as_new_user(monkeypatch, "rita")
    trashed = [_with_versions(shared_sandbox, tmp_path / f"{n}.txt", 3) for n in range(2)]
    kept_id, kept_key = _with_versions(shared_sandbox, tmp_path / "kept.txt", 3)
    assert shared_sandbox.dms("delete", *[document_id for document_id, _ in trashed]).code == 0
    for _document_id, key in trashed:
        assert len(_stored_versions(s3, bucket, key)) == 3  # the trash keeps them

    emptied = shared_sandbox.dms("trash", "empty", "--yes")

    assert emptied.code == 0, emptied.err
    for _document_id, key in trashed:
        assert _stored_versions(s3, bucket, key) == []
    assert len(_stored_versions(s3, bucket, kept_key)) == 3
    assert shared_sandbox.dms("info", kept_id).code == 0
