"""`dms upload FOLDER` and `dms download DOC...` are one job (issue 22): the CLI is killed
mid-job, `dms transfers` lists the job, the same command again sends only the missing files, and
the results are byte-identical. Also: a kept upload whose whole body was sent is not uploaded a
second time by `dms upload FILE`."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.connect import open_backend, sign_in
from dms_desktop.core.identity import SignedIn
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.faults import assert_nothing_lost, stored_state
from tests.support.request_log import requests_sent

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "folder-jobs-password"
FILES = 60
_users = itertools.count(1)


@pytest.fixture
def user(shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SignedIn:
    name = f"jobs{next(_users)}-{tmp_path.name[-10:].lower()}"
    add_user(shared_sandbox.info, name, PASSWORD)
    monkeypatch.setenv("DMS_USERNAME", name)
    monkeypatch.setenv("DMS_PASSWORD", PASSWORD)
    return sign_in(open_backend(shared_sandbox.paths), name, PASSWORD)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "scans"
    (root / "inner").mkdir(parents=True)
    for number in range(FILES):
        where = root / "inner" if number % 3 == 0 else root
        (where / f"page-{number:03}.txt").write_bytes(os.urandom(4096))
    return root


def _killed(sandbox: SandboxHome, when: str, operation: str, count: int, *args: str) -> None:
    """`dms ARGS` in a process of its own, SIGKILLed at the COUNTth OPERATION."""
    runner = [sys.executable, "-m", "tests.support.crash_runner", when, operation, str(count)]
    command = [*runner, "--", "--home", str(sandbox.home), *args]
    result = subprocess.run(
        command, env=os.environ, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, f"not killed: {result.returncode} {result.stderr}"


def _transfers(sandbox: SandboxHome) -> list[dict[str, Any]]:
    result = sandbox.dms("transfers", "--json")
    assert result.code == 0, result.err
    listed: list[dict[str, Any]] = json.loads(result.out)
    return listed


def _puts(sent: list[str]) -> int:
    return sum(1 for request in sent if request.startswith("PUT"))


def _documents(sandbox: SandboxHome) -> list[dict[str, Any]]:
    result = sandbox.dms("list", "--all", "--json")
    assert result.code == 0, result.err
    documents: list[dict[str, Any]] = json.loads(result.out)["documents"]
    return documents


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload FOLDER` (a job of 60 files) killed (SIGKILL) mid-job, then the same command",
    "the job is listed, then resumed: only the files not stored are sent; byte-identical",
)
def test_a_folder_job_killed_midway_resumes_sending_only_the_missing_files(
    shared_sandbox: SandboxHome, user: SignedIn, folder: Path, tmp_path: Path
) -> None:
    _killed(
        shared_sandbox, "after", "s3.PutObject", 20, "upload", str(folder), "--duplicates", "keep"
    )
    (kept,) = _transfers(shared_sandbox)
    assert (kept["kind"], kept["name"], kept["state"]) == ("upload", "scans", "interrupted")
    assert kept["filesTotal"] == FILES and kept["filesDone"] < FILES
    stored_before = len(stored_state(shared_sandbox.info, user.user_id)[0])
    assert 0 < stored_before < FILES

    with requests_sent() as sent:
        result = shared_sandbox.dms("upload", str(folder), "--duplicates", "keep")

    assert result.code == 0, result.err
    assert "Resuming the interrupted upload of scans" in result.err
    assert _puts(sent) == FILES - stored_before  # only the files not stored yet
    documents = _documents(shared_sandbox)
    assert len(documents) == FILES
    assert _transfers(shared_sandbox) == []

    out = tmp_path / "out"
    out.mkdir()
    ids = [str(document["documentId"]) for document in documents]
    downloaded = shared_sandbox.dms("download", *ids, "-o", str(out))
    assert downloaded.code == 0, downloaded.err
    for path in folder.rglob("*.txt"):
        assert (out / path.name).read_bytes() == path.read_bytes()
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)


def test_a_download_job_killed_midway_resumes_fetching_only_the_missing_files(
    shared_sandbox: SandboxHome, user: SignedIn, folder: Path, tmp_path: Path
) -> None:
    uploaded = shared_sandbox.dms("upload", str(folder), "--duplicates", "keep", "--json")
    assert uploaded.code == 0, uploaded.err
    ids = [str(document["documentId"]) for document in json.loads(uploaded.out)]
    out = tmp_path / "out"
    out.mkdir()
    _killed(shared_sandbox, "after", "s3.GET", 25, "download", *ids, "-o", str(out))
    (kept,) = _transfers(shared_sandbox)
    assert (kept["kind"], kept["filesTotal"]) == ("download", FILES)
    there = [path for path in out.iterdir() if not path.name.startswith(".")]

    with requests_sent() as sent:
        result = shared_sandbox.dms("download", *ids, "-o", str(out))

    assert result.code == 0, result.err
    assert "Resuming the interrupted download" in result.err
    gets = [request for request in sent if request.startswith("GET")]
    assert len(gets) == FILES - len(there)
    for path in folder.rglob("*.txt"):
        assert (out / path.name).read_bytes() == path.read_bytes()
    assert not list(out.glob(".*"))  # no partial file left
    assert _transfers(shared_sandbox) == []


def test_a_kept_upload_whose_body_was_sent_is_not_uploaded_a_second_time(
    shared_sandbox: SandboxHome, user: SignedIn, tmp_path: Path
) -> None:
    source = tmp_path / "contract.pdf"
    source.write_bytes(os.urandom(50_000))
    # Killed once the body is stored and noted, before its record is written.
    _killed(
        shared_sandbox,
        "before",
        "dynamodb.PutItem",
        1,
        "upload",
        str(source),
        "--duplicates",
        "keep",
    )

    with requests_sent() as sent:
        result = shared_sandbox.dms("upload", str(source), "--duplicates", "keep", "--json")

    assert result.code == 0, result.err
    assert "now stored (resumed)" in result.err
    (document,) = json.loads(result.out)
    assert _puts(sent) == 0  # nothing sent again
    assert [d["documentId"] for d in _documents(shared_sandbox)] == [document["documentId"]]
    assert _transfers(shared_sandbox) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id)


def test_transfers_discard_of_a_killed_job_leaves_no_body_without_its_record(
    shared_sandbox: SandboxHome, user: SignedIn, folder: Path
) -> None:
    # Killed once the first batch of records is written: some files are done (records and
    # bodies), others only sent (bodies without records). After the 10th body, as before, the
    # first batch of records had sometimes not been written yet.
    _killed(
        shared_sandbox,
        "after",
        "dynamodb.BatchWriteItem",
        1,
        "upload",
        str(folder),
        "--duplicates",
        "keep",
    )
    (kept,) = _transfers(shared_sandbox)
    listed = shared_sandbox.dms("transfers")
    assert f"of {FILES} files" in listed.out and kept["id"][:8] in listed.out

    discarded = shared_sandbox.dms("transfers", "discard", kept["id"][:8])

    assert discarded.code == 0, discarded.err
    assert "Discarded the upload of scans" in discarded.out
    assert _transfers(shared_sandbox) == []
    metadata, bodies, uploads = stored_state(shared_sandbox.info, user.user_id)
    assert 0 < len(metadata) == len(bodies) < FILES and uploads == []  # the files done stay
    assert_nothing_lost(shared_sandbox.info, user.user_id)
