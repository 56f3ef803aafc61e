"""Many files moved as one job: a folder (or many files) uploaded, many documents downloaded.

A job is one journal entry (core.journal ``UploadJobEntry`` / ``DownloadJobEntry``) that lists
every file with what is decided before anything is sent (an upload's document ids, a download's
targets), written once; each file's outcome is appended to its record log as it happens
(done, skipped, failed), so a job of thousands of files costs one line per file, not a rewrite.

Several files go at once on a small shared pool (``TransferSettings.job_concurrency``). A small
file is one PutObject (or one GET) with no journal entry of its own: if the job stops, it is
simply sent again. A file large enough for a multipart upload (or a ranged download) gets its own
entry, marked with the job's name, so that a resumed job continues it part by part as a single
transfer would (core.uploading, core.downloading).

A file that fails for a reason of its own (unreadable, changed while sent, a bad name, in the
trash) is listed with its message and the others go on. A failure that may pass (the network,
the backend) stops the job and keeps it, as a pause or Ctrl+C does; a crash keeps it too.
Resuming it first looks up which of the files not noted done are stored already (the record of
an upload written just before a crash; a download's target already in place), then sends the
rest. A cancel stops the job: files already stored stay, the files in flight are undone.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .blobs import BlobStore
from .cancellation import CancelToken, ProgressCallback
from .downloading import Downloads
from .errors import (
    Cancelled,
    DmsError,
    InTrash,
    LocalFileError,
    NotFound,
    Paused,
    TransferInterrupted,
    Unavailable,
)
from .formatting import plural, printable
from .journal import (
    DownloadEntry,
    DownloadJobEntry,
    JobDownload,
    JobUpload,
    Journal,
    Tracked,
    UploadEntry,
    UploadJobEntry,
)
from .localfiles import PARTIAL_SUFFIX, HashedFile, UploadSource, file_checksum, partial_file_prefix
from .models import Document
from .record_batches import RecordBatcher
from .records import new_document_record
from .repository import DocumentRepository
from .schema import object_key
from .transfer_outcome import Notice, ignore_notice
from .upload_plan import Decision, DuplicatePolicy, claim_content, decide, duplicate_names
from .uploading import NewUpload, Uploads

log = logging.getLogger(__name__)

AskDuplicate = Callable[[JobUpload, Sequence[Document]], bool]
"""Asked (one question at a time) whether to upload another copy of a file already stored."""


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


class _Counter:
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


def _outcomes(records: list[dict[str, Any]]) -> tuple[dict[int, str], set[int]]:
    """The files noted done (index -> document id, or "" for a download) and skipped."""
    done: dict[int, str] = {}
    skipped: set[int] = set()
    for record in records:
        if "done" in record:
            done[int(record["done"])] = str(record.get("id", ""))
        elif "skipped" in record:
            skipped.add(int(record["skipped"]))
    return done, skipped


def job_files_done(entry: UploadJobEntry | DownloadJobEntry, records: list[dict[str, Any]]) -> int:
    """How many files of a kept job are done (stored or skipped)."""
    done, skipped = _outcomes(records)
    return len(done) + len(skipped)


def job_bytes_done(entry: UploadJobEntry | DownloadJobEntry, records: list[dict[str, Any]]) -> int:
    done, skipped = _outcomes(records)
    sizes = [item.size for item in entry.items]
    return sum(size for index, size in enumerate(sizes) if index in done or index in skipped)


def _may_pass(error: BaseException) -> bool:
    return isinstance(error, Unavailable | TransferInterrupted) and not isinstance(error, Paused)


SNAPSHOT_FROM_FILES = 20
"""A job with at least this many files to check reads the stored checksums once (one read of
the checksum index) instead of looking each file's up (one query per file)."""


class KnownChecksums:
    """The duplicate check of many files: the checksums stored when it was made (one read of the
    checksum index), plus the documents added since (thread-safe). A job of many files uses
    one, and so does the upload dialog for many files."""

    def __init__(self, repository: DocumentRepository, user_id: str) -> None:
        self._repository = repository
        self._user_id = user_id
        self._lock = threading.Lock()
        self._ids = repository.checksums(user_id)

    def add(self, document: Document) -> None:
        with self._lock:
            self._ids.setdefault(document.checksum, []).append(document.document_id)

    def find_duplicates(self, checksum: str) -> list[Document]:
        with self._lock:
            ids = list(self._ids.get(checksum, ()))
        documents = []
        for document_id in ids:
            try:
                document = self._repository.get(self._user_id, document_id)
            except DmsError:
                continue  # deleted meanwhile
            if not document.in_trash:
                documents.append(document)
        return documents


