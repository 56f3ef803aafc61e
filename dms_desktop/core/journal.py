"""A small persisted journal of work in flight, so that a crash never leaves anything half-done.

Uploads, downloads, deletes (of one or many documents) and admin cleanups each write one entry
before they touch anything and remove it when they are done (or cleaned up after a failure). Each
entry is one JSON file in ``<data folder>/journal/``, replaced atomically (write a temporary file,
then rename), next to a lock file that the running process holds. The operating system releases
that lock when the process ends, however it ends (even SIGKILL), so on the next start an entry
whose lock can be taken is work that never finished; an entry still locked belongs to another
running instance (the window and a `dms` command at the same time) and is left alone.

Uploads also keep a record log beside their entry (``<name>.log``, one JSON line per record,
appended): the parts of their multipart upload that S3 confirmed. Appending keeps a record O(1)
however many there are (a whole entry rewritten per part would be O(n²) for an upload of
thousands of parts); a line cut short by a crash is ignored.

What the next start does with each kind is decided by the service that owns it
(``DocumentService.recover_interrupted`` and ``AdminService.recover_interrupted``); interrupted
transfers stay to be resumed or discarded (core.interrupted).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

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


class VersionBase(BaseModel):
    """What a new version of a document is based on (core.versions), checked again when it is
    stored: another version added since is a conflict, never an overwrite."""

    model_config = ConfigDict(frozen=True)

    number: int  # the newest version when the upload started (or resumed)
    item_version: int  # the document's ``version`` then: the write is conditional on it
    s3_version_id: str | None = None  # of that newest version (a body from before versions)


class UploadEntry(_Entry):
    """A new document being stored: body first, then metadata; or, with ``new_version_of``, a
    new version of the document ``document_id``: body first (a new S3 version of its key), then
    its history."""

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
    part_size: int | None = None  # of the multipart upload; its parts are in the record log
    mtime_ns: int | None = None  # the source's when the upload started: a change restarts it
    checksum: str | None = None  # set once the whole body is stored
    failed: bool = False  # the upload failed and its clean-up did not finish: never resume it
    announced: bool = False  # a start has told the user it was interrupted
    job: str | None = None  # the folder job (its entry's name) this file's upload belongs to
    new_version_of: VersionBase | None = None  # a new version of the document, not a new one
    stored_version_id: str | None = None  # the S3 version the whole body made (a new version)


class DownloadEntry(_Entry):
    """A body being written to a hidden partial file beside ``target``, then moved there."""

    kind: Literal["download"] = "download"
    user_id: str
    document_id: str
    filename: str
    target: str
    partial: str | None = None  # the partial file, once made; a resume continues it
    etag: str | None = None  # of the object whose bytes the partial file holds
    size: int = 0  # the document's, as the metadata said when it started
    checksum: str = ""
    overwrite: bool = False
    announced: bool = False
    job: str | None = None  # the job (its entry's name) this file's download belongs to


class JobUpload(BaseModel):
    """One file of an upload job, its document id chosen before anything is sent."""

    model_config = ConfigDict(frozen=True)

    source: str
    filename: str
    file_type: str
    folder: str
    size: int
    document_id: str


class UploadJobEntry(_Entry):
    """Many files uploaded as one job (a folder); each file's outcome is a record
    (``{"done": N, "id": ...}``, ``{"skipped": N}``, ``{"failed": N, "message": ...}``)."""

    kind: Literal["upload-job"] = "upload-job"
    user_id: str
    name: str  # what the job is called: the folder's name, or "N files"
    roots: tuple[str, ...]  # the paths given (absolute): the same ones again resume it
    items: tuple[JobUpload, ...]
    tags: tuple[str, ...] = ()
    expires_at: int | None = None
    policy: str = "keep"  # the duplicate policy (core.upload_plan.DuplicatePolicy)
    announced: bool = False


class JobDownload(BaseModel):
    """One document of a download job, and the file it is written to."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    filename: str
    target: str
    size: int


class DownloadJobEntry(_Entry):
    """Many documents downloaded as one job; outcomes are records as for an upload job."""

    kind: Literal["download-job"] = "download-job"
    user_id: str
    name: str
    folder: str
    items: tuple[JobDownload, ...]
    overwrite: bool = False
    announced: bool = False


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


TransferEntry = UploadEntry | DownloadEntry | UploadJobEntry | DownloadJobEntry
JournalEntry = Annotated[
    UploadEntry
    | DownloadEntry
    | UploadJobEntry
    | DownloadJobEntry
    | DeleteEntry
    | DeleteManyEntry
    | CleanupEntry,
    Field(discriminator="kind"),
]
_ENTRY: TypeAdapter[JournalEntry] = TypeAdapter(JournalEntry)


