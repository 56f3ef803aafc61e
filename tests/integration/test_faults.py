"""Faults injected under the real service and CLI, on a real sandbox (issue 6, "Faults").

Each case fails requests of one upload or download stage (tests/support/faults.py) and checks
what the user gets: a transient fault is absorbed by the bounded retries and the document is
stored once with its checksum verified; a persistent one is a clear "try again" error, and the
transfer is kept (issue 22): resumed once the backend is back, it is stored once, and only what
was missing is sent. Every case ends with ``assert_nothing_lost``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from botocore.retries.standard import ExponentialBackoff

from dms_desktop.connect import open_admin_service, open_backend, open_service, sign_in
from dms_desktop.core.admin import FindingKind
from dms_desktop.core.aws import MAX_ATTEMPTS
from dms_desktop.core.blobs import MiB, TransferSettings
from dms_desktop.core.errors import (
    Conflict,
    NotFound,
    Throttled,
    TransferInterrupted,
    Unavailable,
)
from dms_desktop.core.identity import SignedIn
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.faults import (
    FaultInjector,
    assert_nothing_lost,
    injected_faults,
    stored_state,
)

pytestmark = pytest.mark.server

SMALL_PARTS = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=2)
BIG = 12 * MiB  # three parts of 5 MiB: a multipart upload
_users = itertools.count(1)


@dataclass
class FaultUser:
    """A user of their own on the shared sandbox, signed in, with an app home for the journal."""

    sandbox: SandboxHome
    user: SignedIn
    home: Path

    @property
    def user_id(self) -> str:
        return self.user.user_id

    def service(self) -> DocumentService:
        """A new app instance's service (its own clients and connections)."""
        backend = open_backend(self.sandbox.paths)
        return open_service(backend, self.user, SMALL_PARTS, paths=AppPaths.resolve(self.home))

    def assert_nothing_lost(self, *download_folders: Path) -> None:
        assert_nothing_lost(self.sandbox.info, self.user_id, *download_folders)


@pytest.fixture
def faults() -> Iterator[FaultInjector]:
    with injected_faults() as injector:
        yield injector


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries back off up to seconds per attempt (1 s base when throttled): the
    number of attempts is what these tests check, so the waits are skipped."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def fault_user(shared_sandbox: SandboxHome, tmp_path: Path) -> FaultUser:
    username = f"faults{next(_users)}-{tmp_path.name[-12:].lower()}"
    add_user(shared_sandbox.info, username, "fault-password")
    user = sign_in(open_backend(shared_sandbox.paths), username, "fault-password")
    return FaultUser(shared_sandbox, user, tmp_path / "home")