class _Stop(Exception):
    """A file's transfer stopped the whole job (paused, cancelled, interrupted)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class TransferJobs:
    """Upload and download jobs of one user (see the module docstring)."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
        uploads: Uploads,
        downloads: Downloads,
        owner_name: str | None,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal
        self._uploads = uploads
        self._downloads = downloads
        # Small files go without an entry of their own (the job's entry covers them), and their
        # records are written together (core.record_batches).
        self._records = RecordBatcher(repository, owner_name)

    # --- starting ---

    def start_upload(
        self,
        name: str,
        roots: Sequence[Path],
        files: Sequence[NewUpload],
        *,
        policy: DuplicatePolicy,
    ) -> Tracked | None:
        """Note a new upload job of ``files`` (their fields checked already)."""
        first = files[0] if files else None
        entry = UploadJobEntry(
            user_id=self._user_id,
            name=name,
            roots=tuple(str(root.absolute()) for root in roots),
            items=tuple(
                JobUpload(
                    source=str(new.source.absolute()),
                    filename=new.filename,
                    file_type=new.file_type,
                    folder=new.folder,
                    size=_size_of(new.source),
                    document_id=new.document_id,
                )
                for new in files
            ),
            tags=first.tags if first is not None else (),
            expires_at=first.expires_at if first is not None else None,
            policy=policy.value,
        )
        return self._journal.track(entry) if self._journal is not None else _Untracked(entry)

    def start_download(
        self, name: str, folder: Path, targets: Sequence[tuple[Document, Path]], overwrite: bool
    ) -> Tracked:
        entry = DownloadJobEntry(
            user_id=self._user_id,
            name=name,
            folder=str(folder.absolute()),
            items=tuple(
                JobDownload(
                    document_id=document.document_id,
                    filename=document.filename,
                    target=str(target.absolute()),
                    size=document.size,
                )
                for document, target in targets
            ),
            overwrite=overwrite,
        )
        return self._journal.track(entry) if self._journal is not None else _Untracked(entry)

    # --- running ---

    def run_upload(
        self,
        tracked: Tracked,
        *,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        ask: AskDuplicate | None = None,
        locks_dir: Path | None = None,
        contents: dict[str, HashedFile] | None = None,
        concurrency: int | None = None,
        resumed: bool = False,
    ) -> JobOutcome:
        """Upload the files of the job ``tracked`` not done yet (see the module docstring).
        ``contents``: checksums an upload plan computed already (by source path); ``resumed``:
        the job ran before (files may be stored that were not noted)."""
        entry = tracked.entry
        assert isinstance(entry, UploadJobEntry)
        notice = notice or ignore_notice
        done, skipped = _outcomes(tracked.records())
        outcome = JobOutcome(entry.name, "upload", len(entry.items), skipped=len(skipped))
        pending = [i for i in range(len(entry.items)) if i not in done and i not in skipped]
        # Stored just before a crash, before it could be noted:
        if pending and resumed:
            stored = self._repository.stored_names(
                self._user_id, [entry.items[i].document_id for i in pending]
            )
            for index in [i for i in pending if entry.items[i].document_id in stored]:
                tracked.append({"done": index, "id": entry.items[index].document_id})
                done[index] = entry.items[index].document_id
            pending = [i for i in pending if i not in done]
        outcome.done_before = len(done)
        children = self._children(tracked.name, UploadEntry)
        policy = DuplicatePolicy(entry.policy)
        checking = policy is not DuplicatePolicy.KEEP and locks_dir is not None
        known = (
            KnownChecksums(self._repository, self._user_id)
            if checking and len(pending) >= SNAPSHOT_FROM_FILES
            else None
        )
        asking = threading.Lock()
        counter = _Counter(
            len(entry.items),
            sum(item.size for item in entry.items),
            progress,
        )
        for index in list(done) + list(skipped):
            counter.count_done(index, entry.items[index].size)

        def upload_one(index: int, stop: CancelToken) -> Document | None:
            item = entry.items[index]
            source = Path(item.source)
            report = counter.progress_of(index)
            new = NewUpload(
                source=source,
                document_id=item.document_id,
                filename=item.filename,
                file_type=item.file_type,
                tags=entry.tags,
                folder=item.folder,
                expires_at=entry.expires_at,
            )
            child = children.get(item.document_id)
            if child is not None and self._journal is not None:
                claimed = self._journal.claim(child)
                if claimed is not None:
                    try:
                        return self._uploads.resume(
                            claimed, progress=report, cancel=stop, notice=notice
                        )
                    finally:
                        if claimed.held:
                            claimed.keep_for_resume()
            content = (contents or {}).get(item.source)
            if policy is DuplicatePolicy.KEEP or locks_dir is None:
                return self._send(new, item, report, stop, content, tracked.name)
            finder = known if known is not None else self
            with claim_content(
                locks_dir, finder, self._user_id, UploadSource(source, item.folder), stop
            ) as check:
                decision = decide(check.duplicates, policy, ask is not None)
                if check.duplicates:
                    names = duplicate_names(check.duplicates, with_ids=True)
                    if decision is Decision.ASK:
                        assert ask is not None
                        with asking:
                            stop.raise_if_cancelled("The upload")
                            keep = ask(item, check.duplicates)
                    else:
                        keep = decision is Decision.UPLOAD
                    if not keep:
                        notice(f"Skipped {printable(item.source)}: already stored as {names}.")
                        return None
                    if decision is Decision.UPLOAD and policy is DuplicatePolicy.ASK:
                        notice(
                            f"Note: {printable(item.source)} is already stored as {names}; "
                            "keeping both."
                        )
                document = self._send(new, item, report, stop, check.content, tracked.name)
                if known is not None:
                    known.add(document)  # before the claim ends: the same content sees it
                return document

        def finished(index: int, result: object) -> None:
            item = entry.items[index]
            if result is None:
                tracked.append({"skipped": index})
                outcome.skipped += 1
            else:
                assert isinstance(result, Document)
                tracked.append({"done": index, "id": result.document_id})
                outcome.documents.append(result)
            counter.count_done(index, item.size)

        return self._run(
            tracked,
            pending,
            upload_one,
            finished,
            lambda index: entry.items[index].source,
            counter,
            outcome,
            cancel,
            concurrency,
        )

    def _send(
        self,
        new: NewUpload,
        item: JobUpload,
        report: ProgressCallback,
        stop: CancelToken,
        content: HashedFile | None,
        job: str,
    ) -> Document:
        if self._blobs.is_multipart(item.size):
            return self._uploads.upload(new, progress=report, cancel=stop, content=content, job=job)
        key = object_key(self._user_id, new.document_id)
        try:
            stored = self._blobs.upload(
                new.source,
                key,
                new.file_type,
                progress=report,
                cancel=stop,
                content=content,
                download_name=new.filename,
            )
        except OSError as exc:
            raise LocalFileError(f"Could not read {new.source}: {exc.strerror or exc}.") from exc
        try:
            stop.raise_if_cancelled("The upload")
            return self._records.store(
                new_document_record(
                    user_id=self._user_id,
                    document_id=new.document_id,
                    filename=new.filename,
                    file_type=new.file_type,
                    size=stored.size,
                    checksum=stored.checksum,
                    tags=new.tags,
                    folder=new.folder,
                    expires_at=new.expires_at,
                )
            )
        except BaseException as error:
            # A failure that may pass leaves the body: the record may have been written (its
            # answer lost); a resume finds it, a discard removes what has no record.
            if not _may_pass(error):
                with contextlib.suppress(DmsError):
                    self._blobs.delete(key)
            raise

    def find_duplicates(self, checksum: str) -> list[Document]:
        """As DocumentService.find_duplicates (the job's duplicate check)."""
        documents = []
        for document_id in self._repository.find_by_checksum(self._user_id, checksum):
            try:
                document = self._repository.get(self._user_id, document_id)
            except DmsError:
                continue
            if not document.in_trash:
                documents.append(document)
        return documents

    def run_download(
        self,
        tracked: Tracked,
        *,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        documents: dict[str, Document] | None = None,
        concurrency: int | None = None,
        resumed: bool = False,
    ) -> JobOutcome:
        """Download the documents of the job ``tracked`` not done yet."""
        entry = tracked.entry
        assert isinstance(entry, DownloadJobEntry)
        done, _skipped = _outcomes(tracked.records())
        outcome = JobOutcome(entry.name, "download", len(entry.items))
        pending = [i for i in range(len(entry.items)) if i not in done]
        outcome.done_before = len(done)
        children = self._children(tracked.name, DownloadEntry)
        counter = _Counter(len(entry.items), sum(item.size for item in entry.items), progress)
        for index in done:
            counter.count_done(index, entry.items[index].size)

        def download_one(index: int, stop: CancelToken) -> Path:
            item = entry.items[index]
            target = Path(item.target)
            report = counter.progress_of(index)
            child = children.get(item.document_id)
            if child is not None and self._journal is not None:
                claimed = self._journal.claim(child)
                if claimed is not None:
                    try:
                        return self._downloads.resume(
                            claimed, progress=report, cancel=stop, notice=notice
                        )
                    finally:
                        if claimed.held:
                            claimed.keep_for_resume()
            document = (documents or {}).get(item.document_id)
            if document is None:
                document = self._repository.get(self._user_id, item.document_id)
            if document.in_trash:
                raise InTrash(document.filename, document.document_id)
            if resumed:
                _remove_partials(target)
                if _already_there(target, document):
                    return target
            if self._blobs.is_multipart(document.size):
                return self._downloads.download(
                    document,
                    target,
                    overwrite=entry.overwrite,
                    progress=report,
                    cancel=stop,
                    job=tracked.name,
                )
            return self._blobs.download(
                object_key(self._user_id, document.document_id),
                target,
                expected_size=document.size,
                expected_checksum=document.checksum,
                overwrite=entry.overwrite,
                progress=report,
                cancel=stop,
            )

        def finished(index: int, result: object) -> None:
            assert isinstance(result, Path)
            tracked.append({"done": index})
            outcome.paths.append(result)
            counter.count_done(index, entry.items[index].size)

        return self._run(
            tracked,
            pending,
            download_one,
            finished,
            lambda index: entry.items[index].filename,
            counter,
            outcome,
            cancel,
            concurrency,
        )

    def _run(
        self,
        tracked: Tracked,
        pending: list[int],
        move_one: Callable[[int, CancelToken], object],
        finished: Callable[[int, object], None],
        name_of: Callable[[int], str],
        counter: _Counter,
        outcome: JobOutcome,
        cancel: CancelToken | None,
        concurrency: int | None,
    ) -> JobOutcome:
        """Move the ``pending`` files a few at a time; see the module docstring for what a
        failure of one file does."""
        stop = CancelToken()  # the files in flight stop when the caller's token is set...
        unlink = cancel.on_cancel(lambda: _follow(cancel, stop)) if cancel is not None else None
        stopped: list[BaseException] = []  # ...or when a file's failure stops the job

        def work(index: int) -> None:
            if stop.cancelled:
                return
            try:
                result = move_one(index, stop)
            except Cancelled as error:
                counter.forget(index)
                stopped.append(error)
                return
            except DmsError as error:
                if _may_pass(error):
                    counter.forget(index)
                    stopped.append(error)
                    stop.pause()  # the others stop too, keeping what they did
                    return
                failure = FileFailure(name_of(index), str(error), error.exit_code)
                log.info("a file of job %s failed: %s", tracked.name, failure)
                tracked.append({"failed": index, "message": failure.message})
                outcome.failures.append(failure)
                counter.count_failed(index, failure)
                return
            except OSError as exc:
                failure = FileFailure(
                    name_of(index), f"{exc.strerror or exc}.", LocalFileError.exit_code
                )
                tracked.append({"failed": index, "message": failure.message})
                outcome.failures.append(failure)
                counter.count_failed(index, failure)
                return
            finished(index, result)

        workers = max(1, concurrency or self._blobs.settings.job_concurrency)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="dms-job")
        futures: list[Future[None]] = []
        try:
            futures = [pool.submit(work, index) for index in pending]
            finished_futures, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished_futures:
                future.result()  # an unexpected error: raised here
        except BaseException:
            stop.pause()  # Ctrl+C or a bug: the files in flight stop, keeping what they did
            pool.shutdown(wait=True, cancel_futures=True)
            tracked.keep_for_resume()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if unlink is not None:
                unlink()
        return self._settle(tracked, outcome, stopped, cancel)

    def _settle(
        self,
        tracked: Tracked,
        outcome: JobOutcome,
        stopped: list[BaseException],
        cancel: CancelToken | None,
    ) -> JobOutcome:
        name = printable(outcome.name)
        if cancel is not None and cancel.cancelled and not cancel.paused:
            self._forget(tracked)
            raise Cancelled(
                f"The {outcome.kind} of {name} was cancelled "
                f"({plural(outcome.done_before + outcome.moved, 'file')} of "
                f"{outcome.files_total} had been done)."
            )
        if (cancel is not None and cancel.paused) or stopped:
            tracked.keep_for_resume()
            reason = next((e for e in stopped if _may_pass(e)), None)
            if reason is None:
                raise Paused(
                    f"{name}: paused; resuming it continues where it stopped.", tracked.name
                )
            raise TransferInterrupted(
                f"{reason} The {outcome.kind} of {name} was kept: resuming it continues where "
                "it stopped.",
                tracked.name,
            )
        self._forget(tracked)
        return outcome

    def _forget(self, tracked: Tracked) -> None:
        """The job is over: its entry goes, and so do its files' own (done or undone)."""
        for child in self._children(tracked.name, UploadEntry | DownloadEntry).values():
            claimed = self._journal.claim(child) if self._journal is not None else None
            if claimed is not None:
                self._discard_child(claimed)
        tracked.finish()

    # --- discarding ---

    def discard(self, tracked: Tracked) -> None:
        """Give up the job ``tracked``: the files not done are undone (an upload's bodies
        deleted, a download's partial files removed); those done stay."""
        entry = tracked.entry
        done, skipped = _outcomes(tracked.records())
        for child in self._children(tracked.name, UploadEntry | DownloadEntry).values():
            claimed = self._journal.claim(child) if self._journal is not None else None
            if claimed is not None:
                self._discard_child(claimed)
        assert isinstance(entry, UploadJobEntry | DownloadJobEntry)
        pending = [i for i in range(len(entry.items)) if i not in done and i not in skipped]
        if isinstance(entry, UploadJobEntry):
            ids = [entry.items[i].document_id for i in pending]
            stored = self._repository.stored_names(self._user_id, ids) if ids else {}
            outcome = self._blobs.delete_many(
                object_key(self._user_id, document_id)
                for document_id in ids
                if document_id not in stored
            )
            if outcome.failed:
                raise Unavailable(
                    "Could not remove what was sent of the job's files "
                    f"({next(iter(outcome.failed.values()))}); try again."
                )
        elif isinstance(entry, DownloadJobEntry):
            for index in pending:
                _remove_partials(Path(entry.items[index].target))
        tracked.finish()

    def _discard_child(self, claimed: Tracked) -> None:
        try:
            if isinstance(claimed.entry, UploadEntry):
                self._uploads.discard(claimed)
            else:
                self._downloads.discard(claimed)
        finally:
            if claimed.held:
                claimed.keep_for_resume()

    def _children(self, job: str, kind: Any) -> dict[str, str]:
        """The journal entries of ``job``'s large files: document id -> entry name."""
        if self._journal is None:
            return {}
        return {
            entry.document_id: name
            for name, entry, held in self._journal.survey()
            if isinstance(entry, kind) and getattr(entry, "job", None) == job and not held
        }


