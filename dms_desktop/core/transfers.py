"""The uploads and downloads of one signed-in user (the transfers of core.service): single
files, jobs of many files (core.transfer_jobs), and the transfers kept to be resumed or
discarded (core.interrupted, core.recovery).

DocumentService forwards its transfer methods here (``forwarded``), so that the CLI, the window
and the web API keep calling ``service.upload(...)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from .blobs import BlobStore
from .cancellation import CancelToken, ProgressCallback
from .downloading import Downloads
from .errors import Conflict, InTrash, NotFound, ValidationError
from .ids import checked_document_id, new_document_id
from .interrupted import (
    InterruptedTransfer,
    find_download_job_of,
    find_download_of,
    find_upload_job_of,
    find_upload_of,
    interrupted_transfers,
    resolve_id,
)
from .job_progress import JobOutcome, JobProgress, JobProgressCallback
from .job_uploads import AskDuplicate, KnownChecksums, find_duplicates
from .journal import (
    DownloadEntry,
    DownloadJobEntry,
    Journal,
    Tracked,
    UploadEntry,
    UploadJobEntry,
)
from .localfiles import (
    HashedFile,
    UploadSource,
    check_readable_file,
    download_target,
    guess_file_type,
    unique_download_targets,
)
from .models import Document, normalize_filename, normalize_folder, normalize_tags, utc_now
from .recovery import recover_user_work
from .repository import DocumentRepository
from .schema import object_key
from .transfer_jobs import TransferJobs
from .transfer_outcome import Notice
from .upload_plan import DuplicatePolicy
from .uploading import NewUpload, Uploads
from .versions import DocumentVersions

P = ParamSpec("P")
R = TypeVar("R")


class Transfers:
    """Upload and download the documents of ``user_id``, resume or discard what was kept."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
        owner_name: str | None,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal  # uploads and downloads in flight (see core.journal)
        self._downloads = Downloads(repository, blobs, user_id, journal)
        self._versions = DocumentVersions(
            repository.client, repository.table_name, blobs, self._downloads, user_id
        )
        self._uploads = Uploads(repository, blobs, user_id, journal, owner_name, self._versions)
        self._jobs = TransferJobs(
            repository, blobs, user_id, journal, self._uploads, self._downloads, owner_name
        )
        # Uploads the last start finished (their whole body had been sent), by file path and
        # the document they are a new version of (None: a new document).
        self._finished_at_start: dict[tuple[str, str | None], Document] = {}

    def upload(
        self,
        source: Path,
        *,
        tags: Iterable[str] = (),
        filename: str | None = None,
        folder: str = "",
        expires: datetime | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        content: HashedFile | None = None,
    ) -> Document:
        """Store a local file as a new document; either all of it is stored or nothing.

        ``expires`` makes it a test record that expires then (see core.admin). ``content`` is
        the file's checksum from an upload plan (core.upload_plan): the file is not hashed again
        unless it changed since. A pause (``cancel.pause()``), a lost network or Ctrl+C keep
        the upload to be resumed (Paused, TransferInterrupted; see core.uploading)."""
        return self._uploads.upload(
            self.new_upload(source, tags=tags, filename=filename, folder=folder, expires=expires),
            progress=progress,
            cancel=cancel,
            content=content,
        )

    def upload_new_version(
        self,
        document_id: str,
        source: Path,
        *,
        expected_number: int | None = None,
        expected_version: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Document:
        """Store ``source`` as the newest version of the document (core.versions); kept to be
        resumed after a pause or an interruption like any upload (core.uploading).

        ``expected_number``: the newest version number the caller knows (`dms versions`);
        ``expected_version``: the document's ``version`` as the caller last saw it. Either one
        stale is a Conflict, as is any change to the document while the file is sent."""
        return self._uploads.upload_version(
            checked_document_id(document_id),
            source,
            expected_number=expected_number,
            expected_version=expected_version,
            progress=progress,
            cancel=cancel,
        )

    def new_upload(
        self,
        source: Path,
        *,
        tags: Iterable[str] = (),
        filename: str | None = None,
        folder: str = "",
        expires: datetime | None = None,
    ) -> NewUpload:
        """A new document of ``source``, its fields checked (ValidationError if one is bad)."""
        check_readable_file(source)
        return self._new_document_of(
            source, tags=tags, filename=filename, folder=folder, expires=expires
        )

    def _new_document_of(
        self,
        source: Path,
        *,
        tags: Iterable[str] = (),
        filename: str | None = None,
        folder: str = "",
        expires: datetime | None = None,
    ) -> NewUpload:
        name = normalize_filename(filename if filename is not None else source.name)
        return NewUpload(
            source=source,
            document_id=new_document_id(),
            filename=name,
            file_type=guess_file_type(name),
            tags=normalize_tags(list(tags)),
            folder=normalize_folder(folder),
            expires_at=expiry_epoch_seconds(expires),
        )

    @property
    def versions(self) -> DocumentVersions:
        return self._versions

    @property
    def uploads(self) -> Uploads:
        return self._uploads

    @property
    def downloads(self) -> Downloads:
        return self._downloads

    # --- many files as one job (core.transfer_jobs) ---

    def upload_job(
        self,
        sources: list[UploadSource],
        *,
        name: str,
        roots: list[Path],
        tags: Iterable[str] = (),
        expires: datetime | None = None,
        policy: DuplicatePolicy = DuplicatePolicy.KEEP,
        locks_dir: Path | None = None,
        contents: dict[str, HashedFile] | None = None,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        ask: AskDuplicate | None = None,
    ) -> JobOutcome:
        """Upload ``sources`` as one job, several at a time; a file that fails is listed in the
        outcome and the others go on. A pause, a lost network or Ctrl+C keep the job to be
        resumed (Paused, TransferInterrupted), a crash too. ``roots``: the paths the user gave
        (the same ones again find the kept job); ``policy`` with ``locks_dir`` checks each
        file for duplicates as `dms upload` does (``ask`` is asked when it says ASK)."""
        # Checked by the plan (core.upload_plan); a file unreadable by now fails at its turn.
        files = [
            self._new_document_of(source.path, tags=tags, folder=source.folder, expires=expires)
            for source in sources
        ]
        tracked = self._jobs.uploads.start(name, roots, files, policy=policy)
        return self._jobs.uploads.run(
            tracked,
            progress=progress,
            cancel=cancel,
            notice=notice,
            ask=ask,
            locks_dir=locks_dir,
            contents=contents,
        )

    def download_job(
        self,
        documents: list[Document],
        folder: Path,
        *,
        name: str,
        overwrite: bool = False,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
    ) -> JobOutcome:
        """Download ``documents`` into ``folder`` as one job (their safe names, made unique);
        kept and resumed like an upload job."""
        targets = unique_download_targets(
            folder, [(document.document_id, document.filename) for document in documents]
        )
        tracked = self._jobs.downloads.start(
            name, folder, [(d, targets[d.document_id]) for d in documents], overwrite
        )
        return self._jobs.downloads.run(
            tracked,
            progress=progress,
            cancel=cancel,
            notice=notice,
            documents={document.document_id: document for document in documents},
        )

    def known_checksums(self) -> KnownChecksums:
        """The checksums of this user's documents, read once, to check many files for
        duplicates (``find_duplicates`` of each without a query per file)."""
        return KnownChecksums(self._repository, self._user_id)

    def find_interrupted_upload_job(self, roots: list[Path]) -> str | None:
        """The id of a kept upload job of the same paths, to resume instead of starting over."""
        if self._journal is None:
            return None
        return find_upload_job_of(self._journal, self._user_id, roots)

    def find_interrupted_download_job(self, document_ids: list[str], folder: Path) -> str | None:
        """The id of a kept download job of the same documents into ``folder``."""
        if self._journal is None:
            return None
        return find_download_job_of(self._journal, self._user_id, document_ids, folder)

    def finished_at_start(self, source: Path, new_version_of: str | None = None) -> Document | None:
        """The document of an interrupted upload of ``source`` (as a new version of the document
        ``new_version_of``) that this start finished (its whole body had been sent before the
        interruption), if any."""
        return self._finished_at_start.get((str(source.absolute()), new_version_of))

    # --- interrupted transfers (core.interrupted) ---

    def interrupted_transfers(self) -> list[InterruptedTransfer]:
        """This user's transfers kept to be resumed (also those another instance is running)."""
        if self._journal is None:
            return []
        return interrupted_transfers(self._journal, self._user_id)

    def find_interrupted_upload(self, source: Path) -> str | None:
        """The id of a kept upload of the file ``source``, to resume instead of starting over."""
        if self._journal is None:
            return None
        return find_upload_of(self._journal, self._user_id, source)

    def find_interrupted_version_upload(self, source: Path, document_id: str) -> str | None:
        """The id of a kept upload of ``source`` as a new version of ``document_id``."""
        if self._journal is None:
            return None
        return find_upload_of(self._journal, self._user_id, source, document_id)

    def find_interrupted_download(self, document_id: str, target: Path) -> str | None:
        """The id of a kept download of ``document_id`` to ``target`` (a file or its folder)."""
        if self._journal is None:
            return None
        return find_download_of(self._journal, self._user_id, document_id, target)

    def resume_transfer(
        self,
        transfer_id: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        content: HashedFile | None = None,
        job_progress: JobProgressCallback | None = None,
        locks_dir: Path | None = None,
        ask: AskDuplicate | None = None,
    ) -> Document | Path | JobOutcome:
        """Continue the kept transfer ``transfer_id`` (or the start of it) where it stopped.
        A job reports to ``job_progress`` (or, without it, its bytes to ``progress``)."""
        tracked = self._claim(transfer_id)
        entry = tracked.entry
        if job_progress is None and progress is not None:
            job_progress = _bytes_of(progress)
        try:
            if isinstance(entry, UploadJobEntry):
                return self._jobs.uploads.run(
                    tracked,
                    progress=job_progress,
                    cancel=cancel,
                    notice=notice,
                    ask=ask,
                    locks_dir=locks_dir,
                    resumed=True,
                )
            if isinstance(entry, DownloadJobEntry):
                return self._jobs.downloads.run(
                    tracked, progress=job_progress, cancel=cancel, notice=notice, resumed=True
                )
            if isinstance(entry, UploadEntry):
                return self._uploads.resume(
                    tracked, progress=progress, cancel=cancel, content=content, notice=notice
                )
            if isinstance(entry, DownloadEntry):
                return self._downloads.resume(
                    tracked, progress=progress, cancel=cancel, notice=notice
                )
            raise NotFound(f"There is no interrupted transfer {transfer_id}.")
        finally:
            if tracked.held:
                tracked.keep_for_resume()

    def discard_transfer(self, transfer_id: str) -> str:
        """Give up the kept transfer ``transfer_id``: what it sent or wrote is removed (a
        multipart upload aborted, a partial file deleted); returns what was discarded."""
        tracked = self._claim(transfer_id)
        entry = tracked.entry
        try:
            if isinstance(entry, UploadJobEntry | DownloadJobEntry):
                self._jobs.discard(tracked)
                kind = "upload" if isinstance(entry, UploadJobEntry) else "download"
                return f"the {kind} of {entry.name}"
            if isinstance(entry, UploadEntry):
                self._uploads.discard(tracked)
                if entry.new_version_of is not None:
                    return f"the new version of {entry.filename} (from {entry.source})"
                return f"the upload of {entry.filename}"
            if isinstance(entry, DownloadEntry):
                self._downloads.discard(tracked)
                return f"the download of {entry.filename}"
            raise NotFound(f"There is no interrupted transfer {transfer_id}.")
        finally:
            if tracked.held:
                tracked.keep_for_resume()

    def _claim(self, transfer_id: str) -> Tracked:
        if self._journal is None:
            raise NotFound("There are no interrupted transfers here.")
        full_id = resolve_id(self._journal, self._user_id, transfer_id)
        tracked = self._journal.claim(full_id)
        if tracked is None:
            raise Conflict(
                f"The transfer {full_id[:8]} is being run by another instance of the app (the "
                "window or another `dms` command) right now; let it finish there."
            )
        return tracked

    def recover_interrupted(self) -> list[str]:
        """Finish or undo this user's uploads, downloads and deletes that a crash interrupted;
        one message per piece of work, saying which (see core.recovery)."""
        if self._journal is None:
            return []
        return recover_user_work(
            self._journal,
            self._repository,
            self._blobs,
            self._user_id,
            self._finished_at_start,
            self._versions,
        )

    def find_duplicates(self, checksum: str) -> list[Document]:
        """The user's documents whose body has ``checksum`` (same content already stored)."""
        return find_duplicates(self._repository, self._user_id, checksum)

    def download(
        self,
        document_id: str,
        target: Path,
        *,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Download to ``target``: a folder (the safe filename is used inside it) or a file path.

        The body's GET is sent at once (its key follows from the id), so that its round trip
        overlaps the metadata read; what arrives is written only if it matches the metadata.
        A pause, a lost network or Ctrl+C keep what was written to be resumed (core.downloading).
        A document in the trash is not downloaded (InTrash).
        """
        checked = checked_document_id(document_id)
        started = self._blobs.start_get(object_key(self._user_id, checked))
        try:
            document = self._repository.get(self._user_id, checked)
            if document.in_trash:
                raise InTrash(document.filename, checked)
            if target.is_dir():
                target = download_target(target, document.filename)
            return self._downloads.download(
                document,
                target,
                overwrite=overwrite,
                progress=progress,
                cancel=cancel,
                started=started,
            )
        finally:
            started.close()


class _WithTransfers(Protocol):
    @property
    def transfers(self) -> Transfers: ...


def forwarded(
    method: Callable[Concatenate[Transfers, P], R],
) -> Callable[Concatenate[_WithTransfers, P], R]:
    """A method of a facade (DocumentService) that calls ``method`` on its ``transfers``: the
    facade keeps the name, the signature and the docstring, Transfers keeps the code."""

    def forward(owner: _WithTransfers, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(owner.transfers, *args, **kwargs)

    functools.update_wrapper(forward, method)
    return forward


def _bytes_of(progress: ProgressCallback) -> JobProgressCallback:
    def report(job: JobProgress) -> None:
        progress(job.bytes_done, job.bytes_total)

    return report


def expiry_epoch_seconds(expires: datetime | None) -> int | None:
    """The ``expiresAt`` (epoch seconds) of a test record expiring at ``expires``, ahead."""
    if expires is None:
        return None
    if expires.tzinfo is None:
        raise ValueError("expires must carry a time zone")
    if expires <= utc_now():
        raise ValidationError("A test record's expiry must be in the future.")
    return math.ceil(expires.timestamp())
