"""The sandbox's checkpoints: a readers-writer lock that requests share and a checkpoint holds
alone for a moment, and the checkpointer that saves the state when the write-ahead log has grown
or gone quiet (see sandbox.server for when, and sandbox.state_store for how).

A checkpoint holds the requests off only while it moves the log to a new segment and pickles the
state's skeleton (the backends without their items and objects); it copies what the log's
earlier segments changed into the state database while requests go on. A *full* checkpoint, for
the rare change the log has no form for, pickles every item and object while requests wait.

A checkpoint first waits for the requests in flight to end, and new requests wait behind it. A
response can stay open for long: a large download, or a client that stops reading. So the
checkpoints made after changes wait at most ``CHECKPOINT_WAIT_SECONDS``, then let the waiting
requests go on and try again later. Waiting for as long as it took once held every request of the
sandbox until a download ended, and for ever when the downloading client itself waited for a
request (nothing is lost meanwhile: acknowledged changes are in the write-ahead log)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox import changes
from dms_desktop.sandbox.body_files import keys_without_body_file
from dms_desktop.sandbox.change_log import ChangeLog
from dms_desktop.sandbox.changes import ChangeSet
from dms_desktop.sandbox.persistence import SandboxResources
from dms_desktop.sandbox.state_store import StateStore

log = logging.getLogger(__name__)


CHECKPOINT_QUIET_SECONDS = 5.0


CHECKPOINT_MAX_DELAY_SECONDS = 60.0


CHECKPOINT_LOG_BYTES = 64 * 1024 * 1024


CHECKPOINT_RETRY_SECONDS = 5.0

# How long a checkpoint after changes waits for the requests in flight to end (new requests
# wait behind it meanwhile) before it lets them go on and is tried again a little later.
CHECKPOINT_WAIT_SECONDS = 0.05


class RequestsInFlight(Exception):
    """Requests still held the lock when a checkpoint stopped waiting for them."""


class SharedExclusiveLock:
    """A readers-writer lock: requests share it, a checkpoint holds it alone.

    A waiting checkpoint blocks new requests, so continuous load cannot starve it.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_shared(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: not self._writer and not self._writers_waiting)
            self._readers += 1

    def release_shared(self) -> None:
        with self._condition:
            self._readers -= 1
            if self._readers == 0:
                self._condition.notify_all()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        self.acquire_shared()
        try:
            yield
        finally:
            self.release_shared()

    @contextlib.contextmanager
    def exclusive(self, timeout: float | None = None) -> Iterator[None]:
        """Held alone; with ``timeout``, RequestsInFlight if the requests that share it have
        not all ended after that many seconds (the ones waiting behind then go on at once)."""
        with self._condition:
            self._writers_waiting += 1
            try:
                alone = self._condition.wait_for(
                    lambda: not self._writer and self._readers == 0, timeout
                )
            finally:
                self._writers_waiting -= 1
            if not alone:
                self._condition.notify_all()
                raise RequestsInFlight
            self._writer = True
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()


@dataclass
class _CheckpointStatus:
    generation: int = 0  # mutating requests started
    saved_generation: int = 0  # mutating requests whose effects are in the state file
    first_unsaved_at: float | None = None
    last_mutation_end: float = 0.0
    checkpoints: int = 0
    last_error: str | None = None
    failed_at: float | None = None  # of the last checkpoint that failed or was put off: retried
    postponed: int = 0  # checkpoints put off because a request was still in flight
    longest_hold: float = 0.0  # the longest time a checkpoint held the requests off, seconds
    last_duration: float = 0.0  # how long the last checkpoint took in all, seconds
    last_hold: float = 0.0  # how long the last checkpoint held the requests off, seconds
    full_pending: bool = False  # a full checkpoint failed: the next one must be full too


