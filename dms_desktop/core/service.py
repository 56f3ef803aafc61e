"""The document operations the window and the CLI call, for one signed-in user.

Ordering rules that keep metadata and bodies consistent:
- upload: body first, then metadata (core.records); if the metadata write fails (or the user
  cancels), the body is deleted again, so no metadata ever points at a missing body and no body
  is left behind.
- delete: metadata first, then body. An interruption between the two leaves an orphan body that
  nobody can see (the admin consistency check finds and removes it), never a listed document
  whose download fails. Deleting many documents batches both steps (core.bulk_delete).

A body's key always follows from the user and the document id (core.schema.object_key); an
``s3Key`` stored in an item is never used. Uploads and downloads, single or as jobs, and the
transfers kept to be resumed are core.transfers; the service forwards its methods for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from .aws import make_client
from .blobs import BlobStore, TransferSettings
from .bulk_delete import DeleteReport, DeleteResult, DeleteStatus, delete_documents
from .bulk_tags import retag_documents
from .cancellation import CancelToken, ProgressCallback
from .change_report import ChangeReport
from .errors import Cancelled, DmsError, InTrash, NotFound
from .ids import checked_document_id, checked_document_ids
from .journal import DeleteEntry, Journal, JournalEntry, Tracked
from .listing import ListQuery, Page
from .lookup import find_document, find_in_trash
from .models import Document, format_timestamp, normalize_filename, normalize_tags, tag_key, utc_now
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
from .transfers import Transfers, forwarded
from .trash import move_to_trash, restore_from_trash
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
        self._journal = journal  # deletes in flight (see core.journal); transfers keep theirs
        self._transfers = Transfers(repository, blobs, user_id, journal, owner_name)
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

    # --- uploads and downloads (core.transfers) ---

    @property
    def transfers(self) -> Transfers:
        """This user's uploads and downloads, and those kept to be resumed."""
        return self._transfers

    upload = forwarded(Transfers.upload)
    upload_new_version = forwarded(Transfers.upload_new_version)
    new_upload = forwarded(Transfers.new_upload)
    upload_job = forwarded(Transfers.upload_job)
    download = forwarded(Transfers.download)
    download_job = forwarded(Transfers.download_job)
    find_duplicates = forwarded(Transfers.find_duplicates)
    known_checksums = forwarded(Transfers.known_checksums)
    finished_at_start = forwarded(Transfers.finished_at_start)
    interrupted_transfers = forwarded(Transfers.interrupted_transfers)
    find_interrupted_upload = forwarded(Transfers.find_interrupted_upload)
    find_interrupted_version_upload = forwarded(Transfers.find_interrupted_version_upload)
    find_interrupted_download = forwarded(Transfers.find_interrupted_download)
    find_interrupted_upload_job = forwarded(Transfers.find_interrupted_upload_job)
    find_interrupted_download_job = forwarded(Transfers.find_interrupted_download_job)
    resume_transfer = forwarded(Transfers.resume_transfer)
    discard_transfer = forwarded(Transfers.discard_transfer)
    recover_interrupted = forwarded(Transfers.recover_interrupted)

    @property
    def versions(self) -> DocumentVersions:
        """New versions of documents, their history, old versions (core.versions)."""
        return self._transfers.versions

    def _track(self, entry: JournalEntry) -> Tracked | None:
        return self._journal.track(entry) if self._journal is not None else None

    def get(self, document_id: str) -> Document:
        return self._repository.get(self._user_id, checked_document_id(document_id))

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
        checked = checked_document_ids(document_ids)
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
        checked = checked_document_id(document_id)
        key = object_key(self._user_id, checked)
        tracked = self._track(
            DeleteEntry(user_id=self._user_id, document_id=checked, s3_key=key, filename="")
        )
        try:
            document = self._repository.delete(self._user_id, checked)
        except NotFound:
            # Without metadata a body at this key is an orphan, e.g. when botocore retried a
            # delete whose response was lost and the retry found the metadata gone.
            leftover = self._blobs.delete_for_good([key])
            if leftover.failed:
                log.error(
                    "could not remove a body left without metadata at %s: %s",
                    checked,
                    leftover.failed[key],
                )
            if tracked is not None:
                tracked.finish()
            raise
        except BaseException:
            # Maybe deleted on the server before the connection broke: the next start checks.
            if tracked is not None:
                tracked.leave_for_next_start()
            raise
        name = document.filename if document is not None else ""
        body = self._blobs.delete_for_good([key])  # every stored version: the bytes are gone
        if body.failed:
            reason = body.failed[key]
            log.error("metadata of %s deleted but its body was not: %s", document_id, reason)
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
        checked = checked_document_ids(document_ids)
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
        checked = checked_document_id(document_id)
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
        checked = checked_document_ids(document_ids)
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
        checked = checked_document_ids(document_ids)
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
        checked = checked_document_ids(document_ids)
        return self._repository.stored_names(self._user_id, checked)

    def read_head(self, document: Document, max_bytes: int) -> bytes:
        """The first ``max_bytes`` of a document's body (for previews; not verified)."""
        return self._blobs.read_head(object_key(self._user_id, document.document_id), max_bytes)
