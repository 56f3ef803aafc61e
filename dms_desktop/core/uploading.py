"""One local file stored as a new document, or as a new version of one (core.versions),
journaled so that an interrupted upload resumes.

The order is the one every upload keeps (core.records): the body first, then the metadata (a
new version: its S3 version, then the document's history). The journal entry is written before
anything is sent; a multipart upload notes its id and each part S3 confirms
(core.multipart_upload), and the checksum once the whole body is stored.

What stops an upload decides what is kept:

- **kept, to be resumed** (the entry stays, unheld): a pause (``CancelToken.pause``), a failure
  that may pass (the network, the backend: :class:`~.errors.Unavailable`), Ctrl+C, and of course
  a crash. A resume lists the parts on the server, checks the file (size and modification time,
  then the CRC32 of every part it keeps) and sends only what is missing; a file that changed
  starts over from the first byte, and the user is told.
- **undone** (the multipart upload aborted, any body deleted, the entry removed): a cancel, and
  every other failure (the file changed while it was sent, access denied, a bad name).

A new version is resumed only while its document is still at the version it was based on: if
another version was added meanwhile, the resume is a Conflict and the upload is undone (its
multipart upload aborted); the document's own body is never touched by an undo.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .blobs import BlobStore, StoredBody
from .cancellation import CancelToken, ProgressCallback
from .errors import DmsError, LocalFileError
from .formatting import human_size, printable
from .journal import Journal, Tracked, UploadEntry
from .localfiles import HashedFile, check_readable_file
from .models import Document
from .multipart_upload import ResumePoint, SourceChanged, StoredPart, UploadGone, parts_of
from .records import record_of_upload, store_document_record
from .repository import DocumentRepository
from .schema import object_key
from .transfer_outcome import Notice, ignore_notice, kept_error, worth_keeping
from .versions import DocumentVersions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewUpload:
    """A new document to store: the file, and its record's fields (already checked)."""

    source: Path
    document_id: str
    filename: str
    file_type: str
    tags: tuple[str, ...] = ()
    folder: str = ""
    expires_at: int | None = None


class _JournalNotes:
    """Where a multipart upload notes its id and its parts: the upload's journal entry."""

    def __init__(self, tracked: Tracked) -> None:
        self._tracked = tracked

    def started(self, upload_id: str, part_size: int) -> None:
        self._tracked.change(multipart_upload_id=upload_id, part_size=part_size)

    def part_stored(self, upload_id: str, part: StoredPart) -> None:
        self._tracked.append(part.to_record(upload_id))


def sent_so_far(entry: UploadEntry, records: list[dict[str, Any]]) -> int:
    """The bytes of ``entry``'s body the server has confirmed (its noted parts)."""
    if entry.checksum is not None:
        return entry.size
    if entry.multipart_upload_id is None:
        return 0
    parts = parts_of(records, entry.multipart_upload_id)
    return min(entry.size, sum(part.size for part in parts.values()))


