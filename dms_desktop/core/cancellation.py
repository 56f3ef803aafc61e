"""Cooperative cancellation and progress reporting for long operations (transfers, batches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import Cancelled

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes total); may be called from transfer threads."""

PROGRESS_INTERVAL = 0.1
"""Seconds between two progress reports a person sees: smooth to the eye, cheap to draw."""


def throttled(callback: ProgressCallback, interval: float = PROGRESS_INTERVAL) -> ProgressCallback:
    """``callback`` called at most once per ``interval`` seconds, but always for the first report
    and for the last (done == total), so a display starts at once and ends complete. Safe to
    call from several threads (a multipart upload reports from each of its part threads)."""
    lock = threading.Lock()
    last_report = -float("inf")

    def report(done: int, total: int) -> None:
        nonlocal last_report
        now = time.monotonic()
        with lock:
            if done < total and now - last_report < interval:
                return
            last_report = now
        callback(done, total)

    return report


class CancelToken:
    """Set once by whoever wants the operation stopped; checked by the operation.

    Callbacks registered with :meth:`on_cancel` run (on the cancelling thread) when it is set,
    so a blocked transfer can be interrupted, not only polled.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []
        self._paused = False

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def paused(self) -> bool:
        """Stopped to be resumed later: a transfer keeps what it has done (see :meth:`pause`)."""
        return self._paused

    def pause(self) -> None:
        """Stop the work, keeping what it has done for a resume (a transfer's parts, its
        partial file); work that cannot be resumed takes it as a cancel."""
        with self._lock:
            if not self._event.is_set():
                self._paused = True
        self.cancel()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def raise_if_cancelled(self, what: str = "The operation") -> None:
        if self._event.is_set():
            raise Cancelled(f"{what} was cancelled.")

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback`` when cancelled (at once if already); returns an unregister function."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def unregister() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return unregister
        callback()
        return lambda: None
