"""The upload plan that `dms upload` and the upload dialog share: refusals before anything is
sent, one hash per file, the duplicate policy, and the checksum carried into the upload."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import blobs as blobs_module
from dms_desktop.core import localfiles as localfiles_module
from dms_desktop.core import multipart_upload, schema
from dms_desktop.core.blobs import MiB
from dms_desktop.core.errors import LocalFileError, ValidationError
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.localfiles import UploadSource, hash_file
from dms_desktop.core.models import Document
from dms_desktop.core.service import DocumentService
from dms_desktop.core.upload_plan import (
    Decision,
    DuplicatePolicy,
    check_content,
    check_source,
    check_sources,
    claim_content,
    decide,
    duplicate_names,
)
from tests.support.hashing import HOUR_AGO, HashedBytes, settled_file
from tests.support.unreadable import unreadable_file
from tests.unit.core.conftest import make_document


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> HashedBytes:
    """Every byte our code hashes, in the plan (localfiles) and in the upload (blobs)."""
    counter = HashedBytes()
    monkeypatch.setattr(localfiles_module, "hashlib", counter)
    monkeypatch.setattr(blobs_module, "hashlib", counter)
    return counter


# --- refusals before anything is sent ---------------------------------------------------------


def test_sources_that_cannot_be_stored_are_refused_with_the_reason(tmp_path: Path) -> None:
    good = settled_file(tmp_path / "good.txt", b"fine")
    bidi = settled_file(tmp_path / "invoice\u202efdp.exe", b"spoof")
    newline = settled_file(tmp_path / "two\nlines.txt", b"x")
    in_bad_folder = UploadSource(good, "ok/../up")

    checked, refused = check_sources(
        [UploadSource(good, ""), UploadSource(bidi, ""), UploadSource(newline, ""), in_bad_folder]
    )

    assert [item.filename for item in checked] == ["good.txt"]
    assert checked[0].size == 4 and checked[0].file_type == "text/plain"
    reasons = {source.path.name + "|" + source.folder: str(error) for source, error in refused}
    assert "U+202E" in reasons["invoice\u202efdp.exe|"]
    assert "U+000A" in reasons["two\nlines.txt|"]
    assert "may not contain '.' or '..'" in reasons["good.txt|ok/../up"]


def test_a_name_that_is_not_utf8_is_refused_clearly(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad\xffname.txt"
    with open(raw, "wb") as file:
        file.write(b"x")
    (name,) = [path for path in tmp_path.iterdir()]

    with pytest.raises(ValidationError) as refused:
        check_source(UploadSource(name, ""))

    message = str(refused.value)
    assert "is not valid UTF-8" in message and "rename the file" in message
    assert "bad\\xffname.txt" in message  # the byte shown as it is, and the message is writable
    message.encode("utf-8")


def test_an_unreadable_file_is_refused() -> None:
    with unreadable_file("secret.pdf") as path, pytest.raises(LocalFileError, match="cannot be"):
        check_source(UploadSource(path, ""))


# --- one hash per file, carried into the upload ----------------------------------------------


@pytest.mark.parametrize("size", [1000, 12 * MiB], ids=["one request", "multipart"])
def test_a_planned_upload_hashes_the_file_once(
    service: DocumentService, tmp_path: Path, hashed: HashedBytes, size: int
) -> None:
    data = os.urandom(size)
    path = settled_file(tmp_path / "big.bin", data)

    check = check_content(service, UploadSource(path, ""))
    document = service.upload(path, content=check.content)

    assert hashed.count == size  # the duplicate check's hash, and no second one
    assert document.checksum == hashlib.sha256(data).hexdigest()
    assert document.size == size


def test_without_a_plan_the_upload_hashes_what_it_sends(
    service: DocumentService, tmp_path: Path, hashed: HashedBytes
) -> None:
    data = os.urandom(12 * MiB)
    path = settled_file(tmp_path / "big.bin", data)

    document = service.upload(path)

    assert hashed.count == len(data)
    assert document.checksum == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [1000, 12 * MiB], ids=["one request", "multipart"])
def test_a_file_changed_after_the_plan_is_hashed_again(
    service: DocumentService, tmp_path: Path, size: int
) -> None:
    path = settled_file(tmp_path / "edited.bin", os.urandom(size))
    check = check_content(service, UploadSource(path, ""))
    changed = os.urandom(size)  # same size: only the fingerprint's times tell
    settled_file(path, changed)
    os.utime(path, (HOUR_AGO + 60, HOUR_AGO + 60))

    document = service.upload(path, content=check.content)

    assert document.checksum == hashlib.sha256(changed).hexdigest()  # not the plan's


def test_a_file_written_just_before_it_was_hashed_is_hashed_again_when_sent(
    service: DocumentService, tmp_path: Path, hashed: HashedBytes
) -> None:
    path = tmp_path / "fresh.bin"
    path.write_bytes(os.urandom(2000))  # written now: a later write could keep its fingerprint

    check = check_content(service, UploadSource(path, ""))
    service.upload(path, content=check.content)

    assert not check.content.reusable
    assert hashed.count == 2 * 2000


def test_a_file_written_during_the_upload_stores_nothing(
    service: DocumentService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    path = settled_file(tmp_path / "busy.bin", os.urandom(12 * MiB))
    content = hash_file(path)
    real_read = multipart_upload._read_exactly

    def read_then_touch(file: Any, amount: int) -> bytes:
        chunk = real_read(file, amount)
        os.utime(path, None)  # someone writes to it meanwhile (same size)
        return chunk

    monkeypatch.setattr(multipart_upload, "_read_exactly", read_then_touch)
    with pytest.raises(ValidationError, match="changed while it was being uploaded"):
        service.upload(path, content=content)
    monkeypatch.undo()
    assert service.list_page(ListQuery()).documents == []
    assert s3.list_objects_v2(Bucket=schema.BUCKET_NAME).get("KeyCount", 0) == 0


# --- duplicates and the policy ----------------------------------------------------------------


def test_the_content_check_finds_stored_copies(service: DocumentService, tmp_path: Path) -> None:
    data = b"the same bytes"
    stored = service.upload(settled_file(tmp_path / "first.txt", data))
    again = settled_file(tmp_path / "second.txt", data)

    check = check_content(service, UploadSource(again, ""))

    assert [document.document_id for document in check.duplicates] == [stored.document_id]
    assert check.content.checksum == stored.checksum


@pytest.mark.parametrize(
    ("has_copies", "policy", "can_ask", "decision"),
    [
        (False, DuplicatePolicy.SKIP, False, Decision.UPLOAD),
        (True, DuplicatePolicy.KEEP, True, Decision.UPLOAD),
        (True, DuplicatePolicy.SKIP, True, Decision.SKIP),
        (True, DuplicatePolicy.ASK, True, Decision.ASK),
        (True, DuplicatePolicy.ASK, False, Decision.UPLOAD),  # nobody to ask: keep both
    ],
)
def test_the_duplicate_policy(
    has_copies: bool, policy: DuplicatePolicy, can_ask: bool, decision: Decision
) -> None:
    copies = [make_document()] if has_copies else []
    assert decide(copies, policy, can_ask) is decision


def test_duplicate_names_show_three_and_count_the_rest() -> None:
    copies = [make_document(filename=f"copy {number}.pdf") for number in range(5)]
    assert duplicate_names(copies) == "copy 0.pdf, copy 1.pdf, copy 2.pdf and 2 more"
    assert f"copy 0.pdf ({copies[0].document_id})" in duplicate_names(copies, with_ids=True)


# --- two uploads of the same content at once ---------------------------------------------------


class _MeetingFinder:
    """The service's duplicate lookup, where two uploads wait for each other (at most a second)
    so that, unless something orders them, both look before either has stored anything."""

    def __init__(self, service: DocumentService) -> None:
        self._service = service
        self._both_looking = threading.Barrier(2, timeout=1)

    def find_duplicates(self, checksum: str) -> list[Document]:
        # A broken barrier: the other upload was held back; it looks after this one stored.
        with contextlib.suppress(threading.BrokenBarrierError):
            self._both_looking.wait()
        return self._service.find_duplicates(checksum)


def test_two_uploads_of_the_same_file_at_once_store_it_once_when_duplicates_are_skipped(
    service: DocumentService, tmp_path: Path
) -> None:
    path = settled_file(tmp_path / "twice.bin", os.urandom(1000))
    finder = _MeetingFinder(service)
    outcomes: list[str] = []

    def upload_unless_stored() -> None:
        source = UploadSource(path, "")
        with claim_content(tmp_path / "locks", finder, service.user_id, source) as check:
            if decide(check.duplicates, DuplicatePolicy.SKIP, can_ask=False) is Decision.SKIP:
                outcomes.append("skipped")
                return
            service.upload(path, content=check.content)
            outcomes.append("uploaded")

    uploads = [threading.Thread(target=upload_unless_stored) for _ in range(2)]
    for upload in uploads:
        upload.start()
    for upload in uploads:
        upload.join()

    assert sorted(outcomes) == ["skipped", "uploaded"]
    stored = service.list_page(ListQuery(text="twice.bin")).documents
    assert len(stored) == 1