class _Untracked(Tracked):
    """A job without a journal (tests, no data folder): noted nowhere."""

    def __init__(self, entry: UploadJobEntry | DownloadJobEntry) -> None:
        self.entry = entry
        self._records: list[dict[str, Any]] = []
        self._lock_records = threading.Lock()

    @property
    def name(self) -> str:
        return "untracked"

    @property
    def held(self) -> bool:
        return False

    def update(self, entry: Any) -> None:
        self.entry = entry

    def append(self, record: dict[str, Any]) -> None:
        with self._lock_records:
            self._records.append(record)

    def records(self) -> list[dict[str, Any]]:
        with self._lock_records:
            return list(self._records)

    def clear_records(self) -> None:
        self._records = []

    def finish(self) -> None:
        pass

    def leave_for_next_start(self) -> None:
        pass

    def keep_for_resume(self) -> None:
        pass


def _follow(cancel: CancelToken, stop: CancelToken) -> None:
    if cancel.paused:
        stop.pause()
    else:
        stop.cancel()


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _remove_partials(target: Path) -> None:
    """Remove the hidden partial files an earlier run left for ``target``."""
    pattern = f"{glob.escape(partial_file_prefix(target.name))}*{PARTIAL_SUFFIX}"
    with contextlib.suppress(OSError):
        for partial in target.parent.glob(pattern):
            partial.unlink(missing_ok=True)


def _already_there(target: Path, document: Document) -> bool:
    """Whether ``target`` holds ``document`` already (moved into place just before a crash)."""
    try:
        if target.stat().st_size != document.size:
            return False
        return file_checksum(target) == document.checksum
    except (OSError, LocalFileError, NotFound):
        return False
