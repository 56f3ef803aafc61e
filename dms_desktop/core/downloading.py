"""One document downloaded to a local file, journaled so that an interrupted download resumes.

The journal entry is written before anything is read; it notes the hidden partial file once it
exists and the ETag of the object its bytes come from (core.blob_downloads). A pause, a failure
that may pass (the network), Ctrl+C or a crash keep the partial file and the entry: a resume
checks that the document is still the same (its metadata, then ``If-Match`` on the ETag), hashes
the bytes already there and asks only for the rest. A cancel or any other failure removes the
partial file; the target itself is written only once the whole file is verified.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .blob_downloads import PartialDownload, StartedGet
from .blobs import BlobStore
from .cancellation import CancelToken, ProgressCallback
from .errors import DmsError, IntegrityError, NotFound, ValidationError
from .formatting import printable
from .journal import DownloadEntry, Journal, Tracked
from .models import Document
from .repository import DocumentRepository
from .schema import object_key
from .transfer_outcome import Notice, kept_error, worth_keeping

log = logging.getLogger(__name__)


class _JournalNotes:
    """Where a download notes its partial file and the object's ETag: its journal entry."""

    def __init__(self, tracked: Tracked) -> None:
        self._tracked = tracked

    def partial_made(self, path: Path) -> None:
        self._tracked.change(partial=str(path))

    def etag_seen(self, etag: str) -> None:
        self._tracked.change(etag=etag)


def written_so_far(entry: DownloadEntry) -> int:
    """The bytes already in ``entry``'s partial file."""
    if entry.partial is None:
        return 0
    try:
        return min(Path(entry.partial).stat().st_size, entry.size)
    except OSError:
        return 0


class Downloads:
    """Downloads of one user's documents, through their repository, blob store and journal."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal

    def download(
        self,
        document: Document,
        target: Path,
        *,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        started: StartedGet | None = None,
        version_id: str | None = None,
        job: str | None = None,
    ) -> Path:
        """Write ``document``'s body to ``target`` (a file path), verified. ``job``: the job it
        is part of (core.transfer_jobs), which resumes it.

        ``version_id``: an older version's S3 version (``document`` then carries that version's
        size and checksum); such a download is not kept for a resume (core.versions)."""
        if version_id is not None:
            return self._run(
                document, None, target, overwrite, progress, cancel, None, None, version_id
            )
        entry = DownloadEntry(
            user_id=self._user_id,
            document_id=document.document_id,
            filename=document.filename,
            target=str(target),
            size=document.size,
            checksum=document.checksum,
            overwrite=overwrite,
            job=job,
        )
        tracked = self._journal.track(entry) if self._journal is not None else None
        return self._run(document, tracked, target, overwrite, progress, cancel, started, None)

    def resume(
        self,
        tracked: Tracked,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
    ) -> Path:
        """Continue the interrupted download ``tracked`` (claimed from the journal)."""
        entry = tracked.entry
        assert isinstance(entry, DownloadEntry)
        try:
            document = self._repository.get(self._user_id, entry.document_id)
        except NotFound:
            self.discard(tracked)
            raise
        resume: PartialDownload | None = None
        if (document.size, document.checksum) != (entry.size, entry.checksum):
            if entry.partial is not None and written_so_far(entry):
                (notice or _ignore)(
                    f"{printable(document.filename)} changed on the server since its download "
                    "was interrupted; it is downloaded again from the start."
                )
            self._remove_partial(tracked)
            tracked.change(size=document.size, checksum=document.checksum, etag=None)
        elif entry.partial is not None:
            resume = PartialDownload(Path(entry.partial), entry.etag)
        return self._run(
            document,
            tracked,
            Path(entry.target),
            entry.overwrite,
            progress,
            cancel,
            None,
            resume,
        )

    def discard(self, tracked: Tracked) -> None:
        """Give up the interrupted download ``tracked``: remove its partial file, forget it."""
        self._remove_partial(tracked)
        tracked.finish()

    def _run(
        self,
        document: Document,
        tracked: Tracked | None,
        target: Path,
        overwrite: bool,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        started: StartedGet | None,
        resume: PartialDownload | None,
        version_id: str | None = None,
    ) -> Path:
        key = object_key(self._user_id, document.document_id)
        try:
            path = self._blobs.download(
                key,
                target,
                expected_size=document.size,
                expected_checksum=document.checksum,
                overwrite=overwrite,
                progress=progress,
                cancel=cancel,
                started=started,
                notes=_JournalNotes(tracked) if tracked is not None else None,
                resume=resume,
                version_id=version_id,
            )
        except BaseException as exc:
            if tracked is not None:
                entry = tracked.entry
                partial = entry.partial if isinstance(entry, DownloadEntry) else None
                if worth_keeping(exc, cancel) and partial is not None:
                    tracked.keep_for_resume()
                    if isinstance(exc, DmsError):
                        raise kept_error(exc, tracked) from exc
                    raise
                self.discard(tracked)
            if isinstance(exc, NotFound) and version_id is None:
                raise self._body_not_found(document) from exc
            if isinstance(exc, OSError):
                raise ValidationError(f"Could not write {target}: {exc.strerror or exc}.") from exc
            raise
        if tracked is not None:
            tracked.finish()
        return path

    def _remove_partial(self, tracked: Tracked) -> None:
        entry = tracked.entry
        if isinstance(entry, DownloadEntry) and entry.partial is not None:
            Path(entry.partial).unlink(missing_ok=True)
            tracked.change(partial=None, etag=None)

    def _body_not_found(self, document: Document) -> DmsError:
        """Why a document's body was not found: deleted meanwhile, or missing from the store."""
        try:
            self._repository.get(self._user_id, document.document_id)
        except NotFound as exc:
            return exc  # deleted by another instance while it was being downloaded
        except DmsError:
            pass
        return IntegrityError(
            f"The stored file of {document.filename} ({document.document_id}) is missing: its "
            "details are stored, its content is not. Downloading it again will not help; "
            "`dms admin check` lists such documents (and `--repair` removes them). Nothing was "
            "written."
        )


def _ignore(_text: str) -> None:
    """No one to tell."""
