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
"""

from __future__ import annotations

import enum
import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from ..core.cancellation import CancelToken, throttled
from ..core.errors import Cancelled, DmsError, Paused, TransferInterrupted
from ..core.localfiles import HashedFile
from ..core.models import Document
from ..core.transfer_rate import TransferRate

if TYPE_CHECKING:
    from ..core.interrupted import InterruptedTransfer  # imports botocore: not at start-up
    from ..core.service import DocumentService

log = logging.getLogger(__name__)

MAX_PARALLEL_TRANSFERS = 2


class TransferKind(enum.Enum):
    UPLOAD = "Upload"
    DOWNLOAD = "Download"


class TransferState(enum.Enum):
    QUEUED = "Queued"
    RUNNING = "Running"
    PAUSED = "Paused"  # by the user; Resume continues it
    INTERRUPTED = "Interrupted"  # by a failure that may pass, a quit or a crash; kept likewise
    DONE = "Done"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def finished(self) -> bool:
        return self in {TransferState.DONE, TransferState.FAILED, TransferState.CANCELLED}

    @property
    def active(self) -> bool:
        """Queued or running: it is doing (or about to do) something."""
        return self in {TransferState.QUEUED, TransferState.RUNNING}

    @property
    def resumable(self) -> bool:
        return self in {TransferState.PAUSED, TransferState.INTERRUPTED}


@dataclass
class UploadSpec:
    path: Path
    tags: tuple[str, ...] = ()
    folder: str = ""
    expires: datetime | None = None  # a test record expiring then
    content: HashedFile | None = None  # its checksum from the upload plan (not hashed again)
    new_version_of: Document | None = None  # stored as a new version of it (core.versions)


@dataclass
class DownloadSpec:
    document: Document
    target: Path  # a folder (the safe name goes inside) or a file
    overwrite: bool = False
    version: int | None = None  # an older version of the document (core.versions)


@dataclass
class Transfer:
    """One transfer as the panel shows it (only touched on the GUI thread)."""

    transfer_id: int
    kind: TransferKind
    name: str
    spec: UploadSpec | DownloadSpec | None  # None: interrupted before this start (kept_id)
    total: int
    done: int = 0
    state: TransferState = TransferState.QUEUED
    error: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    result: Document | Path | None = None
    kept_id: str | None = None  # its journal entry while kept to be resumed (core.interrupted)
    cancel: CancelToken = field(default_factory=CancelToken, repr=False)
    rate: TransferRate = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rate = TransferRate(self.total)

    @property
    def speed(self) -> float | None:
        """Bytes per second: over the last seconds while running (None until known, see
        core.transfer_rate), the average once done (what people compare); None otherwise."""
        if self.state is TransferState.RUNNING:
            return self.rate.speed
        if self.state is TransferState.DONE and self.started_at and self.finished_at:
            elapsed = self.finished_at - self.started_at
            return self.total / elapsed if elapsed > 0 else None
        return None

    @property
    def seconds_left(self) -> float | None:
        """While running, the time left at the current speed (None while unknown). Once every
        byte is sent a transfer still finishes (an upload's completion and metadata, a download's
        checksum): no estimate then, rather than "0s" for however long that takes."""
        if self.state is not TransferState.RUNNING:
            return None
        left = self.rate.seconds_left()
        return left if left else None


class _Signals(QObject):
    """Emitted from pool threads; delivered queued on the GUI thread."""

    progressed = Signal(int, int)  # transfer id, bytes done
    started = Signal(int)
    finished = Signal(int, object)  # transfer id, Document | Path
    failed = Signal(int, object)  # transfer id, DmsError
    discarded = Signal(int, object)  # transfer id, None or the DmsError that stopped it


class TransferQueue(QObject):
    """The queue behind the transfers panel."""

    changed = Signal(int)  # transfer id: added, progressed or changed state
    upload_finished = Signal(object)  # Document
    version_uploaded = Signal(object, object)  # the Document before, and with its new version
    download_finished = Signal(object)  # Path
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
        self._signals = _Signals()
        self._signals.progressed.connect(self._on_progress)
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
        transfer.rate = TransferRate(transfer.total)
        transfer.error = ""
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
            transfer_id = next(self._ids)
            transfer = Transfer(
                transfer_id,
                kind,
                kept.name,
                None,
                kept.total,
                done=kept.done,
                state=TransferState.INTERRUPTED,
                kept_id=kept.transfer_id,
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
        self, kind: TransferKind, name: str, spec: UploadSpec | DownloadSpec, total: int
    ) -> int:
        transfer_id = next(self._ids)
        transfer = Transfer(transfer_id, kind, name, spec, total)
        self._transfers[transfer_id] = transfer
        self._futures[transfer_id] = self._pool.submit(
            self._run, transfer_id, spec, transfer.cancel
        )
        self.changed.emit(transfer_id)
        return transfer_id

    def _run(
        self, transfer_id: int, spec: UploadSpec | DownloadSpec | str, cancel: CancelToken
    ) -> object:
        """``spec`` is a new transfer, or the journal id of a kept one to resume."""
        """On a pool thread: never touches the Transfer objects, only emits signals."""
        signals = self._signals
        signals.started.emit(transfer_id)

        def report(done: int, total: int) -> None:
            signals.progressed.emit(transfer_id, done)

        progress = throttled(report)

        try:
            service = self._service_provider()
            result: Document | Path
            if isinstance(spec, str):
                result = service.resume_transfer(spec, progress=progress, cancel=cancel)
            elif isinstance(spec, UploadSpec) and spec.new_version_of is not None:
                result = service.versions.upload_new_version(
                    spec.new_version_of.document_id,
                    spec.path,
                    expected_version=spec.new_version_of.version,
                    progress=progress,
                    cancel=cancel,
                )
            elif isinstance(spec, DownloadSpec) and spec.version is not None:
                result = service.versions.download_version(
                    spec.document.document_id,
                    spec.version,
                    spec.target,
                    overwrite=spec.overwrite,
                    progress=progress,
                    cancel=cancel,
                )
            elif isinstance(spec, UploadSpec):
                result = service.upload(
                    spec.path,
                    tags=spec.tags,
                    folder=spec.folder,
                    expires=spec.expires,
                    progress=progress,
                    cancel=cancel,
                    content=spec.content,
                )
            else:
                result = service.download(
                    spec.document.document_id,
                    spec.target,
                    overwrite=spec.overwrite,
                    progress=progress,
                    cancel=cancel,
                )
        except DmsError as error:
            signals.failed.emit(transfer_id, error)
            return None
        except Exception as exc:  # reported like any other failure
            log.exception("transfer %d failed unexpectedly", transfer_id)
            signals.failed.emit(
                transfer_id, DmsError(f"The transfer failed ({type(exc).__name__}); see the log.")
            )
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
                f"Could not discard the transfer ({type(exc).__name__}); see the log."
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
            self._set_state(transfer, TransferState.RUNNING)

    @Slot(int, int)
    def _on_progress(self, transfer_id: int, done: int) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is not None and not transfer.state.finished:
            transfer.done = done
            transfer.rate.update(done, time.monotonic())
            self.changed.emit(transfer_id)

    @Slot(int, object)
    def _on_finished(self, transfer_id: int, result: Document | Path) -> None:
        transfer = self._transfers.get(transfer_id)
        if transfer is None:
            return
        transfer.done = transfer.total
        transfer.result = result
        transfer.kept_id = None
        self._set_state(transfer, TransferState.DONE)
        spec = transfer.spec
        if isinstance(spec, UploadSpec) and spec.new_version_of is not None:
            self.version_uploaded.emit(spec.new_version_of, result)
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
