"""The document operations the window and the CLI call, for one signed-in user.

Ordering rules that keep metadata and bodies consistent:
- upload: body first, then metadata; if the metadata write fails (or the user cancels), the body
  is deleted again, so no metadata ever points at a missing body and no body is left behind.
- delete: metadata first, then body. An interruption between the two leaves an orphan body that
  nobody can see (the admin consistency check finds and removes it), never a listed document
  whose download fails.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .aws import make_client
from .blobs import BlobStore, TransferSettings
from .cancellation import CancelToken, ProgressCallback
from .errors import Cancelled, DmsError, LocalFileError, ValidationError
from .ids import is_document_id, new_document_id
from .localfiles import check_readable_file, download_target, guess_file_type
from .models import (
    Document,
    normalize_filename,
    normalize_folder,
    normalize_tags,
    tag_key,
    utc_now,
)
from .repository import DocumentRepository, ListQuery, Page
from .schema import object_key
from .scope import guard_user_scope

log = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024


def file_checksum(path: Path, cancel: CancelToken | None = None) -> str:
    """SHA-256 (hex) of a local file, as stored in a document's ``checksum``."""
    check_readable_file(path)
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK):
            if cancel is not None:
                cancel.raise_if_cancelled("Checking for duplicates")
            digest.update(chunk)
    return digest.hexdigest()


class DocumentService:
    """Upload, list, download, edit and delete the documents of ``user_id``."""

    def __init__(self, repository: DocumentRepository, blobs: BlobStore, user_id: str) -> None:
        self._repository = repository
        self._blobs = blobs
        self._user_id = user_id

    @classmethod
    def for_user(
        cls,
        session: Any,
        endpoint_url: str | None,
        table: str,
        bucket: str,
        user_id: str,
        settings: TransferSettings | None = None,
    ) -> DocumentService:
        """The service of ``user_id`` on clients of their own ``session``, which refuse any
        request outside their documents (see core.scope)."""
        dynamodb = make_client(session, "dynamodb", endpoint_url)
        s3 = make_client(session, "s3", endpoint_url, max_pool_connections=20)
        guard_user_scope(dynamodb, s3, user_id)
        return cls(DocumentRepository(dynamodb, table), BlobStore(s3, bucket, settings), user_id)

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
    ) -> Document:
        """Store a local file as a new document; either all of it is stored or nothing.

        ``expires`` makes it a test record that expires then (see core.admin)."""
        check_readable_file(source)
        expires_at = expiry_epoch_seconds(expires)
        name = normalize_filename(filename if filename is not None else source.name)
        clean_tags = normalize_tags(list(tags))
        clean_folder = normalize_folder(folder)
        document_id = new_document_id()
        key = object_key(self._user_id, document_id)
        file_type = guess_file_type(name)
        try:
            stored = self._blobs.upload(source, key, file_type, progress=progress, cancel=cancel)
        except OSError as exc:
            raise LocalFileError(f"Could not read {source}: {exc.strerror or exc}.") from exc
        try:
            if cancel is not None:
                cancel.raise_if_cancelled("The upload")
            now = utc_now()
            document = Document(
                user_id=self._user_id,
                document_id=document_id,
                filename=name,
                file_type=file_type,
                size=stored.size,
                tags=clean_tags,
                folder=clean_folder,
                created_at=now,
                updated_at=now,
                s3_key=key,
                checksum=stored.checksum,
                version=1,
                expires_at=expires_at,
            )
            self._repository.create(document)
        except BaseException:
            self._remove_orphan_body(key)
            raise
        log.info("uploaded %s (%d bytes) as %s", source.name, stored.size, document_id)
        return document

    def _remove_orphan_body(self, key: str) -> None:
        try:
            self._blobs.delete(key)
        except DmsError:
            log.exception("could not remove %s after a failed upload; it is an orphan now", key)

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

    def delete(self, document_id: str) -> Document:
        """Delete the metadata, then the body (see the module docstring for why)."""
        document = self._repository.delete(self._user_id, _checked_id(document_id))
        try:
            self._blobs.delete(document.s3_key)
        except DmsError:
            log.exception("metadata of %s deleted but its body was not", document_id)
        log.info("deleted %s (%s)", document_id, document.filename)
        return document

    def read_head(self, document: Document, max_bytes: int) -> bytes:
        """The first ``max_bytes`` of a document's body (for previews; not verified)."""
        return self._blobs.read_head(document.s3_key, max_bytes)

    def download(
        self,
        document_id: str,
        target: Path,
        *,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Download to ``target``: a folder (the safe filename is used inside it) or a file path."""
        document = self.get(document_id)
        if target.is_dir():
            target = download_target(target, document.filename)
        try:
            return self._blobs.download(
                document.s3_key,
                target,
                expected_size=document.size,
                expected_checksum=document.checksum,
                overwrite=overwrite,
                progress=progress,
                cancel=cancel,
            )
        except Cancelled:
            raise
        except OSError as exc:
            raise ValidationError(f"Could not write {target}: {exc.strerror or exc}.") from exc


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
