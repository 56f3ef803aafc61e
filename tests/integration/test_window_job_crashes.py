"""The window's process killed (SIGKILL) in the middle of a job of many files (issue 22): a folder
upload (small files and one multipart file) and a download of several documents, killed at
several points (tests/support/window_job_crash_runner.py). The window's next start shows the job
as Interrupted with the files it had done; Resume sends only what is missing (counted from the
requests), every file ends stored once (or written whole), checksum-verified, and no multipart
upload or partial file is left.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.journal import journal_for
from dms_desktop.core.schema import object_key
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.transfers_panel import FILES, NAME, STATE
from dms_desktop.sandbox import add_user
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome
from tests.support.faults import assert_nothing_lost, stored_state
from tests.support.request_log import requests_sent
from tests.support.settled import wait_until_answered
from tests.support.window import WAIT_MS, start_signed_in
from tests.support.window_job_crash_runner import PART

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "window-job-crash-password"
SMALL = 8  # small files: one PutObject each
BIG = "scan.tif"
BIG_SIZE = 4 * PART + 2 * 1024 * 1024  # five parts of the runner's 5 MiB
BIG_PARTS = 5
ALL_FILES = SMALL + 1
_users = itertools.count(1)


@pytest.fixture
def user(shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SignedIn:
    name = f"winjob{next(_users)}-{tmp_path.name[-10:].lower()}"
    add_user(shared_sandbox.info, name, PASSWORD)
    monkeypatch.setenv("DMS_USERNAME", name)  # for `dms list` and `dms download` in-process
    monkeypatch.setenv("DMS_PASSWORD", PASSWORD)
    return sign_in(open_backend(shared_sandbox.paths), name, PASSWORD)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """'survey': eight small files (three in a subfolder) and one of five parts."""
    root = tmp_path / "survey"
    (root / "notes").mkdir(parents=True)
    for number in range(SMALL):
        where = root / "notes" if number % 3 == 0 else root
        (where / f"page-{number}.txt").write_bytes(os.urandom(20_000 + number))
    (root / BIG).write_bytes(os.urandom(BIG_SIZE))
    return root


@pytest.fixture
def desktop(qtbot: QtBot) -> Iterator[list[DesktopApp]]:
    """The window started after the crash (appended by the test), closed at the end."""
    started: list[DesktopApp] = []
    yield started
    for app in started:
        app.window.confirm_quit_without_asking()
        app.window.close()
        app.shutdown()


def _kill_window_mid_job(
    sandbox: SandboxHome, user: SignedIn, when: str, what: str, count: int, *job: str
) -> None:
    runner = [sys.executable, "-m", "tests.support.window_job_crash_runner"]
    command = [*runner, str(sandbox.home), user.username, PASSWORD, when, what, str(count), *job]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == -signal.SIGKILL, f"not killed: {result.returncode} {result.stderr}"


def _start_window(qtbot: QtBot, sandbox: SandboxHome, user: SignedIn, desktop: list) -> DesktopApp:
    app = start_signed_in(qtbot, sandbox.home, user.username, PASSWORD, remember=False)
    desktop.append(app)
    return app


def _interrupted_job(qtbot: QtBot, app: DesktopApp, name: str) -> tuple[int, int]:
    """Wait for the panel's one row: the job, Interrupted; select it. Its (files done, all)."""
    panel = app.window.transfers_panel
    model = panel.model
    qtbot.waitUntil(
        lambda: model.rowCount() >= 1 and model.index(0, STATE).data() == "Interrupted",
        timeout=WAIT_MS,
    )
    assert model.rowCount() == 1  # the job's multipart file is part of it, not a row of its own
    assert model.index(0, NAME).data() == name
    panel.table.selectRow(0)
    done, of, total = str(model.index(0, FILES).data()).split()
    assert of == "of"
    return int(done), int(total)


def _resume(qtbot: QtBot, app: DesktopApp) -> None:
    panel = app.window.transfers_panel
    assert panel.resume_button.isEnabled()
    panel.resume_button.click()
    qtbot.waitUntil(
        lambda: panel.model.index(0, STATE).data() in {"Done", "Failed"}, timeout=60_000
    )
    assert panel.model.index(0, STATE).data() == "Done", panel.model.index(0, STATE).data()
    assert panel.model.index(0, FILES).data() == f"{ALL_FILES} of {ALL_FILES}"


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


