"""The app killed with SIGKILL in the middle of its work (issue 6, "Crashes").

A real `dms` process is killed: from outside once a big multipart upload is under way, or by
itself at an exact request (tests/support/crash_runner.py). The next start (a `dms` command, or
the window) finds the work in the journal and resumes or cleans it up, and says which; then the
invariant holds (no metadata without a body or the reverse, no multipart upload left, no partial
download file).
"""

from __future__ import annotations

import itertools
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.journal import journal_for
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.schema import user_prefix
from dms_desktop.gui.app import DesktopApp
from dms_desktop.sandbox import add_user, stop
from dms_desktop.sandbox.info import KEY_HEADER
from dms_desktop.sandbox.server import sandbox_client
from tests.integration.conftest import SandboxHome
from tests.support.faults import assert_nothing_lost, stored_state

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


def _uploads_under_way(sandbox: SandboxHome, user_id: str) -> bool:
    """True once a multipart upload of the user has at least one part stored."""
    s3 = sandbox_client(sandbox.info.endpoint_url, "s3", None)
    try:
        uploads = s3.list_multipart_uploads(
            Bucket=sandbox.info.bucket, Prefix=user_prefix(user_id)
        ).get("Uploads", [])
        return any(
            s3.list_parts(Bucket=sandbox.info.bucket, Key=u["Key"], UploadId=u["UploadId"]).get(
                "Parts"
            )
            for u in uploads
        )
    finally:
        s3.close()


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` of a 160 MB file killed (SIGKILL) while its multipart upload is under way",
    "next start: 'interrupted; nothing was stored … upload it again' on stderr; "
    "the multipart upload is aborted",
)
def test_upload_killed_mid_multipart_is_cleaned_up_at_the_next_start(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "big-video.bin"
    with big.open("wb") as file:
        file.truncate(160 * 1024 * 1024)  # sparse: quick to make, read as zeros
    process = subprocess.Popen(
        _dms(shared_sandbox, "upload", str(big), "--duplicates", "keep"),
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while not _uploads_under_way(shared_sandbox, crash_user.user_id):
            assert process.poll() is None, "the upload ended before it could be killed"
            assert time.monotonic() < deadline, "the multipart upload never started"
            time.sleep(0.02)  # polling the backend for the condition, not waiting blindly
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=WAIT_S)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert process.returncode == -signal.SIGKILL
    metadata, _bodies, uploads = stored_state(shared_sandbox.info, crash_user.user_id)
    assert metadata == {} and len(uploads) == 1  # what the crash left behind

    result = _next_start(shared_sandbox, env, "list")

    assert result.returncode == 0, result.stderr
    assert "The upload of big-video.bin was interrupted; nothing was stored" in result.stderr
    assert str(big) in result.stderr  # which file to upload again
    assert "No documents yet." in result.stdout
    assert_nothing_lost(shared_sandbox.info, crash_user.user_id)
    assert stored_state(shared_sandbox.info, crash_user.user_id)[1] == {}
    assert _next_start(shared_sandbox, env, "list").stderr == ""  # told once


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
    "`dms download` killed while writing",
    "next start: the partial file is removed and stderr says so; the target was never written",
)
def test_download_killed_leaves_no_partial_file(
    shared_sandbox: SandboxHome, crash_user: SignedIn, env: dict[str, str], tmp_path: Path
) -> None:
    service = open_service(open_backend(shared_sandbox.paths), crash_user)
    source = tmp_path / "notes.txt"
    source.write_text("downloaded, then killed\n" * 1000)
    document = service.upload(source)
    out = tmp_path / "out"
    out.mkdir()
    _run_killed(
        _crashing(
            shared_sandbox, "reading", "s3.GET", 1, "download", document.document_id, "-o", str(out)
        ),
        env,
    )
    assert [path.name for path in out.iterdir() if path.name.endswith(".dms-partial")]

    result = _next_start(shared_sandbox, env, "list")

    assert "The download of notes.txt" in result.stderr
    assert "the partial file was removed" in result.stderr
    assert list(out.iterdir()) == []
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
