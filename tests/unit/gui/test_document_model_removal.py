"""Removing rows from the document list (after a delete): adjacent rows go in one step."""

from __future__ import annotations

from dataclasses import dataclass

from pytestqt.qtbot import QtBot

from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.core.models import Document
from dms_desktop.gui.document_model import DocumentTableModel
from tests.support.documents import numbered_document
from tests.support.immediate_operations import ImmediateOperations


@dataclass
class _OnePage:
    documents: list[Document]

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        return Page(self.documents, None)


def test_deleting_many_adjacent_rows_removes_them_in_one_step(qtbot: QtBot) -> None:
    documents = [numbered_document(number) for number in range(10)]
    model = DocumentTableModel(ImmediateOperations(_OnePage(documents)))  # type: ignore[arg-type]
    model.reload()
    assert model.rowCount() == 10
    removals: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removals.append((first, last)))

    gone = [documents[n].document_id for n in (1, 2, 3, 4, 7)]
    model.remove_documents(gone)

    assert [doc.filename for doc in model.documents()] == [
        "file 0.txt",
        "file 5.txt",
        "file 6.txt",
        "file 8.txt",
        "file 9.txt",
    ]
    # One removal per run of adjacent rows (the view and the selection react once per run),
    # the later run first so the earlier row numbers stay valid.
    assert removals == [(7, 7), (1, 4)]
