"""A listed document kept small: the window's table holds up to 100,000 of them.

A pydantic ``Document`` takes about 1.2 KB: its ``__dict__`` alone is 464 bytes. A
:class:`DocumentRow` keeps the same values in a named tuple (made 3x faster than a frozen slotted
dataclass; the S3 key is not kept, it follows from the user and document ids), and gives the
``Document`` back when asked (without validating again: its values came from a validated
``Document``).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from .models import Document
from .schema import object_key


class DocumentRow(NamedTuple):
    """A document's metadata as a list shows, sorts and filters it, and all it takes to rebuild
    the ``Document`` (:meth:`document`)."""

    document_id: str
    filename: str
    file_type: str
    size: int
    tags: tuple[str, ...]
    folder: str
    created_at: datetime
    updated_at: datetime
    user_id: str
    checksum: str
    version: int
    expires_at: int | None
    # The fields the stored item gave (pydantic's "fields set"), shared by the documents read
    # from the table: the rebuilt document has the same.
    given_fields: set[str]

    @classmethod
    def of(cls, document: Document, tags: tuple[str, ...] | None = None) -> DocumentRow:
        """The row of ``document``; ``tags``: an equal tuple to keep instead of its own (many
        documents carry the same tags)."""
        return cls(
            document_id=document.document_id,
            filename=document.filename,
            file_type=document.file_type,
            size=document.size,
            tags=document.tags if tags is None else tags,
            folder=document.folder,
            created_at=document.created_at,
            updated_at=document.updated_at,
            user_id=document.user_id,
            checksum=document.checksum,
            version=document.version,
            expires_at=document.expires_at,
            given_fields=document.model_fields_set,
        )

    @property
    def s3_key(self) -> str:
        return object_key(self.user_id, self.document_id)

    def document(self) -> Document:
        """The ``Document`` this row was made of (an equal one)."""
        # By the data model's names (the fields' aliases): pydantic's quickest path (~30% faster).
        return Document.model_construct(
            _fields_set=self.given_fields,
            userId=self.user_id,
            documentId=self.document_id,
            filename=self.filename,
            fileType=self.file_type,
            size=self.size,
            tags=self.tags,
            folder=self.folder,
            createdAt=self.created_at,
            updatedAt=self.updated_at,
            checksum=self.checksum,
            version=self.version,
            expiresAt=self.expires_at,
            # Rows are listed documents, never in the trash. Given, not defaulted: pydantic
            # resolving the defaults was half the cost of making the Document.
            trashedAt=None,
            purgeAt=None,
        )
