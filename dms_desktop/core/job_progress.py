"""Where a job of many files is and what it did (core.transfer_jobs): its progress, fed from
the pool's threads, and its outcome, with one line for each file that failed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .cancellation import ProgressCallback
from .formatting import printable
from .models import Document


@dataclass(frozen=True)
class FileFailure:
    """A file of a job that could not be moved, and why (one line for the user)."""

    name: str
    message: str
    exit_code: int = 1  # the `dms` exit code of its error

    def __str__(self) -> str:
        return f"{printable(self.name)}: {printable(self.message)}"


@dataclass(frozen=True)
class JobProgress:
    """Where a job is: files done (stored, skipped or failed) of all, and bytes."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    failures: tuple[FileFailure, ...] = ()


JobProgressCallback = Callable[[JobProgress], None]


@dataclass
class JobOutcome:
    """What a job did, once every file had its turn."""

    name: str
    kind: str  # upload, download
    files_total: int
    documents: list[Document] = field(default_factory=list)  # uploaded by this run
    paths: list[Path] = field(default_factory=list)  # downloaded by this run
    done_before: int = 0  # stored by an earlier run of the job (or found stored on resume)
    skipped: int = 0
    failures: list[FileFailure] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return len(self.documents) + len(self.paths)


class JobCounter:
    """The job's progress, fed from the pool's threads; reports at most every ``interval``."""

    def __init__(self, files: int, total_bytes: int, callback: JobProgressCallback | None) -> None:
        self._lock = threading.Lock()
        self._files_total = files
        self._bytes_total = total_bytes
        self._files_done = 0
        self._bytes_done = 0
        self._per_file: dict[int, int] = {}
        self._failures: list[FileFailure] = []
        self._callback = callback
        self._last = -float("inf")

    def count_done(self, index: int, size: int) -> None:
        with self._lock:
            self._files_done += 1
            self._bytes_done += size - self._per_file.pop(index, 0)
        self._report(force=True)

    def count_failed(self, index: int, failure: FileFailure) -> None:
        with self._lock:
            self._files_done += 1
            self._bytes_done -= self._per_file.pop(index, 0)
            self._failures.append(failure)
        self._report(force=True)

    def progress_of(self, index: int) -> ProgressCallback:
        def report(done: int, _total: int) -> None:
            with self._lock:
                before = self._per_file.get(index, 0)
                self._per_file[index] = done
                self._bytes_done += done - before
            self._report()

        return report

    def forget(self, index: int) -> None:
        """A file stopped without being done (paused, interrupted): its bytes count for nothing."""
        with self._lock:
            self._bytes_done -= self._per_file.pop(index, 0)

    def snapshot(self) -> JobProgress:
        with self._lock:
            return JobProgress(
                self._files_done,
                self._files_total,
                max(0, self._bytes_done),
                self._bytes_total,
                tuple(self._failures),
            )

    def _report(self, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last < 0.1:
                return
            self._last = now
        self._callback(self.snapshot())
