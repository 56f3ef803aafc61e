"""What a document list asks for and what it gets: the query, a page, and the rules a listed
document follows (its filters and its place in the sort order).

Pure data and rules, without any AWS library: the window imports them to show and place rows
without loading boto3 (see core.repository for the DynamoDB side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError
from .formatting import plural
from .models import Document, format_timestamp, tag_key
from .rows import DocumentRow
from .schema import SortField

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class ListQuery:
    """What to list: the sort order and optional filters (combined with AND)."""

    sort: SortField = SortField.CREATED
    descending: bool = True
    tag: str | None = None
    text: str | None = None  # case-insensitive substring of the filename
    file_type: str | None = None  # exact MIME type, or a family such as "image/*"
    page_size: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationError(f"The page size must be between 1 and {MAX_PAGE_SIZE}.")

    @property
    def is_filtered(self) -> bool:
        return bool(self.tag or self.text or self.file_type)


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    cursor: str | None  # None: the listing is complete
    requests: int = field(default=0, compare=False)  # DynamoDB requests it took (for benchmarks)
    damaged: tuple[str, ...] = ()  # ids of items left out: their metadata breaks the data model

    @property
    def has_more(self) -> bool:
        return self.cursor is not None


def damaged_message(document_ids: Sequence[str]) -> str:
    """What to tell the user about documents left out of a list because they are damaged."""
    shown = ", ".join(document_ids[:3]) + (", ..." if len(document_ids) > 3 else "")
    return (
        f"{plural(len(document_ids), 'document')} could not be listed because "
        f"{'its' if len(document_ids) == 1 else 'their'} stored details are damaged ({shown}); "
        "an administrator sees what is wrong in the consistency check, and you can still "
        f"delete {'it' if len(document_ids) == 1 else 'them'} by id (`dms delete ID`)."
    )


def sort_value(document: Document | DocumentRow, sort: SortField) -> Any:
    """The value DynamoDB orders ``document`` by for ``sort`` (to place a new row locally)."""
    if sort is SortField.NAME:
        return tag_key(document.filename)
    if sort is SortField.SIZE:
        return document.size
    if sort is SortField.TYPE:
        return f"{document.file_type}\x00{tag_key(document.filename)}"
    if sort is SortField.UPDATED:
        return format_timestamp(document.updated_at)
    return document.document_id


def matches(document: Document, query: ListQuery) -> bool:
    """Whether ``document`` belongs in the listing of ``query`` (the same test as the filters;
    the trash is never listed)."""
    if document.in_trash:
        return False
    if query.tag and not document.has_tag(query.tag):
        return False
    if query.text and tag_key(query.text) not in tag_key(document.filename):
        return False
    if query.file_type:
        wanted = query.file_type.strip().lower()
        if wanted.endswith("/*"):
            return document.file_type.startswith(wanted[:-1])
        return document.file_type == wanted
    return True
