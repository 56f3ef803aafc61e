"""The files of a job moved a few at a time on a small shared pool (core.transfer_jobs), and
the job's journal entry settled when they have had their turn: finished, kept to be resumed, or
forgotten on a cancel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from .cancellation import CancelToken
from .downloading import Downloads
from .errors import Cancelled, DmsError, LocalFileError, Paused, TransferInterrupted, Unavailable
from .formatting import plural, printable
from .job_journal import entries_of_job
from .job_progress import FileFailure, JobCounter, JobOutcome
from .journal import DownloadEntry, Journal, Tracked, UploadEntry
from .uploading import Uploads

log = logging.getLogger(__name__)


def may_pass(error: BaseException) -> bool:
    """Whether a file's failure may pass (the network, the backend): it stops the job and
    keeps it, instead of being listed as the file's own."""
    return isinstance(error, Unavailable | TransferInterrupted) and not isinstance(error, Paused)


class JobPool:
    """Runs the files of the jobs of one user and settles their journal entries."""

    def __init__(
        self, journal: Journal | None, uploads: Uploads, downloads: Downloads, concurrency: int
    ) -> None:
        self._journal = journal
        self._uploads = uploads
        self._downloads = downloads
        self._concurrency = concurrency  # files at once, unless a run says otherwise

    def run(
        self,
        tracked: Tracked,
        pending: list[int],
        move_one: Callable[[int, CancelToken], object],
        finished: Callable[[int, object], None],
        name_of: Callable[[int], str],
        counter: JobCounter,
        outcome: JobOutcome,
        cancel: CancelToken | None,
        concurrency: int | None,
    ) -> JobOutcome:
        """Move the ``pending`` files a few at a time; see the module docstring for what a
        failure of one file does."""
        stop = CancelToken()  # the files in flight stop when the caller's token is set...
        unlink = cancel.on_cancel(lambda: _follow(cancel, stop)) if cancel is not None else None
        stopped: list[BaseException] = []  # ...or when a file's failure stops the job

        def work(index: int) -> None:
            if stop.cancelled:
                return
            try:
                result = move_one(index, stop)
            except Cancelled as error:
                counter.forget(index)
                stopped.append(error)
                return
            except DmsError as error:
                if may_pass(error):
                    counter.forget(index)
                    stopped.append(error)
                    stop.pause()  # the others stop too, keeping what they did
                    return
                failure = FileFailure(name_of(index), str(error), error.exit_code)
                log.info("a file of job %s failed: %s", tracked.name, failure)
                tracked.append({"failed": index, "message": failure.message})
                outcome.failures.append(failure)
                counter.count_failed(index, failure)
                return
            except OSError as exc:
                failure = FileFailure(
                    name_of(index), f"{exc.strerror or exc}.", LocalFileError.exit_code
                )
                tracked.append({"failed": index, "message": failure.message})
                outcome.failures.append(failure)
                counter.count_failed(index, failure)
                return
            finished(index, result)

        workers = max(1, concurrency or self._concurrency)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="dms-job")
        futures: list[Future[None]] = []
        try:
            futures = [pool.submit(work, index) for index in pending]
            finished_futures, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished_futures:
                future.result()  # an unexpected error: raised here
        except BaseException:
            stop.pause()  # Ctrl+C or a bug: the files in flight stop, keeping what they did
            pool.shutdown(wait=True, cancel_futures=True)
            tracked.keep_for_resume()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if unlink is not None:
                unlink()
        return self._settle(tracked, outcome, stopped, cancel)

    def _settle(
        self,
        tracked: Tracked,
        outcome: JobOutcome,
        stopped: list[BaseException],
        cancel: CancelToken | None,
    ) -> JobOutcome:
        name = printable(outcome.name)
        if cancel is not None and cancel.cancelled and not cancel.paused:
            self.forget(tracked)
            raise Cancelled(
                f"The {outcome.kind} of {name} was cancelled "
                f"({plural(outcome.done_before + outcome.moved, 'file')} of "
                f"{outcome.files_total} had been done)."
            )
        if (cancel is not None and cancel.paused) or stopped:
            tracked.keep_for_resume()
            reason = next((e for e in stopped if may_pass(e)), None)
            if reason is None:
                raise Paused(
                    f"{name}: paused; resuming it continues where it stopped.", tracked.name
                )
            raise TransferInterrupted(
                f"{reason} The {outcome.kind} of {name} was kept: resuming it continues where "
                "it stopped.",
                tracked.name,
            )
        self.forget(tracked)
        return outcome

    def forget(self, tracked: Tracked) -> None:
        """The job is over: its entry goes, and so do its files' own (done or undone)."""
        self.discard_large_files(tracked)
        tracked.finish()

    def discard_large_files(self, tracked: Tracked) -> None:
        """Undo the transfers of the job's large files that have entries of their own."""
        for child in entries_of_job(
            self._journal, tracked.name, UploadEntry | DownloadEntry
        ).values():
            claimed = self._journal.claim(child) if self._journal is not None else None
            if claimed is not None:
                self._discard_child(claimed)

    def claim_large_file(self, tracked: Tracked, kind: Any) -> Callable[[str], Tracked | None]:
        """A lookup of the kept entry (of ``kind``) of one of the job's large files by document
        id, claimed for this run (None if there is none or another run holds it)."""
        children = entries_of_job(self._journal, tracked.name, kind)

        def claim(document_id: str) -> Tracked | None:
            child = children.get(document_id)
            if child is None or self._journal is None:
                return None
            return self._journal.claim(child)

        return claim

    def _discard_child(self, claimed: Tracked) -> None:
        try:
            if isinstance(claimed.entry, UploadEntry):
                self._uploads.discard(claimed)
            else:
                self._downloads.discard(claimed)
        finally:
            if claimed.held:
                claimed.keep_for_resume()


def _follow(cancel: CancelToken, stop: CancelToken) -> None:
    if cancel.paused:
        stop.pause()
    else:
        stop.cancel()
