"""`dms` resumes interrupted transfers (issue 22): the CLI is killed mid-transfer, run again, and
sends only what is missing; `dms transfers` lists, resumes and discards what was kept."""

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

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox import add_user
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import CliResult, SandboxHome
from tests.support.faults import assert_nothing_lost, stored_state
from tests.support.request_log import requests_sent
from tests.support.settled import wait_until_answered

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "resume-password"
MiB = 1024 * 1024
PARTS = 6  # a 96 MiB file: six parts of 16 MiB
_users = itertools.count(1)


@pytest.fixture
def user(shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SignedIn:
    name = f"resume{next(_users)}-{tmp_path.name[-10:].lower()}"
    add_user(shared_sandbox.info, name, PASSWORD)
    monkeypatch.setenv("DMS_USERNAME", name)
    monkeypatch.setenv("DMS_PASSWORD", PASSWORD)
    return sign_in(open_backend(shared_sandbox.paths), name, PASSWORD)


@pytest.fixture
def service(shared_sandbox: SandboxHome, user: SignedIn) -> DocumentService:
    return open_service(open_backend(shared_sandbox.paths), user, paths=shared_sandbox.paths)


@pytest.fixture
def big(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "big-video.bin"
    path.write_bytes(os.urandom(PARTS * 16 * MiB))
    yield path


def _killed_after_part(sandbox: SandboxHome, number: int, *args: str) -> None:
    """`dms ARGS` in a process of its own, SIGKILLed once S3 confirmed its NUMBERth part."""
    runner = [sys.executable, "-m", "tests.support.crash_runner", "after", "s3.UploadPart"]
    command = [*runner, str(number), "--", "--home", str(sandbox.home), *args]
    result = subprocess.run(
        command, env=os.environ, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == -signal.SIGKILL, f"not killed: {result.returncode} {result.stderr}"


def _parts_on_server(sandbox: SandboxHome, user_id: str) -> set[int]:
    wait_until_answered(sandbox.info)  # the killed client's last part may be in flight
    _metadata, _bodies, uploads = stored_state(sandbox.info, user_id)
    (upload,) = uploads
    s3 = sandbox_client(sandbox.info.endpoint_url, "s3", None)
    try:
        listed = s3.list_parts(
            Bucket=sandbox.info.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        return {int(part["PartNumber"]) for part in listed.get("Parts", [])}
    finally:
        s3.close()


def _parts_sent(sent: list[str]) -> list[int]:
    return sorted(int(request.split()[1]) for request in sent if request.startswith("UploadPart"))


def _transfers(sandbox: SandboxHome) -> list[dict[str, Any]]:
    result = sandbox.dms("transfers", "--json")
    assert result.code == 0, result.err
    listed: list[dict[str, Any]] = json.loads(result.out)
    return listed


def _uploaded(result: CliResult) -> dict[str, Any]:
    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    return dict(document)


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` killed (SIGKILL) mid multipart upload, then the same `dms upload` again",
    "it resumes: only the parts the server lacks are sent; byte-identical, checksum verified, "
    "no multipart upload left",
)
def test_dms_upload_again_after_a_kill_sends_only_the_missing_parts(
    shared_sandbox: SandboxHome, user: SignedIn, service: DocumentService, big: Path
) -> None:
    _killed_after_part(shared_sandbox, 2, "upload", str(big), "--duplicates", "keep")
    on_server = _parts_on_server(shared_sandbox, user.user_id)
    (kept,) = _transfers(shared_sandbox)
    assert (kept["kind"], kept["localPath"], kept["state"]) == ("upload", str(big), "interrupted")
    assert kept["bytesTotal"] == big.stat().st_size

    with requests_sent() as sent:
        result = shared_sandbox.dms("upload", str(big), "--duplicates", "keep", "--json")

    document = _uploaded(result)
    assert "Resuming the interrupted upload of" in result.err
    assert _parts_sent(sent) == sorted(set(range(1, PARTS + 1)) - on_server)
    data = big.read_bytes()
    assert document["checksum"] == hashlib.sha256(data).hexdigest()
    out = big.parent / "out"
    out.mkdir()
    assert shared_sandbox.dms("download", str(document["documentId"]), "-o", str(out)).code == 0
    assert (out / big.name).read_bytes() == data
    assert _transfers(shared_sandbox) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload` killed mid multipart upload, the file changed, then `dms upload` again",
    "the change is detected and said; the upload starts over and stores the new content",
)
def test_a_file_changed_since_the_kill_is_uploaded_again_from_the_start(
    shared_sandbox: SandboxHome, user: SignedIn, big: Path
) -> None:
    _killed_after_part(shared_sandbox, 2, "upload", str(big), "--duplicates", "keep")
    with big.open("r+b") as file:  # the same size, a byte changed in the first part
        file.write(b"X")
    os.utime(big, ns=(big.stat().st_atime_ns, big.stat().st_mtime_ns + 10**9))

    with requests_sent() as sent:
        result = shared_sandbox.dms("upload", str(big), "--duplicates", "keep", "--json")

    document = _uploaded(result)
    assert "changed since its upload was interrupted" in result.err
    assert _parts_sent(sent) == list(range(1, PARTS + 1))
    assert document["checksum"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert _transfers(shared_sandbox) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id)


def test_restart_discards_the_kept_upload_and_starts_over(
    shared_sandbox: SandboxHome, user: SignedIn, big: Path
) -> None:
    _killed_after_part(shared_sandbox, 2, "upload", str(big), "--duplicates", "keep")

    with requests_sent() as sent:
        result = shared_sandbox.dms(
            "upload", str(big), "--duplicates", "keep", "--restart", "--json"
        )

    _uploaded(result)
    assert "Discarded the interrupted upload" in result.err
    assert _parts_sent(sent) == list(range(1, PARTS + 1))
    assert_nothing_lost(shared_sandbox.info, user.user_id)  # the old upload was aborted


def test_transfers_lists_resumes_and_discards(
    shared_sandbox: SandboxHome, user: SignedIn, big: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(PARTS * 16 * MiB))
    _killed_after_part(shared_sandbox, 2, "upload", str(big), "--duplicates", "keep")
    _killed_after_part(shared_sandbox, 2, "upload", str(other), "--duplicates", "keep")
    first, second = _transfers(shared_sandbox)
    assert {first["name"], second["name"]} == {"big-video.bin", "other.bin"}
    listed = shared_sandbox.dms("transfers")
    assert first["id"][:8] in listed.out and "interrupted" in listed.out

    discard = first if first["name"] == "big-video.bin" else second
    discarded = shared_sandbox.dms("transfers", "discard", discard["id"][:8])
    assert discarded.code == 0, discarded.err
    assert "Discarded the upload of big-video.bin" in discarded.out
    resumed = shared_sandbox.dms("transfers", "resume", "--all")
    assert resumed.code == 0, resumed.err
    assert "Uploaded other.bin" in resumed.out

    assert _transfers(shared_sandbox) == []
    metadata, _bodies, uploads = stored_state(shared_sandbox.info, user.user_id)
    assert len(metadata) == 1 and uploads == []  # the discarded upload was aborted
    assert_nothing_lost(shared_sandbox.info, user.user_id)
    missing = shared_sandbox.dms("transfers", "resume", "0123abcd")
    assert missing.code == 4 and "no interrupted transfer" in missing.err


@pytest.mark.nothing_lost(
    "crash",
    "`dms download` killed (SIGKILL) while writing, then the same `dms download` again",
    "it continues from the partial file with a ranged GET; the whole file is checksum-verified",
)
def test_dms_download_again_after_a_kill_continues_from_the_partial_file(
    shared_sandbox: SandboxHome, user: SignedIn, service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "scan.bin"
    source.write_bytes(os.urandom(24 * MiB))
    document = service.upload(source)
    out = tmp_path / "out"
    out.mkdir()
    runner = [sys.executable, "-m", "tests.support.crash_runner", "written", "s3.GET", "1"]
    command = [
        *runner,
        "--",
        "--home",
        str(shared_sandbox.home),
        "download",
        document.document_id,
        "-o",
        str(out),
    ]
    killed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (partial,) = out.glob("*.dms-partial")
    written = partial.stat().st_size

    with requests_sent() as sent:
        result = shared_sandbox.dms("download", document.document_id, "-o", str(out))

    assert result.code == 0, result.err
    assert "Resuming the interrupted download of scan.bin" in result.err
    assert [request for request in sent if request.startswith("GET")] == [f"GET bytes={written}-"]
    assert (out / "scan.bin").read_bytes() == source.read_bytes()
    assert _transfers(shared_sandbox) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)


def _versions(sandbox: SandboxHome, document_id: str) -> list[dict[str, Any]]:
    result = sandbox.dms("versions", document_id, "--json")
    assert result.code == 0, result.err
    versions: list[dict[str, Any]] = json.loads(result.out)["versions"]
    return versions


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload FILE --new-version ID` killed (SIGKILL) mid multipart upload, then run again",
    "it resumes: only the missing parts are sent, exactly one version is added, byte-identical "
    "and checksum verified, no multipart upload left",
)
def test_a_new_version_killed_mid_upload_resumes_and_adds_exactly_one_version(
    shared_sandbox: SandboxHome, user: SignedIn, big: Path, tmp_path: Path
) -> None:
    first = tmp_path / "Vertrag.pdf"
    first.write_bytes(os.urandom(200_000))
    document = _uploaded(shared_sandbox.dms("upload", str(first), "--tag", "legal", "--json"))
    document_id = str(document["documentId"])
    _killed_after_part(shared_sandbox, 2, "upload", str(big), "--new-version", document_id)
    on_server = _parts_on_server(shared_sandbox, user.user_id)
    (kept,) = _transfers(shared_sandbox)
    assert (kept["kind"], kept["localPath"], kept["state"]) == ("upload", str(big), "interrupted")
    assert (kept["newVersionOf"], kept["basedOnVersion"]) == (document_id, 1)
    assert f"new version 2 of {document_id}" in shared_sandbox.dms("transfers").out

    with requests_sent() as sent:
        result = shared_sandbox.dms("upload", str(big), "--new-version", document_id, "--json")

    stored = _uploaded(result)
    assert "Resuming the interrupted new version" in result.err
    assert _parts_sent(sent) == sorted(set(range(1, PARTS + 1)) - on_server)
    assert (stored["documentId"], stored["filename"], stored["tags"]) == (
        document_id,
        "Vertrag.pdf",
        ["legal"],
    )
    data = big.read_bytes()
    versions = _versions(shared_sandbox, document_id)
    assert [(v["number"], v["size"]) for v in versions] == [(2, len(data)), (1, 200_000)]
    assert versions[0]["checksum"] == stored["checksum"] == hashlib.sha256(data).hexdigest()
    out = tmp_path / "out"
    out.mkdir()
    assert shared_sandbox.dms("download", document_id, "-o", str(out)).code == 0
    assert (out / "Vertrag.pdf").read_bytes() == data
    assert shared_sandbox.dms("download", document_id, "--version", "1", "-o", str(out)).code == 0
    assert (out / "Vertrag (version 1).pdf").read_bytes() == first.read_bytes()
    assert _transfers(shared_sandbox) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)


@pytest.mark.nothing_lost(
    "crash",
    "`dms upload FILE --new-version ID` killed mid upload, another version added meanwhile, "
    "then run again",
    "a conflict, said clearly: the other version stays current, nothing is overwritten, the "
    "parts sent are aborted",
)
def test_a_new_version_whose_document_got_another_version_meanwhile_is_refused_on_resume(
    shared_sandbox: SandboxHome, user: SignedIn, big: Path, tmp_path: Path
) -> None:
    first = tmp_path / "Vertrag.pdf"
    first.write_bytes(os.urandom(200_000))
    document_id = str(_uploaded(shared_sandbox.dms("upload", str(first), "--json"))["documentId"])
    _killed_after_part(shared_sandbox, 2, "upload", str(big), "--new-version", document_id)
    theirs = tmp_path / "theirs.pdf"
    theirs.write_bytes(os.urandom(300_000))
    added = shared_sandbox.dms("upload", str(theirs), "--new-version", document_id)
    assert added.code == 0, added.err

    with requests_sent() as sent:
        result = shared_sandbox.dms("upload", str(big), "--new-version", document_id)

    assert result.code == 5, result.err
    assert "has a version 2 now" in result.err and "nothing was overwritten" in result.err
    assert _parts_sent(sent) == []
    versions = _versions(shared_sandbox, document_id)
    assert [(v["number"], v["size"]) for v in versions] == [(2, 300_000), (1, 200_000)]
    out = tmp_path / "out"
    out.mkdir()
    assert shared_sandbox.dms("download", document_id, "-o", str(out)).code == 0
    assert (out / "Vertrag.pdf").read_bytes() == theirs.read_bytes()
    assert _transfers(shared_sandbox) == []
    assert_nothing_lost(shared_sandbox.info, user.user_id, out)  # no dangling upload
