"""Bad input (issue 6) through the core service: names, tags and files that try to break it.

Every case either works or fails with one clear ValidationError (or LocalFileError) before
anything is stored; downloads never write outside the chosen folder or over an existing file.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dms_desktop.core import multipart_upload, schema
from dms_desktop.core.blobs import MAX_PARTS, BlobStore, MiB, TransferSettings, part_size_for
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import (
    Cancelled,
    IntegrityError,
    LocalFileError,
    TargetExists,
    ValidationError,
)
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.localfiles import collect_upload_sources, download_target, safe_local_name
from dms_desktop.core.models import normalize_filename
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from tests.support.nothing_lost_cases import (
    CASE_DUPLICATE_TAGS,
    CONTROL_NAME,
    DOTDOT_NAME,
    EMOJI_NAME,
    EMPTY_FILE,
    EMPTY_TAG,
    ESCAPING_NAME,
    EXISTING_TARGET,
    LEADING_DOT,
    LONG_NAME,
    LONG_TAG,
    MANY_TAGS,
    NFD_NAME,
    NUL_NAME,
    RESERVED_NAME,
    RTL_NAME,
    SYMLINK_LOOPS,
    TRAILING_DOTS,
    case,
)

from .conftest import USER_ID, write_file

BUCKET = schema.BUCKET_NAME


def stored_keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def assert_nothing_stored(service: DocumentService, s3: Any) -> None:
    assert list(service.iter_documents(ListQuery())) == []
    assert stored_keys(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


# --- filenames ----------------------------------------------------------------------------------

NFD = unicodedata.normalize("NFD", "Résumé Ångström.pdf")


@pytest.mark.parametrize(
    ("name", "stored", "downloaded"),
    [
        pytest.param(
            NFD,
            "Résumé Ångström.pdf",
            "Résumé Ångström.pdf",
            marks=case(NFD_NAME),
            id="nfd",
        ),
        pytest.param(
            "🎉 party 👩‍👩‍👧.txt",
            "🎉 party 👩‍👩‍👧.txt",
            "🎉 party 👩‍👩‍👧.txt",
            marks=case(EMOJI_NAME),
            id="emoji",
        ),
        pytest.param(
            "تقرير מסמך.pdf",
            "تقرير מסמך.pdf",
            "تقرير מסמך.pdf",
            marks=case(RTL_NAME),
            id="rtl",
        ),
        pytest.param(
            ".env",
            ".env",
            "env",
            marks=case(LEADING_DOT),
            id="leading-dot",
        ),
        pytest.param(
            "CON",
            "CON",
            "_CON",
            marks=case(RESERVED_NAME),
            id="CON",
        ),
        pytest.param(
            "aux.txt",
            "aux.txt",
            "_aux.txt",
            marks=case(RESERVED_NAME),
            id="aux.txt",
        ),
        pytest.param(
            "report. . ",
            "report. . ",
            "report",
            marks=case(TRAILING_DOTS),
            id="trailing",
        ),
        pytest.param(
            "...",
            "...",
            "document",
            marks=case("bad input", "filename of only dots ('...')", "downloaded as 'document'"),
            id="dots",
        ),
    ],
)
def test_unusual_names_are_stored_and_downloaded_safely(
    service: DocumentService, tmp_path: Path, name: str, stored: str, downloaded: str
) -> None:
    source = tmp_path / "source.bin"
    data = write_file(source, 100)
    folder = tmp_path / "downloads"
    folder.mkdir()

    document = service.upload(source, filename=name)
    target = service.download(document.document_id, folder)

    assert document.filename == stored
    assert service.get(document.document_id).filename == stored
    assert target == folder / downloaded
    assert target.read_bytes() == data
    assert everything_under(folder) == [downloaded]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "bell\x07.txt",
            "control or invisible formatting characters (U+0007)",
            marks=case(CONTROL_NAME),
            id="control",
        ),
        pytest.param(
            "nul\x00.txt",
            "U+0000",
            marks=case(NUL_NAME),
            id="nul",
        ),
        pytest.param(
            "\u202eevil\u202cfdp.exe",
            "U+202E",
            marks=case(
                "bad input",
                "filename with a right-to-left override (spoofed extension)",
                "names U+202E; nothing stored",
            ),
            id="rlo",
        ),
        pytest.param(
            "é" * 128 + ".txt",
            "bytes long in UTF-8; the limit is 255",
            marks=case(LONG_NAME),
            id="long",
        ),
        pytest.param(
            "..",
            "is not a filename",
            marks=case(DOTDOT_NAME),
            id="dotdot",
        ),
        pytest.param(
            "../../etc/passwd",
            "path separator",
            marks=case(DOTDOT_NAME),
            id="escape",
        ),
        pytest.param(
            "..\\boot.ini",
            "path separator",
            marks=case(DOTDOT_NAME),
            id="backslash",
        ),
    ],
)
def test_names_that_cannot_be_stored_are_refused_before_anything_is_sent(
    service: DocumentService, s3: Any, tmp_path: Path, name: str, message: str
) -> None:
    source = tmp_path / "fine.txt"
    write_file(source, 10)
    existing = service.upload(source)

    with pytest.raises(ValidationError) as caught:
        service.upload(source, filename=name)
    assert message in str(caught.value)
    with pytest.raises(ValidationError):
        service.rename(existing.document_id, name)

    assert service.get(existing.document_id).filename == "fine.txt"
    assert stored_keys(s3) == [existing.s3_key]


@case(
    "bad input",
    "any text as a filename (hypothesis)",
    "either refused with a ValidationError or stored NFC; its download stays inside the folder",
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(min_size=0, max_size=300))
def test_any_text_is_refused_cleanly_or_downloads_inside_the_folder(
    tmp_path: Path, name: str
) -> None:
    try:
        stored = normalize_filename(name)
    except ValidationError:
        return
    assert stored == unicodedata.normalize("NFC", stored)
    folder = tmp_path / "downloads"
    folder.mkdir(exist_ok=True)
    target = download_target(folder, stored)
    assert target.parent == folder
    assert len(target.name.encode()) <= 255
    target.write_bytes(b"x")  # the local file system accepts the name
    try:
        assert [path.name for path in folder.iterdir()] == [target.name]
    finally:
        target.unlink()


@case(
    "bad input",
    "any stored name as a local name (hypothesis)",
    "no separators, control characters, leading dot or reserved name; at most 255 bytes",
)
@given(st.text(max_size=300))
def test_safe_local_names_are_always_safe(name: str) -> None:
    local = safe_local_name(name)
    assert local and not local.startswith(".")
    assert not any(char in local for char in '/\\:*?"<>|')
    assert all(ord(char) >= 32 and char != "\x7f" for char in local)
    assert len(local.encode()) <= 255
    assert local == local.rstrip(". ")
    assert local.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}


# --- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        pytest.param(
            ["ok", "  "],
            "A tag is empty",
            marks=case(EMPTY_TAG),
            id="empty",
        ),
        pytest.param(
            ["x" * 65],
            "the limit is 64",
            marks=case(LONG_TAG),
            id="long",
        ),
        pytest.param(
            [f"tag{number}" for number in range(51)],
            "at most 50 tags",
            marks=case(MANY_TAGS),
            id="many",
        ),
        pytest.param(
            ["bad\ttag"],
            "control characters",
            marks=case("bad input", "a tag with a control character", "refused; nothing stored"),
            id="control",
        ),
    ],
)
def test_bad_tags_store_nothing(
    service: DocumentService, s3: Any, tmp_path: Path, tags: list[str], message: str
) -> None:
    source = tmp_path / "tagged.txt"
    write_file(source, 10)
    with pytest.raises(ValidationError) as caught:
        service.upload(source, tags=tags)
    assert message in str(caught.value)
    assert_nothing_stored(service, s3)


@case(CASE_DUPLICATE_TAGS)
def test_tags_differing_only_in_case_are_kept_once(
    service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "tagged.txt"
    write_file(source, 10)
    document = service.upload(source, tags=["Tax", "TAX", " tax ", "Ünïcode", "ÜNÏCODE"])
    assert document.tags == ("Tax", "Ünïcode")
    retagged = service.retag(document.document_id, add=["tAx", "2024"], remove=["üNÏcode"])
    assert retagged.tags == ("Tax", "2024")
    found = list(service.iter_documents(ListQuery(tag="TAX")))
    assert [doc.document_id for doc in found] == [document.document_id]


# --- files --------------------------------------------------------------------------------------


@case(EMPTY_FILE)
def test_an_empty_file_round_trips(service: DocumentService, tmp_path: Path) -> None:
    source = tmp_path / "empty.txt"
    source.write_bytes(b"")
    document = service.upload(source)
    assert (document.size, document.checksum) == (0, hashlib.sha256(b"").hexdigest())
    folder = tmp_path / "downloads"
    folder.mkdir()
    assert service.download(document.document_id, folder).read_bytes() == b""


@case(
    "bad input",
    "a file deleted after it was chosen, before the upload starts",
    "'… does not exist'; nothing stored (exit code 12)",
)
def test_a_file_that_vanished_before_the_upload_is_reported(
    service: DocumentService, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "draft.docx"
    write_file(source, 10)
    source.unlink()
    with pytest.raises(LocalFileError, match="does not exist"):
        service.upload(source)
    assert_nothing_stored(service, s3)


@case(
    "bad input",
    "a file deleted while it is being uploaded",
    "works: the content as opened is stored whole and verified",
)
def test_a_file_deleted_during_the_upload_is_stored_as_it_was_opened(
    service: DocumentService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "vanishing.bin"
    data = write_file(source, 12 * MiB)
    real_read = multipart_upload._read_exactly

    def read_then_delete(file: Any, amount: int) -> bytes:
        chunk = real_read(file, amount)
        source.unlink(missing_ok=True)  # another program deletes it after the first read
        return chunk

    monkeypatch.setattr(multipart_upload, "_read_exactly", read_then_delete)
    document = service.upload(source)
    monkeypatch.undo()

    assert not source.exists()
    assert document.checksum == hashlib.sha256(data).hexdigest()
    copy = service.download(document.document_id, tmp_path / "copy.bin")
    assert copy.read_bytes() == data


@case(
    "bad input",
    "a file truncated or grown while it is being uploaded",
    "'… changed while it was being uploaded … nothing was stored'",
)
@pytest.mark.parametrize("change", ["shrink", "grow"])
def test_a_file_changing_during_the_upload_stores_nothing(
    service: DocumentService,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    source = tmp_path / "growing.log"
    write_file(source, 12 * MiB)
    real_read = multipart_upload._read_exactly
    changed = False

    def read_then_change(file: Any, amount: int) -> bytes:
        nonlocal changed
        chunk = real_read(file, amount)
        if not changed:
            changed = True
            with source.open("r+b") as file:
                if change == "shrink":
                    file.truncate(7 * MiB)
                else:
                    file.seek(0, os.SEEK_END)
                    file.write(b"x" * MiB)
        return chunk

    monkeypatch.setattr(multipart_upload, "_read_exactly", read_then_change)
    with pytest.raises(ValidationError, match="changed while it was being uploaded"):
        service.upload(source)
    monkeypatch.undo()
    assert_nothing_stored(service, s3)


@case(
    "bad input",
    "a file truncated or grown while it is being uploaded",
    "'… changed while it was being uploaded … nothing was stored'",
)
def test_a_file_growing_after_its_end_was_read_is_a_change_not_entity_too_small(
    service: DocumentService, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The end of the file is reached inside the second part; then another program appends. A
    # read after the end then gave a third part, the second one too small for S3 (EntityTooSmall
    # at the very end, shown raw).
    source = tmp_path / "recording.wav"
    write_file(source, 17 * MiB)  # parts of 5 MiB: 5, 5, 5, then 2 at the end
    real_read = multipart_upload._read_exactly
    grown = False

    def read_then_grow(file: Any, amount: int) -> bytes:
        nonlocal grown
        chunk = real_read(file, amount)
        if file.tell() == 17 * MiB and not grown:  # its end was read
            grown = True
            with source.open("ab") as file:
                file.write(b"x" * MiB)
        return chunk

    monkeypatch.setattr(multipart_upload, "_read_exactly", read_then_grow)
    with pytest.raises(ValidationError, match="changed while it was being uploaded") as raised:
        service.upload(source)
    monkeypatch.undo()
    assert grown
    assert "EntityTooSmall" not in str(raised.value)
    assert_nothing_stored(service, s3)


@case(
    "bad input",
    "a read error (EIO) in the middle of an upload",
    "'Could not read …: Input/output error'; nothing stored (exit code 12)",
)
def test_a_read_error_during_the_upload_stores_nothing(
    service: DocumentService, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "on-a-dying-disk.bin"
    write_file(source, 12 * MiB)
    real_read = multipart_upload._read_exactly

    def read_then_fail(file: Any, amount: int) -> bytes:
        if file.tell():
            raise OSError(5, "Input/output error")
        return real_read(file, amount)

    monkeypatch.setattr(multipart_upload, "_read_exactly", read_then_fail)
    with pytest.raises(LocalFileError, match="Input/output error") as caught:
        service.upload(source)
    monkeypatch.undo()
    assert caught.value.exit_code == 12
    assert_nothing_stored(service, s3)


@case(SYMLINK_LOOPS)
def test_a_folder_with_symlink_loops_uploads_its_real_files(
    service: DocumentService, tmp_path: Path
) -> None:
    top = tmp_path / "Projects"
    (top / "sub").mkdir(parents=True)
    (top / "a.txt").write_text("a")
    (top / "sub" / "b.txt").write_text("b")
    (top / "sub" / "up").symlink_to(top)
    (top / "self").symlink_to(top / "self")
    (top / "x").symlink_to(top / "y")
    (top / "y").symlink_to(top / "x")

    sources = collect_upload_sources([top])
    for source in sources:
        service.upload(source.path, folder=source.folder)

    stored = {(doc.folder, doc.filename) for doc in service.iter_documents(ListQuery())}
    assert stored == {("Projects", "a.txt"), ("Projects/sub", "b.txt")}


class CountingParts:
    """A ``before-call`` hook that answers UploadPart itself (no bytes reach the backend),
    records each part's size, and cancels after ``stop_after`` parts."""

    def __init__(self, cancel: CancelToken, stop_after: int) -> None:
        self.part_sizes: dict[int, int] = {}
        self._cancel = cancel
        self._stop_after = stop_after

    def __call__(self, params: dict[str, Any], **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        number = int(params["query_string"]["partNumber"])
        body = params["body"]
        self.part_sizes[number] = len(body.read()) if hasattr(body, "read") else len(body)
        if len(self.part_sizes) >= self._stop_after:
            self._cancel.cancel()
        return AWSResponse("https://s3", 200, {}, None), {
            "ETag": f'"part-{number}"',
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }


@case(
    "bad input",
    "a sparse file above 5 GB (and one of 200 GiB)",
    "multipart with a part size that keeps it within 10,000 parts; cancelling leaves nothing",
)
@pytest.mark.parametrize(
    ("size", "part_size"),
    [(5 * 1000**3 + 1, 16 * MiB), (200 * 1024**3, 21 * MiB)],
    ids=["5GB+1", "200GiB"],
)
def test_a_huge_sparse_file_is_planned_within_the_part_limit(
    s3: Any, repository: DocumentRepository, tmp_path: Path, size: int, part_size: int
) -> None:
    assert part_size_for(size, TransferSettings().part_size) == part_size
    assert -(-size // part_size) <= MAX_PARTS
    source = tmp_path / "disk.img"
    with source.open("wb") as file:
        file.truncate(size)  # sparse: no disk space, reads as zeros
    cancel = CancelToken()
    counter = CountingParts(cancel, stop_after=3)
    s3.meta.events.register("before-call.s3.UploadPart", counter)
    service = DocumentService(repository, BlobStore(s3, BUCKET), USER_ID)

    with pytest.raises(Cancelled):
        service.upload(source, cancel=cancel)

    assert counter.part_sizes and set(counter.part_sizes.values()) == {part_size}
    assert len(counter.part_sizes) < 10  # stopped early: gigabytes were never read
    assert_nothing_stored(service, s3)


# --- downloads ----------------------------------------------------------------------------------


@case(ESCAPING_NAME)
@pytest.mark.parametrize("name", ["../../escape.txt", "/etc/cron.d/job", "..", "a\x00b"])
def test_a_stored_name_that_escapes_writes_nothing_anywhere(
    service: DocumentService, dynamodb: Any, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "innocent.txt"
    write_file(source, 10)
    document = service.upload(source)
    dynamodb.update_item(
        TableName=schema.TABLE_NAME,
        Key={"userId": {"S": USER_ID}, "documentId": {"S": document.document_id}},
        UpdateExpression="SET filename = :name",
        ExpressionAttributeValues={":name": {"S": name}},
    )
    outside = tmp_path / "outside"
    folder = outside / "inside" / "downloads"
    folder.mkdir(parents=True)

    with pytest.raises(IntegrityError, match="is damaged"):
        service.download(document.document_id, folder)

    assert everything_under(outside) == ["inside", "inside/downloads"]


@case(EXISTING_TARGET)
def test_a_download_never_replaces_an_existing_file_unasked(
    service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "plan.txt"
    data = write_file(source, 100)
    document = service.upload(source)
    folder = tmp_path / "downloads"
    folder.mkdir()
    mine = folder / "plan.txt"
    mine.write_bytes(b"my version")

    with pytest.raises(TargetExists, match="already exists"):
        service.download(document.document_id, folder)
    with pytest.raises(TargetExists, match="already exists"):
        service.download(document.document_id, mine)
    assert mine.read_bytes() == b"my version"
    assert everything_under(folder) == ["plan.txt"]

    service.download(document.document_id, mine, overwrite=True)
    assert mine.read_bytes() == data


@case(
    "bad input",
    "download into a folder where the name is a symlink leading outside it",
    "'Refusing to write … outside'; nothing written",
)
def test_a_download_does_not_follow_a_symlink_out_of_the_folder(
    service: DocumentService, tmp_path: Path
) -> None:
    source = tmp_path / "report.pdf"
    write_file(source, 100)
    document = service.upload(source)
    folder = tmp_path / "downloads"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere.pdf"
    (folder / "report.pdf").symlink_to(elsewhere)

    with pytest.raises(LocalFileError, match="outside"):
        service.download(document.document_id, folder, overwrite=True)
    assert not elsewhere.exists()
