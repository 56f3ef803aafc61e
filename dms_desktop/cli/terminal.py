"""Talking to the person at the terminal: questions, passwords and one-line progress displays."""

from __future__ import annotations

import getpass
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from ..core.cancellation import CancelToken, ProgressCallback, throttled
from ..core.errors import ValidationError
from ..core.formatting import human_duration, human_size
from ..core.job_progress import JobProgress
from ..core.transfer_rate import JobRate, TransferRate
from .context import Context


def confirm(context: Context, question: str) -> bool:
    """Ask a yes/no question on the terminal; only "y" or "yes" is a yes."""
    context.err.write(f"{question} [y/N] ")
    context.err.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in {"y", "yes"}


def read_password(context: Context) -> str:
    """DMS_PASSWORD, else asked on the terminal."""
    from_env = os.environ.get("DMS_PASSWORD")
    if from_env:
        return from_env
    if not context.interactive:
        raise ValidationError("No terminal to ask for the password on; set DMS_PASSWORD.")
    return getpass.getpass("Password: ")


def read_new_password(context: Context) -> str:
    """DMS_NEW_PASSWORD, else asked twice on the terminal."""
    from_env = os.environ.get("DMS_NEW_PASSWORD")
    if from_env:
        return from_env
    if not context.interactive:
        raise ValidationError("No terminal to ask for the new password on; set DMS_NEW_PASSWORD.")
    first = getpass.getpass("New password: ")
    if getpass.getpass("New password again: ") != first:
        raise ValidationError("The two new passwords differ; run `dms login` again.")
    return first


def _ignore(done: int, total: int) -> None:
    """Progress nobody sees (stderr is not a terminal)."""


class ProgressLine:
    """A one-line progress display on a terminal (nothing when stderr is not a terminal):
    "file 3 of 120  report.pdf   45%   1.2 MB of 2.7 MB  800 KB/s  2s left"."""

    def __init__(self, stream: TextIO, label: str, position: str = "") -> None:
        self._stream = stream
        self._label = label if len(label) <= 30 else label[:29] + "…"
        self._prefix = f"{position}  " if position else ""
        self._enabled = stream.isatty()
        self._rate: TransferRate | None = None  # speed and time left, as the window shows them
        self._drawn = 0  # characters on the line now
        self.update: ProgressCallback = throttled(self._draw) if self._enabled else _ignore

    def status(self, text: str) -> None:
        """A step before the transfer starts (e.g. "checking for duplicates")."""
        if self._enabled:
            self._write(f"{self._prefix}{self._label:<30} {text}…")

    def _draw(self, done: int, total: int) -> None:
        if self._rate is None or self._rate.total != total:
            self._rate = TransferRate(total)
        self._rate.update(done, time.monotonic())
        percent = 100 if total == 0 else int(done * 100 / total)
        line = (
            f"{self._prefix}{self._label:<30} {percent:3d}% {human_size(done):>9} of "
            f"{human_size(total):<9}"
        )
        speed, left = self._rate.speed, self._rate.seconds_left()
        if speed:
            line += f" {human_size(int(speed))}/s"
        if left is not None:
            line += f"  {human_duration(left)} left"
        self._write(line)

    def status_line(self, text: str) -> None:
        """Draw the label and ``text`` (a display of its own, e.g. a job's)."""
        if self._enabled:
            self._write(f"{self._prefix}{self._label:<30} {text}")

    def _write(self, line: str) -> None:
        self._stream.write("\r" + line.ljust(self._drawn))
        self._stream.flush()
        self._drawn = len(line)

    def finish(self) -> None:
        """Clear the line (call it before anything else is printed)."""
        if self._enabled and self._drawn:
            self._stream.write("\r" + " " * self._drawn + "\r")
            self._stream.flush()
            self._drawn = 0


class JobProgressLine:
    """One line for a job of many files (nothing when stderr is not a terminal):
    "photos  1234 of 5000 files  25%  4.8 MB of 19.5 MB  1.2 MB/s  9s left"."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._line = ProgressLine(stream, label)
        self._enabled = stream.isatty()
        self._rate: JobRate | None = None
        self._lock = threading.Lock()
        self._last = -float("inf")
        self._started = time.monotonic()

    def update(self, job: JobProgress) -> None:
        """Called from the job's threads."""
        if not self._enabled:
            return
        now = time.monotonic()
        with self._lock:
            if job.files_done < job.files_total and now - self._last < 0.1:
                return
            self._last = now
            if self._rate is None:
                self._rate = JobRate(job.files_total, job.bytes_total)
                if job.files_done == 0:  # a new job: its pace counts from its start
                    self._rate.begin(0, 0, self._started)
            self._rate.update(job.files_done, job.bytes_done, now)
            total = job.bytes_total
            percent = 100 if total == 0 else int(job.bytes_done * 100 / total)
            line = (
                f"{job.files_done} of {job.files_total} files  {percent:3d}% "
                f"{human_size(job.bytes_done):>9} of {human_size(total):<9}"
            )
            if job.failures:
                line += f" {len(job.failures)} failed"
            speed, left = self._rate.speed, self._rate.seconds_left()
            if speed:
                line += f" {human_size(int(speed))}/s"
            if left is not None:
                line += f"  {human_duration(left)} left"
            self._line.status_line(line)

    def finish(self) -> None:
        with self._lock:
            self._line.finish()


class CountProgress:
    """'Deleting  1234 of 10000' on a terminal (nothing when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._enabled = stream.isatty()
        self.update: ProgressCallback = throttled(self._draw) if self._enabled else _ignore

    def _draw(self, done: int, total: int) -> None:
        self._stream.write(f"\r{self._label} {done:>7} of {total:<7}")
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._stream.write("\r" + " " * 60 + "\r")
            self._stream.flush()


@contextmanager
def cancel_on_interrupt(cancel: CancelToken) -> Iterator[None]:
    """Ctrl+C sets ``cancel`` (stopping between batches) instead of interrupting a request."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: cancel.cancel())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
