"""Finding a document by what a person types: its id, or its whole name."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from .errors import AmbiguousName, NotFound, ValidationError
from .formatting import human_size, human_time
from .ids import is_document_id
from .models import Document, tag_key
from .repository import DocumentRepository

TRASH_PAGE = 200


def find_document(repository: DocumentRepository, user_id: str, reference: str) -> Document:
    """The document ``reference`` names: its id, or its whole name when only one document has
    it. A name is matched exactly first, then ignoring case; the trash is not searched by name.
    NotFound if none has it, AmbiguousName (listing their ids) if several do."""
    text = reference.strip()
    if is_document_id(text):
        return repository.get(user_id, text)
    name = _name(reference)
    return _one_of(repository.find_by_name(user_id, name), name, "")


def find_in_trash(repository: DocumentRepository, user_id: str, reference: str) -> Document:
    """The document in the trash ``reference`` names (its id, or its whole name, as
    :func:`find_document`); NotFound if it is not in the trash."""
    text = reference.strip()
    if is_document_id(text):
        document = repository.get(user_id, text)
        if not document.in_trash:
            raise NotFound(f"{document.filename!r} ({text}) is not in the trash.")
        return document
    name = _name(reference)
    wanted = tag_key(name)
    return _one_of(
        [doc for doc in _whole_trash(repository, user_id) if tag_key(doc.filename) == wanted],
        name,
        " in the trash",
    )


def _whole_trash(repository: DocumentRepository, user_id: str) -> Iterable[Document]:
    cursor: str | None = None
    while True:
        page = repository.trash_page(user_id, TRASH_PAGE, cursor)
        yield from page.documents
        if page.cursor is None:
            return
        cursor = page.cursor


def _name(reference: str) -> str:
    name = unicodedata.normalize("NFC", reference)
    if not name.strip():
        raise ValidationError("Name a document by its id or its name; this is empty.")
    return name


def _one_of(candidates: list[Document], name: str, where: str) -> Document:
    exact = [document for document in candidates if document.filename == name]
    matches = exact or candidates
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(
            f"There is no document named {name!r}{where} (a name is matched whole, ignoring case)."
        )
    listed = "; ".join(
        f"{document.document_id} ({_place(document)}, {human_size(document.size)}, "
        f"{human_time(document.created_at)})"
        for document in matches
    )
    raise AmbiguousName(
        f"{len(matches)} documents are named {name!r}{where}: {listed}. Name one by its id.",
        tuple(document.document_id for document in matches),
    )


def _place(document: Document) -> str:
    return f"in {document.folder}" if document.folder else "no folder"