def _documents(sandbox: SandboxHome) -> list[dict[str, Any]]:
    result = sandbox.dms("list", "--all", "--json")
    assert result.code == 0, result.err
    documents: list[dict[str, Any]] = json.loads(result.out)["documents"]
    return documents


def _left_in_journal(sandbox: SandboxHome, user: SignedIn) -> list[object]:
    """The user's journal entries (a job's, or one of its files'): none once the job is done."""
    return [
        entry
        for _name, entry, _held in journal_for(sandbox.paths).survey()
        if getattr(entry, "user_id", None) == user.user_id
    ]


UPLOAD_KILLS = {
    "after its third small file was stored": ("after", "s3.PutObject", 3),
    "when its multipart upload was begun": ("after", "s3.CreateMultipartUpload", 1),
    "after the second part of its multipart file": ("after", "s3.UploadPart", 2),
    "after the fourth part of its multipart file": ("after", "s3.UploadPart", 4),
}


@pytest.mark.nothing_lost(
    "crash",
    "the window's process killed (SIGKILL) during a folder upload job (8 small files and one "
    "multipart file): after the 3rd small file, after CreateMultipartUpload, after the 2nd and "
    "the 4th part; then the window started again and Resume clicked",
    "the panel shows the job Interrupted with its files done; Resume sends only the files not "
    "stored and the parts the server lacks; every file is listed once, checksum-verified and "
    "byte-identical; no multipart upload or journal entry is left",
)
@pytest.mark.parametrize("kill", UPLOAD_KILLS.values(), ids=list(UPLOAD_KILLS))
def test_window_killed_mid_folder_upload_resumes_only_what_is_missing(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    user: SignedIn,
    folder: Path,
    tmp_path: Path,
    desktop: list[DesktopApp],
    kill: tuple[str, str, int],
) -> None:
    _kill_window_mid_job(shared_sandbox, user, *kill, "upload", str(folder))
    metadata, _bodies, uploads = stored_state(shared_sandbox.info, user.user_id)
    assert len(metadata) < ALL_FILES  # the kill came mid-job
    big_stored = any(size == BIG_SIZE for size in metadata.values())
    small_stored = len(metadata) - big_stored
    on_server = _parts_on_server(shared_sandbox, uploads[0]) if len(uploads) == 1 else set()
    assert len(uploads) <= 1

    app = _start_window(qtbot, shared_sandbox, user, desktop)
    done, total = _interrupted_job(qtbot, app, "survey")
    assert total == ALL_FILES and done <= len(metadata)
    with requests_sent() as sent:
        _resume(qtbot, app)

    puts = [request for request in sent if request.startswith("PUT")]
    parts = sorted(int(request.split()[1]) for request in sent if request.startswith("UploadPart"))
    assert len(puts) == SMALL - small_stored  # only the small files not stored before the kill
    if big_stored:
        assert parts == []
    elif on_server:  # the multipart upload the kill left is continued: only its missing parts
        assert parts == sorted(set(range(1, BIG_PARTS + 1)) - on_server)
        assert "GET max-parts,uploadId" in sent  # ListParts asked what the server has
    else:
        assert parts and parts == list(range(1, len(parts) + 1))  # begun (again) from its start

    documents = _documents(shared_sandbox)
    names = sorted(document["filename"] for document in documents)
    assert names == sorted(path.name for path in folder.rglob("*") if path.is_file())
    stored_after = {object_key(user.user_id, str(d["documentId"])) for d in documents}
    assert set(metadata) <= stored_after  # the files stored before the kill kept their ids
    for document in documents:
        (source,) = folder.rglob(str(document["filename"]))
        assert document["checksum"] == hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "out"
    out.mkdir()
    downloaded = shared_sandbox.dms(
        "download", *(str(d["documentId"]) for d in documents), "-o", str(out)
    )
    assert downloaded.code == 0, downloaded.err
    for source in folder.rglob("*"):
        if source.is_file():
            assert (out / source.name).read_bytes() == source.read_bytes()
    assert stored_state(shared_sandbox.info, user.user_id)[2] == []  # no multipart upload left
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)
    assert _left_in_journal(shared_sandbox, user) == []