def _file(folder: Path, size: int, name: str = "upload.bin") -> Path:
    path = folder / name
    block = hashlib.sha256(name.encode()).digest() * 32  # 1 KiB, different per name
    path.write_bytes((block * (size // len(block) + 1))[:size])
    return path


def _assert_stored_once(user: FaultUser, service: DocumentService, source: Path, tmp: Path) -> None:
    """The file is stored exactly once, and downloading it gives back the same bytes."""
    documents = list(service.iter_documents(ListQuery()))
    assert [document.filename for document in documents] == [source.name]
    out = tmp / "check"
    out.mkdir()
    copy = service.download(documents[0].document_id, out)  # verifies size and SHA-256
    assert copy.read_bytes() == source.read_bytes()
    user.assert_nothing_lost(out)


# Upload stages: (operation, how many of its requests pass before the fault, file size).
STAGES = {
    "before the body (single PUT)": ("s3.PutObject", 0, 64 * 1024),
    "before the body (multipart start)": ("s3.CreateMultipartUpload", 0, BIG),
    "in the middle of a multipart upload": ("s3.UploadPart", 1, BIG),
    "during CompleteMultipartUpload": ("s3.CompleteMultipartUpload", 0, BIG),
    "after the body, before the metadata write": ("dynamodb.PutItem", 0, BIG),
}
TRANSIENT = ["reset", "500", "503", "reset-after"]
# A lost CreateMultipartUpload response leaves an upload whose id the app never saw: its own test.
UPLOAD_CASES = [
    (stage, fault)
    for stage in STAGES
    for fault in TRANSIENT
    if (stage, fault) != ("before the body (multipart start)", "reset-after")
]


@pytest.mark.nothing_lost(
    "fault",
    "connection reset, 500, 503 or a lost response (2 in a row) at each upload stage",
    "retried; stored once, checksum verified",
)
@pytest.mark.parametrize(("stage", "fault"), UPLOAD_CASES)
def test_a_transient_fault_at_any_upload_stage_is_retried(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path, stage: str, fault: str
) -> None:
    operation, skip, size = STAGES[stage]
    source = _file(tmp_path, size)
    service = fault_user.service()
    rule = faults.fail(operation, fault, times=2, skip=skip)

    document = service.upload(source)

    assert rule.failed == 2, "the fault was not injected"
    assert document.size == size
    _assert_stored_once(fault_user, service, source, tmp_path)


@pytest.mark.nothing_lost(
    "fault",
    "CreateMultipartUpload applied but its response lost, then retried",
    "stored once; the extra upload the app never saw is aborted by the admin check "
    "(on AWS also by the bucket's one-day lifecycle rule)",
)
def test_a_lost_multipart_start_is_left_to_the_admin_check(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path
) -> None:
    source = _file(tmp_path, BIG)
    service = fault_user.service()
    faults.fail("s3.CreateMultipartUpload", "reset-after", times=1)

    service.upload(source)

    faults.clear()
    info = fault_user.sandbox.info
    assert len(stored_state(info, fault_user.user_id)[2]) == 1  # users may not list uploads
    backend = open_backend(fault_user.sandbox.paths)
    admin = open_admin_service(
        backend, sign_in(backend, "admin", "admin-password"), AppPaths.resolve(fault_user.home)
    )
    report = admin.check(stale_hours=0)
    ours = tuple(finding for finding in report.findings if finding.user_id == fault_user.user_id)
    assert [finding.kind for finding in ours] == [FindingKind.STALE_UPLOAD]
    admin.repair(replace(report, findings=ours), [FindingKind.STALE_UPLOAD])
    _assert_stored_once(fault_user, service, source, tmp_path)


def _resume_once_back(
    user: FaultUser, service: DocumentService, interrupted: TransferInterrupted, source: Path
) -> None:
    """The backend is back: the kept upload is resumed and stored once, nothing left over."""
    assert "was kept: resuming it continues where it stopped" in str(interrupted)
    assert stored_state(user.sandbox.info, user.user_id)[0] == {}  # no document yet
    assert [kept.transfer_id for kept in service.interrupted_transfers()] == [
        interrupted.transfer_id
    ]
    service.resume_transfer(interrupted.transfer_id)
    assert service.interrupted_transfers() == []


@pytest.mark.nothing_lost(
    "fault",
    "connection reset, 500 or 503 at each upload stage, beyond the retry bound",
    "clear 'try again' error; the upload is kept, and resumed once the backend is back it is "
    "stored once with no multipart upload left",
)
@pytest.mark.parametrize("fault", ["reset", "500", "503"])
@pytest.mark.parametrize("stage", list(STAGES))
def test_a_persistent_fault_at_any_upload_stage_keeps_the_upload_to_resume(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path, stage: str, fault: str
) -> None:
    operation, skip, size = STAGES[stage]
    source = _file(tmp_path, size)
    service = fault_user.service()
    faults.fail(operation, fault, times=10**6, skip=skip)

    with pytest.raises(TransferInterrupted, match=r"[Tt]ry again") as raised:
        service.upload(source)

    faults.clear()
    _resume_once_back(fault_user, service, raised.value, source)
    _assert_stored_once(fault_user, service, source, tmp_path)


@pytest.mark.nothing_lost(
    "fault",
    "throttling bursts: ProvisionedThroughputExceededException, ThrottlingException, SlowDown",
    "absorbed by bounded retries; stored once",
)
@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("dynamodb.PutItem", "ProvisionedThroughputExceededException"),
        ("dynamodb.PutItem", "ThrottlingException"),
        ("s3.UploadPart", "SlowDown"),
        ("s3.CompleteMultipartUpload", "SlowDown"),
    ],
)
def test_a_throttling_burst_is_absorbed(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path, operation: str, code: str
) -> None:
    source = _file(tmp_path, BIG)
    service = fault_user.service()
    rule = faults.fail(operation, code, times=MAX_ATTEMPTS - 1)  # the last attempt passes

    service.upload(source)

    assert rule.failed == MAX_ATTEMPTS - 1
    _assert_stored_once(fault_user, service, source, tmp_path)


@pytest.mark.nothing_lost(
    "fault",
    "throttling beyond the retry bound (upload, listing)",
    "'busy, try again in a moment' error after a bounded number of attempts; the upload is "
    "kept and resumed later",
)
@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("dynamodb.PutItem", "ProvisionedThroughputExceededException"),
        ("dynamodb.PutItem", "ThrottlingException"),
        ("s3.UploadPart", "SlowDown"),
    ],
)
def test_throttling_beyond_the_bound_is_a_try_again_error(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path, operation: str, code: str
) -> None:
    source = _file(tmp_path, BIG)
    service = fault_user.service()
    rule = faults.fail(operation, code, times=10**6)

    with pytest.raises(TransferInterrupted, match=r"busy.*Try again") as raised:
        service.upload(source)

    assert isinstance(raised.value.__cause__, Throttled)
    assert MAX_ATTEMPTS <= rule.failed <= 2 * MAX_ATTEMPTS  # bounded (parts run in parallel)
    faults.clear()
    _resume_once_back(fault_user, service, raised.value, source)
    _assert_stored_once(fault_user, service, source, tmp_path)


