"""Versions on the sandbox through `dms`: upload a new version, list, download v1 and v2 byte
for byte, restore v1 as v3, a stale version number is a conflict; the sandbox's bucket keeps old
versions and expires them as the template's lifecycle rule does."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dms_desktop.core.schema import OLD_VERSION_DAYS, object_key
from dms_desktop.sandbox import stop
from dms_desktop.sandbox.lifecycle import expire_old_versions
from dms_desktop.sandbox.server import sandbox_client
from tests.integration.conftest import SandboxHome, start_sandbox

pytestmark = pytest.mark.server


def _upload(sandbox: SandboxHome, path: Path, *args: str) -> dict[str, object]:
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep", *args)
    assert result.code == 0, result.err
    document: dict[str, object] = json.loads(result.out)[0]
    return document


def _versions(sandbox: SandboxHome, document_id: str) -> list[dict[str, object]]:
    result = sandbox.dms("versions", document_id, "--json")
    assert result.code == 0, result.err
    versions: list[dict[str, object]] = json.loads(result.out)["versions"]
    return versions


def test_a_version_round_trip_on_the_sandbox_keeps_every_byte(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    first, second = os.urandom(300_000), os.urandom(120_000)
    source = tmp_path / "Vertrag.pdf"
    source.write_bytes(first)
    document = _upload(shared_sandbox, source, "--tag", "legal")
    document_id = str(document["documentId"])
    changed = tmp_path / "Vertrag v2.pdf"
    changed.write_bytes(second)

    new = _upload(shared_sandbox, changed, "--new-version", document_id)

    assert (new["documentId"], new["filename"], new["tags"]) == (
        document_id,
        "Vertrag.pdf",
        ["legal"],
    )
    versions = _versions(shared_sandbox, document_id)
    assert [v["number"] for v in versions] == [2, 1]  # newest first
    assert [v["size"] for v in versions] == [len(second), len(first)]
    assert all(v["s3VersionId"] and v["checksum"] and v["createdAt"] for v in versions)
    listed = shared_sandbox.dms("versions", document_id)
    assert "(current)" in listed.out.splitlines()[1]
    out = tmp_path / "out"
    out.mkdir()
    assert shared_sandbox.dms("download", document_id, "--version", "1", "-o", str(out)).code == 0
    assert (out / "Vertrag (version 1).pdf").read_bytes() == first
    assert shared_sandbox.dms("download", document_id, "-o", str(out)).code == 0
    assert (out / "Vertrag.pdf").read_bytes() == second

    stale = shared_sandbox.dms(
        "upload", str(changed), "--new-version", document_id, "--expected-version", "1"
    )
    assert stale.code == 5, stale.err
    assert "newest version is 2" in stale.err
    restored = shared_sandbox.dms("versions", document_id, "--restore", "1")
    assert restored.code == 0, restored.err
    assert "as version 3" in restored.out

    versions = _versions(shared_sandbox, document_id)
    assert [(v["number"], v["restoredFrom"]) for v in versions] == [(3, 1), (2, None), (1, None)]
    current = out / "current.pdf"
    assert shared_sandbox.dms("download", document_id, "-o", str(current)).code == 0
    assert current.read_bytes() == first
    v2 = out / "v2.pdf"
    assert shared_sandbox.dms("download", document_id, "--version", "2", "-o", str(v2)).code == 0
    assert v2.read_bytes() == second
    missing = shared_sandbox.dms("download", document_id, "--version", "9", "-o", str(out))
    assert missing.code == 4 and "has no version 9" in missing.err


def test_the_sandbox_expires_old_versions_as_the_lifecycle_rule_does(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "a.txt"
    source.write_text("one")
    document = _upload(shared_sandbox, source)
    source.write_text("two")
    _upload(shared_sandbox, source, "--new-version", str(document["documentId"]))
    key = object_key(str(document["userId"]), str(document["documentId"]))
    s3 = sandbox_client(shared_sandbox.info.endpoint_url, "s3", None)
    try:
        bucket = shared_sandbox.info.bucket
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        soon = datetime.now(UTC) + timedelta(days=OLD_VERSION_DAYS - 1)
        expire_old_versions(s3, bucket, now=soon, prefix=key)
        assert len(s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]) == 2

        later = datetime.now(UTC) + timedelta(days=OLD_VERSION_DAYS + 1)
        expire_old_versions(s3, bucket, now=later, prefix=key)

        left = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
        assert [version["IsLatest"] for version in left] == [True]
    finally:
        s3.close()
    gone = shared_sandbox.dms("download", str(document["documentId"]), "--version", "1")
    assert gone.code == 4 and "no longer stored" in gone.err


def test_versions_survive_a_restart_of_the_sandbox(
    fresh_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "kept.bin"
    first = os.urandom(50_000)
    source.write_bytes(first)
    document_id = str(_upload(fresh_sandbox, source)["documentId"])
    source.write_bytes(os.urandom(60_000))
    _upload(fresh_sandbox, source, "--new-version", document_id)

    assert stop(fresh_sandbox.paths)
    again = start_sandbox(fresh_sandbox.home)

    assert [v["number"] for v in _versions(again, document_id)] == [2, 1]
    target = tmp_path / "v1.bin"
    assert again.dms("download", document_id, "--version", "1", "-o", str(target)).code == 0
    assert target.read_bytes() == first


def test_another_user_can_neither_list_nor_version_my_documents(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("only mine")
    document_id = str(_upload(shared_sandbox, path)["documentId"])
    path.write_text("mine, changed")
    _upload(shared_sandbox, path, "--new-version", document_id)
    shared_sandbox.sign_in_as_new_user(monkeypatch, "eve")
    theirs = tmp_path / "theirs.txt"
    theirs.write_text("overwrite attempt")

    assert shared_sandbox.dms("versions", document_id).code == 4
    assert shared_sandbox.dms("versions", document_id, "--restore", "1").code == 4
    assert (
        shared_sandbox.dms("download", document_id, "--version", "1", "-o", str(tmp_path)).code == 4
    )
    assert shared_sandbox.dms("upload", str(theirs), "--new-version", document_id).code == 4

    monkeypatch.delenv("DMS_USERNAME")
    monkeypatch.delenv("DMS_PASSWORD")
    assert [v["number"] for v in _versions(shared_sandbox, document_id)] == [2, 1]