class Checkpointer:
    """Makes each change durable (the log, or a checkpoint), and saves the state after changes,
    debounced, on its own thread."""

    def __init__(
        self,
        store: StateStore,
        lock: SharedExclusiveLock,
        resources: SandboxResources,
        change_log: ChangeLog,
    ) -> None:
        self.store = store
        self.lock = lock
        self.resources = resources
        self.change_log = change_log
        self.wal = change_log.wal
        self.samples_seeded = False
        self.before_save: Callable[[], None] | None = None  # runs holding the state alone
        self.status = _CheckpointStatus()
        self._commits = 0  # requests in make_durable
        self._condition = threading.Condition()
        self._stopping = False
        self._checkpointing = threading.Lock()  # one checkpoint at a time
        self._thread = threading.Thread(target=self._run, name="sandbox-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def mutation_started(self) -> None:
        """Call with the shared lock held, before the request changes anything."""
        with self._condition:
            self.status.generation += 1
            if self.status.first_unsaved_at is None:
                self.status.first_unsaved_at = time.monotonic()

    def mutation_finished(self) -> None:
        with self._condition:
            self.status.last_mutation_end = time.monotonic()
            self._condition.notify_all()

    def mark_dirty(self) -> None:
        """Something outside a request changed what the state holds."""
        self.mutation_started()
        self.mutation_finished()

    def make_durable(self, changed: ChangeSet, service: str, operation: str, status: int) -> None:
        """Return once what a request changed is on disk (SandboxError if it cannot be)."""
        with self._condition:
            self._commits += 1
        try:
            self._make_durable(changed, service, operation, status)
        finally:
            with self._condition:
                self._commits -= 1
                self._condition.notify_all()

    def wait_for_commits(self, timeout: float) -> None:
        """Wait until no request is writing its changes to the log (before closing it)."""
        with self._condition:
            self._condition.wait_for(lambda: self._commits == 0, timeout)

    def _make_durable(self, changed: ChangeSet, service: str, operation: str, status: int) -> None:
        if changed.addresses:
            self.wal.wait_durable(self.change_log.commit(changed.addresses))
        if not changes.needs_checkpoint(service, operation, status, changed):
            return
        full = changes.needs_full_checkpoint(service, operation, changed)
        if not self.checkpoint_now(full=full):
            raise SandboxError(f"The sandbox could not save its state: {self.status.last_error}")

    def snapshot(self) -> dict[str, Any]:
        records, size = self.wal.size()
        with self._condition:
            return {
                "generation": self.status.generation,
                "saved_generation": self.status.saved_generation,
                "checkpoints": self.status.checkpoints,
                "last_checkpoint_error": self.status.last_error,
                "checkpoints_postponed": self.status.postponed,
                "longest_checkpoint_hold_ms": round(self.status.longest_hold * 1000, 1),
                "last_checkpoint_entries": self.store.last_entries,
                "last_checkpoint_ms": round(self.status.last_duration * 1000, 1),
                "last_checkpoint_hold_ms": round(self.status.last_hold * 1000, 1),
                "log_records": records,
                "log_bytes": size,
            }

    def _seconds_until_due(self) -> float | None:
        """None when nothing is unsaved; 0 when a checkpoint is due now."""
        status = self.status
        if status.generation == status.saved_generation or status.first_unsaved_at is None:
            return None
        now = time.monotonic()
        due = min(
            status.last_mutation_end + CHECKPOINT_QUIET_SECONDS,
            status.first_unsaved_at + CHECKPOINT_MAX_DELAY_SECONDS,
        )
        if self.wal.size()[1] >= CHECKPOINT_LOG_BYTES:
            due = now
        if status.failed_at is not None:
            due = max(due, status.failed_at + CHECKPOINT_RETRY_SECONDS)
        return max(0.0, due - now)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopping:
                    wait = self._seconds_until_due()
                    if wait == 0.0:
                        break
                    self._condition.wait(wait)
                if self._stopping:
                    return
            self.checkpoint_now(wait_for_requests=CHECKPOINT_WAIT_SECONDS)

    def checkpoint_now(self, full: bool = False, wait_for_requests: float | None = None) -> bool:
        """Save the state now (``full``: every item and object pickled anew); False (logged,
        retried later) if it failed, or if requests were still in flight after
        ``wait_for_requests`` seconds (None: wait until they end)."""
        started = time.monotonic()
        with self._checkpointing:
            with self._condition:
                full = full or self.status.full_pending
            try:
                new_keys: list[Any] = []
                if full:
                    with self.lock.exclusive(wait_for_requests):
                        new_keys = keys_without_body_file()
                    # Large bodies are copied while requests go on: a stored body never changes.
                    self.store.bodies.write_bodies(new_keys)
                self.wal.prepare_next()  # the rotation below does no disk I/O
                with self.lock.exclusive(wait_for_requests):
                    held = captured_at = time.monotonic()
                    with self._condition:
                        generation = self.status.generation
                    with self.wal.lock:  # records from now on go to the new segment
                        segment = self.wal.rotate_locked()
                    if self.before_save is not None:
                        self.before_save()
                    snapshot = self.store.capture(
                        self.resources, self.samples_seeded, segment, full
                    )
                    held = time.monotonic() - held
                self.wal.sync_retired()
                removed = self.store.write(snapshot, self.wal)
                with self._condition:
                    self.status.saved_generation = max(self.status.saved_generation, generation)
                    if self.status.saved_generation == self.status.generation:
                        self.status.first_unsaved_at = None
                    else:  # requests changed more since the snapshot
                        self.status.first_unsaved_at = captured_at
                    self.status.checkpoints += 1
                    self.status.last_error = None
                    self.status.failed_at = None
                    self.status.longest_hold = max(self.status.longest_hold, held)
                    self.status.last_duration = time.monotonic() - started
                    self.status.last_hold = held
                self.wal.remove_before(segment)
            except RequestsInFlight:
                log.debug(
                    "Checkpoint put off: requests still in flight after %s s", wait_for_requests
                )
                with self._condition:
                    self.status.postponed += 1
                    self.status.failed_at = time.monotonic()
                return False
            except Exception as exc:
                log.exception("Sandbox checkpoint failed")
                with self._condition:
                    self.status.last_error = f"{type(exc).__name__}: {exc}"
                    self.status.failed_at = time.monotonic()
                    if full:
                        self.status.full_pending = True
                return False
            with self._condition:
                if full:
                    self.status.full_pending = False
        log.debug(
            "%s checkpoint %d in %.3f s, requests held %.3f s (%d new bodies, %d unused removed)",
            "Full" if full else "Incremental",
            generation,
            time.monotonic() - started,
            held,
            len(new_keys),
            removed,
        )
        return True
