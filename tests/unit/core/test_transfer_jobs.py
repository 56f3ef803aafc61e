"""A folder (or many files) uploaded and many documents downloaded as one job (issue 22): several
files at once, failures listed while the rest go on, paused or crashed jobs resumed with only
the missing files sent, discarded jobs leave nothing behind."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import Paused, TransferInterrupted, Unavailable
from dms_desktop.core.job_progress import JobProgress
from dms_desktop.core.journal import Journal, UploadEntry
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.localfiles import UploadSource, collect_upload_sources
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.schema import object_key
from dms_desktop.core.service import DocumentService
from dms_desktop.core.upload_plan import DuplicatePolicy
from tests.unit.core.conftest import USER_ID, write_file

MiB = 1024 * 1024


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal")


@pytest.fixture
def service(repository: DocumentRepository, blobs: BlobStore, journal: Journal) -> DocumentService:
    return DocumentService(repository, blobs, USER_ID, journal)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "2024").mkdir(parents=True)
    for number in range(12):
        write_file(root / ("2024" if number % 2 else "") / f"small-{number:02}.txt", 4096)
    write_file(root / "big.bin", 6 * MiB)  # a multipart upload (threshold 5 MiB here)
    return root


def _requests(blobs: BlobStore, operation: str) -> list[dict[str, Any]]:
    """The params of every ``operation`` the blob store's client sends from now on."""
    sent: list[dict[str, Any]] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    blobs._client.meta.events.register(f"before-call.s3.{operation}", note)
    return sent


def _sources(folder: Path) -> list[UploadSource]:
    return collect_upload_sources([folder])


def _pause_after(files: int, cancel: CancelToken) -> Callable[[JobProgress], None]:
    def progress(job: JobProgress) -> None:
        if job.files_done >= files:
            cancel.pause()

    return progress


def _stored_checksums(service: DocumentService) -> dict[str, str]:
    return {d.filename: d.checksum for d in service.iter_documents(ListQuery())}


def test_a_folder_is_uploaded_as_one_job_of_many_files(
    service: DocumentService, folder: Path, journal: Journal
) -> None:
    seen: list[JobProgress] = []
    outcome = service.upload_job(
        _sources(folder), name="photos", roots=[folder], progress=seen.append
    )

    assert (outcome.files_total, len(outcome.documents), outcome.failures) == (13, 13, [])
    stored = _stored_checksums(service)
    for path in folder.rglob("*"):
        if path.is_file():
            assert stored[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
    folders = {d.filename: d.folder for d in outcome.documents}
    assert folders["small-01.txt"] == "photos/2024" and folders["small-00.txt"] == "photos"
    last = seen[-1]
    assert (last.files_done, last.files_total) == (13, 13)
    assert last.bytes_done == last.bytes_total == 12 * 4096 + 6 * MiB
    assert service.interrupted_transfers() == [] and journal.survey() == []


def test_small_files_go_in_one_put_each_and_a_big_one_in_parts(
    service: DocumentService, blobs: BlobStore, folder: Path
) -> None:
    puts = _requests(blobs, "PutObject")
    parts = _requests(blobs, "UploadPart")
    service.upload_job(_sources(folder), name="photos", roots=[folder])
    assert len(puts) == 12 and len(parts) == 2


def test_a_file_that_fails_is_listed_and_the_others_are_stored(
    service: DocumentService, folder: Path
) -> None:
    sources = _sources(folder)
    gone = folder / "small-04.txt"
    gone.unlink()  # after the plan: it fails when its turn comes

    outcome = service.upload_job(sources, name="photos", roots=[folder])

    assert len(outcome.documents) == 12
    (failure,) = outcome.failures
    assert failure.name.endswith("small-04.txt") and "Could not read" in failure.message
    assert service.interrupted_transfers() == []


def test_a_paused_job_is_kept_and_its_resume_sends_only_the_missing_files(
    service: DocumentService, blobs: BlobStore, folder: Path
) -> None:
    cancel = CancelToken()
    with pytest.raises(Paused) as paused:
        service.upload_job(
            _sources(folder),
            name="photos",
            roots=[folder],
            cancel=cancel,
            progress=_pause_after(4, cancel),
        )
    (kept,) = service.interrupted_transfers()
    assert (kept.kind, kept.name) == ("upload", "photos")
    assert kept.transfer_id == paused.value.transfer_id
    assert kept.files_total == 13 and kept.files_done is not None and kept.files_done >= 4
    done_before = len(_stored_checksums(service))
    assert done_before == kept.files_done
    assert service.find_interrupted_upload_job([folder]) == kept.transfer_id

    puts = _requests(blobs, "PutObject")
    parts = _requests(blobs, "UploadPart")
    outcome = service.resume_transfer(kept.transfer_id)

    assert len(_stored_checksums(service)) == 13
    assert len(puts) + min(len(parts), 1) == 13 - done_before
    assert outcome.done_before == done_before  # type: ignore[union-attr]
    assert service.interrupted_transfers() == []


def test_a_file_stored_just_before_a_crash_is_not_sent_again(
    service: DocumentService, blobs: BlobStore, folder: Path, journal: Journal
) -> None:
    cancel = CancelToken()
    with pytest.raises(Paused) as paused:
        service.upload_job(
            _sources(folder),
            name="photos",
            roots=[folder],
            cancel=cancel,
            progress=_pause_after(3, cancel),
        )
    name = paused.value.transfer_id
    log = journal.folder / f"{name}.log"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[1:]))  # the first file's outcome was never noted
    stored = len(_stored_checksums(service))

    puts = _requests(blobs, "PutObject")
    parts = _requests(blobs, "UploadPart")
    service.resume_transfer(name)

    assert len(puts) + min(len(parts), 1) == 13 - stored
    assert len(_stored_checksums(service)) == 13


