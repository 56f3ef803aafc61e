"""The detail pane's edits as operations: a rename and retag from the version the user saw (a lost
race comes back as :class:`EditConflict` with the document as it is now), and a reload."""

from __future__ import annotations

from ..core.errors import Conflict, DmsError
from ..core.models import Document
from .operations import OperationContext, OperationFunction


class EditConflict(Conflict):
    """A save lost the race: ``latest`` is the document as it is now (if it could be read),
    ``saved`` the document after the part of the edit that did get saved (the rename), if any."""

    def __init__(
        self, message: str, *, latest: Document | None, saved: Document | None = None
    ) -> None:
        super().__init__(message)
        self.latest = latest
        self.saved = saved


def save_edits_operation(
    document: Document, filename: str | None, tags: tuple[str, ...] | None
) -> OperationFunction[Document]:
    """An operation that renames and/or retags ``document`` from the version the user saw.

    Both changes run in one operation, the retag with the version the rename produced. A
    Conflict comes back as :class:`EditConflict` carrying the current document.
    """
    document_id = document.document_id

    def save_edits(ctx: OperationContext) -> Document:
        service = ctx.service
        current = document
        try:
            if filename is not None:
                current = service.rename(document_id, filename, expected_version=current.version)
            if tags is not None:
                current = service.retag(document_id, replace=tags, expected_version=current.version)
        except Conflict as conflict:
            try:
                latest: Document | None = service.get(document_id)
            except DmsError:
                latest = None
            saved = current if current is not document else None
            raise EditConflict(conflict.message, latest=latest, saved=saved) from conflict
        return current

    return save_edits


def reload_operation(document_id: str) -> OperationFunction[Document]:
    """An operation that reads the document's current metadata."""

    def reload_document(ctx: OperationContext) -> Document:
        return ctx.service.get(document_id)

    return reload_document