class Uploads:
    """Uploads of one user, through their repository, blob store and journal."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
        owner_name: str | None,
        versions: DocumentVersions,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal
        self._owner_name = owner_name
        self._versions = versions

    def upload(
        self,
        new: NewUpload,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        content: HashedFile | None = None,
        job: str | None = None,
    ) -> Document:
        """Store ``new`` (journaled; see the module docstring for what a failure keeps).
        ``job``: the folder job it is part of (core.transfer_jobs), which resumes it."""
        try:
            stat = new.source.stat()
        except OSError as exc:
            raise LocalFileError(f"Could not read {new.source}: {exc.strerror or exc}.") from exc
        entry = UploadEntry(
            user_id=self._user_id,
            document_id=new.document_id,
            s3_key=object_key(self._user_id, new.document_id),
            source=str(new.source.absolute()),
            filename=new.filename,
            file_type=new.file_type,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            tags=new.tags,
            folder=new.folder,
            expires_at=new.expires_at,
            job=job,
        )
        tracked = self._journal.track(entry) if self._journal is not None else None
        return self._run(entry, tracked, progress, cancel, content, None)

    def upload_version(
        self,
        document_id: str,
        source: Path,
        *,
        expected_number: int | None = None,
        expected_version: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Document:
        """Store ``source`` as the newest version of the document; its id, name and tags stay
        (journaled like :meth:`upload`; see core.versions for ``expected_number`` and
        ``expected_version``, and the conflicts)."""
        check_readable_file(source)
        document, base = self._versions.version_base(
            document_id, expected_number=expected_number, expected_version=expected_version
        )
        try:
            stat = source.stat()
        except OSError as exc:
            raise LocalFileError(f"Could not read {source}: {exc.strerror or exc}.") from exc
        entry = UploadEntry(
            user_id=self._user_id,
            document_id=document.document_id,
            s3_key=object_key(self._user_id, document.document_id),
            source=str(source.absolute()),
            filename=document.filename,
            file_type=document.file_type,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            new_version_of=base,
        )
        tracked = self._journal.track(entry) if self._journal is not None else None
        return self._run(entry, tracked, progress, cancel, None, None)

    def resume(
        self,
        tracked: Tracked,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        content: HashedFile | None = None,
        notice: Notice | None = None,
    ) -> Document:
        """Continue the interrupted upload ``tracked`` (claimed from the journal)."""
        entry = tracked.entry
        assert isinstance(entry, UploadEntry)
        return self._run(entry, tracked, progress, cancel, content, notice or ignore_notice)

    def discard(self, tracked: Tracked) -> None:
        """Give up the interrupted upload ``tracked``: abort its multipart upload, delete any
        body, forget it (the file itself is untouched)."""
        entry = tracked.entry
        assert isinstance(entry, UploadEntry)
        key = object_key(entry.user_id, entry.document_id)
        if entry.multipart_upload_id is None and self._blobs.is_multipart(entry.size):
            self._blobs.abort_unnoted_multipart(key)  # begun just before a crash, unnoted
        self._remove_leftovers(key, entry)
        tracked.finish()

    def _run(
        self,
        entry: UploadEntry,
        tracked: Tracked | None,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        content: HashedFile | None,
        notice: Notice | None,
    ) -> Document:
        """``notice`` is None for a new upload, set for a resumed one."""
        key = object_key(entry.user_id, entry.document_id)
        new_version = entry.new_version_of is not None
        try:
            if new_version and notice is not None and tracked is not None:
                tracked.change(new_version_of=self._versions.rebase_for_resume(entry))
                entry = tracked.entry  # type: ignore[assignment]
            try:
                stored = self._send_body(entry, tracked, progress, cancel, content, notice)
            except OSError as exc:
                raise LocalFileError(
                    f"Could not read {entry.source}: {exc.strerror or exc}."
                ) from exc
            sent = {"checksum": stored.checksum, "stored_version_id": stored.version_id}
            if tracked is not None:
                tracked.change(**sent)
                entry = tracked.entry  # type: ignore[assignment]
            else:
                entry = entry.model_copy(update=sent)
            # A new version whose body is stored is its document's current body already: a
            # pause now lets the one write of its history finish rather than leave them apart.
            if cancel is not None and not (new_version and cancel.paused):
                cancel.raise_if_cancelled("The upload")
            if entry.new_version_of is not None:
                document = self._versions.append_uploaded(entry, stored, None)
            else:
                document = store_document_record(
                    self._repository,
                    record_of_upload(
                        entry.user_id, entry, size=stored.size, checksum=stored.checksum
                    ),
                    owner_name=self._owner_name,
                )
        except BaseException as exc:
            if tracked is not None and worth_keeping(exc, cancel):
                tracked.keep_for_resume()
                if isinstance(exc, DmsError):
                    raise kept_error(exc, tracked) from exc
                raise
            self._undo(key, tracked, entry)
            raise
        if tracked is not None:
            tracked.finish()
        what = "a new version of" if new_version else "as"
        log.info(
            "uploaded %s (%d bytes) %s %s", entry.filename, stored.size, what, entry.document_id
        )
        return document

    def _send_body(
        self,
        entry: UploadEntry,
        tracked: Tracked | None,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        content: HashedFile | None,
        notice: Notice | None,
    ) -> StoredBody:
        key = object_key(entry.user_id, entry.document_id)
        source = Path(entry.source)
        if entry.checksum is not None and (
            self._blobs.size_of(key, entry.stored_version_id) == entry.size
            if entry.new_version_of is not None
            else self._blobs.size_of(key) == entry.size
        ):
            if progress is not None:
                progress(entry.size, entry.size)
            # sent whole before the interruption
            return StoredBody(entry.size, entry.checksum, entry.stored_version_id)
        resume: ResumePoint | None = None
        if notice is not None and tracked is not None:
            if _changed_since(entry, source):
                notice(
                    f"{printable(entry.filename)} changed since its upload was interrupted; "
                    "it is uploaded again from the start."
                )
                self._start_over(tracked, source)
            elif entry.multipart_upload_id is not None and entry.part_size is not None:
                parts = parts_of(tracked.records(), entry.multipart_upload_id)
                resume = ResumePoint(entry.multipart_upload_id, entry.part_size, parts)
            elif self._blobs.is_multipart(entry.size):
                # Begun anew; a crash may have come just before the upload's id was noted.
                self._blobs.abort_unnoted_multipart(key)
        notes = _JournalNotes(tracked) if tracked is not None else None
        upload = self._blobs.upload
        try:
            return upload(
                source,
                key,
                entry.file_type,
                progress=progress,
                cancel=cancel,
                content=content,
                notes=notes,
                resume=resume,
                download_name=entry.filename,
            )
        except (SourceChanged, UploadGone) as exc:
            if resume is None or tracked is None or notice is None:
                raise
            if isinstance(exc, SourceChanged):
                notice(
                    f"{printable(entry.filename)} changed since its upload was interrupted "
                    f"({exc}); it is uploaded again from the start."
                )
            else:
                notice(
                    f"The server no longer had what was sent of {printable(entry.filename)} "
                    "(the partial upload was removed there); it is uploaded again from the "
                    "start."
                )
            self._start_over(tracked, source)
            return upload(
                source, key, entry.file_type, progress=progress, cancel=cancel, notes=notes
            )

    def _start_over(self, tracked: Tracked, source: Path) -> None:
        """Forget what was sent of ``tracked``'s upload (aborting it on the server)."""
        entry = tracked.entry
        assert isinstance(entry, UploadEntry)
        if entry.multipart_upload_id is not None:
            with contextlib.suppress(DmsError):  # already gone, or the admin check finds it
                self._blobs.abort_multipart(entry.s3_key, entry.multipart_upload_id)
        stat = source.stat()
        tracked.clear_records()
        tracked.change(
            multipart_upload_id=None,
            part_size=None,
            checksum=None,
            stored_version_id=None,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
        )

    def _undo(self, key: str, tracked: Tracked | None, entry: UploadEntry) -> None:
        """Remove what a failed upload stored; if the backend cannot be reached now, the
        journal keeps the upload and the next start removes it."""
        if tracked is not None and isinstance(tracked.entry, UploadEntry):
            entry = tracked.entry
        try:
            self._remove_leftovers(key, entry)
        except DmsError:
            log.exception("could not remove %s after a failed upload", key)
            if tracked is not None:
                tracked.change(failed=True)
                tracked.leave_for_next_start()
            return
        if tracked is not None:
            tracked.finish()

    def _remove_leftovers(self, key: str, entry: UploadEntry) -> None:
        if entry.new_version_of is not None:
            self._versions.remove_unrecorded(entry)  # never the document's own body
            return
        if entry.multipart_upload_id is not None:
            self._blobs.abort_multipart(key, entry.multipart_upload_id)
        self._blobs.delete(key)


def _changed_since(entry: UploadEntry, source: Path) -> bool:
    """Whether ``source`` is no longer the file the interrupted upload was reading."""
    try:
        stat = source.stat()
    except OSError:
        return True
    return (stat.st_size, stat.st_mtime_ns) != (entry.size, entry.mtime_ns)


def progress_text(done: int, total: int) -> str:
    """'48 MB of 160 MB' (what an interrupted transfer had done)."""
    return f"{human_size(done)} of {human_size(total)}"