def test_a_failure_that_may_pass_stops_and_keeps_the_job(
    service: DocumentService, blobs: BlobStore, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = blobs.upload
    calls = 0

    def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Unavailable("The network is unreachable.")
        return real(*args, **kwargs)

    monkeypatch.setattr(blobs, "upload", flaky)
    with pytest.raises(TransferInterrupted) as interrupted:
        service.upload_job(_sources(folder), name="photos", roots=[folder])
    assert "network is unreachable" in str(interrupted.value)
    assert "was kept" in str(interrupted.value)
    monkeypatch.setattr(blobs, "upload", real)

    service.resume_transfer(interrupted.value.transfer_id)
    assert len(_stored_checksums(service)) == 13


def test_discarding_a_kept_job_leaves_no_body_of_the_files_not_done(
    service: DocumentService, s3: Any, folder: Path
) -> None:
    cancel = CancelToken()
    with pytest.raises(Paused) as paused:
        service.upload_job(
            _sources(folder),
            name="photos",
            roots=[folder],
            cancel=cancel,
            progress=_pause_after(2, cancel),
        )
    service.discard_transfer(paused.value.transfer_id)

    stored = _stored_checksums(service)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=schema.BUCKET_NAME).get("Contents", [])]
    assert len(keys) == len(stored)  # no body without its document
    uploads = s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", [])
    assert uploads == []
    assert service.interrupted_transfers() == []


def test_the_duplicate_policy_skips_files_already_stored(
    service: DocumentService, folder: Path, tmp_path: Path
) -> None:
    service.upload(folder / "small-00.txt")
    notes: list[str] = []
    outcome = service.upload_job(
        _sources(folder),
        name="photos",
        roots=[folder],
        policy=DuplicatePolicy.SKIP,
        locks_dir=tmp_path / "locks",
        notice=notes.append,
    )
    assert outcome.skipped == 1 and len(outcome.documents) == 12
    assert any("Skipped" in note and "small-00.txt" in note for note in notes)


def test_many_documents_are_downloaded_as_one_job_and_a_paused_one_resumes(
    service: DocumentService, blobs: BlobStore, folder: Path, tmp_path: Path
) -> None:
    documents = service.upload_job(_sources(folder), name="photos", roots=[folder]).documents
    out = tmp_path / "out"
    out.mkdir()
    cancel = CancelToken()
    with pytest.raises(Paused) as paused:
        service.download_job(
            documents, out, name="13 documents", cancel=cancel, progress=_pause_after(5, cancel)
        )
    (kept,) = service.interrupted_transfers()
    assert kept.kind == "download" and kept.files_total == 13
    ids = [document.document_id for document in documents]
    assert service.find_interrupted_download_job(ids, out) == paused.value.transfer_id
    already = {path.name for path in out.iterdir() if not path.name.startswith(".")}

    gets = _requests(blobs, "GetObject")
    service.resume_transfer(paused.value.transfer_id)

    assert len(gets) == 13 - len(already)
    for path in folder.rglob("*"):
        if path.is_file():
            assert (out / path.name).read_bytes() == path.read_bytes()
    assert not list(out.glob(".*"))  # no partial file left
    assert service.interrupted_transfers() == []


def test_a_kept_upload_whose_body_was_sent_is_finished_at_start_and_known_by_its_path(
    service: DocumentService, blobs: BlobStore, journal: Journal, tmp_path: Path
) -> None:
    source = tmp_path / "report.pdf"
    write_file(source, 1000)
    new = service.new_upload(source)
    key = object_key(USER_ID, new.document_id)
    stored = blobs.upload(source, key, new.file_type)
    entry = UploadEntry(
        user_id=USER_ID,
        document_id=new.document_id,
        s3_key=key,
        source=str(source.absolute()),
        filename=new.filename,
        file_type=new.file_type,
        size=stored.size,
        mtime_ns=source.stat().st_mtime_ns,
        checksum=stored.checksum,
    )
    journal.track(entry).keep_for_resume()  # the process ended before writing the record

    messages = service.recover_interrupted()

    assert any("now stored" in message for message in messages)
    document = service.finished_at_start(source)
    assert document is not None and document.document_id == new.document_id
