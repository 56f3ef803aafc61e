"""`dms admin cleanup` and `dms admin check` end to end against a real sandbox, as its admin."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.sandbox import ADMIN_USER, DEMO_USER
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server

OTHER_USER = ("tester", "tester-password")


def _as(monkeypatch: pytest.MonkeyPatch, user: tuple[str, str]) -> None:
    monkeypatch.setenv("DMS_USERNAME", user[0])
    monkeypatch.setenv("DMS_PASSWORD", user[1])


def _upload(sandbox: SandboxHome, path: Path, *tags: str) -> dict[str, Any]:
    args = [arg for tag in tags for arg in ("--tag", tag)]
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep", *args)
    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    return dict(document)


def _ids(sandbox: SandboxHome) -> set[str]:
    result = sandbox.dms("list", "--all", "--json")
    assert result.code == 0, result.err
    return {doc["documentId"] for doc in json.loads(result.out)["documents"]}


def _raw_s3(sandbox: SandboxHome) -> Any:
    return sandbox_client(sandbox.info.endpoint_url, "s3", None)


def test_cleanup_as_admin_removes_only_the_matching_documents_of_every_user(
    fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", OTHER_USER[1])
    assert fresh_sandbox.dms("local", "add-user", OTHER_USER[0]).code == 0
    uploaded: dict[str, dict[str, list[str]]] = {}
    for user in (DEMO_USER, OTHER_USER):
        _as(monkeypatch, user)
        test_ids, real_ids = [], []
        for index in range(3):
            path = tmp_path / user[0] / f"seed-{index}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(os.urandom(100 + index))
            test_ids.append(str(_upload(fresh_sandbox, path, "Test")["documentId"]))
        real = tmp_path / user[0] / "keep.txt"
        real.write_bytes(b"a real document\n")
        real_ids.append(str(_upload(fresh_sandbox, real, "testing")["documentId"]))
        uploaded[user[0]] = {"test": test_ids, "real": real_ids}

    # A normal user is refused: exit code 6, nothing runs.
    _as(monkeypatch, DEMO_USER)
    refused = fresh_sandbox.dms("admin", "cleanup", "--tag", "test", "--yes")
    assert refused.code == 6
    assert "needs admin rights" in refused.err

    _as(monkeypatch, ADMIN_USER)
    dry = fresh_sandbox.dms("admin", "cleanup", "--tag", "TEST", "--json")
    assert dry.code == 0, dry.err
    plan = json.loads(dry.out)
    all_test = {i for ids in uploaded.values() for i in ids["test"]}
    assert plan["dryRun"] is True
    assert {doc["documentId"] for doc in plan["documents"]} == all_test
    assert plan["count"] == 6 and plan["totalBytes"] == 2 * (100 + 101 + 102)
    assert len(plan["perUser"]) == 2
    assert "Dry run: nothing was deleted" in dry.err
    text = fresh_sandbox.dms("admin", "cleanup", "--tag", "test", "--name-glob", "seed-?.txt")
    assert text.code == 0 and "6 documents match" in text.out

    real = fresh_sandbox.dms("admin", "cleanup", "--tag", "test", "--yes", "--json")
    assert real.code == 0, real.err
    report = json.loads(real.out)
    assert set(report["deleted"]) == all_test
    assert report["bytesFreed"] == plan["totalBytes"] and report["failed"] == []
    audit = json.loads(Path(report["auditLog"]).read_text())
    assert Path(report["auditLog"]).parent == fresh_sandbox.paths.data_dir / "audit"
    assert audit["who"]["username"] == "admin" and set(audit["outcome"]["deleted"]) == all_test

    for user in (DEMO_USER, OTHER_USER):
        _as(monkeypatch, user)
        remaining = _ids(fresh_sandbox)
        assert set(uploaded[user[0]]["real"]) <= remaining
        assert not remaining & all_test


def test_check_finds_and_repairs_orphans_on_the_sandbox(
    fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as(monkeypatch, DEMO_USER)
    path = tmp_path / "doomed.txt"
    path.write_bytes(b"body to lose\n")
    broken = _upload(fresh_sandbox, path)
    s3 = _raw_s3(fresh_sandbox)
    bucket = fresh_sandbox.info.bucket
    s3.delete_object(Bucket=bucket, Key=broken["s3Key"])
    orphan_key = str(broken["s3Key"]).rsplit("/", 1)[0] + "/01900000-0000-7000-8000-00000000abcd"
    s3.put_object(Bucket=bucket, Key=orphan_key, Body=b"nobody's")

    _as(monkeypatch, ADMIN_USER)
    checked = fresh_sandbox.dms("admin", "check", "--json", "--orphan-grace-minutes", "0")
    assert checked.code == 0, checked.err
    counts = json.loads(checked.out)["check"]["counts"]
    assert counts["missing-body"] == 1 and counts["orphan-body"] == 1

    dry = fresh_sandbox.dms("admin", "check", "--repair", "--orphan-grace-minutes", "0")
    assert dry.code == 0 and "Dry run: nothing was repaired" in dry.err
    assert "missing-body: 1" in dry.out

    repaired = fresh_sandbox.dms(
        "admin", "check", "--repair", "--yes", "--json", "--orphan-grace-minutes", "0"
    )
    assert repaired.code == 0, repaired.err
    result = json.loads(repaired.out)["repair"]
    assert result["metadataDeleted"] == [broken["documentId"]]
    assert result["bodiesDeleted"] == [orphan_key]

    again = fresh_sandbox.dms("admin", "check", "--orphan-grace-minutes", "0")
    assert again.code == 0 and "no problems found." in again.out
    _as(monkeypatch, DEMO_USER)
    assert broken["documentId"] not in _ids(fresh_sandbox)


def test_cleanup_refuses_no_criteria_and_conflicting_modes_and_defaults_to_a_dry_run(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as(monkeypatch, ADMIN_USER)
    dry = shared_sandbox.dms("admin", "cleanup", "--tag", "no-such-tag-anywhere")
    assert dry.code == 0 and "0 documents match" in dry.out
    assert shared_sandbox.dms("admin", "cleanup").code == 3  # no criterion: refused
    both = shared_sandbox.dms("admin", "cleanup", "--tag", "x", "--dry-run", "--yes")
    assert both.code == 2
