"""A body file missing or damaged in the sandbox's folder fails that document only (issue 21,
items 5 and 8): its download says what is true (no "try again"), `dms admin check` reports it,
and every other document is served, also after a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.models import Document
from dms_desktop.sandbox import ADMIN_USER, add_user, stop
from tests.integration.conftest import CliResult, SandboxHome

pytestmark = pytest.mark.server

USER, PASSWORD = "owner", "owner-password"


@pytest.fixture
def documents(
    fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[Document, bytes]]:
    """Three uploaded documents, by filename, with their content."""
    add_user(fresh_sandbox.info, USER, PASSWORD)
    backend = open_backend(fresh_sandbox.paths)
    service = open_service(backend, sign_in(backend, USER, PASSWORD))
    uploaded = {}
    for name in ("kept-a.txt", "broken.txt", "kept-c.txt"):
        content = f"the content of {name}\n".encode() * 200
        (tmp_path / name).write_bytes(content)
        uploaded[name] = (service.upload(tmp_path / name), content)
    monkeypatch.setenv("DMS_USERNAME", USER)
    monkeypatch.setenv("DMS_PASSWORD", PASSWORD)
    return uploaded


def _body_file(home: SandboxHome, content: bytes) -> Path:
    """The sandbox's file holding ``content`` (each test's contents differ)."""
    (found,) = [
        path
        for path in (home.paths.sandbox_dir / "bodies").iterdir()
        if path.stat().st_size == len(content) and path.read_bytes() == content
    ]
    return found


def _download(home: SandboxHome, document: Document, folder: Path) -> CliResult:
    folder.mkdir(exist_ok=True)
    return home.dms("download", document.document_id, "-o", str(folder))


def _admin_check(home: SandboxHome, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:
    with monkeypatch.context() as admin:
        admin.setenv("DMS_USERNAME", ADMIN_USER[0])
        admin.setenv("DMS_PASSWORD", ADMIN_USER[1])
        result = home.dms("admin", "check", "--json", *args)
    assert result.code == 0, result.err
    check: dict = json.loads(result.out)["check"]
    return check


def _kinds(check: dict) -> dict[str, str]:
    """documentId -> finding kind."""
    return {finding["documentId"]: finding["kind"] for finding in check["findings"]}


def _assert_the_others_are_served(
    home: SandboxHome, documents: dict[str, tuple[Document, bytes]], folder: Path
) -> None:
    for name in ("kept-a.txt", "kept-c.txt"):
        document, content = documents[name]
        result = _download(home, document, folder / name)
        assert result.code == 0, result.err
        assert (folder / name / name).read_bytes() == content


def _assert_missing_is_said(result: CliResult, name: str) -> None:
    assert result.code == 9, result.err  # an integrity error, not "unavailable" (7)
    assert f"The stored file of {name}" in result.err
    assert "is missing" in result.err
    assert "will not help" in result.err
    assert "try again" not in result.err.lower()


@pytest.mark.nothing_lost(
    "integrity",
    "a body file deleted (or cut short) in the sandbox's folder while it runs, then a restart",
    "that download: 'stored file of … is missing … will not help' (exit 9, was: 'try again "
    "later'); `dms admin check` reports it; every other document is served, also after the "
    "restart (was: 'the state is unreadable', reset)",
)
@pytest.mark.parametrize("damage", ["deleted", "cut short"])
def test_a_lost_body_fails_its_document_only_also_after_a_restart(
    fresh_sandbox: SandboxHome,
    documents: dict[str, tuple[Document, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    broken, content = documents["broken.txt"]
    body = _body_file(fresh_sandbox, content)
    if damage == "deleted":
        body.unlink()
    else:
        body.write_bytes(content[:100])

    _assert_missing_is_said(_download(fresh_sandbox, broken, tmp_path / "first"), "broken.txt")
    _assert_the_others_are_served(fresh_sandbox, documents, tmp_path / "first")
    assert _kinds(_admin_check(fresh_sandbox, monkeypatch)) == {broken.document_id: "missing-body"}

    stop(fresh_sandbox.paths)  # the next command starts it again
    listed = fresh_sandbox.dms("list", "--json")
    assert listed.code == 0, listed.err
    assert len(json.loads(listed.out)["documents"]) == 3
    _assert_missing_is_said(_download(fresh_sandbox, broken, tmp_path / "again"), "broken.txt")
    _assert_the_others_are_served(fresh_sandbox, documents, tmp_path / "again")
    assert _kinds(_admin_check(fresh_sandbox, monkeypatch)) == {broken.document_id: "missing-body"}


@pytest.mark.nothing_lost(
    "integrity",
    "a body file deleted from the sandbox's folder while it is stopped",
    "the sandbox starts; that download says the stored file is missing (exit 9); "
    "`dms admin check` reports it; the others are served (was: every command said the state "
    "is unreadable and to reset it)",
)
def test_a_body_lost_while_stopped_does_not_stop_the_sandbox(
    fresh_sandbox: SandboxHome,
    documents: dict[str, tuple[Document, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken, content = documents["broken.txt"]
    stop(fresh_sandbox.paths)
    _body_file(fresh_sandbox, content).unlink()

    listed = fresh_sandbox.dms("list")
    assert listed.code == 0, listed.err
    _assert_missing_is_said(_download(fresh_sandbox, broken, tmp_path / "out"), "broken.txt")
    _assert_the_others_are_served(fresh_sandbox, documents, tmp_path / "out")
    assert _kinds(_admin_check(fresh_sandbox, monkeypatch)) == {broken.document_id: "missing-body"}


@pytest.mark.nothing_lost(
    "integrity",
    "a body file damaged in place in the sandbox's folder (same size, other bytes)",
    "that download: 'the stored file is damaged … will not help' (exit 9, was: 'damaged on "
    "the way … try again'); `dms admin check --verify-checksums` reports it (was: aborted); "
    "the others are served",
)
def test_a_body_damaged_in_place_is_reported_as_damaged(
    fresh_sandbox: SandboxHome,
    documents: dict[str, tuple[Document, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken, content = documents["broken.txt"]
    body = _body_file(fresh_sandbox, content)
    body.write_bytes(content.upper())  # same size

    result = _download(fresh_sandbox, broken, tmp_path / "out")

    assert result.code == 9, result.err
    assert "damaged" in result.err
    assert "will not help" in result.err
    assert "try again" not in result.err.lower()
    assert list((tmp_path / "out").iterdir()) == []  # nothing written
    _assert_the_others_are_served(fresh_sandbox, documents, tmp_path / "out")
    check = _admin_check(fresh_sandbox, monkeypatch, "--verify-checksums")
    assert _kinds(check) == {broken.document_id: "checksum-mismatch"}
    assert check["checksumsVerified"] == check["documents"]  # it went on past the damage
