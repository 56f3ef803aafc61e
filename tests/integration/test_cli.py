"""The `dms` CLI end to end against a real sandbox (moto server on 127.0.0.1)."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dms_desktop.cli import main
from dms_desktop.sandbox import stop
from dms_desktop.sandbox.samples import SAMPLE_DOCUMENTS
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


def _listed(sandbox: SandboxHome, *args: str) -> list[dict[str, object]]:
    result = sandbox.dms("list", "--json", *args)
    assert result.code == 0, result.err
    documents: list[dict[str, object]] = json.loads(result.out)["documents"]
    return documents


def _upload(sandbox: SandboxHome, path: Path, *args: str) -> dict[str, object]:
    result = sandbox.dms("upload", str(path), "--json", *args)
    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    return dict(document)


def test_list_shows_the_sample_documents(fresh_sandbox: SandboxHome) -> None:
    result = fresh_sandbox.dms("list")

    assert result.code == 0, result.err
    for name, _tags in SAMPLE_DOCUMENTS:
        assert name in result.out
    assert {doc["filename"] for doc in _listed(fresh_sandbox)} == {
        name for name, _ in SAMPLE_DOCUMENTS
    }


def test_upload_list_info_download_delete_round_trip(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "Ångström report.bin"
    source.write_bytes(os.urandom(300_000))

    document = _upload(shared_sandbox, source, "--tag", "Round-Trip")
    document_id = str(document["documentId"])
    assert document["filename"] == "Ångström report.bin"
    assert document["size"] == 300_000
    assert document_id in [doc["documentId"] for doc in _listed(shared_sandbox)]

    info = shared_sandbox.dms("info", document_id, "--json")
    assert info.code == 0
    assert json.loads(info.out)["tags"] == ["Round-Trip"]

    target = tmp_path / "downloads"
    target.mkdir()
    downloaded = shared_sandbox.dms("download", document_id, "-o", str(target))
    assert downloaded.code == 0, downloaded.err
    assert (target / source.name).read_bytes() == source.read_bytes()

    deleted = shared_sandbox.dms("delete", document_id, "--permanently", "--yes")
    assert deleted.code == 0
    assert document_id not in [doc["documentId"] for doc in _listed(shared_sandbox)]
    assert shared_sandbox.dms("info", document_id).code == 4


def test_documents_survive_a_sandbox_restart(fresh_sandbox: SandboxHome, tmp_path: Path) -> None:
    source = tmp_path / "keep-me.txt"
    source.write_bytes(b"still here after a restart\n" * 1000)
    document_id = str(_upload(fresh_sandbox, source)["documentId"])

    assert stop(fresh_sandbox.paths)  # checkpoints and stops

    listed = _listed(fresh_sandbox)  # starts the sandbox again from its saved state
    assert document_id in [doc["documentId"] for doc in listed]
    target = tmp_path / "again.txt"
    assert fresh_sandbox.dms("download", document_id, "-o", str(target)).code == 0
    assert target.read_bytes() == source.read_bytes()


def test_filters_sorting_and_paging(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    names = ["b-filter-test.txt", "A-filter-test.md", "c-filter-test.png"]
    for index, name in enumerate(names):
        path = tmp_path / name
        path.write_bytes(b"x" * (index + 1) * 10)
        _upload(shared_sandbox, path, "--tag", "FilterCase", "--duplicates", "keep")

    tagged = _listed(shared_sandbox, "--tag", "filtercase", "--sort", "name", "--asc")
    assert [doc["filename"] for doc in tagged] == sorted(names, key=str.casefold)

    found = _listed(shared_sandbox, "--search", "C-FILTER")
    assert [doc["filename"] for doc in found] == ["c-filter-test.png"]
    images = _listed(shared_sandbox, "--type", "image/*", "--tag", "FilterCase")
    assert [doc["filename"] for doc in images] == ["c-filter-test.png"]

    by_size = _listed(shared_sandbox, "--tag", "FilterCase", "--sort", "size", "--desc")
    assert [doc["size"] for doc in by_size] == [30, 20, 10]

    first = shared_sandbox.dms("list", "--json", "--tag", "FilterCase", "--limit", "2")
    page = json.loads(first.out)
    assert len(page["documents"]) == 2 and page["nextCursor"]
    rest = _listed(
        shared_sandbox, "--tag", "FilterCase", "--limit", "2", "--cursor", page["nextCursor"]
    )
    assert len(rest) == 1
    assert {doc["documentId"] for doc in page["documents"] + rest} == {
        doc["documentId"] for doc in tagged
    }


def test_tag_and_rename(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    path = tmp_path / "to-edit.txt"
    path.write_bytes(b"edit me")
    document_id = str(
        _upload(shared_sandbox, path, "--tag", "old", "--duplicates", "keep")["documentId"]
    )

    assert shared_sandbox.dms("tag", document_id, "--add", "New", "--remove", "OLD").code == 0
    assert shared_sandbox.dms("rename", document_id, "edited.txt").code == 0

    details = json.loads(shared_sandbox.dms("info", document_id, "--json").out)
    assert details["tags"] == ["New"]
    assert details["filename"] == "edited.txt"
    assert details["version"] == 3


def test_folder_upload_keeps_relative_folders(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    top = tmp_path / "Invoices"
    (top / "2024").mkdir(parents=True)
    (top / "root-invoice.txt").write_text("root")
    (top / "2024" / "march-invoice.txt").write_text("march")

    result = shared_sandbox.dms("upload", str(top), "--json", "--tag", "folder-test")

    assert result.code == 0, result.err
    folders = {doc["filename"]: doc["folder"] for doc in json.loads(result.out)}
    assert folders == {"root-invoice.txt": "Invoices", "march-invoice.txt": "Invoices/2024"}


def test_duplicates_are_skipped_on_request(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    path = tmp_path / "twice.bin"
    path.write_bytes(os.urandom(1000))
    _upload(shared_sandbox, path)

    skipped = shared_sandbox.dms("upload", str(path), "--duplicates", "skip")
    assert skipped.code == 0
    assert "already stored" in skipped.err
    assert len(_listed(shared_sandbox, "--search", "twice.bin")) == 1

    kept = shared_sandbox.dms("upload", str(path), "--duplicates", "keep")
    assert kept.code == 0
    assert len(_listed(shared_sandbox, "--search", "twice.bin")) == 2


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["info", "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d"], 4, "no document with id"),
        (["info", "not-a-stored-name"], 4, "There is no document named 'not-a-stored-name'"),
        (["upload", "/nonexistent/file.txt"], 12, "does not exist"),
        (["list", "--cursor", "garbage!!"], 3, "cursor is malformed"),
        (["list", "--limit", "0"], 2, "must be at least 1"),
        (["delete", "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d", "--yes"], 4, "no document with id"),
        (["rename", "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d", "a/b"], 3, "path separator"),
    ],
)
def test_bad_input_gets_one_line_and_its_exit_code(
    shared_sandbox: SandboxHome, argv: list[str], code: int, message: str
) -> None:
    result = shared_sandbox.dms(*argv)

    assert result.code == code
    assert message in result.err
    assert "Traceback" not in result.err


def test_invalid_tag_uploads_nothing(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    path = tmp_path / "never-stored.txt"
    path.write_text("nope")

    result = shared_sandbox.dms("upload", str(path), "--tag", "x" * 65)

    assert result.code == 3
    assert "limit is 64" in result.err
    assert _listed(shared_sandbox, "--search", "never-stored") == []


def test_download_never_overwrites_without_asking(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "report.txt"
    source.write_bytes(b"new content")
    document_id = str(_upload(shared_sandbox, source, "--duplicates", "keep")["documentId"])
    existing = tmp_path / "out" / "report.txt"
    existing.parent.mkdir()
    existing.write_bytes(b"precious local edits")

    refused = shared_sandbox.dms("download", document_id, "-o", str(existing.parent))
    assert refused.code == 3
    assert "already exists" in refused.err
    assert existing.read_bytes() == b"precious local edits"
    assert list(existing.parent.iterdir()) == [existing]  # no partial file left

    allowed = shared_sandbox.dms("download", document_id, "-o", str(existing), "--overwrite")
    assert allowed.code == 0
    assert existing.read_bytes() == b"new content"


def test_delete_asks_for_confirmation_without_a_terminal(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    path = tmp_path / "do-not-delete.txt"
    path.write_text("keep")
    document_id = str(_upload(shared_sandbox, path, "--duplicates", "keep")["documentId"])

    result = shared_sandbox.dms("delete", document_id, "--permanently")

    assert result.code == 3
    assert "--yes" in result.err
    assert shared_sandbox.dms("info", document_id).code == 0


def test_login_remembers_and_logout_forgets(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch, isolated_environment: object
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "admin-password")
    login = shared_sandbox.dms("login", "--username", "admin")
    assert login.code == 0, login.err
    assert "remembered" in login.out
    monkeypatch.delenv("DMS_PASSWORD")

    whoami = json.loads(shared_sandbox.dms("whoami", "--json").out)
    assert whoami["username"] == "admin"
    assert whoami["admin"] is True

    assert "forgotten" in shared_sandbox.dms("logout").out
    assert json.loads(shared_sandbox.dms("whoami", "--json").out)["username"] == "demo"


def test_wrong_password_is_an_auth_error(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "not-the-password")

    result = shared_sandbox.dms("login", "--username", "demo")

    assert result.code == 6
    assert "Wrong username or password" in result.err


def test_users_see_only_their_own_documents(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "carol-password")
    assert shared_sandbox.dms("local", "add-user", "carol").code == 0
    monkeypatch.setenv("DMS_USERNAME", "carol")
    assert _listed(shared_sandbox) == []

    path = tmp_path / "carol-only.txt"
    path.write_text("mine")
    carol_doc = str(_upload(shared_sandbox, path)["documentId"])
    assert [doc["documentId"] for doc in _listed(shared_sandbox)] == [carol_doc]

    monkeypatch.delenv("DMS_USERNAME")
    monkeypatch.delenv("DMS_PASSWORD")
    assert carol_doc not in [doc["documentId"] for doc in _listed(shared_sandbox)]
    assert shared_sandbox.dms("info", carol_doc).code == 4


def test_a_rejected_password_leaves_no_half_created_user(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "short")
    rejected = shared_sandbox.dms("local", "add-user", "dora")
    assert rejected.code == 11
    assert "Password not accepted" in rejected.err

    monkeypatch.setenv("DMS_PASSWORD", "dora-password")
    assert shared_sandbox.dms("local", "add-user", "dora").code == 0  # the name was left free
    monkeypatch.setenv("DMS_USERNAME", "dora")
    assert shared_sandbox.dms("whoami").out.startswith("dora, user id ")


def test_remove_user_takes_a_user_out_of_the_sandbox(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "erin-password")
    assert shared_sandbox.dms("local", "add-user", "erin").code == 0

    removed = shared_sandbox.dms("local", "remove-user", "erin")

    assert removed.code == 0
    assert "Removed erin" in removed.out
    monkeypatch.setenv("DMS_USERNAME", "erin")
    assert shared_sandbox.dms("whoami").code == 6  # cannot sign in any more
    again = shared_sandbox.dms("local", "remove-user", "erin")
    assert again.code == 11
    assert "has no user 'erin'" in again.err


def test_a_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "home" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.work]\nkind = "aws"\nregion = "eu-west-1"\n')
    err = io.StringIO()

    code = main(["--home", str(tmp_path / "home"), "--profile", "work", "list"], err=err)

    assert code == 10
    assert "profiles.work.bucket" in err.getvalue()


def test_unknown_profile_is_a_config_error(tmp_path: Path) -> None:
    err = io.StringIO()

    code = main(["--home", str(tmp_path), "--profile", "nope", "list"], err=err)

    assert code == 10
    assert "no profile named 'nope'" in err.getvalue()


def test_sandbox_port_taken_is_reported(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        config = tmp_path / "config" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'[profiles.local]\nkind = "sandbox"\nport = {port}\n')
        err = io.StringIO()

        code = main(["--home", str(tmp_path), "list"], err=err)

    assert code == 11
    assert str(port) in err.getvalue()


def test_two_processes_share_one_sandbox(tmp_path: Path) -> None:
    home = tmp_path / "home"
    command = [sys.executable, "-m", "dms_desktop.cli", "--home", str(home), "whoami", "--json"]
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    try:
        processes = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            for _ in range(2)
        ]
        results = [process.communicate(timeout=120) for process in processes]
        assert [process.returncode for process in processes] == [0, 0], results
        endpoints = {json.loads(out)["endpoint"] for out, _ in results}
        assert len(endpoints) == 1
    finally:
        from dms_desktop.core.paths import AppPaths

        stop(AppPaths.resolve(home))


def test_console_script_exit_code_and_stderr(shared_sandbox: SandboxHome) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dms_desktop.cli",
            "--home",
            str(shared_sandbox.home),
            "info",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        check=False,
    )

    assert result.returncode == 4  # "nope" is taken as a name, and none has it
    assert result.stderr.strip().startswith("dms: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_password_token_or_credential_reaches_the_log(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch, isolated_environment: object
) -> None:
    import logging

    password = "Known-Fake-Secret-9137"
    monkeypatch.setenv("DMS_PASSWORD", password)
    assert shared_sandbox.dms("local", "add-user", "secretive").code == 0
    login = shared_sandbox.dms("-vv", "login", "--username", "secretive")
    assert login.code == 0, login.err
    assert shared_sandbox.dms("-vv", "list").code == 0
    logging.shutdown()  # flush the file handler

    remembered = json.loads(
        isolated_environment.secrets[("dms-desktop", "local")]  # type: ignore[attr-defined]
    )
    log_text = "".join(
        path.read_text(errors="replace") for path in (shared_sandbox.home / "logs").glob("*.log*")
    )
    assert "signed in as secretive" in log_text  # the log is written, at debug level
    for secret in (password, remembered["refresh_token"], "X-Amz-Security-Token", "Authorization"):
        assert secret not in log_text


def test_local_seed_fills_the_sandbox_with_documents_the_list_shows(
    shared_sandbox: SandboxHome,
) -> None:
    result = shared_sandbox.dms("local", "seed", "--count", "1,030", "--tag", "seeded", "--text")

    assert result.code == 0, result.err
    assert result.out.strip() == "Stored 1030 generated documents tagged seeded."
    assert len(_listed(shared_sandbox, "--tag", "seeded", "--all")) == 1030


@pytest.mark.parametrize(
    ("count", "message"),
    [("many", "'many' is not a number of documents"), ("0", "between 1 and 1,000,000")],
)
def test_local_seed_refuses_a_bad_count(
    shared_sandbox: SandboxHome, count: str, message: str
) -> None:
    result = shared_sandbox.dms("local", "seed", "--count", count)

    assert result.code != 0
    assert message in result.err
