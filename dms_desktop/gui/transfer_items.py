"""What the transfer queue holds (gui.transfers): what each transfer was asked to do (its spec:
one file up or down, or many as one job) and where it stands (:class:`Transfer`, its state, bytes
and files done, speed and time left). Only touched on the GUI thread."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.cancellation import CancelToken
from ..core.localfiles import HashedFile
from ..core.models import Document
from ..core.transfer_rate import JobRate, TransferRate
from .translations import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from ..core.job_progress import JobOutcome


class TransferKind(enum.Enum):
    """Its value is the English name the transfers panel shows (translated there)."""

    UPLOAD = QT_TRANSLATE_NOOP("TransferTableModel", "Upload")
    DOWNLOAD = QT_TRANSLATE_NOOP("TransferTableModel", "Download")


class TransferState(enum.Enum):
    """Its value is the English name the transfers panel shows (translated there)."""

    QUEUED = QT_TRANSLATE_NOOP("TransferTableModel", "Queued")
    RUNNING = QT_TRANSLATE_NOOP("TransferTableModel", "Running")
    PAUSED = QT_TRANSLATE_NOOP("TransferTableModel", "Paused")  # by the user; Resume continues it
    # by a failure that may pass, a quit or a crash; kept likewise
    INTERRUPTED = QT_TRANSLATE_NOOP("TransferTableModel", "Interrupted")
    DONE = QT_TRANSLATE_NOOP("TransferTableModel", "Done")
    FAILED = QT_TRANSLATE_NOOP("TransferTableModel", "Failed")
    CANCELLED = QT_TRANSLATE_NOOP("TransferTableModel", "Cancelled")

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
class UploadJobSpec:
    """Many files uploaded as one job (their duplicates decided by the upload dialog)."""

    files: list[UploadSpec]
    name: str
    roots: list[Path]


@dataclass
class DownloadJobSpec:
    """Many documents downloaded into one folder as one job."""

    documents: list[Document]
    folder: Path
    name: str
    overwrite: bool = False


TransferSpec = UploadSpec | DownloadSpec | UploadJobSpec | DownloadJobSpec


@dataclass
class Transfer:
    """One transfer as the panel shows it (only touched on the GUI thread)."""

    transfer_id: int
    kind: TransferKind
    name: str
    spec: TransferSpec | None  # None: interrupted before this start (kept_id)
    total: int
    done: int = 0
    files_total: int | None = None  # a job of many files (None: one file)
    files_done: int = 0
    failures: list[str] = field(default_factory=list)  # a job's files that failed, one line each
    state: TransferState = TransferState.QUEUED
    error: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    result: Document | Path | JobOutcome | None = None
    kept_id: str | None = None  # its journal entry while kept to be resumed (core.interrupted)
    new_version: bool = False  # kept before this start as a new version of its document
    cancel: CancelToken = field(default_factory=CancelToken, repr=False)
    rate: TransferRate = field(init=False, repr=False)
    job_rate: JobRate | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.restart_rate()

    @property
    def is_job(self) -> bool:
        return self.files_total is not None

    def restart_rate(self) -> None:
        self.rate = TransferRate(self.total)
        self.job_rate = JobRate(self.files_total, self.total) if self.is_job else None  # type: ignore[arg-type]

    @property
    def speed(self) -> float | None:
        """Bytes per second: over the last seconds while running (None until known, see
        core.transfer_rate), the average once done (what people compare); None otherwise."""
        if self.state is TransferState.RUNNING:
            return self.job_rate.speed if self.job_rate is not None else self.rate.speed
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
        if self.job_rate is not None:
            left = self.job_rate.seconds_left()
        else:
            left = self.rate.seconds_left()
        return left if left else None
