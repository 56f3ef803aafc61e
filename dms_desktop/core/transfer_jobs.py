"""Many files moved as one job: a folder (or many files) uploaded, many documents downloaded.

A job is one journal entry (core.journal ``UploadJobEntry`` / ``DownloadJobEntry``) that lists
every file with what is decided before anything is sent (an upload's document ids, a download's
targets), written once; each file's outcome is appended to its record log as it happens
(done, skipped, failed), so a job of thousands of files costs one line per file, not a rewrite.

Several files go at once on a small shared pool (``TransferSettings.job_concurrency``). A small
file is one PutObject (or one GET) with no journal entry of its own: if the job stops, it is
simply sent again. A file large enough for a multipart upload (or a ranged download) gets its own
entry, marked with the job's name, so that a resumed job continues it part by part as a single
transfer would (core.uploading, core.downloading).

A file that fails for a reason of its own (unreadable, changed while sent, a bad name, in the
trash) is listed with its message and the others go on. A failure that may pass (the network,
the backend) stops the job and keeps it, as a pause or Ctrl+C does; a crash keeps it too.
Resuming it first looks up which of the files not noted done are stored already (the record of
an upload written just before a crash; a download's target already in place), then sends the
rest. A cancel stops the job: files already stored stay, the files in flight are undone.
"""

from __future__ import annotations

from .blobs import BlobStore
from .downloading import Downloads
from .job_downloads import DownloadJobs
from .job_journal import noted_outcomes
from .job_pool import JobPool
from .job_uploads import UploadJobs
from .journal import DownloadJobEntry, Journal, Tracked, UploadJobEntry
from .repository import DocumentRepository
from .uploading import Uploads


class TransferJobs:
    """Upload and download jobs of one user (see the module docstring): ``uploads`` and
    ``downloads`` start and run them, ``discard`` gives one up."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
        uploads: Uploads,
        downloads: Downloads,
        owner_name: str | None,
    ) -> None:
        self._pool = JobPool(journal, uploads, downloads, blobs.settings.job_concurrency)
        self.uploads = UploadJobs(
            repository, blobs, user_id, journal, uploads, self._pool, owner_name
        )
        self.downloads = DownloadJobs(repository, blobs, user_id, journal, downloads, self._pool)

    def discard(self, tracked: Tracked) -> None:
        """Give up the job ``tracked``: the files not done are undone (an upload's bodies
        deleted, a download's partial files removed); those done stay."""
        entry = tracked.entry
        done, skipped = noted_outcomes(tracked.records())
        self._pool.discard_large_files(tracked)
        assert isinstance(entry, UploadJobEntry | DownloadJobEntry)
        pending = [i for i in range(len(entry.items)) if i not in done and i not in skipped]
        if isinstance(entry, UploadJobEntry):
            self.uploads.discard_unsent(entry, pending)
        elif isinstance(entry, DownloadJobEntry):
            self.downloads.discard_unfinished(entry, pending)
        tracked.finish()
