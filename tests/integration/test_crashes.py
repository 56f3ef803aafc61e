"""The app killed with SIGKILL in the middle of its work (issue 6, "Crashes").

A real `dms` process is killed: from outside once a big multipart upload is under way, or by
itself at an exact request (tests/support/crash_runner.py). The next start (a `dms` command, or
the window) finds the work in the journal and resumes or cleans it up, and says which; then the
invariant holds (no metadata without a body or the reverse, no multipart upload left, no partial
download file).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.journal import journal_for
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.models import Document
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.transfers_panel import STATE
from dms_desktop.sandbox import add_user, stop
from dms_desktop.sandbox.info import KEY_HEADER
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome
from tests.support.faults import assert_nothing_lost, stored_state
from tests.support.request_log import requests_sent
from tests.support.settled import wait_until_answered

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "crash-password"
WAIT_S = 60
WAIT_MS = 20_000
_users = itertools.count(1)


@pytest.fixture
def crash_user(shared_sandbox: SandboxHome, tmp_path: Path) -> SignedIn:
    name = f"crash{next(_users)}-{tmp_path.name[-10:].lower()}"
    add_user(shared_sandbox.info, name, PASSWORD)
    return sign_in(open_backend(shared_sandbox.paths), name, PASSWORD)


@pytest.fixture
def env(crash_user: SignedIn) -> dict[str, str]:
    return {**os.environ, "DMS_USERNAME": crash_user.username, "DMS_PASSWORD": PASSWORD}


def _dms(sandbox: SandboxHome, *args: str) -> list[str]:
    return [sys.executable, "-m", "dms_desktop.cli", "--home", str(sandbox.home), *args]


def _crashing(sandbox: SandboxHome, when: str, operation: str, count: int, *args: str) -> list[str]:
    runner = [sys.executable, "-m", "tests.support.crash_runner", when, operation, str(count)]
    return [*runner, "--", "--home", str(sandbox.home), *args]


def _run_killed(command: list[str], env: dict[str, str]) -> None:
    """Run ``command``, which kills itself with SIGKILL (crash_runner)."""
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, f"not killed: {result.returncode} {result.stderr}"


def _next_start(
    sandbox: SandboxHome, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    """The next `dms` command on this machine (another process, as after a real crash)."""
    return subprocess.run(
        _dms(sandbox, *args), env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _parts_on_server(sandbox: SandboxHome, upload: dict[str, Any]) -> set[int]:
    wait_until_answered(sandbox.info)  # the killed client's last part may be in flight
    s3 = sandbox_client(sandbox.info.endpoint_url, "s3", None)
    try:
        listed = s3.list_parts(
            Bucket=sandbox.info.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        return {int(part["PartNumber"]) for part in listed.get("Parts", [])}
    finally:
        s3.close()


BIG_MB = 160  # ten parts of 16 MiB


def _big_file(path: Path) -> bytes:
    data = os.urandom(BIG_MB * 1024 * 1024)
    path.write_bytes(data)
    return data


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` of a 160 MB file killed (SIGKILL) after its third part was stored",
    "next start: 'interrupted (… sent); it is kept' on stderr; resuming it sends only the "
    "missing parts; the document is byte-identical and no multipart upload is left",
)
def test_upload_killed_mid_multipart_is_kept_and_resumed_with_the_missing_parts_only(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "big-video.bin"
    data = _big_file(big)
    _run_killed(
        _crashing(
            shared_sandbox, "after", "s3.UploadPart", 3, "upload", str(big), "--duplicates", "keep"
        ),
        env,
    )
    metadata, _bodies, uploads = stored_state(shared_sandbox.info, crash_user.user_id)
    assert metadata == {} and len(uploads) == 1  # what the crash left behind
    stored_parts = _parts_on_server(shared_sandbox, uploads[0])
    assert len(stored_parts) >= 3

    result = _next_start(shared_sandbox, env, "list")

    assert result.returncode == 0, result.stderr
    assert "The upload of big-video.bin was interrupted (" in result.stderr
    assert "it is kept" in result.stderr
    assert "No documents yet." in result.stdout
    assert _next_start(shared_sandbox, env, "list").stderr == ""  # told once

    service = open_service(
        open_backend(shared_sandbox.paths), crash_user, paths=shared_sandbox.paths
    )
    (kept,) = service.interrupted_transfers()
    assert (kept.kind, kept.local_path, kept.total) == ("upload", str(big), len(data))
    with requests_sent() as sent:
        document = service.resume_transfer(kept.short_id)
    assert isinstance(document, Document)
    parts_sent = sorted(int(request.split()[1]) for request in sent if "UploadPart" in request)
    # Only the parts the server did not have are sent; also the last one stored before the
    # kill, which the app had no time to note (its ETag, the MD5 of the bytes there, vouches).
    assert parts_sent == sorted(set(range(1, 11)) - stored_parts)
    assert "GET max-parts,uploadId" in sent  # ListParts asked what the server has
    assert document.size == len(data)
    assert document.checksum == hashlib.sha256(data).hexdigest()
    out = tmp_path / "out"
    out.mkdir()
    assert service.download(document.document_id, out).read_bytes() == data
    assert service.interrupted_transfers() == []
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` killed (SIGKILL) as soon as S3 began its multipart upload, before the app "
    "noted the upload's id; then `dms upload` of the same file again",
    "resumed from the start; the multipart upload nobody knew the id of is aborted (was: left "
    "dangling); the document is byte-identical",
)
def test_upload_killed_before_noting_its_multipart_upload_leaves_none_dangling(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "minutes.bin"
    data = os.urandom(20 * 1024 * 1024)  # two parts of 16 MiB
    big.write_bytes(data)
    upload = ("upload", str(big), "--duplicates", "keep", "--json")
    _run_killed(_crashing(shared_sandbox, "after", "s3.CreateMultipartUpload", 1, *upload), env)
    assert len(stored_state(shared_sandbox.info, crash_user.user_id)[2]) == 1

    result = _next_start(shared_sandbox, env, *upload)

    assert result.returncode == 0, result.stderr
    assert "Resuming the interrupted upload of " in result.stderr
    assert stored_state(shared_sandbox.info, crash_user.user_id)[2] == []
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    (stored,) = json.loads(result.stdout)
    assert stored["checksum"] == hashlib.sha256(data).hexdigest()


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` killed after the whole body was sent, before its metadata was written",
    "next start: resumed, the document is listed with its checksum, and stderr says so",
)
def test_upload_killed_before_the_metadata_write_is_resumed(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(b"%PDF-1.4 resumed after a crash\n" * 1000)
    _run_killed(
        _crashing(shared_sandbox, "before", "dynamodb.PutItem", 1, "upload", str(source)), env
    )
    metadata, bodies, _ = stored_state(shared_sandbox.info, crash_user.user_id)
    assert metadata == {} and len(bodies) == 1

    result = _next_start(shared_sandbox, env, "list", "--json")

    assert result.returncode == 0, result.stderr
    assert "after the whole file was sent; it is now stored (resumed)" in result.stderr
    assert "report.pdf" in result.stdout
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    (document,) = service.iter_documents(ListQuery())
    out = tmp_path / "out"
    out.mkdir()
    assert service.download(document.document_id, out).read_bytes() == source.read_bytes()


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload FILE --new-version ID` killed after the file was stored, before the version "
    "was written to the document",
    "next start: the version is recorded (stderr says so); the current file and the document "
    "match, one version added, byte-identical",
)
def test_new_version_killed_before_its_history_write_is_recorded_at_the_next_start(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    first = tmp_path / "plan.txt"
    first.write_bytes(b"first plan\n" * 100)
    document = service.upload(first)
    source = tmp_path / "plan v2.txt"
    source.write_bytes(b"second plan, longer\n" * 300)
    _run_killed(
        _crashing(
            shared_sandbox,
            "before",
            "dynamodb.UpdateItem",
            1,
            "upload",
            str(source),
            "--new-version",
            document.document_id,
        ),
        env,
    )
    metadata, bodies, _ = stored_state(shared_sandbox.info, crash_user.user_id)
    assert metadata != bodies  # the new file is current, the document not yet updated

    result = _next_start(shared_sandbox, env, "versions", document.document_id, "--json")

    assert result.returncode == 0, result.stderr
    assert "new version of plan.txt was interrupted after the whole file" in result.stderr
    versions = json.loads(result.stdout)["versions"]
    assert [(v["number"], v["size"]) for v in versions] == [
        (2, source.stat().st_size),
        (1, first.stat().st_size),
    ]
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    out = tmp_path / "out"
    out.mkdir()
    assert service.download(document.document_id, out).read_bytes() == source.read_bytes()


@pytest.mark.nothing_lost(
    "crash",
    "`dms download` killed while writing",
    "next start: the partial file is kept and stderr says so; resuming it asks only for the "
    "missing bytes (a ranged GET on the ETag); the file is checksum-verified and whole",
)
def test_download_killed_is_kept_and_resumed_from_its_partial_file(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    service = open_service(
        open_backend(shared_sandbox.paths), crash_user, paths=shared_sandbox.paths
    )
    source = tmp_path / "notes.bin"
    data = os.urandom(24 * 1024 * 1024)  # more chunks than are read ahead of the disk
    source.write_bytes(data)
    document = service.upload(source)
    out = tmp_path / "out"
    out.mkdir()
    _run_killed(
        _crashing(
            shared_sandbox, "written", "s3.GET", 1, "download", document.document_id, "-o", str(out)
        ),
        env,
    )
    (partial,) = [path for path in out.iterdir() if path.name.endswith(".dms-partial")]
    written = partial.stat().st_size
    assert 0 < written < len(data)

    result = _next_start(shared_sandbox, env, "list")

    assert "The download of notes.bin" in result.stderr
    assert "it is kept" in result.stderr
    (kept,) = service.interrupted_transfers()
    assert (kept.kind, kept.done) == ("download", written)
    with requests_sent() as sent:
        path = service.resume_transfer(kept.transfer_id)
    assert path == out / "notes.bin"
    assert path.read_bytes() == data
    assert [request for request in sent if request.startswith("GET")] == [f"GET bytes={written}-"]
    assert service.interrupted_transfers() == []
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id, out)


@pytest.mark.nothing_lost(
    "crash",
    "`dms delete` killed between the metadata and the body",
    "next start: the body is deleted too and stderr says the delete was finished",
)
def test_delete_killed_between_metadata_and_body_is_finished(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    source = tmp_path / "old.txt"
    source.write_text("to be deleted\n")
    document = service.upload(source)
    _run_killed(
        _crashing(
            shared_sandbox,
            "after",
            "dynamodb.DeleteItem",
            1,
            "delete",
            document.document_id,
            "--permanently",
            "-y",
        ),
        env,
    )
    assert len(stored_state(shared_sandbox.info, crash_user.user_id)[1]) == 1  # an orphan

    result = _next_start(shared_sandbox, env, "list")

    assert (
        f"Deleting document {document.document_id} was interrupted; it is now deleted completely."
        in result.stderr
    )
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    assert stored_state(shared_sandbox.info, crash_user.user_id)[1] == {}


@pytest.mark.nothing_lost(
    "crash",
    "`dms delete` of 30 documents killed after its first metadata batch (25)",
    "next start: the 25 half-deleted documents' files removed, the 5 not reached kept; stderr "
    "says both",
)
def test_a_batched_delete_killed_mid_batch_is_finished_for_what_it_reached(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    ids = []
    for number in range(30):
        path = tmp_path / f"many-{number:02d}.txt"
        path.write_text(f"one of many {number}\n")
        ids.append(service.upload(path).document_id)
    _run_killed(
        _crashing(
            shared_sandbox,
            "after",
            "dynamodb.BatchWriteItem",
            1,
            "delete",
            "--permanently",
            *ids,
            "-y",
        ),
        env,
    )
    metadata, bodies, _ = stored_state(shared_sandbox.info, crash_user.user_id)
    assert (len(metadata), len(bodies)) == (5, 30)  # 25 invisible orphans

    result = _next_start(shared_sandbox, env, "list")

    assert (
        "Deleting 30 document(s) was interrupted; 25 of them are now deleted completely; the "
        "other 5 were not deleted: delete them again if you still want to."
    ) in result.stderr
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    assert len(stored_state(shared_sandbox.info, crash_user.user_id)[0]) == 5


@pytest.mark.nothing_lost(
    "crash",
    "`dms admin cleanup --yes` of 60 documents killed after 2 of its 3 metadata batches",
    "next admin command: the 50 half-deleted documents' files removed, the 10 not reached "
    "kept and reported ('run the cleanup again'); audit log written",
)
def test_admin_cleanup_killed_mid_batch_is_finished_or_reported(
    shared_sandbox: SandboxHome, crash_user: SignedIn, tmp_path: Path
) -> None:
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    tag = f"crash-{tmp_path.name[-10:].lower()}"
    for number in range(60):
        path = tmp_path / f"test-record-{number:02d}.txt"
        path.write_text(f"test record {number}\n")
        service.upload(path, tags=[tag])
    admin_env = {**os.environ, "DMS_USERNAME": "admin", "DMS_PASSWORD": "admin-password"}
    cleanup = ("admin", "cleanup", "--tag", tag, "--owner", crash_user.user_id, "--yes")
    _run_killed(
        _crashing(shared_sandbox, "after", "dynamodb.BatchWriteItem", 2, *cleanup), admin_env
    )
    metadata, bodies, _ = stored_state(shared_sandbox.info, crash_user.user_id)
    assert (len(metadata), len(bodies)) == (10, 60)  # 50 invisible orphans

    result = _next_start(shared_sandbox, admin_env, "admin", "check", "--json")

    assert "was interrupted: the files of 50 documents" in result.stderr
    assert "10 documents it had not reached were not deleted: run the cleanup again" in (
        result.stderr
    )
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    assert len(stored_state(shared_sandbox.info, crash_user.user_id)[0]) == 10
    audits = sorted((shared_sandbox.paths.data_dir / "audit").glob("*.json"))
    assert any('"kind": "recovery"' in path.read_text() for path in audits)


@pytest.fixture
def desktop_after_crash(
    qtbot: QtBot, shared_sandbox: SandboxHome, crash_user: SignedIn
) -> Iterator[DesktopApp]:
    app = DesktopApp(shared_sandbox.paths)
    qtbot.addWidget(app.window)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


@pytest.mark.nothing_lost(
    "crash",
    "upload killed before its metadata write, then the window started",
    "the message bar says the upload was resumed; the document is in the list",
)
def test_window_start_resumes_and_says_so(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    crash_user: SignedIn,
    env: dict[str, str],
    tmp_path: Path,
    desktop_after_crash: DesktopApp,
) -> None:
    source = tmp_path / "holiday.jpg"
    source.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 500)
    _run_killed(
        _crashing(shared_sandbox, "before", "dynamodb.PutItem", 1, "upload", str(source)), env
    )
    assert len(list(journal_for(shared_sandbox.paths).folder.glob("*.json"))) >= 1

    app = desktop_after_crash
    app.start()
    qtbot.waitUntil(lambda: app.sign_in_dialog is not None, timeout=WAIT_MS)
    dialog = app.sign_in_dialog
    assert dialog is not None
    dialog.findChild(QLineEdit, "usernameEdit").setText(crash_user.username)
    dialog.findChild(QLineEdit, "passwordEdit").setText(PASSWORD)
    dialog.findChild(QPushButton, "signInButton").click()

    bar = app.message_bar
    qtbot.waitUntil(lambda: "holiday.jpg" in bar.text, timeout=WAIT_MS)
    assert "it is now stored (resumed)" in bar.text
    assert not bar.is_error
    qtbot.waitUntil(
        lambda: [doc.filename for doc in app.window.model.documents()] == ["holiday.jpg"],
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: not app.operations.busy, timeout=WAIT_MS)
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)


@pytest.mark.nothing_lost(
    "crash",
    "a client killed while the sandbox sends it a file (its connection reset mid-response)",
    "the sandbox keeps answering and saves its state (was: it froze for every client)",
)
def test_a_client_killed_mid_response_does_not_freeze_the_sandbox(
    fresh_sandbox: SandboxHome,
) -> None:
    info = fresh_sandbox.info
    s3 = sandbox_client(
        info.endpoint_url, "s3", None, read_timeout=5, retries={"total_max_attempts": 1}
    )
    s3.put_object(Bucket=info.bucket, Key="private/someone/big", Body=b"x" * (64 * 1024 * 1024))
    host, port = info.endpoint_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        request = (
            f"GET /{info.bucket}/private/someone/big HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"{KEY_HEADER}: {info.key}\r\n\r\n"
        )
        client.sendall(request.encode())
        assert select.select([client], [], [], 30)[0], "no response started"
        # What the kernel does for a killed process with unread data: reset the connection.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    s3.put_object(Bucket=info.bucket, Key="private/someone/after", Body=b"after")
    assert s3.get_object(Bucket=info.bucket, Key="private/someone/after")["Body"].read() == (
        b"after"
    )
    s3.close()
    stop(fresh_sandbox.paths)  # saves the state; froze for 30 s, then failed, before the fix


def _signed_in_window(qtbot: QtBot, app: DesktopApp, user: SignedIn) -> None:
    app.start()
    qtbot.waitUntil(lambda: app.sign_in_dialog is not None, timeout=WAIT_MS)
    dialog = app.sign_in_dialog
    assert dialog is not None
    dialog.findChild(QLineEdit, "usernameEdit").setText(user.username)
    dialog.findChild(QLineEdit, "passwordEdit").setText(PASSWORD)
    dialog.findChild(QPushButton, "signInButton").click()


def _interrupted_row(qtbot: QtBot, app: DesktopApp) -> int:
    """Wait for the panel to show the interrupted transfer; select its row."""
    panel = app.window.transfers_panel
    model = panel.model
    qtbot.waitUntil(
        lambda: model.rowCount() == 1 and model.index(0, STATE).data() == "Interrupted",
        timeout=WAIT_MS,
    )
    assert panel.isVisible()
    panel.table.selectRow(0)
    return 0


WINDOW_PARTS = 6  # a 96 MiB file: six parts of 16 MiB


def _window_killed_after_part_2(
    sandbox: SandboxHome, user: SignedIn, env: dict[str, str], *upload: str
) -> set[int]:
    """Run the window's transfer queue on ``upload`` (FILE [DOCUMENT_ID]: a new version) in a
    process SIGKILLed once S3 confirmed part 2; the parts the server then holds."""
    runner = [sys.executable, "-m", "tests.support.window_crash_runner"]
    _run_killed([*runner, str(sandbox.home), user.username, PASSWORD, "2", *upload], env)
    (multipart,) = stored_state(sandbox.info, user.user_id)[2]
    return _parts_on_server(sandbox, multipart)


def _parts_sent_by_resume(qtbot: QtBot, app: DesktopApp, user: SignedIn) -> list[int]:
    """Start the window, click Resume on the interrupted upload it shows, wait until it is
    done: the parts it sent."""
    _signed_in_window(qtbot, app, user)
    row = _interrupted_row(qtbot, app)
    panel = app.window.transfers_panel
    with requests_sent() as sent:
        panel.resume_button.click()
        qtbot.waitUntil(lambda: panel.model.index(row, STATE).data() == "Done", timeout=WAIT_MS)
    return sorted(int(request.split()[1]) for request in sent if "UploadPart" in request)


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` killed mid multipart upload, then the window started and Resume clicked",
    "the transfers panel shows it Interrupted; Resume sends only the missing parts; the "
    "document is in the list, byte-identical, no multipart upload left",
)
def test_window_shows_an_interrupted_upload_and_resumes_it(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    crash_user: SignedIn,
    env: dict[str, str],
    tmp_path: Path,
    desktop_after_crash: DesktopApp,
) -> None:
    big = tmp_path / "film.bin"
    big.write_bytes(os.urandom(WINDOW_PARTS * 16 * 1024 * 1024))
    _run_killed(
        _crashing(
            shared_sandbox, "after", "s3.UploadPart", 2, "upload", str(big), "--duplicates", "keep"
        ),
        env,
    )
    (upload,) = stored_state(shared_sandbox.info, crash_user.user_id)[2]
    on_server = _parts_on_server(shared_sandbox, upload)
    app = desktop_after_crash
    _signed_in_window(qtbot, app, crash_user)
    row = _interrupted_row(qtbot, app)
    panel = app.window.transfers_panel
    assert panel.resume_button.isEnabled() and panel.discard_button.isEnabled()
    assert not panel.cancel_button.isEnabled()

    with requests_sent() as sent:
        panel.resume_button.click()
        qtbot.waitUntil(lambda: panel.model.index(row, STATE).data() == "Done", timeout=WAIT_MS)

    parts_sent = sorted(int(request.split()[1]) for request in sent if "UploadPart" in request)
    assert parts_sent == sorted(set(range(1, WINDOW_PARTS + 1)) - on_server)
    qtbot.waitUntil(
        lambda: [doc.filename for doc in app.window.model.documents()] == ["film.bin"],
        timeout=WAIT_MS,
    )
    (document,) = app.window.model.documents()
    assert document.checksum == hashlib.sha256(big.read_bytes()).hexdigest()
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)


def test_window_discards_an_interrupted_upload(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    crash_user: SignedIn,
    env: dict[str, str],
    tmp_path: Path,
    desktop_after_crash: DesktopApp,
) -> None:
    big = tmp_path / "unwanted.bin"
    big.write_bytes(os.urandom(WINDOW_PARTS * 16 * 1024 * 1024))
    _run_killed(
        _crashing(
            shared_sandbox, "after", "s3.UploadPart", 2, "upload", str(big), "--duplicates", "keep"
        ),
        env,
    )
    app = desktop_after_crash
    _signed_in_window(qtbot, app, crash_user)
    _interrupted_row(qtbot, app)
    panel = app.window.transfers_panel

    panel.discard_button.click()

    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT_MS)
    assert stored_state(shared_sandbox.info, crash_user.user_id) == ({}, {}, [])  # aborted
    service = open_service(
        open_backend(shared_sandbox.paths), crash_user, paths=shared_sandbox.paths
    )
    assert service.interrupted_transfers() == []


@pytest.mark.nothing_lost(
    "crash",
    "the window's process killed (SIGKILL) mid multipart upload, then the window started again",
    "the transfers panel shows it Interrupted; Resume sends only the missing parts; the "
    "document is byte-identical, no multipart upload left",
)
def test_window_killed_mid_upload_resumes_at_its_next_start(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    crash_user: SignedIn,
    env: dict[str, str],
    tmp_path: Path,
    desktop_after_crash: DesktopApp,
) -> None:
    big = tmp_path / "recording.bin"
    big.write_bytes(os.urandom(WINDOW_PARTS * 16 * 1024 * 1024))
    on_server = _window_killed_after_part_2(shared_sandbox, crash_user, env, str(big))
    app = desktop_after_crash

    parts_sent = _parts_sent_by_resume(qtbot, app, crash_user)

    assert parts_sent == sorted(set(range(1, WINDOW_PARTS + 1)) - on_server)
    qtbot.waitUntil(
        lambda: [doc.filename for doc in app.window.model.documents()] == ["recording.bin"],
        timeout=WAIT_MS,
    )
    (document,) = app.window.model.documents()
    assert document.checksum == hashlib.sha256(big.read_bytes()).hexdigest()
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)


@pytest.mark.nothing_lost(
    "crash",
    "the window's process killed (SIGKILL) mid multipart upload of a new version, then the "
    "window started again",
    "the transfers panel shows it Interrupted; Resume sends only the missing parts and adds "
    "exactly one version; both versions byte-identical; no multipart upload left",
)
def test_window_killed_mid_new_version_resumes_and_adds_exactly_one_version(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    crash_user: SignedIn,
    env: dict[str, str],
    tmp_path: Path,
    desktop_after_crash: DesktopApp,
) -> None:
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    first = tmp_path / "survey.bin"
    first.write_bytes(os.urandom(100_000))
    document = service.upload(first)
    second = tmp_path / "survey, second flight.bin"
    second.write_bytes(os.urandom(WINDOW_PARTS * 16 * 1024 * 1024))
    on_server = _window_killed_after_part_2(
        shared_sandbox, crash_user, env, str(second), document.document_id
    )

    parts_sent = _parts_sent_by_resume(qtbot, desktop_after_crash, crash_user)

    assert parts_sent == sorted(set(range(1, WINDOW_PARTS + 1)) - on_server)
    history = service.versions.history(document.document_id)
    assert [(v.number, v.size) for v in history.versions] == [
        (1, first.stat().st_size),
        (2, second.stat().st_size),
    ]
    current = service.get(document.document_id)
    assert (current.filename, current.checksum) == (
        "survey.bin",
        hashlib.sha256(second.read_bytes()).hexdigest(),
    )
    out = tmp_path / "out"
    out.mkdir()
    assert service.download(document.document_id, out).read_bytes() == second.read_bytes()
    old = service.versions.download_version(document.document_id, 1, out / "v1.bin")
    assert old.read_bytes() == first.read_bytes()
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id, out)
