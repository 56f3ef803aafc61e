"""The document list's table view (whole rows selected, columns wide enough for what they usually
hold, a header that does not walk the selected rows when it paints, sorting by a click on a
column's header) and its filter by file type."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QItemSelectionModel, QObject, Qt, Slot
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableView

from .document_model import COLUMN_SORTS, SORT_COLUMNS, DocumentTableModel
from .translations import QT_TRANSLATE_NOOP

TAGS_NOT_SORTABLE = QT_TRANSLATE_NOOP(
    "MainWindow",
    "The list cannot be sorted by tags: click a tag in the Tags panel to show its documents.",
)

TYPE_FILTERS: list[tuple[str, str | None]] = [
    (QT_TRANSLATE_NOOP("MainWindow", "All types"), None),
    (QT_TRANSLATE_NOOP("MainWindow", "PDF"), "application/pdf"),
    (QT_TRANSLATE_NOOP("MainWindow", "Images"), "image/*"),
    (QT_TRANSLATE_NOOP("MainWindow", "Text"), "text/*"),
    (QT_TRANSLATE_NOOP("MainWindow", "Markdown"), "text/markdown"),
    (QT_TRANSLATE_NOOP("MainWindow", "Spreadsheets (CSV)"), "text/csv"),
    (QT_TRANSLATE_NOOP("MainWindow", "JSON"), "application/json"),
]
CELL_PADDING = 10  # pixels either side of a cell's text (the style's margin, with room)
# Wide enough for what the columns usually hold in this font (the names of the common types,
# sizes, times): "CSV spreadsheet" was elided.
_COLUMN_SAMPLES = {
    1: ["CSV spreadsheet", "PDF document", "Python source", "Markdown"],
    2: ["1023 bytes", "999.9 MB"],
    3: ["meetings, project"],
    4: ["2026-12-31 23:59"],
    5: ["2026-12-31 23:59"],
}


def make_document_table(model: DocumentTableModel) -> QTableView:
    table = QTableView()
    table.setObjectName("documentTable")
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    metrics = table.fontMetrics()
    for column, texts in _COLUMN_SAMPLES.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        widest = max(metrics.horizontalAdvance(text) for text in texts)
        table.setColumnWidth(column, widest + 2 * CELL_PADDING)
    header.setSortIndicatorShown(True)
    header.setSectionsClickable(True)
    # The header gets a selection of its own, always empty. With the table's, each paint of the
    # header asks the model about every selected row, column by column, to draw whole selected
    # columns (there are none: rows are selected): with 1,000 rows selected, a third of the
    # 60 ms the window froze after the selection.
    header.setSelectionModel(QItemSelectionModel(model, header))
    return table


def make_type_filter() -> QComboBox:
    """The toolbar's "All types" box; each entry's data is the file type it keeps (None: all)."""
    box = QComboBox()
    box.setObjectName("typeFilter")
    for label, value in TYPE_FILTERS:
        box.addItem(QCoreApplication.translate("MainWindow", label), value)
    return box


class HeaderSorting(QObject):
    """A click on a column's header sorts the list by that column (the model reads it again in
    that order; ``before_sorting`` runs first, to keep the selection). The tags column has no
    sort order: a click on it says so through ``notify``, and the header keeps the list's."""

    def __init__(
        self,
        table: QTableView,
        model: DocumentTableModel,
        before_sorting: Callable[[], None],
        notify: Callable[[str], None],
    ) -> None:
        super().__init__(table)
        self._header = table.horizontalHeader()
        self._model = model
        self._before_sorting = before_sorting
        self._notify = notify
        self._show_order()
        self._header.sortIndicatorChanged.connect(self._on_sort_indicator)

    @Slot(int, Qt.SortOrder)
    def _on_sort_indicator(self, column: int, order: Qt.SortOrder) -> None:
        if column not in COLUMN_SORTS:
            self._show_order()
            self._notify(QCoreApplication.translate("MainWindow", TAGS_NOT_SORTABLE))
            return
        self._before_sorting()
        self._model.sort(column, order)

    def _show_order(self) -> None:
        """Show the model's sort order in the header (without sorting again)."""
        query = self._model.query
        order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
        self._header.blockSignals(True)
        self._header.setSortIndicator(SORT_COLUMNS[query.sort], order)
        self._header.blockSignals(False)
