"""Speed and time left of one transfer, from its progress reports (the window and the CLI).

The speed is the rate over the last few seconds (``WINDOW_SECONDS``), measured from the first
byte that moved, not from when the transfer was queued or started: hashing the file, creating the
upload and the first request's round trip are not part of it. There is no speed and no time left
until bytes have moved for ``MIN_SECONDS``: a first guess from a burst or a slow start was
wildly off ("1m27s left" for a one-second transfer). A stall gives no time left rather than a
huge one, and a time left above ``MAX_SECONDS_LEFT`` is not shown.
"""

from __future__ import annotations

from collections import deque

MIN_SECONDS = 1.0
WINDOW_SECONDS = 5.0
MAX_SECONDS_LEFT = 100 * 3600.0


class TransferRate:
    """Follows one transfer's bytes done over time; ask it for :attr:`speed` and
    :meth:`seconds_left`. Not thread-safe: feed it from one thread."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 0)
        self._samples: deque[tuple[float, int]] = deque()  # (time, bytes done) since moving
        self._done = 0

    @property
    def done(self) -> int:
        return self._done

    def begin(self, done: int, now: float) -> None:
        """Measure from ``now``, when ``done`` were done (a job measures from its start: its
        first file's round trip is part of its pace)."""
        self._samples.clear()
        self._samples.append((now, done))
        self._done = done

    def update(self, done: int, now: float) -> None:
        """``done`` bytes at time ``now`` (seconds, monotonic)."""
        if done < self._done:
            # An upload counts back what a failed part had sent (it is sent again): the rate so
            # far no longer says anything.
            self._samples.clear()
        self._done = done
        if not self._samples:
            if done > 0:
                self._samples.append((now, done))  # the first bytes moved: measure from here
            return
        self._samples.append((now, done))
        # Keep one sample at or before the window's start, so the window is always full.
        while len(self._samples) > 2 and self._samples[1][0] <= now - WINDOW_SECONDS:
            self._samples.popleft()

    @property
    def speed(self) -> float | None:
        """Bytes per second over the last seconds; None until bytes moved for MIN_SECONDS."""
        if len(self._samples) < 2:
            return None
        (first_time, first_done), (last_time, last_done) = self._samples[0], self._samples[-1]
        elapsed = last_time - first_time
        if elapsed < MIN_SECONDS:
            return None
        return max(last_done - first_done, 0) / elapsed

    def seconds_left(self) -> float | None:
        """The time left at the current speed; None while unknown (too early, stalled, or more
        than MAX_SECONDS_LEFT), 0 when everything is done."""
        remaining = self.total - self._done
        if remaining <= 0:
            return 0.0 if self.total > 0 else None
        speed = self.speed
        if not speed:
            return None
        left = remaining / speed
        return left if left <= MAX_SECONDS_LEFT else None


class JobRate:
    """Speed and time left of a job of many files (core.transfer_jobs): its bytes and its files
    are followed apart, and the time left is the longer of the two estimates. With many small
    files the time goes into each file's requests, not its bytes (the files' rate says it);
    with a few big ones the bytes' rate does. Both are measured from the first file or byte
    that moved (or from :meth:`begin`), so a job that resumes with files already done is not
    taken for a fast one."""

    def __init__(self, files: int, total: int) -> None:
        self.bytes = TransferRate(total)
        self.files = TransferRate(files)

    def begin(self, files_done: int, bytes_done: int, now: float) -> None:
        """The job starts (or resumes) at ``now`` with what it had done: measured from here, so
        that an estimate is there one second in."""
        self.bytes.begin(bytes_done, now)
        self.files.begin(files_done, now)

    def update(self, files_done: int, bytes_done: int, now: float) -> None:
        self.bytes.update(bytes_done, now)
        self.files.update(files_done, now)

    @property
    def speed(self) -> float | None:
        """Bytes per second over the last seconds (None until known)."""
        return self.bytes.speed

    def seconds_left(self) -> float | None:
        by_bytes, by_files = self.bytes.seconds_left(), self.files.seconds_left()
        known = [left for left in (by_bytes, by_files) if left is not None]
        if not known:
            return None
        if by_files is None and self.files.total - self.files.done > 0 and by_bytes == 0:
            return None  # every byte is sent, files are still finishing: no estimate
        return max(known)