@pytest.fixture
def stored_folder(shared_sandbox: SandboxHome, user: SignedIn, folder: Path) -> list[str]:
    """``folder`` uploaded (with `dms upload`); the ids of its documents."""
    uploaded = shared_sandbox.dms("upload", str(folder), "--duplicates", "keep", "--json")
    assert uploaded.code == 0, uploaded.err
    return [str(document["documentId"]) for document in json.loads(uploaded.out)]


WRITTEN = 3 * 1024 * 1024  # (the download reads up to 16 MiB ahead of the disk)
DOWNLOAD_KILLS = {
    "after the third GetObject answered": ("after", "s3.GET", 3),
    "with 3 MiB of the big file written": ("written", BIG, WRITTEN),
}


@pytest.mark.nothing_lost(
    "crash",
    "the window's process killed (SIGKILL) while downloading 9 documents as one job (after the "
    "3rd GetObject answered; with 3 MiB of the 22 MiB one written); then the window started "
    "again and Resume clicked",
    "the panel shows the job Interrupted; Resume fetches only the files not written and the "
    "bytes the partial file lacks (a ranged GET); every file is whole and checksum-verified; "
    "no partial file or journal entry is left",
)
@pytest.mark.parametrize("kill", DOWNLOAD_KILLS.values(), ids=list(DOWNLOAD_KILLS))
def test_window_killed_mid_download_job_resumes_only_what_is_missing(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    user: SignedIn,
    folder: Path,
    stored_folder: list[str],
    tmp_path: Path,
    desktop: list[DesktopApp],
    kill: tuple[str, str, int],
) -> None:
    out = tmp_path / "downloads"
    out.mkdir()
    _kill_window_mid_job(shared_sandbox, user, *kill, "download", str(out), *stored_folder)
    whole = {path.name for path in out.iterdir() if not path.name.startswith(".")}
    assert len(whole) < ALL_FILES
    # What the big file's download kept (a small file's partial file is written again).
    written = sum(path.stat().st_size for path in out.glob(f".{BIG}.*.dms-partial"))
    if kill[0] == "written":
        assert BIG not in whole and WRITTEN <= written < BIG_SIZE

    app = _start_window(qtbot, shared_sandbox, user, desktop)
    done, total = _interrupted_job(qtbot, app, f"{ALL_FILES} documents")
    assert total == ALL_FILES and done <= len(whole)
    with requests_sent() as sent:
        _resume(qtbot, app)

    gets = [request for request in sent if request.startswith("GET")]
    assert len(gets) == ALL_FILES - len(whole)  # one GET for each file not written whole
    if written:
        assert f"GET bytes={written}-" in gets  # the big file continued where it stopped
    for source in folder.rglob("*"):
        if source.is_file():
            assert (out / source.name).read_bytes() == source.read_bytes()
    assert sorted(path.name for path in out.iterdir()) == sorted(
        path.name for path in folder.rglob("*") if path.is_file()
    )  # no partial file, no second copy
    service = open_service(open_backend(shared_sandbox.paths), user, paths=shared_sandbox.paths)
    assert service.interrupted_transfers() == []
    assert _left_in_journal(shared_sandbox, user) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)


def test_discarding_a_folder_job_killed_as_its_multipart_upload_began_leaves_no_upload(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    user: SignedIn,
    folder: Path,
    desktop: list[DesktopApp],
) -> None:
    _kill_window_mid_job(
        shared_sandbox, user, "after", "s3.CreateMultipartUpload", 1, "upload", str(folder)
    )
    assert len(stored_state(shared_sandbox.info, user.user_id)[2]) == 1  # its id never noted
    app = _start_window(qtbot, shared_sandbox, user, desktop)
    _interrupted_job(qtbot, app, "survey")
    panel = app.window.transfers_panel

    panel.discard_button.click()

    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT_MS)
    metadata, bodies, uploads = stored_state(shared_sandbox.info, user.user_id)
    assert uploads == []  # was: left for the bucket's lifecycle rule (never, on the sandbox)
    assert metadata.keys() == bodies.keys()  # the files stored stay, the others are removed
    assert_nothing_lost(shared_sandbox.info, user.user_id)
    assert _left_in_journal(shared_sandbox, user) == []
