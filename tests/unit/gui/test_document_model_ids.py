"""The document list shows each document once, however its pages, uploads and deletions arrive
(the model keeps the set of shown ids in step with its rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pytestqt.qtbot import QtBot

from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.core.schema import SortField
from dms_desktop.gui.document_model import DocumentTableModel
from tests.support.documents import numbered_document
from tests.support.immediate_operations import ImmediateOperations


@dataclass
class _Pages:
    """``list_page`` answering from ``pages`` (a list of pages of document numbers)."""

    pages: list[list[int]] = field(default_factory=list)

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        index = int(cursor or 0)
        more = index + 1 < len(self.pages)
        return Page(
            [numbered_document(n) for n in self.pages[index]], str(index + 1) if more else None
        )


def _model(pages: _Pages) -> DocumentTableModel:
    model = DocumentTableModel(ImmediateOperations(pages))  # type: ignore[arg-type]
    model.set_query(ListQuery(sort=SortField.NAME, descending=False))
    return model


def _numbers(model: DocumentTableModel) -> list[int]:
    return [document.size for document in model.documents()]


def test_a_document_on_two_pages_is_shown_once(qtbot: QtBot) -> None:
    # A document renamed between two page requests can come back on the next page.
    model = _model(_Pages([[1, 2, 2], [2, 3]]))
    model.fetchMore()
    assert _numbers(model) == [1, 2, 3]


def test_an_uploaded_document_is_not_shown_again_by_its_page(qtbot: QtBot) -> None:
    pages = _Pages([[1, 2], [3, 4]])
    model = _model(pages)
    model.add_document(numbered_document(0))  # uploaded: it sorts before the loaded rows
    pages.pages[1] = [0, 3, 4]  # a later page also lists it
    model.fetchMore()
    assert _numbers(model) == [0, 1, 2, 3, 4]
    assert model.row_of(numbered_document(4).document_id) == 4


def test_a_deleted_document_that_comes_back_is_shown_again(qtbot: QtBot) -> None:
    pages = _Pages([[1, 2], [3, 4]])
    model = _model(pages)
    model.remove_documents([numbered_document(2).document_id])
    assert model.row_of(numbered_document(2).document_id) is None
    pages.pages[1] = [2, 3, 4]  # e.g. it was restored by another client
    model.fetchMore()
    assert _numbers(model) == [1, 2, 3, 4]


def test_after_a_refresh_every_document_of_the_first_page_is_shown(qtbot: QtBot) -> None:
    pages = _Pages([[1, 2], [3, 4]])
    model = _model(pages)
    model.fetchMore()
    model.refresh()
    assert _numbers(model) == [1, 2]
    model.fetchMore()
    assert _numbers(model) == [1, 2, 3, 4]
