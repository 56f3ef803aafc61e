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

from ..core.cancellation import CancelToken
from ..core.errors import ValidationError
from ..core.formatting import human_duration, human_size
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


class ProgressLine:
    """A one-line progress display on a terminal (nothing when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label if len(label) <= 30 else label[:27] + "..."
        self._enabled = stream.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self._enabled or (now - self._last_draw < 0.1 and done < total):
            return
        self._last_draw = now
        elapsed = max(now - self._started, 1e-6)
        speed = done / elapsed
        percent = 100 if total == 0 else int(done * 100 / total)
        left = (total - done) / speed if speed > 0 else 0
        self._stream.write(
            f"\r{self._label:<30} {percent:3d}% {human_size(done):>9} of {human_size(total):<9}"
            f" {human_size(int(speed))}/s  {human_duration(left)} left   "
        )
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._stream.write("\r" + " " * 90 + "\r")
            self._stream.flush()


class CountProgress:
    """'Deleting  1234 of 10000' on a terminal (nothing when stderr is not a terminal)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._enabled = stream.isatty()
        self._last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self._enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
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