@pytest.mark.nothing_lost(
    "fault",
    "throttling beyond the retry bound (upload, listing)",
    "'busy, try again in a moment' error after a bounded number of attempts; nothing half-done",
)
def test_throttled_listing_is_a_try_again_error(
    fault_user: FaultUser, faults: FaultInjector
) -> None:
    service = fault_user.service()
    rule = faults.fail("dynamodb.Query", "ThrottlingException", times=10**6)
    with pytest.raises(Throttled, match="Try again"):
        service.list_page(ListQuery())
    assert rule.failed == MAX_ATTEMPTS
    faults.clear()
    fault_user.assert_nothing_lost()


@pytest.mark.nothing_lost(
    "fault",
    "the backend goes away after the body was sent",
    "'cannot be reached' error; the upload is kept, and the next start writes its metadata "
    "(the whole body was sent) and says so",
)
def test_backend_gone_after_the_body_is_finished_at_the_next_start(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path
) -> None:
    source = _file(tmp_path, BIG)
    service = fault_user.service()
    faults.fail("dynamodb.PutItem", "gone", times=10**6)
    faults.fail("s3.DeleteObject", "gone", times=10**6)
    faults.fail("s3.AbortMultipartUpload", "gone", times=10**6)

    with pytest.raises(Unavailable, match="cannot be reached"):
        service.upload(source)

    faults.clear()
    metadata, bodies, _ = stored_state(fault_user.sandbox.info, fault_user.user_id)
    assert metadata == {} and len(bodies) == 1  # the orphan the journal knows about

    messages = fault_user.service().recover_interrupted()  # the next start

    assert len(messages) == 1
    assert "after the whole file was sent; it is now stored (resumed)" in messages[0]
    _assert_stored_once(fault_user, fault_user.service(), source, tmp_path)


@pytest.mark.nothing_lost(
    "fault",
    "read timeouts and resets while downloading (2 in a row, then for good)",
    "retried and verified; for good: 'try again' error, target untouched, what was written kept "
    "and continued by a resume (verified whole)",
)
@pytest.mark.parametrize("fault", ["timeout", "reset", "500", "cut"])
def test_download_faults_are_retried_then_kept_to_resume(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path, fault: str
) -> None:
    source = _file(tmp_path, BIG)
    service = fault_user.service()
    document = service.upload(source)
    out = tmp_path / "out"
    out.mkdir()

    faults.fail("s3.GET", fault, times=2)
    copy = service.download(document.document_id, out)
    assert copy.read_bytes() == source.read_bytes()
    copy.unlink()

    faults.fail("s3.GET", fault, times=10**6)
    with pytest.raises(Unavailable, match=r"[Tt]ry again") as raised:
        service.download(document.document_id, out)
    assert not (out / source.name).exists()
    faults.clear()
    if isinstance(raised.value, TransferInterrupted):  # a partial file was made: kept
        assert service.resume_transfer(raised.value.transfer_id) == out / source.name
    else:  # nothing was written: nothing kept
        assert service.interrupted_transfers() == []
        service.download(document.document_id, out)
    assert (out / source.name).read_bytes() == source.read_bytes()
    assert service.interrupted_transfers() == []
    fault_user.assert_nothing_lost(out)


@pytest.mark.nothing_lost(
    "fault",
    "the same document edited from two app instances",
    "the second save reports the conflict (the window offers Reload; CLI exit 5); "
    "after a reload both edits are kept",
)
def test_two_instances_editing_the_same_document(fault_user: FaultUser, tmp_path: Path) -> None:
    first, second = fault_user.service(), fault_user.service()
    document = first.upload(_file(tmp_path, 1000, "shared.txt"))
    seen_by_second = second.get(document.document_id)  # both show version 1

    first.rename(document.document_id, "renamed.txt", expected_version=document.version)
    with pytest.raises(Conflict) as conflict:
        second.retag(document.document_id, add=["urgent"], expected_version=seen_by_second.version)
    assert conflict.value.exit_code == 5
    assert "changed" in str(conflict.value)

    reloaded = second.get(document.document_id)  # what "Reload" does
    assert reloaded.filename == "renamed.txt"  # the first edit is not lost
    second.retag(document.document_id, add=["urgent"], expected_version=reloaded.version)
    final = first.get(document.document_id)
    assert (final.filename, final.tags, final.version) == ("renamed.txt", ("urgent",), 3)
    fault_user.assert_nothing_lost()


