"""The sandbox's write-ahead log: each acknowledged change is on disk before its answer is sent.

The log is a folder of numbered segments, ``wal/<segment>.log``. A checkpoint (the state file,
see ``persistence``) names the first segment it does not contain; a start replays that segment and
every later one on top of the state, and a committed checkpoint deletes the segments before it.

A segment is a sequence of records, each framed as::

    length (4 bytes, little-endian)  CRC-32 of the payload (4 bytes)  payload (length bytes)

A record is appended with one ``write`` while the log's lock is held, so records never
interleave. A writer then waits in :meth:`WriteAheadLog.wait_durable` until an ``fsync`` has
covered its record: the first waiter syncs for everyone who appended before it started (group
commit), the others wait for it. Reading stops at the first frame that is cut short or fails its
CRC: that is a record whose ``fsync`` had not finished when the server died, so its request was
never answered.

The payloads are opaque here; ``changes`` says what they hold.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox.info import fsync_dir

log = logging.getLogger(__name__)

SUFFIX = ".log"
_HEADER = struct.Struct("<II")
MAX_RECORD_BYTES = 1 << 30  # a frame claiming more is damage, not a record


def _segment_name(segment: int) -> str:
    return f"{segment:016d}{SUFFIX}"


class WriteAheadLog:
    """Append, sync and replay the records of one sandbox folder's log (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Held while a record is captured and appended, and while the log moves to a new segment
        # (see ``lock``), so that records land in the segment their capture belongs to.
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._segment = 0
        self._segment_bytes = 0
        self._segment_records = 0
        self._appended = 0  # tickets handed out (one per record)
        self._sync = threading.Condition()
        self._durable = 0  # every ticket up to this one is on disk
        self._syncing = False
        self._broken: OSError | None = None
        # Segments left by rotate_locked, not synced yet: (fd, tickets up to this one in it).
        self._retired: list[tuple[int, int]] = []
        self._next: tuple[int, int] | None = None  # (segment, fd) made ahead by prepare_next

    # --- reading ---------------------------------------------------------------------------

    def segments(self) -> list[int]:
        """The numbers of the segments on disk, in order."""
        if not self.directory.is_dir():
            return []
        numbers = []
        for path in self.directory.iterdir():
            stem = path.name.removesuffix(SUFFIX)
            if path.name.endswith(SUFFIX) and stem.isdecimal():
                numbers.append(int(stem))
        return sorted(numbers)

    def read(self, first_segment: int, before: int | None = None) -> Iterator[bytes]:
        """The payloads of the segments from ``first_segment`` on (up to ``before``, if given),
        in the order appended."""
        for segment in self.segments():
            if segment >= first_segment and (before is None or segment < before):
                yield from self._read_segment(self.directory / _segment_name(segment))

    @staticmethod
    def _read_segment(path: Path) -> Iterator[bytes]:
        with path.open("rb") as handle:
            offset = 0
            while True:
                header = handle.read(_HEADER.size)
                if not header:
                    return
                if len(header) == _HEADER.size:
                    length, crc = _HEADER.unpack(header)
                    payload = handle.read(length) if length <= MAX_RECORD_BYTES else b""
                    if len(payload) == length and zlib.crc32(payload) == crc:
                        offset += _HEADER.size + length
                        yield payload
                        continue
                rest = path.stat().st_size - offset
                log.warning(
                    "The write-ahead log %s ends with %d bytes that are not a whole record "
                    "(a write the server did not finish before it stopped); they are ignored",
                    path,
                    rest,
                )
                return

    # --- appending -------------------------------------------------------------------------

    def start(self) -> None:
        """Append from now on to a new segment after every existing one."""
        existing = self.segments()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock:
            self._open_segment(existing[-1] + 1 if existing else 1)

    @property
    def lock(self) -> threading.Lock:
        """Hold it to capture a change and :meth:`append_locked` it as one step."""
        return self._lock

    @property
    def segment(self) -> int:
        return self._segment

    def size(self) -> tuple[int, int]:
        """(records, bytes) appended to the current segment."""
        return self._segment_records, self._segment_bytes

    def append_locked(self, payload: bytes) -> int:
        """Append one record (the caller holds :attr:`lock`); returns its ticket for
        :meth:`wait_durable`."""
        if self._fd is None:
            raise SandboxError("The sandbox's write-ahead log is not open")
        frame = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        view = memoryview(frame)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._segment_bytes += len(frame)
        self._segment_records += 1
        self._appended += 1
        return self._appended

    def wait_durable(self, ticket: int) -> None:
        """Return once the record of ``ticket`` (and every earlier one) is on disk."""
        while True:
            with self._sync:
                while self._durable < ticket and self._syncing and self._broken is None:
                    self._sync.wait()
                self._raise_if_broken()
                if self._durable >= ticket:
                    return
                self._syncing = True
            self._sync_now()

    def _sync_now(self) -> None:
        """One fsync for every record appended so far (this thread leads the group)."""
        error: OSError | None = None
        target = 0
        try:
            with self._lock:
                target = self._appended
                fds = [os.dup(fd) for fd, _ticket in self._retired]
                if self._fd is not None:
                    fds.append(os.dup(self._fd))
            try:
                for fd in fds:
                    os.fsync(fd)
            finally:
                for fd in fds:
                    os.close(fd)
        except OSError as exc:
            error = exc
        with self._sync:
            self._syncing = False
            if error is None:
                self._durable = max(self._durable, target)
            else:
                # After a failed fsync the kernel may have dropped the pages: no later fsync can
                # vouch for them, so no write is acknowledged again until a restart.
                log.error("The sandbox's write-ahead log could not be synced: %s", error)
                self._broken = error
            self._sync.notify_all()

    def _raise_if_broken(self) -> None:
        if self._broken is not None:
            reason = self._broken.strerror or str(self._broken)
            raise SandboxError(
                f"The sandbox could not save a change to disk ({reason}); stop it with "
                "`dms local stop` and check the disk"
            )

    def prepare_next(self) -> None:
        """Create the next segment's file ahead of :meth:`rotate_locked` (its folder entry synced),
        so that the rotation itself does no disk I/O."""
        with self._lock:
            if self._next is not None or self._fd is None:
                return
            segment = self._segment + 1
        path = self.directory / _segment_name(segment)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        fsync_dir(self.directory)
        with self._lock:
            if self._next is None and self._segment + 1 == segment:
                self._next = (segment, fd)
                return
        os.close(fd)

    def rotate_locked(self) -> int:
        """Continue in a new segment (the caller holds :attr:`lock`); returns its number. The
        records of the old one are synced by :meth:`sync_retired` (or by a writer's group sync,
        whichever comes first): nothing is acknowledged before that."""
        if self._fd is not None:
            self._retired.append((self._fd, self._appended))
            self._fd = None
        if self._next is not None and self._next[0] == self._segment + 1:
            segment, fd = self._next
            self._next = None
            self._fd = fd
            self._segment = segment
            self._segment_bytes = 0
            self._segment_records = 0
        else:
            self._open_segment(self._segment + 1)
        return self._segment

    def sync_retired(self) -> None:
        """Sync and close the segments rotate_locked left (every record appended before it is
        durable after it)."""
        with self._lock:
            retired, self._retired = self._retired, []
        if not retired:
            return
        try:
            for fd, _ticket in retired:
                os.fsync(fd)
        except OSError as exc:
            with self._sync:
                self._broken = exc
                self._sync.notify_all()
            raise
        finally:
            for fd, _ticket in retired:
                os.close(fd)
        with self._sync:
            self._durable = max(self._durable, retired[-1][1])
            self._sync.notify_all()

    def _open_segment(self, segment: int) -> None:
        path = self.directory / _segment_name(segment)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        fsync_dir(self.directory)  # the segment itself survives a crash
        self._segment = segment
        self._segment_bytes = 0
        self._segment_records = 0

    def remove_before(self, segment: int) -> None:
        """Delete the segments a committed checkpoint contains."""
        for number in self.segments():
            if number < segment:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / _segment_name(number)).unlink()

    def close(self) -> None:
        """Sync and close (a clean stop)."""
        self.sync_retired()
        with self._lock:
            if self._next is not None:
                os.close(self._next[1])
                self._next = None
            if self._fd is None:
                return
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
        with self._sync:
            self._durable = self._appended
            self._sync.notify_all()
