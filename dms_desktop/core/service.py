"""The document operations the window and the CLI call, for one signed-in user.

Ordering rules that keep metadata and bodies consistent:
- upload: body first, then metadata (core.records); if the metadata write fails (or the user
  cancels), the body is deleted again, so no metadata ever points at a missing body and no body
  is left behind.
- delete: metadata first, then body. An interruption between the two leaves an orphan body that
  nobody can see (the admin consistency check finds and removes it), never a listed document
  whose download fails. Deleting many documents batches both steps (core.bulk_delete).

A body's key always follows from the user and the document id (core.schema.object_key); an
``s3Key`` stored in an item is never used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .aws import make_client
from .blobs import BlobStore, TransferSettings
from .bulk_delete import DeleteReport, DeleteResult, DeleteStatus, delete_documents
from .bulk_tags import retag_documents
from .cancellation import CancelToken, ProgressCallback
from .change_report import ChangeReport
from .downloading import Downloads
from .errors import (
    Cancelled,
    Conflict,
    DmsError,
    InTrash,
    NotFound,
    ValidationError,
)
from .ids import is_document_id, new_document_id
from .interrupted import (
    InterruptedTransfer,
    find_download_job_of,
    find_download_of,
    find_upload_job_of,
    find_upload_of,
    interrupted_transfers,
    resolve_id,
)
from .job_progress import JobOutcome, JobProgress, JobProgressCallback
from .job_uploads import AskDuplicate, KnownChecksums, find_duplicates
from .journal import (
    DeleteEntry,
    DownloadEntry,
    DownloadJobEntry,
    Journal,
    JournalEntry,
    Tracked,
    UploadEntry,
    UploadJobEntry,
)
from .listing import ListQuery, Page
from .localfiles import (
    HashedFile,
    UploadSource,
    check_readable_file,
    download_target,
    guess_file_type,
    unique_download_targets,
)
from .lookup import find_document, find_in_trash
from .models import (
    Document,
    format_timestamp,
    normalize_filename,
    normalize_folder,
    normalize_tags,
    tag_key,
    utc_now,
)
from .recovery import recover_user_work, remove_upload_leftovers
from .repository import DocumentRepository
from .schema import DEFAULT_TRASH_DAYS, object_key
from .scope import guard_user_scope
from .share_links import (
    SIGNED_BY_API,
    SIGNED_BY_CREDENTIALS,
    ApiShareLinks,
    ShareLink,
    checked_lifetime,
)
from .transfer_jobs import TransferJobs
from .transfer_outcome import Notice
from .trash import move_to_trash, restore_from_trash
from .upload_plan import DuplicatePolicy
from .uploading import NewUpload, Uploads
from .versions import DocumentVersions

log = logging.getLogger(__name__)


class DocumentService:
    """Upload, list, download, edit and delete the documents of ``user_id``."""

    def __init__(
        self,
        repository: DocumentRepository,
        blobs: BlobStore,
        user_id: str,
        journal: Journal | None = None,
        owner_name: str | None = None,
        trash_days: int = DEFAULT_TRASH_DAYS,
        share_limit: timedelta | None = None,
        finish_share_link: Callable[[str], str] | None = None,
        api_share_links: ApiShareLinks | None = None,
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal  # uploads, downloads and deletes in flight (see core.journal)
        self._owner_name = owner_name  # kept on uploaded items for the admin tools
        self._uploads = Uploads(repository, blobs, user_id, journal, owner_name)
        self._downloads = Downloads(repository, blobs, user_id, journal)
        self._versions = DocumentVersions(
            repository.client, repository.table_name, blobs, self._downloads, user_id
        )
        self._jobs = TransferJobs(
            repository, blobs, user_id, journal, self._uploads, self._downloads, owner_name
        )
        # Uploads the last start finished (their whole body had been sent), by file path.
        self._finished_at_start: dict[str, Document] = {}
        self._trash_days = trash_days  # the backend's retention (its TrashRetentionDays)
        self._share_limit = share_limit  # how long the signing credentials last, if short
        self._finish_share_link = finish_share_link  # the sandbox's proof of its owner's link
        self._api_share_links = api_share_links  # the web API's links beyond share_limit

    @classmethod
    def for_user(
        cls,
        session: Any,
        endpoint_url: str | None,
        table: str,
        bucket: str,
        user_id: str,
        settings: TransferSettings | None = None,
        journal: Journal | None = None,
        owner_name: str | None = None,
        trash_days: int = DEFAULT_TRASH_DAYS,
        share_limit: timedelta | None = None,
        finish_share_link: Callable[[str], str] | None = None,
        api_share_links: ApiShareLinks | None = None,
    ) -> DocumentService:
        """The service of ``user_id`` (named ``owner_name``) on clients of their own
        ``session``, which refuse any request outside their documents (see core.scope)."""
        dynamodb = make_client(session, "dynamodb", endpoint_url)
        s3 = make_client(session, "s3", endpoint_url, max_pool_connections=20)
        guard_user_scope(dynamodb, s3, user_id)
        repository = DocumentRepository(dynamodb, table)
        blobs = BlobStore(s3, bucket, settings or TransferSettings.for_endpoint(endpoint_url))
        return cls(
            repository,
            blobs,
            user_id,
            journal,
            owner_name,
            trash_days,
            share_limit,
            finish_share_link,
            api_share_links,
        )

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def trash_days(self) -> int:
        """Days a document stays in the trash before it is purged."""
        return self._trash_days

    def upload(
        self,
        source: Path,
        *,
        tags: Iterable[str] = (),
        filename: str | None = None,
        folder: str = "",
        expires: datetime | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        content: HashedFile | None = None,
    ) -> Document:
        """Store a local file as a new document; either all of it is stored or nothing.

        ``expires`` makes it a test record that expires then (see core.admin). ``content`` is
        the file's checksum from an upload plan (core.upload_plan): the file is not hashed again
        unless it changed since. A pause (``cancel.pause()``), a lost network or Ctrl+C keep
        the upload to be resumed (Paused, TransferInterrupted; see core.uploading)."""
        return self._uploads.upload(
            self.new_upload(source, tags=tags, filename=filename, folder=folder, expires=expires),
            progress=progress,
            cancel=cancel,
            content=content,
        )

    def new_upload(
        self,
        source: Path,
        *,
        tags: Iterable[str] = (),
        filename: str | None = None,
        folder: str = "",
        expires: datetime | None = None,
    ) -> NewUpload:
        """A new document of ``source``, its fields checked (ValidationError if one is bad)."""
        check_readable_file(source)
        return self._new_document_of(
            source, tags=tags, filename=filename, folder=folder, expires=expires
        )

    def _new_document_of(
        self,
        source: Path,
        *,
        tags: Iterable[str] = (),
        filename: str | None = None,
        folder: str = "",
        expires: datetime | None = None,
    ) -> NewUpload:
        name = normalize_filename(filename if filename is not None else source.name)
        return NewUpload(
            source=source,
            document_id=new_document_id(),
            filename=name,
            file_type=guess_file_type(name),
            tags=normalize_tags(list(tags)),
            folder=normalize_folder(folder),
            expires_at=expiry_epoch_seconds(expires),
        )

    @property
    def uploads(self) -> Uploads:
        return self._uploads

    @property
    def versions(self) -> DocumentVersions:
        """New versions of documents, their history, old versions (core.versions)."""
        return self._versions

    # --- many files as one job (core.transfer_jobs) ---

    def upload_job(
        self,
        sources: list[UploadSource],
        *,
        name: str,
        roots: list[Path],
        tags: Iterable[str] = (),
        expires: datetime | None = None,
        policy: DuplicatePolicy = DuplicatePolicy.KEEP,
        locks_dir: Path | None = None,
        contents: dict[str, HashedFile] | None = None,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        ask: AskDuplicate | None = None,
    ) -> JobOutcome:
        """Upload ``sources`` as one job, several at a time; a file that fails is listed in the
        outcome and the others go on. A pause, a lost network or Ctrl+C keep the job to be
        resumed (Paused, TransferInterrupted), a crash too. ``roots``: the paths the user gave
        (the same ones again find the kept job); ``policy`` with ``locks_dir`` checks each
        file for duplicates as `dms upload` does (``ask`` is asked when it says ASK)."""
        # Checked by the plan (core.upload_plan); a file unreadable by now fails at its turn.
        files = [
            self._new_document_of(source.path, tags=tags, folder=source.folder, expires=expires)
            for source in sources
        ]
        tracked = self._jobs.uploads.start(name, roots, files, policy=policy)
        return self._jobs.uploads.run(
            tracked,
            progress=progress,
            cancel=cancel,
            notice=notice,
            ask=ask,
            locks_dir=locks_dir,
            contents=contents,
        )

    def download_job(
        self,
        documents: list[Document],
        folder: Path,
        *,
        name: str,
        overwrite: bool = False,
        progress: JobProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
    ) -> JobOutcome:
        """Download ``documents`` into ``folder`` as one job (their safe names, made unique);
        kept and resumed like an upload job."""
        targets = unique_download_targets(
            folder, [(document.document_id, document.filename) for document in documents]
        )
        tracked = self._jobs.downloads.start(
            name, folder, [(d, targets[d.document_id]) for d in documents], overwrite
        )
        return self._jobs.downloads.run(
            tracked,
            progress=progress,
            cancel=cancel,
            notice=notice,
            documents={document.document_id: document for document in documents},
        )

    def known_checksums(self) -> KnownChecksums:
        """The checksums of this user's documents, read once, to check many files for
        duplicates (``find_duplicates`` of each without a query per file)."""
        return KnownChecksums(self._repository, self._user_id)

    def find_interrupted_upload_job(self, roots: list[Path]) -> str | None:
        """The id of a kept upload job of the same paths, to resume instead of starting over."""
        if self._journal is None:
            return None
        return find_upload_job_of(self._journal, self._user_id, roots)

    def find_interrupted_download_job(self, document_ids: list[str], folder: Path) -> str | None:
        """The id of a kept download job of the same documents into ``folder``."""
        if self._journal is None:
            return None
        return find_download_job_of(self._journal, self._user_id, document_ids, folder)

    def finished_at_start(self, source: Path) -> Document | None:
        """The document of an interrupted upload of ``source`` that this start finished (its
        whole body had been sent before the interruption), if any."""
        return self._finished_at_start.get(str(source.absolute()))

    # --- interrupted transfers (core.interrupted) ---

    def interrupted_transfers(self) -> list[InterruptedTransfer]:
        """This user's transfers kept to be resumed (also those another instance is running)."""
        if self._journal is None:
            return []
        return interrupted_transfers(self._journal, self._user_id)

    def find_interrupted_upload(self, source: Path) -> str | None:
        """The id of a kept upload of the file ``source``, to resume instead of starting over."""
        if self._journal is None:
            return None
        return find_upload_of(self._journal, self._user_id, source)

    def find_interrupted_download(self, document_id: str, target: Path) -> str | None:
        """The id of a kept download of ``document_id`` to ``target`` (a file or its folder)."""
        if self._journal is None:
            return None
        return find_download_of(self._journal, self._user_id, document_id, target)

    def resume_transfer(
        self,
        transfer_id: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        notice: Notice | None = None,
        content: HashedFile | None = None,
        job_progress: JobProgressCallback | None = None,
        locks_dir: Path | None = None,
        ask: AskDuplicate | None = None,
    ) -> Document | Path | JobOutcome:
        """Continue the kept transfer ``transfer_id`` (or the start of it) where it stopped.
        A job reports to ``job_progress`` (or, without it, its bytes to ``progress``)."""
        tracked = self._claim(transfer_id)
        entry = tracked.entry
        if job_progress is None and progress is not None:
            job_progress = _bytes_of(progress)
        try:
            if isinstance(entry, UploadJobEntry):
                return self._jobs.uploads.run(
                    tracked,
                    progress=job_progress,
                    cancel=cancel,
                    notice=notice,
                    ask=ask,
                    locks_dir=locks_dir,
                    resumed=True,
                )
            if isinstance(entry, DownloadJobEntry):
                return self._jobs.downloads.run(
                    tracked, progress=job_progress, cancel=cancel, notice=notice, resumed=True
                )
            if isinstance(entry, UploadEntry):
                return self._uploads.resume(
                    tracked, progress=progress, cancel=cancel, content=content, notice=notice
                )
            if isinstance(entry, DownloadEntry):
                return self._downloads.resume(
                    tracked, progress=progress, cancel=cancel, notice=notice
                )
            raise NotFound(f"There is no interrupted transfer {transfer_id}.")
        finally:
            if tracked.held:
                tracked.keep_for_resume()

    def discard_transfer(self, transfer_id: str) -> str:
        """Give up the kept transfer ``transfer_id``: what it sent or wrote is removed (a
        multipart upload aborted, a partial file deleted); returns what was discarded."""
        tracked = self._claim(transfer_id)
        entry = tracked.entry
        try:
            if isinstance(entry, UploadJobEntry | DownloadJobEntry):
                self._jobs.discard(tracked)
                kind = "upload" if isinstance(entry, UploadJobEntry) else "download"
                return f"the {kind} of {entry.name}"
            if isinstance(entry, UploadEntry):
                self._uploads.discard(tracked)
                return f"the upload of {entry.filename}"
            if isinstance(entry, DownloadEntry):
                self._downloads.discard(tracked)
                return f"the download of {entry.filename}"
            raise NotFound(f"There is no interrupted transfer {transfer_id}.")
        finally:
            if tracked.held:
                tracked.keep_for_resume()

    def _claim(self, transfer_id: str) -> Tracked:
        if self._journal is None:
            raise NotFound("There are no interrupted transfers here.")
        full_id = resolve_id(self._journal, self._user_id, transfer_id)
        tracked = self._journal.claim(full_id)
        if tracked is None:
            raise Conflict(
                f"The transfer {full_id[:8]} is being run by another instance of the app (the "
                "window or another `dms` command) right now; let it finish there."
            )
        return tracked

    def _track(self, entry: JournalEntry) -> Tracked | None:
        return self._journal.track(entry) if self._journal is not None else None

    def recover_interrupted(self) -> list[str]:
        """Finish or undo this user's uploads, downloads and deletes that a crash interrupted;
        one message per piece of work, saying which (see core.recovery)."""
        if self._journal is None:
            return []
        return recover_user_work(
            self._journal,
            self._repository,
            self._blobs,
            self._user_id,
            self._finished_at_start,
        )

    def find_duplicates(self, checksum: str) -> list[Document]:
        """The user's documents whose body has ``checksum`` (same content already stored)."""
        return find_duplicates(self._repository, self._user_id, checksum)

    def get(self, document_id: str) -> Document:
        return self._repository.get(self._user_id, _checked_id(document_id))

    def find(self, reference: str) -> Document:
        """The document ``reference`` names: its id, or its whole name when only one document
        (outside the trash) has it (core.lookup)."""
        return find_document(self._repository, self._user_id, reference)

    def find_in_trash(self, reference: str) -> Document:
        """The document in the trash ``reference`` names: its id, or its whole name when only
        one document in the trash has it (core.lookup)."""
        return find_in_trash(self._repository, self._user_id, reference)

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        return self._repository.list_page(self._user_id, query, cursor)

    def iter_documents(self, query: ListQuery) -> Iterator[Document]:
        return self._repository.iter_all(self._user_id, query)

    def tag_counts(self) -> dict[str, int]:
        """The user's tags with the number of documents carrying each (for the tag browser)."""
        return self._repository.tag_counts(self._user_id)

    def rename(
        self, document_id: str, filename: str, expected_version: int | None = None
    ) -> Document:
        clean_name = normalize_filename(filename)  # bad input fails before any request
        current = self.get(document_id)
        version = current.version if expected_version is None else expected_version
        return self._repository.update(
            self._user_id, current.document_id, version, filename=clean_name
        )

    def retag(
        self,
        document_id: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        replace: Iterable[str] | None = None,
        expected_version: int | None = None,
    ) -> Document:
        """Set the tags (``replace``) or add/remove some (case-insensitively)."""
        add = normalize_tags(list(add))  # bad input fails before any request
        replace = None if replace is None else normalize_tags(list(replace))
        current = self.get(document_id)
        version = current.version if expected_version is None else expected_version
        base = list(current.tags) if replace is None else list(replace)
        removed = {tag_key(tag) for tag in remove}
        tags = [tag for tag in [*base, *add] if tag_key(tag) not in removed]
        return self._repository.update(
            self._user_id, current.document_id, version, tags=normalize_tags(tags)
        )

    def retag_many(
        self,
        document_ids: Iterable[str],
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> ChangeReport:
        """Add and remove tags on many documents, batched (core.bulk_tags): a report says what
        became of each (a document changed meanwhile is a conflict, not overwritten)."""
        checked = list(dict.fromkeys(_checked_id(document_id) for document_id in document_ids))
        return retag_documents(
            self._repository.batches,
            self._user_id,
            checked,
            add=list(add),
            remove=list(remove),
            cancel=cancel,
            progress=progress,
        )

    def delete(self, document_id: str) -> Document | None:
        """Delete the metadata, then the body (see the module docstring for why). Returns what
        was deleted; None for a damaged item (not a valid document, deleted all the same)."""
        checked = _checked_id(document_id)
        key = object_key(self._user_id, checked)
        tracked = self._track(
            DeleteEntry(user_id=self._user_id, document_id=checked, s3_key=key, filename="")
        )
        try:
            document = self._repository.delete(self._user_id, checked)
        except NotFound:
            # Without metadata a body at this key is an orphan, e.g. when botocore retried a
            # delete whose response was lost and the retry found the metadata gone.
            try:
                remove_upload_leftovers(self._blobs, key, None)
            except DmsError:
                log.exception("could not remove a body left without metadata at %s", checked)
            if tracked is not None:
                tracked.finish()
            raise
        except BaseException:
            # Maybe deleted on the server before the connection broke: the next start checks.
            if tracked is not None:
                tracked.leave_for_next_start()
            raise
        name = document.filename if document is not None else ""
        try:
            self._blobs.delete(key)
        except DmsError:
            log.exception("metadata of %s deleted but its body was not", document_id)
            if tracked is not None:
                tracked.update(tracked.entry.model_copy(update={"filename": name}))
                tracked.leave_for_next_start()
        else:
            if tracked is not None:
                tracked.finish()
        log.info("deleted %s (%s)", document_id, name or "a damaged item")
        return document

    def delete_many(
        self,
        document_ids: Iterable[str],
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> DeleteReport:
        """Delete the documents, batched (core.bulk_delete); a report says what became of each
        (deleted, not found, failed with the reason, or cancelled first). Every id is checked
        before anything is deleted. ``progress`` gets (documents done, documents asked)."""
        checked = list(dict.fromkeys(_checked_id(document_id) for document_id in document_ids))
        if len(checked) == 1:  # one conditional DeleteItem says at once whether it existed
            return self._delete_one(checked[0], cancel)
        return delete_documents(
            self._repository,
            self._blobs,
            self._user_id,
            checked,
            journal=self._journal,
            cancel=cancel,
            progress=progress,
        )

    def _delete_one(self, document_id: str, cancel: CancelToken | None) -> DeleteReport:
        if cancel is not None and cancel.cancelled:
            error: DmsError = Cancelled("Deleting was cancelled before this document; it is kept.")
            return DeleteReport([DeleteResult(document_id, DeleteStatus.CANCELLED, "", error)])
        try:
            document = self.delete(document_id)
        except NotFound as missing:
            result = DeleteResult(document_id, DeleteStatus.NOT_FOUND, "", missing)
        except DmsError as error:
            result = DeleteResult(document_id, DeleteStatus.FAILED, "", error)
        else:
            name = document.filename if document is not None else ""
            result = DeleteResult(document_id, DeleteStatus.DELETED, name)
        return DeleteReport([result])

    # --- share links (core.share_links) ---

    @property
    def share_limit(self) -> timedelta | None:
        """The longest share link this sign-in can make (None: up to 7 days)."""
        return self._share_limit

    def share_signer(self, lifetime: timedelta) -> str | None:
        """Who would make a link of ``lifetime`` (core.share_links SIGNED_BY_*), or None if
        none can."""
        if self._share_limit is None or lifetime <= self._share_limit:
            return SIGNED_BY_CREDENTIALS
        return SIGNED_BY_API if self._api_share_links is not None else None

    def share_link(self, document_id: str, lifetime: timedelta) -> ShareLink:
        """A link that downloads the document without signing in, for ``lifetime``: presigned
        here, or, beyond what the sign-in's credentials allow, made by the web API."""
        signer = self.share_signer(lifetime)
        limit = None if signer == SIGNED_BY_API else self._share_limit
        seconds = checked_lifetime(lifetime, limit)
        checked = _checked_id(document_id)
        document = self._repository.get(self._user_id, checked)
        if document.in_trash:
            raise InTrash(document.filename, checked)
        if signer == SIGNED_BY_API and self._api_share_links is not None:
            url, expires_at = self._api_share_links.make(checked, seconds)
            return ShareLink(document, url, expires_at, SIGNED_BY_API)
        made = utc_now()
        url = self._blobs.presigned_get(
            object_key(self._user_id, checked), document.filename, document.file_type, seconds
        )
        if self._finish_share_link is not None:
            url = self._finish_share_link(url)
        return ShareLink(document, url, made + timedelta(seconds=seconds))

    # --- the trash (core.trash) ---

    def trash_many(
        self,
        document_ids: Iterable[str],
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> ChangeReport:
        """Move the documents to the trash (batched); a report says what became of each."""
        checked = list(dict.fromkeys(_checked_id(document_id) for document_id in document_ids))
        return move_to_trash(
            self._repository.batches,
            self._user_id,
            checked,
            days=self._trash_days,
            cancel=cancel,
            progress=progress,
        )

    def restore_many(
        self,
        document_ids: Iterable[str],
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> ChangeReport:
        """Take the documents out of the trash as they were (batched)."""
        checked = list(dict.fromkeys(_checked_id(document_id) for document_id in document_ids))
        return restore_from_trash(
            self._repository.batches, self._user_id, checked, cancel=cancel, progress=progress
        )

    def trash_page(
        self,
        cursor: str | None = None,
        page_size: int = 100,
        trashed_before: datetime | None = None,
    ) -> Page:
        """A page of the trash, the most recently deleted first."""
        before = format_timestamp(trashed_before) if trashed_before is not None else None
        return self._repository.trash_page(self._user_id, page_size, cursor, trashed_before=before)

    def empty_trash(
        self,
        trashed_before: datetime | None = None,
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
    ) -> DeleteReport:
        """Delete for good every document in the trash (deleted before ``trashed_before``, if
        given), and only those still there when their turn comes (batched)."""
        document_ids: list[str] = []
        cursor: str | None = None
        while True:
            page = self.trash_page(cursor, 1000, trashed_before)
            document_ids += [document.document_id for document in page.documents]
            document_ids += list(page.damaged)
            cursor = page.cursor
            if cursor is None:
                break
        return delete_documents(
            self._repository,
            self._blobs,
            self._user_id,
            list(dict.fromkeys(document_ids)),
            journal=self._journal,
            cancel=cancel,
            progress=progress,
            only_in_trash=True,
        )

    def names_of(self, document_ids: Iterable[str]) -> dict[str, str]:
        """The stored filename of each of the documents that exist (damaged ones too; batched),
        e.g. to ask before deleting them."""
        checked = list(dict.fromkeys(_checked_id(document_id) for document_id in document_ids))
        return self._repository.stored_names(self._user_id, checked)

    def read_head(self, document: Document, max_bytes: int) -> bytes:
        """The first ``max_bytes`` of a document's body (for previews; not verified)."""
        return self._blobs.read_head(object_key(self._user_id, document.document_id), max_bytes)

    def download(
        self,
        document_id: str,
        target: Path,
        *,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Download to ``target``: a folder (the safe filename is used inside it) or a file path.

        The body's GET is sent at once (its key follows from the id), so that its round trip
        overlaps the metadata read; what arrives is written only if it matches the metadata.
        A pause, a lost network or Ctrl+C keep what was written to be resumed (core.downloading).
        A document in the trash is not downloaded (InTrash).
        """
        checked = _checked_id(document_id)
        started = self._blobs.start_get(object_key(self._user_id, checked))
        try:
            document = self._repository.get(self._user_id, checked)
            if document.in_trash:
                raise InTrash(document.filename, checked)
            if target.is_dir():
                target = download_target(target, document.filename)
            return self._downloads.download(
                document,
                target,
                overwrite=overwrite,
                progress=progress,
                cancel=cancel,
                started=started,
            )
        finally:
            started.close()


def _bytes_of(progress: ProgressCallback) -> JobProgressCallback:
    def report(job: JobProgress) -> None:
        progress(job.bytes_done, job.bytes_total)

    return report


def expiry_epoch_seconds(expires: datetime | None) -> int | None:
    """The ``expiresAt`` (epoch seconds) of a test record expiring at ``expires``, ahead."""
    if expires is None:
        return None
    if expires.tzinfo is None:
        raise ValueError("expires must carry a time zone")
    if expires <= utc_now():
        raise ValidationError("A test record's expiry must be in the future.")
    return math.ceil(expires.timestamp())


def _checked_id(document_id: str) -> str:
    text = document_id.strip()
    if not is_document_id(text):
        raise ValidationError(
            f"{document_id!r} is not a document id (ids look like "
            "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d; `dms list` shows them)."
        )
    return text
