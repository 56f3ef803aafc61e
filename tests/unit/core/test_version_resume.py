"""A new version of a document is journaled like any upload (core.uploading, core.versions): a
paused or interrupted one resumes with only the missing parts, and adds exactly one version; one
whose document got another version meanwhile is refused and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import Cancelled, Conflict, Paused
from dms_desktop.core.journal import Journal, UploadEntry, VersionBase
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.schema import object_key
from dms_desktop.core.service import DocumentService
from tests.unit.core.conftest import USER_ID, write_file

PARTS = 3  # of 5 MiB (the tests' part size)


@pytest.fixture(autouse=True)
def versioned(s3: Any) -> None:
    s3.put_bucket_versioning(
        Bucket=schema.BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"}
    )


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal")


@pytest.fixture
def service(repository: DocumentRepository, blobs: BlobStore, journal: Journal) -> DocumentService:
    return DocumentService(repository, blobs, USER_ID, journal)


def _parts_sent(blobs: BlobStore) -> list[int]:
    """The part numbers of every UploadPart the blob store sends from now on."""
    sent: list[int] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        sent.append(int(params["PartNumber"]))

    blobs.client.meta.events.register("before-parameter-build.s3.UploadPart", note)
    return sent


def _parts_on_server(s3: Any) -> set[int]:
    (upload,) = s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME)["Uploads"]
    listed = s3.list_parts(
        Bucket=schema.BUCKET_NAME, Key=upload["Key"], UploadId=upload["UploadId"]
    )
    return {int(part["PartNumber"]) for part in listed.get("Parts", [])}


def _current_bytes(s3: Any, document_id: str) -> bytes:
    key = object_key(USER_ID, document_id)
    body: bytes = s3.get_object(Bucket=schema.BUCKET_NAME, Key=key)["Body"].read()
    return body


def _paused_new_version(
    service: DocumentService, blobs: BlobStore, document_id: str, source: Path
) -> str:
    """Upload ``source`` as a new version, paused once S3 confirmed a part; the kept id."""
    cancel = CancelToken()

    def pause(**_: Any) -> None:
        cancel.pause()

    events = blobs.client.meta.events
    events.register("after-call.s3.UploadPart", pause, unique_id="test-pause")
    try:
        with pytest.raises(Paused) as paused:
            service.upload_new_version(document_id, source, cancel=cancel)
    finally:
        events.unregister("after-call.s3.UploadPart", unique_id="test-pause")
    return paused.value.transfer_id


def test_a_paused_new_version_resumes_with_the_missing_parts_and_adds_one_version(
    service: DocumentService, blobs: BlobStore, s3: Any, tmp_path: Path
) -> None:
    original = tmp_path / "report.pdf"
    write_file(original, 1000)
    document = service.upload(original, tags=["work"])
    changed = tmp_path / "report v2.pdf"
    data = write_file(changed, PARTS * 5 * MiB)
    sent = _parts_sent(blobs)

    kept = _paused_new_version(service, blobs, document.document_id, changed)

    (interrupted,) = service.interrupted_transfers()
    assert (interrupted.new_version_of, interrupted.based_on) == (document.document_id, 1)
    assert interrupted.to_json_dict()["newVersionOf"] == document.document_id
    assert _current_bytes(s3, document.document_id) == original.read_bytes()  # untouched
    on_server = _parts_on_server(s3)
    assert sent and on_server  # some parts were sent before the pause
    sent.clear()

    stored = service.resume_transfer(kept)

    assert sorted(sent) == sorted(set(range(1, PARTS + 1)) - on_server)
    assert (stored.document_id, stored.filename, stored.tags) == (
        document.document_id,
        "report.pdf",
        ("work",),
    )
    history = service.versions.history(document.document_id)
    assert [version.number for version in history.versions] == [1, 2]
    assert _current_bytes(s3, document.document_id) == data
    out = service.download(document.document_id, tmp_path / "out.pdf")  # checksum-verified
    assert out.read_bytes() == data
    assert service.interrupted_transfers() == []
    assert s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", []) == []


def test_a_version_added_while_paused_makes_the_resume_a_conflict_that_leaves_nothing(
    service: DocumentService, blobs: BlobStore, s3: Any, tmp_path: Path
) -> None:
    original = tmp_path / "report.pdf"
    write_file(original, 1000)
    document = service.upload(original)
    mine = tmp_path / "mine.pdf"
    write_file(mine, PARTS * 5 * MiB)
    kept = _paused_new_version(service, blobs, document.document_id, mine)
    theirs = tmp_path / "theirs.pdf"
    write_file(theirs, 2000)
    service.upload_new_version(document.document_id, theirs)  # someone else, meanwhile

    with pytest.raises(Conflict, match="has a version 2 now"):
        service.resume_transfer(kept)

    history = service.versions.history(document.document_id)
    assert [version.number for version in history.versions] == [1, 2]
    assert _current_bytes(s3, document.document_id) == theirs.read_bytes()
    assert s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", []) == []
    assert service.interrupted_transfers() == []


def test_a_new_version_sent_whole_before_a_crash_is_recorded_at_the_next_start(
    service: DocumentService, blobs: BlobStore, journal: Journal, s3: Any, tmp_path: Path
) -> None:
    original = tmp_path / "report.pdf"
    write_file(original, 1000)
    document = service.upload(original)
    changed = tmp_path / "v2.pdf"
    data = write_file(changed, 3000)
    key = object_key(USER_ID, document.document_id)
    stored = blobs.upload(changed, key, document.file_type)  # the body, then the process died
    base = service.versions.history(document.document_id).latest
    journal.track(
        UploadEntry(
            user_id=USER_ID,
            document_id=document.document_id,
            s3_key=key,
            source=str(changed.absolute()),
            filename=document.filename,
            file_type=document.file_type,
            size=stored.size,
            mtime_ns=changed.stat().st_mtime_ns,
            checksum=stored.checksum,
            new_version_of=VersionBase(
                number=1, item_version=document.version, s3_version_id=base.s3_version_id
            ),
            stored_version_id=stored.version_id,
        )
    ).keep_for_resume()

    messages = service.recover_interrupted()

    assert any("new version of report.pdf" in m and "now stored" in m for m in messages)
    history = service.versions.history(document.document_id)
    assert [version.number for version in history.versions] == [1, 2]
    assert service.download(document.document_id, tmp_path / "out").read_bytes() == data
    assert service.finished_at_start(changed, document.document_id) is not None
    assert service.finished_at_start(changed) is None  # not an upload as a new document


def test_discarding_or_cancelling_a_new_version_leaves_the_document_as_it_was(
    service: DocumentService, blobs: BlobStore, s3: Any, tmp_path: Path
) -> None:
    original = tmp_path / "report.pdf"
    write_file(original, 1000)
    document = service.upload(original)
    changed = tmp_path / "v2.pdf"
    write_file(changed, PARTS * 5 * MiB)
    kept = _paused_new_version(service, blobs, document.document_id, changed)

    assert "new version of report.pdf" in service.discard_transfer(kept)

    cancel = CancelToken()
    with pytest.raises(Cancelled):
        service.upload_new_version(
            document.document_id, changed, progress=lambda *_: cancel.cancel(), cancel=cancel
        )
    history = service.versions.history(document.document_id)
    assert [version.number for version in history.versions] == [1]
    assert _current_bytes(s3, document.document_id) == original.read_bytes()
    key = object_key(USER_ID, document.document_id)
    stored = s3.list_object_versions(Bucket=schema.BUCKET_NAME, Prefix=key)
    assert len(stored["Versions"]) == 1 and "DeleteMarkers" not in stored
    assert s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", []) == []
    assert service.interrupted_transfers() == []
