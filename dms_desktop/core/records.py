"""A new document's metadata record, and the one rule for writing it: after its body is stored.

The desktop's uploads (core.service), the recovery of an interrupted upload (core.recovery) and
the web API (api.handlers) all create documents through these two functions, so a record has the
same fields everywhere and is written in the same order:

- body first, then metadata: no listed document ever points at a missing body; an interruption
  between the two leaves at worst a body nobody sees, which the admin check finds and removes;
- the size and checksum recorded are those of the stored body (what the app sent and hashed, or
  what S3 verified), not what a client announced;
- a create that botocore retried after its response was lost finds its own record: accepted when
  it describes the same body (its key follows from owner and id; the same checksum), a conflict
  otherwise.

Where the body was sent by someone else (the web API's presigned upload),
:func:`store_record_of_upload` first checks that the body is there and is the one the record
describes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from .blobs import BlobStore
from .errors import Conflict
from .models import Document, normalize_filename, normalize_folder, normalize_tags, utc_now
from .repository import DocumentRepository

log = logging.getLogger(__name__)


def new_document_record(
    *,
    user_id: str,
    document_id: str,
    filename: str,
    file_type: str,
    size: int,
    checksum: str,
    tags: Iterable[str] = (),
    folder: str = "",
    expires_at: int | None = None,
    now: datetime | None = None,
) -> Document:
    """The first version of a document's record; its body's key follows from owner and id
    (``Document.s3_key``)."""
    moment = now or utc_now()
    return Document(
        user_id=user_id,
        document_id=document_id,
        filename=normalize_filename(filename),
        file_type=file_type,
        size=size,
        tags=normalize_tags(list(tags)),
        folder=normalize_folder(folder),
        created_at=moment,
        updated_at=moment,
        checksum=checksum,
        version=1,
        expires_at=expires_at,
    )


class UploadFields(Protocol):
    """What an upload says its document will be (a journal entry, a file of a folder job)."""

    @property
    def document_id(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def file_type(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def folder(self) -> str: ...
    @property
    def expires_at(self) -> int | None: ...


def record_of_upload(user_id: str, upload: UploadFields, *, size: int, checksum: str) -> Document:
    """The first version of the record of ``upload``'s document, whose body of ``size`` bytes
    and ``checksum`` is stored."""
    return new_document_record(
        user_id=user_id,
        document_id=upload.document_id,
        filename=upload.filename,
        file_type=upload.file_type,
        size=size,
        checksum=checksum,
        tags=upload.tags,
        folder=upload.folder,
        expires_at=upload.expires_at,
    )


def store_document_record(
    repository: DocumentRepository, document: Document, *, owner_name: str | None = None
) -> Document:
    """Write the record of a body that is stored already (see the module docstring); returns
    the stored record: ``document``, or the identical one an earlier attempt wrote.
    ``owner_name``, the uploader's user name, is kept on the item for the admin tools (see
    core.owner_names)."""
    try:
        return repository.create(document, owner_name=owner_name)
    except Conflict:
        # Ids are new, so a taken id means an earlier attempt (a retried request whose response
        # was lost, a retried API call) stored it: ours, if it points at the same body.
        stored = repository.get(document.user_id, document.document_id)
        if stored.checksum != document.checksum:
            raise
        log.info("the metadata of %s was stored by an earlier attempt", document.document_id)
        return stored


def store_record_of_upload(
    repository: DocumentRepository, blobs: BlobStore, document: Document
) -> Document:
    """Write ``document``'s record once its body, uploaded by a client, is in the bucket with
    the size and checksum the record states; Conflict (nothing written) if it is missing or
    differs. Writing it twice (a retried request) is one record."""
    stored = blobs.describe(document.s3_key)
    if stored is None:
        raise Conflict(
            "The file has not been uploaded yet: send it to the upload URL first, then complete "
            "the upload."
        )
    if (stored.size, stored.checksum) != (document.size, document.checksum):
        raise Conflict(
            f"The uploaded file ({stored.size} bytes) does not match the size ({document.size} "
            "bytes) or checksum given when the document was created; upload it again."
        )
    return store_document_record(repository, document)
