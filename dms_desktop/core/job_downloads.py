"""The download side of a job of many files (core.transfer_jobs): many documents downloaded
into one folder, several at a time."""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Sequence
from pathlib import Path

from .blobs import BlobStore
from .cancellation import CancelToken
from .downloading import Downloads
from .errors import InTrash, LocalFileError, NotFound
from .job_journal import noted_outcomes, track_job
from .job_pool import JobPool
from .job_progress import JobCounter, JobOutcome, JobProgressCallback
from .journal import DownloadEntry, DownloadJobEntry, JobDownload, Journal, Tracked
from .localfiles import PARTIAL_SUFFIX, file_checksum, partial_file_prefix
from .models import Document
from .repository import DocumentRepository
from .schema import object_key
from .transfer_outcome import Notice


class DownloadJobs:
    """Download jobs of one user."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
        downloads: Downloads,
        pool: JobPool,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal
        self._downloads = downloads
        self._pool = pool

    def start(
        self, name: str, folder: Path, targets: Sequence[tuple[Document, Path]], overwrite: bool
    ) -> Tracked:
        entry = DownloadJobEntry(
            user_id=self._user_id,
            name=name,
            folder=str(folder.absolute()),
            items=tuple(
                JobDownload(
                    document_id=document.document_id,
                    filename=document.filename,
                    target=str(target.absolute()),
                    size=document.size,
                )
                for document, target in targets
            ),
            overwrite=overwrite,
        )
        return track_job(self._journal, entry)

    def run(
        self,
        tracked: Tracked,
        *,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        documents: dict[str, Document] | None = None,
        concurrency: int | None = None,
        resumed: bool = False,
    ) -> JobOutcome:
        """Download the documents of the job ``tracked`` not done yet."""
        entry = tracked.entry
        assert isinstance(entry, DownloadJobEntry)
        done, _skipped = noted_outcomes(tracked.records())
        outcome = JobOutcome(entry.name, "download", len(entry.items))
        pending = [i for i in range(len(entry.items)) if i not in done]
        outcome.done_before = len(done)
        claim_large_file = self._pool.claim_large_file(tracked, DownloadEntry)
        counter = JobCounter(len(entry.items), sum(item.size for item in entry.items), progress)
        for index in done:
            counter.count_done(index, entry.items[index].size)

        def download_one(index: int, stop: CancelToken) -> Path:
            item = entry.items[index]
            target = Path(item.target)
            report = counter.progress_of(index)
            claimed = claim_large_file(item.document_id)
            if claimed is not None:
                try:
                    return self._downloads.resume(
                        claimed, progress=report, cancel=stop, notice=notice
                    )
                finally:
                    if claimed.held:
                        claimed.keep_for_resume()
            document = (documents or {}).get(item.document_id)
            if document is None:
                document = self._repository.get(self._user_id, item.document_id)
            if document.in_trash:
                raise InTrash(document.filename, document.document_id)
            if resumed:
                _remove_partials(target)
                if _already_there(target, document):
                    return target
            if self._blobs.is_multipart(document.size):
                return self._downloads.download(
                    document,
                    target,
                    overwrite=entry.overwrite,
                    progress=report,
                    cancel=stop,
                    job=tracked.name,
                )
            return self._blobs.download(
                object_key(self._user_id, document.document_id),
                target,
                expected_size=document.size,
                expected_checksum=document.checksum,
                overwrite=entry.overwrite,
                progress=report,
                cancel=stop,
            )

        def finished(index: int, result: object) -> None:
            assert isinstance(result, Path)
            tracked.append({"done": index})
            outcome.paths.append(result)
            counter.count_done(index, entry.items[index].size)

        return self._pool.run(
            tracked,
            pending,
            download_one,
            finished,
            lambda index: entry.items[index].filename,
            counter,
            outcome,
            cancel,
            concurrency,
        )

    def discard_unfinished(self, entry: DownloadJobEntry, pending: list[int]) -> None:
        """Remove the partial files of the ``pending`` documents."""
        for index in pending:
            _remove_partials(Path(entry.items[index].target))


def _remove_partials(target: Path) -> None:
    """Remove the hidden partial files an earlier run left for ``target``."""
    pattern = f"{glob.escape(partial_file_prefix(target.name))}*{PARTIAL_SUFFIX}"
    with contextlib.suppress(OSError):
        for partial in target.parent.glob(pattern):
            partial.unlink(missing_ok=True)


def _already_there(target: Path, document: Document) -> bool:
    """Whether ``target`` holds ``document`` already (moved into place just before a crash)."""
    try:
        if target.stat().st_size != document.size:
            return False
        return file_checksum(target) == document.checksum
    except (OSError, LocalFileError, NotFound):
        return False
