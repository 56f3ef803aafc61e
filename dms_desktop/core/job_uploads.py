"""The upload side of a job of many files (core.transfer_jobs): a folder or many files
uploaded, each checked for duplicates as `dms upload` does, several at a time."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .blobs import BlobStore
from .cancellation import CancelToken, ProgressCallback
from .errors import DmsError, LocalFileError, Unavailable
from .formatting import printable
from .job_journal import noted_outcomes, track_job
from .job_pool import JobPool, may_pass
from .job_progress import JobCounter, JobOutcome, JobProgressCallback
from .journal import JobUpload, Journal, Tracked, UploadEntry, UploadJobEntry
from .localfiles import HashedFile, UploadSource
from .models import Document
from .record_batches import RecordBatcher
from .records import record_of_upload
from .repository import DocumentRepository
from .schema import object_key
from .transfer_outcome import Notice, ignore_notice
from .upload_plan import Decision, DuplicatePolicy, claim_content, decide, duplicate_names
from .uploading import NewUpload, Uploads

AskDuplicate = Callable[[JobUpload, Sequence[Document]], bool]
"""Asked (one question at a time) whether to upload another copy of a file already stored."""


def find_duplicates(repository: DocumentRepository, user_id: str, checksum: str) -> list[Document]:
    """The user's documents whose body has ``checksum`` (same content already stored), outside
    the trash."""
    documents = []
    for document_id in repository.find_by_checksum(user_id, checksum):
        try:
            document = repository.get(user_id, document_id)
        except DmsError:
            continue  # deleted meanwhile
        if not document.in_trash:
            documents.append(document)
    return documents


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


class UploadJobs:
    """Upload jobs of one user."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None,
        uploads: Uploads,
        pool: JobPool,
        owner_name: str | None,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal
        self._uploads = uploads
        self._pool = pool
        # Small files go without an entry of their own (the job's entry covers them), and their
        # records are written together (core.record_batches).
        self._records = RecordBatcher(repository, owner_name)

    def start(
        self,
        name: str,
        roots: Sequence[Path],
        files: Sequence[NewUpload],
        *,
        policy: DuplicatePolicy,
    ) -> Tracked:
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
        return track_job(self._journal, entry)

    def run(
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
        done, skipped = noted_outcomes(tracked.records())
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
        claim_large_file = self._pool.claim_large_file(tracked, UploadEntry)
        policy = DuplicatePolicy(entry.policy)
        checking = policy is not DuplicatePolicy.KEEP and locks_dir is not None
        known = (
            KnownChecksums(self._repository, self._user_id)
            if checking and len(pending) >= SNAPSHOT_FROM_FILES
            else None
        )
        asking = threading.Lock()
        counter = JobCounter(
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
            claimed = claim_large_file(item.document_id)
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

        return self._pool.run(
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
                record_of_upload(self._user_id, new, size=stored.size, checksum=stored.checksum)
            )
        except BaseException as error:
            # A failure that may pass leaves the body: the record may have been written (its
            # answer lost); a resume finds it, a discard removes what has no record.
            if not may_pass(error):
                with contextlib.suppress(DmsError):
                    self._blobs.delete(key)
            raise

    def find_duplicates(self, checksum: str) -> list[Document]:
        """The job's duplicate check of one file (without a snapshot of the checksums)."""
        return find_duplicates(self._repository, self._user_id, checksum)

    def discard_unsent(self, entry: UploadJobEntry, pending: list[int]) -> None:
        """Delete the bodies sent of the ``pending`` files that have no record."""
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


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
