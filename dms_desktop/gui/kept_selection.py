"""The documents selected when the list reloads (a sort, F5): selected again as their rows come
back, since a reload drops every row first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Slot
from PySide6.QtWidgets import QTableView

from ..core.changes import TaggedDocument
from .document_model import DocumentTableModel


class KeptSelection(QObject):
    """Remembers the selected documents before a reload and selects them again as they arrive."""

    def __init__(
        self,
        table: QTableView,
        model: DocumentTableModel,
        selected_documents: Callable[[], Sequence[TaggedDocument]],
    ) -> None:
        super().__init__(table)
        self._table = table
        self._model = model
        self._selected_documents = selected_documents
        self._wanted: list[str] = []  # document ids not back yet
        self.restoring = False  # the selection changing now is this object's doing
        model.rowsInserted.connect(self._restore)

    @property
    def pending(self) -> bool:
        """Some remembered documents are not back yet."""
        return bool(self._wanted)

    def keep(self) -> None:
        """Remember the selected documents before the list reloads; the detail pane keeps
        showing them meanwhile."""
        self._wanted = [document.document_id for document in self._selected_documents()]

    def forget(self) -> None:
        """Another list (a tag, a filter), or the user chose something else meanwhile."""
        self._wanted = []

    @Slot()
    def _restore(self) -> None:
        """Rows arrived: select the remembered documents that are among them (the first one
        scrolled into view); the rest may come with later pages."""
        if not self._wanted:
            return
        rows = [row for row in map(self._model.row_of, self._wanted) if row is not None]
        if not rows:
            return
        found = {self._model.document_at(row).document_id for row in rows}
        self._wanted = [doc_id for doc_id in self._wanted if doc_id not in found]
        selection = QItemSelection()
        for row in rows:
            selection.select(self._model.index(row, 0), self._model.index(row, 0))
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        self.restoring = True
        try:
            self._table.selectionModel().select(selection, flags)
        finally:
            self.restoring = False
        self._table.scrollTo(self._model.index(min(rows), 0))
