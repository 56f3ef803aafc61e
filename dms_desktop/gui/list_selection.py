"""What the window's actions act on: the list's selected rows, or the selected search results
while a search shows them."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QTableView

from ..core.changes import TaggedDocument
from ..core.models import Document
from .document_model import DocumentTableModel
from .search_view import SearchArea, SearchResultsView


class ListSelection:
    """The selected documents, as whole ``Document``s or only as ids and tags (cheaper)."""

    def __init__(
        self,
        table: QTableView,
        model: DocumentTableModel,
        search_area: SearchArea,
        search_results: SearchResultsView,
    ) -> None:
        self._table = table
        self._model = model
        self._search_area = search_area
        self._search_results = search_results

    def documents(self) -> list[Document]:
        if self._search_area.searching:
            return self._search_results.selected_documents()
        return [self._model.document_at(row) for row in self.rows()]

    def tagged(self) -> Sequence[TaggedDocument]:
        """The selected documents' ids and tags: the list's rows as they are (the model makes a
        Document of a row each time it is asked, which for 1,000 selected rows took longer
        than a frame)."""
        if self._search_area.searching:
            return self._search_results.selected_documents()
        return [self._model.row_at(row) for row in self.rows()]

    def rows(self) -> list[int]:
        """The list's selected rows, in order (not the search results')."""
        # From the selection's ranges (whole rows: the table selects rows). selectedRows() asks
        # the model for its row and column counts, in Python, for each selected row: with 1,000
        # rows selected each call took ~50 ms, and a selection and a delete made three.
        count = self._model.rowCount()
        selection = self._table.selectionModel().selection()
        spans = (selection.at(number) for number in range(selection.count()))
        rows = {row for span in spans for row in range(span.top(), span.bottom() + 1)}
        return sorted(row for row in rows if row < count)