@pytest.mark.nothing_lost(
    "fault",
    "a document deleted by another instance before or while it is downloaded",
    "'no longer exists' message; no partial file, nothing written",
)
def test_a_document_deleted_by_another_instance_while_downloading(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path
) -> None:
    downloader, deleter = fault_user.service(), fault_user.service()
    document = downloader.upload(_file(tmp_path, BIG, "going.bin"))
    out = tmp_path / "out"
    out.mkdir()

    # While: the stream breaks after the first MiB; by the time it resumes, the document is gone.
    faults.fail("s3.GET", "cut", times=1)
    deleted = False

    def progress(done: int, total: int) -> None:
        nonlocal deleted
        if not deleted:
            deleted = True
            deleter.delete(document.document_id)

    with pytest.raises(NotFound, match=r"does not exist|no document"):
        downloader.download(document.document_id, out, progress=progress)
    assert list(out.iterdir()) == []

    # Before: the list still shows it in the first instance.
    again = downloader.upload(_file(tmp_path, 1000, "gone.txt"))
    deleter.delete(again.document_id)
    with pytest.raises(NotFound, match="no document"):
        downloader.download(again.document_id, out)
    assert list(out.iterdir()) == []
    faults.clear()
    fault_user.assert_nothing_lost(out)


@pytest.mark.nothing_lost(
    "fault",
    "the metadata write applied but its response lost, then retried",
    "recognised as our own write: stored once (was: body deleted under its metadata)",
)
def test_a_retried_metadata_write_whose_first_attempt_landed(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path
) -> None:
    source = _file(tmp_path, 2000, "landed.txt")
    service = fault_user.service()
    faults.fail("dynamodb.PutItem", "reset-after", times=1)

    document = service.upload(source)

    assert faults.sent["dynamodb.PutItem"] == 2  # retried; the retry met the first write
    assert service.get(document.document_id).checksum == document.checksum
    _assert_stored_once(fault_user, service, source, tmp_path)


@pytest.mark.nothing_lost(
    "fault",
    "a delete applied but its response lost, then retried",
    "the body is removed too (no invisible orphan)",
)
def test_a_retried_delete_whose_first_attempt_landed(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path
) -> None:
    service = fault_user.service()
    document = service.upload(_file(tmp_path, 2000, "twice.txt"))
    faults.fail("dynamodb.DeleteItem", "reset-after", times=1)

    with pytest.raises(NotFound):
        service.delete(document.document_id)

    faults.clear()
    fault_user.assert_nothing_lost()
    assert stored_state(fault_user.sandbox.info, fault_user.user_id)[1] == {}


@pytest.mark.nothing_lost(
    "fault",
    "`dms upload` with the backend failing (500) twice, then for good",
    "exit 0 and stored; for good: exit 7 with 'try again' on stderr, the upload kept, and the "
    "same `dms upload` again resumes it and stores it once",
)
def test_cli_upload_through_faults(
    fault_user: FaultUser, faults: FaultInjector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_USERNAME", fault_user.user.username)
    monkeypatch.setenv("DMS_PASSWORD", "fault-password")
    sandbox = fault_user.sandbox
    source = _file(tmp_path, 3000, "cli.txt")

    faults.fail("dynamodb.PutItem", "500", times=2)
    ok = sandbox.dms("upload", str(source), "--duplicates", "keep")
    assert ok.code == 0, ok.err
    assert "Uploaded" in ok.out

    faults.fail("s3.PutObject", "500", times=10**6)
    failed = sandbox.dms("upload", str(source), "--duplicates", "keep")
    assert failed.code == 7
    assert "Try again" in failed.err and "Traceback" not in failed.err
    assert "was kept" in failed.err
    faults.clear()
    assert len(stored_state(sandbox.info, fault_user.user_id)[0]) == 1
    again = sandbox.dms("upload", str(source), "--duplicates", "keep")  # resumes the kept one
    assert again.code == 0, again.err
    assert "Resuming the interrupted upload" in again.err
    fault_user.assert_nothing_lost()
    assert len(stored_state(sandbox.info, fault_user.user_id)[0]) == 2


def test_deleting_a_missing_document_says_so_even_when_s3_fails(
    fault_user: FaultUser, faults: FaultInjector
) -> None:
    """The body clean-up after a NotFound delete is best effort: it does not hide the NotFound."""
    service = fault_user.service()
    faults.fail("s3.ListObjectVersions", "500", times=10**6)  # the body is deleted for good
    faults.fail("s3.DeleteObjects", "500", times=10**6)
    with pytest.raises(NotFound, match="no document"):
        service.delete("01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d")
    faults.clear()
    fault_user.assert_nothing_lost()
