"""The document list's table view (whole rows selected, columns wide enough for what they usually
hold, a header that does not walk the selected rows when it paints) and its filter by file type."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QItemSelectionModel
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableView

from .document_model import DocumentTableModel
from .translations import QT_TRANSLATE_NOOP

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
