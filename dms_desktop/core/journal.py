"""A small persisted journal of work in flight, so that a crash never leaves anything half-done.

Uploads, downloads, deletes (of one or many documents) and admin cleanups each write one entry
before they touch anything and remove it when they are done (or cleaned up after a failure). Each
entry is one JSON file in ``<data folder>/journal/``, replaced atomically (write a temporary file,
then rename), next to a lock file that the running process holds. The operating system releases
that lock when the process ends, however it ends (even SIGKILL), so on the next start an entry
whose lock can be taken is work that never finished; an entry still locked belongs to another
running instance (the window and a `dms` command at the same time) and is left alone.

What the next start does with each kind is decided by the service that owns it
(``DocumentService.recover_interrupted`` and ``AdminService.recover_interrupted``).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticError

from .errors import LocalFileError
from .models import format_timestamp, utc_now
from .paths import AppPaths

log = logging.getLogger(__name__)

JOURNAL_FOLDER = "journal"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    started_at: str = Field(default_factory=lambda: format_timestamp(utc_now()))


class UploadEntry(_Entry):
    """A new document being stored: body first, then metadata."""

    kind: Literal["upload"] = "upload"
    user_id: str
    document_id: str
    s3_key: str
    source: str
    filename: str
    file_type: str
    size: int
    tags: tuple[str, ...] = ()
    folder: str = ""
    expires_at: int | None = None
    multipart_upload_id: str | None = None
    checksum: str | None = None  # set once the whole body is stored
    failed: bool = False  # the upload failed and its clean-up did not finish: never resume it


class DownloadEntry(_Entry):
    """A body being written to a temporary file beside ``target``."""

    kind: Literal["download"] = "download"
    user_id: str
    document_id: str
    filename: str
    target: str


class DeleteEntry(_Entry):
    """A document being deleted: metadata first, then body."""

    kind: Literal["delete"] = "delete"
    user_id: str
    document_id: str
    s3_key: str
    filename: str


class DeleteManyEntry(_Entry):
    """Many documents of one user being deleted: their metadata first, then their bodies."""

    kind: Literal["delete-many"] = "delete-many"
    user_id: str
    document_ids: tuple[str, ...]


class CleanupItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    document_id: str
    s3_key: str
    has_metadata: bool
    has_body: bool


class CleanupEntry(_Entry):
    """An admin's batch delete; ``settled`` items (from the start) are completely done."""

    kind: Literal["cleanup"] = "cleanup"
    admin: str
    items: tuple[CleanupItem, ...]
    settled: int = 0


JournalEntry = Annotated[
    UploadEntry | DownloadEntry | DeleteEntry | DeleteManyEntry | CleanupEntry,
    Field(discriminator="kind"),
]
_ENTRY: TypeAdapter[JournalEntry] = TypeAdapter(JournalEntry)


class Tracked:
    """One journal entry of work this process is doing (its lock is held until closed)."""

    def __init__(self, path: Path, lock: FileLock, entry: JournalEntry) -> None:
        self._path = path
        self._lock = lock
        self.entry = entry

    def update(self, entry: JournalEntry) -> None:
        """Replace the entry (atomically: a crash leaves the old or the new one, never half)."""
        self.entry = entry
        try:
            _write_atomically(self._path, _ENTRY.dump_json(entry))
        except OSError as exc:
            raise LocalFileError(
                f"Could not note the work in progress in {self._path.parent} "
                f"({exc.strerror or exc}); check that the data folder is writable."
            ) from exc

    def finish(self) -> None:
        """The work is done or fully undone: forget it."""
        self._path.unlink(missing_ok=True)
        self._release()

    def leave_for_next_start(self) -> None:
        """The work could not be finished or undone now: the next start deals with it."""
        log.warning("left %s in the journal for the next start", self._path.name)
        self._release()

    def _release(self) -> None:
        self._lock.release()
        with contextlib.suppress(OSError):
            Path(self._lock.lock_file).unlink(missing_ok=True)


class Journal:
    """The journal in ``folder`` (usually ``AppPaths.data_dir / "journal"``)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        return self._folder

    def track(self, entry: JournalEntry) -> Tracked:
        """Write ``entry`` and hold it for this process until finished or left."""
        name = uuid.uuid4().hex
        path = self._folder / f"{name}.json"
        lock = FileLock(self._folder / f"{name}.lock", blocking=False, thread_local=False)
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except OSError as exc:
            raise LocalFileError(
                f"Could not note the work in progress in {self._folder} "
                f"({exc.strerror or exc}); check that the data folder is writable."
            ) from exc
        tracked = Tracked(path, lock, entry)
        try:
            tracked.update(entry)
        except BaseException:
            tracked.finish()
            raise
        return tracked

    @contextlib.contextmanager
    def unfinished(self) -> Iterator[list[Tracked]]:
        """The entries no running process holds, locked for the caller while the block runs.

        The caller ``finish``es what it dealt with; the rest is left for a later start. An entry
        that cannot be read (written by a newer version, damaged) is left alone and logged.
        """
        claimed: list[Tracked] = []
        try:
            for path in sorted(self._folder.glob("*.json")) if self._folder.is_dir() else []:
                lock = FileLock(path.with_suffix(".lock"), blocking=False, thread_local=False)
                try:
                    lock.acquire()
                except Timeout:
                    continue  # another running instance is doing this work right now
                try:
                    entry = _ENTRY.validate_json(path.read_bytes())
                except (OSError, PydanticError) as exc:
                    log.warning("could not read the journal entry %s: %s", path.name, exc)
                    lock.release()
                    continue
                claimed.append(Tracked(path, lock, entry))
            yield claimed
        finally:
            for tracked in claimed:
                if tracked._lock.is_locked:
                    tracked._release()


def journal_for(paths: AppPaths) -> Journal:
    """The journal of this data folder (shared by the window and `dms` commands)."""
    return Journal(paths.data_dir / JOURNAL_FOLDER)


def _write_atomically(path: Path, data: bytes) -> None:
    # Not fsync'd: the journal is for this process ending mid-operation (a crash, a kill), and
    # the operating system keeps what a dead process wrote. Forcing each entry to disk cost a
    # few ms per transfer (up to tens on a busy disk) and bought nothing for a power cut either,
    # since the rename that publishes the entry was never synced; what an entry lost that way
    # leaves is an orphan body or a multipart upload, which the admin check (and on AWS the
    # bucket's lifecycle rule) removes, or a hidden partial download.
    temp = path.with_suffix(".json.partial")
    temp.write_bytes(data)
    temp.replace(path)
