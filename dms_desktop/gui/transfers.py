"""Uploads and downloads that run while the user keeps browsing.

Each transfer runs on a thread of a small pool (a multipart upload's parts then go on threads
of their own); its progress reaches the GUI thread only through signals, throttled per transfer
(core.cancellation.throttled). Cancelling is cooperative (a CancelToken); the core
guarantees a cancelled upload leaves no object or multipart upload, and a cancelled download no
partial file.

Pausing is a cancel that keeps what was done (``CancelToken.pause``): the core keeps the transfer
in its journal (core.interrupted), and Resume continues it where it stopped. A transfer stopped
by a failure that may pass (the network) is kept the same way (Interrupted), and so are those a
quit or a crash interrupted: :meth:`TransferQueue.show_interrupted` lists them at start-up, to be
resumed or discarded.

Many files (a folder dropped or chosen in the upload dialog, several documents downloaded) are
one transfer, a job (core.transfer_jobs): one row with its files done of all, bytes, speed and
time left; files that failed are listed in its tooltip and reported once it ends, while the
others go on. Pause, Resume, Discard and Cancel apply to the whole job.

What a transfer is (its spec, its state) is in gui.transfer_items; the work on a pool thread (which
call of the service a spec is, the signals back) in gui.transfer_work.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from ..core.cancellation import CancelToken, throttled
from ..core.errors import Cancelled, DmsError, Paused, TransferInterrupted
from ..core.models import Document
from .transfer_items import (
    DownloadJobSpec,
    DownloadSpec,
    Transfer,
    TransferKind,
    TransferSpec,
    TransferState,
    UploadJobSpec,
    UploadSpec,
)
from .transfer_work import TransferSignals, perform_transfer

if TYPE_CHECKING:
    from ..core.interrupted import InterruptedTransfer  # imports botocore: not at start-up
    from ..core.job_progress import JobOutcome, JobProgress
    from ..core.service import DocumentService

log = logging.getLogger(__name__)

MAX_PARALLEL_TRANSFERS = 2


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class TransferQueue(QObject):
    """The queue behind the transfers panel."""

    changed = Signal(int)  # transfer id: added, progressed or changed state
    upload_finished = Signal(object)  # Document
    version_uploaded = Signal(object, object)  # the Document before, and with its new version
    download_finished = Signal(object)  # Path
    documents_uploaded = Signal(list)  # list[Document]: the documents a job stored
    transfer_failed = Signal(object, object)  # Transfer, DmsError

    def __init__(
        self,
        service_provider: Callable[[], DocumentService],
        parent: QObject | None = None,
        max_parallel: int = MAX_PARALLEL_TRANSFERS,
    ) -> None:
        super().__init__(parent)
        self._service_provider = service_provider
        self._ids = itertools.count(1)
        self._transfers: dict[int, Transfer] = {}
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="transfer")
        self._futures: dict[int, Future[object]] = {}
        self._signals = TransferSignals()
        self._signals.progressed.connect(self._on_progress)
        self._signals.job_progressed.connect(self._on_job_progress)
        self._signals.started.connect(self._on_started)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.discarded.connect(self._on_discarded)

    # --- queries ---

    def transfers(self) -> list[Transfer]:
        return list(self._transfers.values())

    def get(self, transfer_id: int) -> Transfer:
        return self._transfers[transfer_id]

    @property
    def active_count(self) -> int:
        """Transfers queued or running (paused and interrupted ones do nothing)."""
        return sum(1 for transfer in self._transfers.values() if transfer.state.active)

    # --- commands ---

    def upload(self, spec: UploadSpec) -> int:
        size = spec.path.stat().st_size if spec.path.exists() else 0
        return self._add(TransferKind.UPLOAD, spec.path.name, spec, size)

    def download(self, spec: DownloadSpec) -> int:
        return self._add(TransferKind.DOWNLOAD, spec.document.filename, spec, spec.document.size)

    def upload_job(self, spec: UploadJobSpec) -> int:
        """Upload many files as one job: one row, one Pause / Resume / Cancel for all."""
        total = sum(_size_of(file.path) for file in spec.files)
        return self._add(TransferKind.UPLOAD, spec.name, spec, total, len(spec.files))

    def job_name(self, files: list[UploadSpec]) -> str:
        """What an upload job is called: the folder all its files are in ("photos"), else
        "N files"."""
        tops = {file.folder.split("/", 1)[0] for file in files}
        if len(tops) == 1 and "" not in tops:
            return tops.pop()
        return self.tr("%n file(s)", "", len(files))

    def download_job(self, spec: DownloadJobSpec) -> int:
        """Download many documents into a folder as one job."""
        total = sum(document.size for document in spec.documents)
        return self._add(TransferKind.DOWNLOAD, spec.name, spec, total, len(spec.documents))

    def cancel(self, transfer_id: int) -> None:
        transfer = self._transfers[transfer_id]
        if not transfer.state.active:
            return
        transfer.cancel.cancel()
        future = self._futures.get(transfer_id)
        if transfer.state is TransferState.QUEUED and future is not None and future.cancel():
            self._set_state(transfer, TransferState.CANCELLED)

    def cancel_all(self) -> None:
        for transfer_id in list(self._transfers):
            self.cancel(transfer_id)

    def pause(self, transfer_id: int) -> None:
        """Stop a queued or running transfer, keeping what it did for :meth:`resume`."""
        transfer = self._transfers[transfer_id]
        if not transfer.state.active:
            return
        future = self._futures.get(transfer_id)
        if transfer.state is TransferState.QUEUED and future is not None and future.cancel():
            self._set_state(transfer, TransferState.PAUSED)  # nothing done yet: nothing kept
            return
        transfer.cancel.pause()  # the core keeps it and raises Paused (see _on_failed)

    def pause_all(self) -> None:
        for transfer_id in list(self._transfers):
            self.pause(transfer_id)

    def resume(self, transfer_id: int) -> None:
        """Continue a paused or interrupted transfer where it stopped (in the same row)."""
        transfer = self._transfers[transfer_id]
        if not transfer.state.resumable:
            return
        work = transfer.kept_id or transfer.spec
        if work is None:
            return
        transfer.cancel = CancelToken()
        transfer.restart_rate()
        transfer.error = ""
        transfer.failures = []
        transfer.started_at = transfer.finished_at = None
        self._set_state(transfer, TransferState.QUEUED)
        self._futures[transfer_id] = self._pool.submit(
            self._run, transfer_id, work, transfer.cancel
        )

    def resume_all(self) -> None:
        for transfer_id in list(self._transfers):
            self.resume(transfer_id)

    def discard(self, transfer_id: int) -> None:
        """Give up a paused or interrupted transfer: what it sent or wrote is removed (on a
        transfer thread: aborting a multipart upload is a request), then its row."""
        transfer = self._transfers[transfer_id]
        if not transfer.state.resumable:
            return
        if transfer.kept_id is None:
            self._remove(transfer_id)
            return
        self._futures[transfer_id] = self._pool.submit(self._discard, transfer_id, transfer.kept_id)

    def show_interrupted(self, interrupted: list[InterruptedTransfer]) -> None:
        """Add a row for each transfer a quit or a crash interrupted (from the journal), to be
        resumed or discarded; those shown already and those another instance runs are left."""
        shown = {transfer.kept_id for transfer in self._transfers.values()}
        for kept in interrupted:
            if kept.running or kept.transfer_id in shown:
                continue
            kind = TransferKind.UPLOAD if kept.kind == "upload" else TransferKind.DOWNLOAD
            name = kept.name
            if kept.new_version_of is not None:
                name = self.tr("%1 (new version)").replace("%1", kept.name)
            transfer_id = next(self._ids)
            transfer = Transfer(
                transfer_id,
                kind,
                name,
                None,
                kept.total,
                done=kept.done,
                files_total=kept.files_total,
                files_done=kept.files_done or 0,
                state=TransferState.INTERRUPTED,
                kept_id=kept.transfer_id,
                new_version=kept.new_version_of is not None,
            )
            self._transfers[transfer_id] = transfer
            self.changed.emit(transfer_id)

    def retry(self, transfer_id: int) -> int | None:
        """Queue a failed or cancelled transfer again (as a new row); returns its id."""
        transfer = self._transfers[transfer_id]
        if transfer.state not in {TransferState.FAILED, TransferState.CANCELLED}:
            return None
        if transfer.spec is None:
            return None
        del self._transfers[transfer_id]
        self._futures.pop(transfer_id, None)
        self.changed.emit(transfer_id)
        # Through upload()/download() so the size is measured again: the file may have been
        # missing (size 0) or changed when the first attempt was queued.
        spec = transfer.spec
        if isinstance(spec, UploadJobSpec):
            return self.upload_job(spec)
        if isinstance(spec, DownloadJobSpec):
            return self.download_job(spec)
        return self.upload(spec) if isinstance(spec, UploadSpec) else self.download(spec)

    def clear_finished(self) -> None:
        for transfer_id, transfer in list(self._transfers.items()):
            if transfer.state.finished:
                self._remove(transfer_id)

    def forget_kept(self) -> None:
        """Remove the rows of paused and interrupted transfers (at sign-out: they stay in the
        journal, and show again when their user next signs in here)."""
        for transfer_id, transfer in list(self._transfers.items()):
            if transfer.state.resumable:
                self._remove(transfer_id)

    def _remove(self, transfer_id: int) -> None:
        del self._transfers[transfer_id]
        self._futures.pop(transfer_id, None)
        self.changed.emit(transfer_id)

    def shutdown(self) -> None:
        """Cancel everything and wait for the pool's threads to end."""
        self.cancel_all()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- running ---

    def _add(
        self,
        kind: TransferKind,
        name: str,
        spec: TransferSpec,
        total: int,
        files: int | None = None,
    ) -> int:
        transfer_id = next(self._ids)
        transfer = Transfer(transfer_id, kind, name, spec, total, files_total=files)
        self._transfers[transfer_id] = transfer
        self._futures[transfer_id] = self._pool.submit(
            self._run, transfer_id, spec, transfer.cancel
        )
        self.changed.emit(transfer_id)
        return transfer_id

    def _run(self, transfer_id: int, spec: TransferSpec | str, cancel: CancelToken) -> object:
        """``spec`` is a new transfer, or the journal id of a kept one to resume.
        On a pool thread: never touches the Transfer objects, only emits signals."""
        signals = self._signals
        signals.started.emit(transfer_id)

        def report(done: int, total: int) -> None:
            signals.progressed.emit(transfer_id, done)

        def report_job(job: JobProgress) -> None:  # throttled by the job itself
            signals.job_progressed.emit(transfer_id, job)

        try:
            result = perform_transfer(
                self._service_provider(), spec, cancel, throttled(report), report_job
            )
        except DmsError as error:
            signals.failed.emit(transfer_id, error)
            return None
        except Exception as exc:  # reported like any other failure
            log.exception("transfer %d failed unexpectedly", transfer_id)
            message = self.tr("The transfer failed ({error}); see the log.")
            signals.failed.emit(transfer_id, DmsError(message.format(error=type(exc).__name__)))
            return None
        signals.finished.emit(transfer_id, result)
        return result

    def _discard(self, transfer_id: int, kept_id: str) -> None:
        """On a pool thread, like :meth:`_run`."""
        try:
            self._service_provider().discard_transfer(kept_id)
        except DmsError as error:
            self._signals.discarded.emit(transfer_id, error)
            return
        except Exception as exc:  # reported like any other failure
            log.exception("discarding transfer %d failed unexpectedly", transfer_id)
            failure = DmsError(
                self.tr("Could not discard the transfer ({error}); see the log.").format(
                    error=type(exc).__name__
                )
            )
            self._signals.discarded.emit(transfer_id, failure)
            return
        self._signals.discarded.emit(transfer_id, None)

    def _set_state(self, transfer: Transfer, state: TransferState) -> None:
        transfer.state = state
        if state.finished:
            transfer.finished_at = time.monotonic()
        self.changed.emit(transfer.transfer_id)

    @Slot(int)
    def _on_started(self, transfer_id: int) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is not None:
            transfer.started_at = time.monotonic()
            if transfer.job_rate is not None:  # a job's pace counts from its start
                transfer.job_rate.begin(transfer.files_done, transfer.done, transfer.started_at)
            self._set_state(transfer, TransferState.RUNNING)

    @Slot(int, int)
    def _on_progress(self, transfer_id: int, done: int) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is not None and not transfer.state.finished:
            transfer.done = done
            transfer.rate.update(done, time.monotonic())
            self.changed.emit(transfer_id)

    @Slot(int, object)
    def _on_job_progress(self, transfer_id: int, job: JobProgress) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is None or transfer.state.finished:
            return
        transfer.done = job.bytes_done
        transfer.files_done = job.files_done
        transfer.files_total = job.files_total
        transfer.failures = [str(failure) for failure in job.failures]
        if transfer.job_rate is not None:
            transfer.job_rate.update(job.files_done, job.bytes_done, time.monotonic())
        self.changed.emit(transfer_id)

    def _on_job_finished(self, transfer: Transfer, outcome: JobOutcome) -> None:
        transfer.files_done = transfer.files_total or 0
        transfer.failures = [str(failure) for failure in outcome.failures]
        everything_failed = outcome.failures and not (
            outcome.moved or outcome.done_before or outcome.skipped
        )
        self._set_state(transfer, TransferState.FAILED if everything_failed else TransferState.DONE)
        if outcome.documents:
            self.documents_uploaded.emit(list(outcome.documents))
        if outcome.kind == "download" and outcome.paths and not outcome.failures:
            self.download_finished.emit(outcome.paths[0].parent)
        if outcome.failures:
            failed = len(outcome.failures)
            transfer.error = (
                self.tr("%n file(s) could not be transferred:", "", failed)
                + "\n"
                + "\n".join(transfer.failures)
            )
            self.transfer_failed.emit(transfer, DmsError(transfer.error))

    @Slot(int, object)
    def _on_finished(self, transfer_id: int, result: Document | Path | JobOutcome) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is None:
            return
        transfer.done = transfer.total
        transfer.result = result
        transfer.kept_id = None
        if not isinstance(result, Document | Path):
            self._on_job_finished(transfer, result)
            return
        self._set_state(transfer, TransferState.DONE)
        spec = transfer.spec
        if isinstance(spec, UploadSpec) and spec.new_version_of is not None:
            self.version_uploaded.emit(spec.new_version_of, result)
        elif transfer.new_version and isinstance(result, Document):
            # Kept before this start: the document as it was is not known here, but a new
            # version changes neither its id nor its tags.
            self.version_uploaded.emit(result, result)
        elif isinstance(result, Document):
            self.upload_finished.emit(result)
        else:
            self.download_finished.emit(result)

    @Slot(int, object)
    def _on_failed(self, transfer_id: int, error: DmsError) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is None:
            return
        transfer.error = str(error)
        if isinstance(error, Paused):
            transfer.kept_id = error.transfer_id
            transfer.error = ""
            self._set_state(transfer, TransferState.PAUSED)
            return
        if isinstance(error, Cancelled):
            self._set_state(transfer, TransferState.CANCELLED)
            return
        if isinstance(error, TransferInterrupted):
            transfer.kept_id = error.transfer_id
            self._set_state(transfer, TransferState.INTERRUPTED)
        else:
            transfer.kept_id = None
            self._set_state(transfer, TransferState.FAILED)
        self.transfer_failed.emit(transfer, error)

    @Slot(int, object)
    def _on_discarded(self, transfer_id: int, error: DmsError | None) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is None:
            return
        if error is not None:
            transfer.error = str(error)
            self.changed.emit(transfer_id)
            self.transfer_failed.emit(transfer, error)
            return
        self._remove(transfer_id)