class Tracked:
    """One journal entry of work this process is doing (its lock is held until closed)."""

    def __init__(self, path: Path, lock: FileLock, entry: JournalEntry) -> None:
        self._path = path
        self._lock = lock
        self._writing = threading.Lock()  # transfer threads append records at once
        self.entry = entry

    @property
    def name(self) -> str:
        """The entry's id: stable for its whole life, also across processes."""
        return self._path.stem

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def update(self, entry: JournalEntry) -> None:
        """Replace the entry (atomically: a crash leaves the old or the new one, never half)."""
        with self._writing:
            self.entry = entry
            try:
                _write_atomically(self._path, _ENTRY.dump_json(entry))
            except OSError as exc:
                raise _not_writable(self._path.parent, exc) from exc

    def change(self, **changes: Any) -> None:
        """Update some fields of the entry."""
        self.update(self.entry.model_copy(update=changes))

    def append(self, record: dict[str, Any]) -> None:
        """Add one record to the entry's record log (a line of JSON, appended)."""
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        with self._writing:
            try:
                with self._record_log.open("ab") as log_file:
                    log_file.write(line)
            except OSError as exc:
                raise _not_writable(self._path.parent, exc) from exc

    def records(self) -> list[dict[str, Any]]:
        """The record log in the order written; a last line cut short by a crash is left out."""
        return _read_records(self._record_log)

    def clear_records(self) -> None:
        """Forget the record log (the work starts over)."""
        with self._writing:
            self._record_log.unlink(missing_ok=True)

    @property
    def _record_log(self) -> Path:
        return self._path.with_suffix(".log")

    def finish(self) -> None:
        """The work is done or fully undone: forget it."""
        self._path.unlink(missing_ok=True)
        self._record_log.unlink(missing_ok=True)
        self._release()

    def leave_for_next_start(self) -> None:
        """The work could not be finished or undone now: the next start deals with it."""
        log.warning("left %s in the journal for the next start", self._path.name)
        self._release()

    def keep_for_resume(self) -> None:
        """The transfer stopped (paused, interrupted) and can be resumed: keep it, unheld."""
        log.info("kept %s in the journal to be resumed", self._path.name)
        if self._lock.is_locked:
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
            raise _not_writable(self._folder, exc) from exc
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
                    if path.exists():  # else: finished by its owner meanwhile
                        log.warning("could not read the journal entry %s: %s", path.name, exc)
                    lock.release()
                    continue
                claimed.append(Tracked(path, lock, entry))
            yield claimed
        finally:
            for tracked in claimed:
                if tracked._lock.is_locked:
                    tracked._release()

    def claim(self, name: str) -> Tracked | None:
        """Hold the entry ``name`` for this process; None if it is gone or another running
        instance holds it."""
        if not name.isalnum():
            return None  # not one of our names: never a path
        path = self._folder / f"{name}.json"
        lock = FileLock(path.with_suffix(".lock"), blocking=False, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            return None
        except OSError:
            return None
        try:
            entry = _ENTRY.validate_json(path.read_bytes())
        except (OSError, PydanticError) as exc:
            if path.exists():
                log.warning("could not read the journal entry %s: %s", path.name, exc)
            lock.release()
            with contextlib.suppress(OSError):
                Path(lock.lock_file).unlink(missing_ok=True)
            return None
        return Tracked(path, lock, entry)

    def records_of(self, name: str) -> list[dict[str, Any]]:
        """The record log of entry ``name`` as it is now (read without holding the entry)."""
        return _read_records(self._folder / f"{name}.log") if name.isalnum() else []

    def survey(self) -> list[tuple[str, JournalEntry, bool]]:
        """Every readable entry as (name, entry, held by a running process), holding nothing."""
        found = []
        for path in sorted(self._folder.glob("*.json")) if self._folder.is_dir() else []:
            lock = FileLock(path.with_suffix(".lock"), blocking=False, thread_local=False)
            try:
                lock.acquire()
            except Timeout:
                held = True
            else:
                held = False
                lock.release()
            try:
                entry = _ENTRY.validate_json(path.read_bytes())
            except (OSError, PydanticError):
                continue  # gone meanwhile, or unreadable (unfinished() logs those)
            found.append((path.stem, entry, held))
        return found


def _read_records(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            log.warning("left a damaged record of %s out", path.name)
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _not_writable(folder: Path, exc: OSError) -> LocalFileError:
    return LocalFileError(
        f"Could not note the work in progress in {folder} ({exc.strerror or exc}); check that "
        "the data folder is writable."
    )


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
