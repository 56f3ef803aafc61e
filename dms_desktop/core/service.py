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
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .aws import make_client
from .blobs import BlobStore, TransferSettings
from .bulk_delete import DeleteReport, DeleteResult, DeleteStatus, delete_documents
from .cancellation import CancelToken, ProgressCallback
from .errors import (
    AmbiguousName,
    Cancelled,
    DmsError,
    IntegrityError,
    LocalFileError,
    NotFound,
    ValidationError,
)
from .formatting import human_size, human_time
from .ids import is_document_id, new_document_id
from .journal import DeleteEntry, DownloadEntry, Journal, JournalEntry, Tracked, UploadEntry
from .listing import ListQuery, Page
from .localfiles import HashedFile, check_readable_file, download_target, guess_file_type
from .models import (
    Document,
    normalize_filename,
    normalize_folder,
    normalize_tags,
    tag_key,
    utc_now,
)
from .records import new_document_record, store_document_record
from .recovery import recover_user_work, remove_upload_leftovers
from .repository import DocumentRepository
from .schema import object_key
from .scope import guard_user_scope

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
    ) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id
        self._journal = journal  # uploads, downloads and deletes in flight (see core.journal)
        self._owner_name = owner_name  # kept on uploaded items for the admin tools

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
    ) -> DocumentService:
        """The service of ``user_id`` (named ``owner_name``) on clients of their own
        ``session``, which refuse any request outside their documents (see core.scope)."""
        dynamodb = make_client(session, "dynamodb", endpoint_url)
        s3 = make_client(session, "s3", endpoint_url, max_pool_connections=20)
        guard_user_scope(dynamodb, s3, user_id)
        repository = DocumentRepository(dynamodb, table)
        blobs = BlobStore(s3, bucket, settings or TransferSettings.for_endpoint(endpoint_url))
        return cls(repository, blobs, user_id, journal, owner_name)

    @property
    def user_id(self) -> str:
        return self._user_id

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
        unless it changed since."""
        check_readable_file(source)
        expires_at = expiry_epoch_seconds(expires)
        name = normalize_filename(filename if filename is not None else source.name)
        clean_tags = normalize_tags(list(tags))
        clean_folder = normalize_folder(folder)
        document_id = new_document_id()
        key = object_key(self._user_id, document_id)
        file_type = guess_file_type(name)
        tracked = self._track(
            UploadEntry(
                user_id=self._user_id,
                document_id=document_id,
                s3_key=key,
                source=str(source),
                filename=name,
                file_type=file_type,
                size=source.stat().st_size,
                tags=clean_tags,
                folder=clean_folder,
                expires_at=expires_at,
            )
        )

        def note(**changes: Any) -> None:
            if tracked is not None:
                tracked.update(tracked.entry.model_copy(update=changes))

        try:
            try:
                stored = self._blobs.upload(
                    source,
                    key,
                    file_type,
                    progress=progress,
                    cancel=cancel,
                    on_multipart_started=lambda upload_id: note(multipart_upload_id=upload_id),
                    content=content,
                    download_name=name,
                )
            except OSError as exc:
                raise LocalFileError(f"Could not read {source}: {exc.strerror or exc}.") from exc
            note(checksum=stored.checksum)
            if cancel is not None:
                cancel.raise_if_cancelled("The upload")
            document = store_document_record(
                self._repository,
                new_document_record(
                    user_id=self._user_id,
                    document_id=document_id,
                    filename=name,
                    file_type=file_type,
                    size=stored.size,
                    checksum=stored.checksum,
                    tags=clean_tags,
                    folder=clean_folder,
                    expires_at=expires_at,
                ),
                owner_name=self._owner_name,
            )
        except BaseException:
            self._undo_upload(key, tracked)
            raise
        if tracked is not None:
            tracked.finish()
        log.info("uploaded %s (%d bytes) as %s", source.name, stored.size, document_id)
        return document

    def _track(self, entry: JournalEntry) -> Tracked | None:
        return self._journal.track(entry) if self._journal is not None else None

    def _undo_upload(self, key: str, tracked: Tracked | None) -> None:
        """Remove what a failed upload stored; if the backend cannot be reached now, the
        journal keeps the upload and the next start removes it."""
        entry = tracked.entry if tracked is not None else None
        upload_id = entry.multipart_upload_id if isinstance(entry, UploadEntry) else None
        try:
            remove_upload_leftovers(self._blobs, key, upload_id)
        except DmsError:
            log.exception("could not remove %s after a failed upload", key)
            if tracked is not None:
                tracked.update(tracked.entry.model_copy(update={"failed": True}))
                tracked.leave_for_next_start()
            return
        if tracked is not None:
            tracked.finish()

    def recover_interrupted(self) -> list[str]:
        """Finish or undo this user's uploads, downloads and deletes that a crash interrupted;
        one message per piece of work, saying which (see core.recovery)."""
        if self._journal is None:
            return []
        return recover_user_work(self._journal, self._repository, self._blobs, self._user_id)

    def find_duplicates(self, checksum: str) -> list[Document]:
        """The user's documents whose body has ``checksum`` (same content already stored)."""
        documents = []
        for document_id in self._repository.find_by_checksum(self._user_id, checksum):
            try:
                documents.append(self._repository.get(self._user_id, document_id))
            except DmsError:
                continue  # deleted meanwhile
        return documents

    def get(self, document_id: str) -> Document:
        return self._repository.get(self._user_id, _checked_id(document_id))

    def find(self, reference: str) -> Document:
        """The document ``reference`` names: its id, or its whole name when only one document
        has it. A name is matched exactly first, then ignoring case; NotFound if none has it,
        AmbiguousName (listing their ids) if several do."""
        text = reference.strip()
        if is_document_id(text):
            return self._repository.get(self._user_id, text)
        name = unicodedata.normalize("NFC", reference)
        if not name.strip():
            raise ValidationError("Name a document by its id or its name; this is empty.")
        candidates = self._repository.find_by_name(self._user_id, name)
        exact = [document for document in candidates if document.filename == name]
        matches = exact or candidates
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(
                f"There is no document named {name!r} (a name is matched whole, ignoring case)."
            )
        listed = "; ".join(
            f"{document.document_id} ({_place(document)}, {human_size(document.size)}, "
            f"{human_time(document.created_at)})"
            for document in matches
        )
        raise AmbiguousName(
            f"{len(matches)} documents are named {name!r}: {listed}. Name one by its id.",
            tuple(document.document_id for document in matches),
        )

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
        """
        checked = _checked_id(document_id)
        key = object_key(self._user_id, checked)
        started = self._blobs.start_get(key)
        try:
            document = self._repository.get(self._user_id, checked)
            if target.is_dir():
                target = download_target(target, document.filename)
            tracked = self._track(
                DownloadEntry(
                    user_id=self._user_id,
                    document_id=document.document_id,
                    filename=document.filename,
                    target=str(target),
                )
            )
            try:
                return self._blobs.download(
                    key,
                    target,
                    expected_size=document.size,
                    expected_checksum=document.checksum,
                    overwrite=overwrite,
                    progress=progress,
                    cancel=cancel,
                    started=started,
                )
            except Cancelled:
                raise
            except NotFound as exc:
                raise self._body_not_found(document) from exc
            except OSError as exc:
                raise ValidationError(f"Could not write {target}: {exc.strerror or exc}.") from exc
            finally:
                # Success or failure, the blob store has removed its temporary file by now.
                if tracked is not None:
                    tracked.finish()
        finally:
            started.close()

    def _body_not_found(self, document: Document) -> DmsError:
        """Why a document's body was not found: deleted meanwhile, or missing from the store."""
        try:
            self._repository.get(self._user_id, document.document_id)
        except NotFound as exc:
            return exc  # deleted by another instance while it was being downloaded
        except DmsError:
            pass
        return IntegrityError(
            f"The stored file of {document.filename} ({document.document_id}) is missing: its "
            "details are stored, its content is not. Downloading it again will not help; "
            "`dms admin check` lists such documents (and `--repair` removes them). Nothing was "
            "written."
        )


def expiry_epoch_seconds(expires: datetime | None) -> int | None:
    """The ``expiresAt`` (epoch seconds) of a test record expiring at ``expires``, ahead."""
    if expires is None:
        return None
    if expires.tzinfo is None:
        raise ValueError("expires must carry a time zone")
    if expires <= utc_now():
        raise ValidationError("A test record's expiry must be in the future.")
    return math.ceil(expires.timestamp())


def _place(document: Document) -> str:
    return f"in {document.folder}" if document.folder else "no folder"


def _checked_id(document_id: str) -> str:
    text = document_id.strip()
    if not is_document_id(text):
        raise ValidationError(
            f"{document_id!r} is not a document id (ids look like "
            "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d; `dms list` shows them)."
        )
    return text
