"""Issue 21, item 1, end to end: a user writes another user's S3 key into their own item, then an
admin runs `dms admin cleanup --tag test --yes` and `dms admin check --repair --yes`. The
victim's file and metadata survive; the check reports the forged item as damaged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.connect import open_backend, sign_in
from dms_desktop.core.aws import make_client
from dms_desktop.sandbox import ADMIN_USER
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server

VICTIM = ("victim", "victim-password")
FORGER = ("forger", "forger-password")


def _as(sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch, user: tuple[str, str]) -> None:
    monkeypatch.setenv("DMS_USERNAME", user[0])
    monkeypatch.setenv("DMS_PASSWORD", user[1])


def _upload(sandbox: SandboxHome, path: Path, *args: str) -> dict[str, Any]:
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep", *args)
    assert result.code == 0, result.err
    return dict(json.loads(result.out)[0])


def _forge(
    sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *tags: str
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """The victim's document, the forger's (its item naming the victim's file), the victim's
    bytes."""
    for name, password in (VICTIM, FORGER):
        monkeypatch.setenv("DMS_PASSWORD", password)
        assert sandbox.dms("local", "add-user", name).code == 0
    _as(sandbox, monkeypatch, VICTIM)
    secret = tmp_path / "salary.pdf"
    secret.write_bytes(b"%PDF- the victim's salary slip")
    victim = _upload(sandbox, secret)
    _as(sandbox, monkeypatch, FORGER)
    bait = tmp_path / "bait.txt"
    bait.write_text("nothing to see")
    forged = _upload(sandbox, bait, *[arg for tag in tags for arg in ("--tag", tag)])
    # The forger writes their own item with their own credentials: IAM and the app's scope
    # guard check only the partition, so this is allowed.
    forger = sign_in(open_backend(sandbox.paths), *FORGER)
    dynamodb = make_client(forger.session, "dynamodb", sandbox.info.endpoint_url)
    dynamodb.update_item(
        TableName=sandbox.info.table,
        Key={"userId": {"S": forger.user_id}, "documentId": {"S": forged["documentId"]}},
        UpdateExpression="SET s3Key = :victim",
        ExpressionAttributeValues={":victim": {"S": victim["s3Key"]}},
    )
    return victim, forged, secret.read_bytes()


def _assert_victim_intact(
    sandbox: SandboxHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    victim: dict[str, Any],
    content: bytes,
) -> None:
    _as(sandbox, monkeypatch, VICTIM)
    out = tmp_path / "victim-download"
    out.mkdir()
    downloaded = sandbox.dms("download", victim["documentId"], "-o", str(out))
    assert downloaded.code == 0, downloaded.err
    assert (out / "salary.pdf").read_bytes() == content


def test_admin_cleanup_and_repair_never_touch_the_file_a_forged_item_names(
    fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim, forged, content = _forge(fresh_sandbox, tmp_path, monkeypatch, "test")

    _as(fresh_sandbox, monkeypatch, ADMIN_USER)
    cleanup = fresh_sandbox.dms("admin", "cleanup", "--tag", "test", "--yes", "--json")
    assert cleanup.code == 0, cleanup.err
    assert json.loads(cleanup.out)["bodiesDeleted"] == [forged["s3Key"]]
    repair = fresh_sandbox.dms(
        "admin", "check", "--repair", "--yes", "--json", "--orphan-grace-minutes", "0"
    )
    assert repair.code == 0, repair.err

    _assert_victim_intact(fresh_sandbox, tmp_path, monkeypatch, victim, content)


def test_the_check_reports_a_forged_key_and_the_forger_only_reaches_their_own_file(
    fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim, forged, content = _forge(fresh_sandbox, tmp_path, monkeypatch)

    _as(fresh_sandbox, monkeypatch, ADMIN_USER)
    check = fresh_sandbox.dms("admin", "check", "--json")
    assert check.code == 0, check.err
    (finding,) = json.loads(check.out)["check"]["findings"]
    assert finding["kind"] == "damaged-metadata"
    assert finding["documentId"] == forged["documentId"]
    assert victim["s3Key"] in finding["detail"]

    _as(fresh_sandbox, monkeypatch, FORGER)
    out = tmp_path / "forger-download"
    out.mkdir()
    got = fresh_sandbox.dms("download", forged["documentId"], "-o", str(out))
    assert got.code == 0, got.err
    assert (out / "bait.txt").read_text() == "nothing to see"
    assert fresh_sandbox.dms("delete", forged["documentId"], "--permanently", "--yes").code == 0

    _assert_victim_intact(fresh_sandbox, tmp_path, monkeypatch, victim, content)
