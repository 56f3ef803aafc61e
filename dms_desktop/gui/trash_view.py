"""The Trash: the documents deleted without "permanently", with when each was deleted and when
the trash purges it, and Restore, Delete permanently and Empty trash (core.trash).

Shown instead of the document list when the side panel's "Trash" entry is chosen; read again
each time it is shown. Restored documents are published as "documents changed" (added), so the
list and the tag counts take them back without a reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.bulk_delete import DeleteReport, DeleteStatus
from ..core.change_report import ChangeReport
from ..core.changes import DocumentChanges
from ..core.errors import DmsError
from ..core.formatting import human_size, human_time, printable
from ..core.models import Document
from .document_events import DocumentEvents
from .operations import Lane, OperationContext, Operations
from .translations import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)

COLUMNS = (
    QT_TRANSLATE_NOOP("TrashView", "Name"),
    QT_TRANSLATE_NOOP("TrashView", "Size"),
    QT_TRANSLATE_NOOP("TrashView", "Deleted"),
    QT_TRANSLATE_NOOP("TrashView", "Purged on"),
)
TRASH_PAGE = 500
MAX_NAMES_IN_CONFIRMATION = 10
LONG_CHANGE_ABOVE = 25  # more documents than this run on the long lane


def read_trash(ctx: OperationContext) -> list[Document]:
    """Every document in the trash, the most recently deleted first."""
    documents: list[Document] = []
    cursor: str | None = None
    while True:
        page = ctx.service.trash_page(cursor, TRASH_PAGE)
        documents += page.documents
        cursor = page.cursor
        if cursor is None:
            return documents


def restore_operation(document_ids: list[str]) -> Callable[[OperationContext], ChangeReport]:
    def restore(ctx: OperationContext) -> ChangeReport:
        return ctx.service.restore_many(
            document_ids, cancel=ctx.cancel, progress=ctx.report_progress
        )

    return restore


def trash_operation(document_ids: list[str]) -> Callable[[OperationContext], ChangeReport]:
    def move_to_trash(ctx: OperationContext) -> ChangeReport:
        return ctx.service.trash_many(document_ids, cancel=ctx.cancel, progress=ctx.report_progress)

    return move_to_trash


def change_problems(report: ChangeReport, headline: Callable[[int], str]) -> DmsError | None:
    """One error listing the documents a change left as they were (None: it changed all);
    ``headline`` gives its first line for the number of them, translated (e.g. "2 documents
    could not be restored.")."""
    problems = report.problems
    if not problems:
        return None
    details = "\n".join(
        f"{printable(result.filename) or result.document_id}: {result.message}"
        for result in problems
    )
    return DmsError(f"{headline(len(problems))}\n{details}")


class TrashView(QWidget):
    """The trash's list and its actions."""

    loaded = Signal()  # the list shows what the trash held when it was read
    changed = Signal()  # a restore, delete or emptying finished (the list shows its outcome)

    def __init__(
        self,
        operations: Operations,
        events: DocumentEvents,
        report_error: Callable[[DmsError], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("trashView")
        self._operations = operations
        self._events = events
        self._report_error = report_error
        self._documents: dict[str, Document] = {}  # by id, in the order of the rows
        self._generation = 0  # a reply to an earlier read is dropped

        self.title = QLabel(self.tr("Trash"))
        self.title.setObjectName("trashTitle")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("trashTable")
        self.table.setHorizontalHeaderLabels([self.tr(column) for column in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)  # a date on one line; the name is elided, not wrapped
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):  # size and dates: as wide as their text
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.restore_button = QPushButton(self.tr("Restore"))
        self.restore_button.setObjectName("trashRestoreButton")
        self.restore_button.clicked.connect(self.restore_selected)
        self.delete_button = QPushButton(self.tr("Delete permanently…"))
        self.delete_button.setObjectName("trashDeleteButton")
        self.delete_button.clicked.connect(self.delete_selected)
        self.empty_button = QPushButton(self.tr("Empty trash…"))
        self.empty_button.setObjectName("trashEmptyButton")
        self.empty_button.clicked.connect(self.empty)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.empty_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # --- reading ---

    def reload(self) -> None:
        """Read the whole trash again (fast lane)."""
        self._generation += 1
        generation = self._generation
        self._operations.fast(read_trash, lambda docs: self._on_read(generation, docs)).run()

    def _on_read(self, generation: int, documents: list[Document]) -> None:
        if generation != self._generation:
            return
        self._show(documents)
        self.loaded.emit()

    def clear(self) -> None:
        """Forget the list (sign-out); a read in flight is dropped."""
        self._generation += 1
        self._show([])

    def documents(self) -> list[Document]:
        """The documents listed, in their order."""
        return list(self._documents.values())

    def _show(self, documents: list[Document]) -> None:
        self._documents = {document.document_id: document for document in documents}
        self.table.setRowCount(0)
        self.table.setRowCount(len(documents))
        for row, document in enumerate(documents):
            cells = (
                printable(document.filename),
                human_size(document.size),
                human_time(document.trashed_at) if document.trashed_at else "",
                human_time(document.purges) if document.purges else "",
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.title.setText(
            self.tr("Trash: %n document(s)", "", len(documents))
            if documents
            else self.tr("Trash: empty (deleted documents wait here until they are purged)")
        )
        self._update_buttons()

    def _remove(self, document_ids: list[str]) -> None:
        gone = set(document_ids)
        self._show([doc for doc in self.documents() if doc.document_id not in gone])

    # --- acting ---

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        listed = list(self._documents)
        return [listed[row] for row in rows]

    @Slot()
    def _update_buttons(self) -> None:
        selected = bool(self.table.selectionModel().selectedRows())
        self.restore_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
        self.empty_button.setEnabled(self.table.rowCount() > 0)

    @Slot()
    def restore_selected(self) -> None:
        document_ids = self.selected_ids()
        if document_ids:
            lane = Lane.LONG if len(document_ids) > LONG_CHANGE_ABOVE else Lane.FAST
            self._operations.on(lane, restore_operation(document_ids), self._on_restored).run()

    def _on_restored(self, report: ChangeReport) -> None:
        self._events.publish(DocumentChanges.of_added(report.changed_documents))
        self._remove([result.document_id for result in report.done])
        error = change_problems(
            report, lambda n: self.tr("%n document(s) could not be restored.", "", n)
        )
        if error is not None:
            self._report_error(error)
        self.changed.emit()

    @Slot()
    def delete_selected(self) -> None:
        document_ids = self.selected_ids()
        if not document_ids or not self._confirm(document_ids):
            return
        lane = Lane.LONG if len(document_ids) > LONG_CHANGE_ABOVE else Lane.FAST

        def delete(ctx: OperationContext) -> DeleteReport:
            return ctx.service.delete_many(
                document_ids, cancel=ctx.cancel, progress=ctx.report_progress
            )

        self._operations.on(lane, delete, self._on_deleted).run()

    @Slot()
    def empty(self) -> None:
        if not self.table.rowCount() or not self._confirm(None):
            return

        def empty_trash(ctx: OperationContext) -> DeleteReport:
            return ctx.service.empty_trash(cancel=ctx.cancel, progress=ctx.report_progress)

        self._operations.long(empty_trash, self._on_deleted).run()

    def _on_deleted(self, report: DeleteReport) -> None:
        gone = report.ids(DeleteStatus.DELETED) + report.ids(DeleteStatus.NOT_FOUND)
        self._remove(gone)
        problems = [
            result for result in report.problems if result.status is not DeleteStatus.NOT_FOUND
        ]
        if problems:
            details = "\n".join(f"{result.filename}: {result.message}" for result in problems)
            self._report_error(
                DmsError(
                    self.tr("%n document(s) could not be deleted.", "", len(problems))
                    + f"\n{details}"
                )
            )
        log.info("deleted %d documents from the trash for good", len(report.deleted))
        self.changed.emit()

    def _confirm(self, document_ids: list[str] | None) -> bool:
        """Ask before deleting for good: the selected documents, or (None) the whole trash."""
        if document_ids is None:
            question = self.tr(
                "Delete all %n document(s) in the trash for good? This cannot be undone.",
                "",
                self.table.rowCount(),
            )
        else:
            names = "\n".join(
                f"• {printable(self._documents[i].filename)}"
                for i in document_ids[:MAX_NAMES_IN_CONFIRMATION]
            )
            more = len(document_ids) - MAX_NAMES_IN_CONFIRMATION
            if more > 0:
                names += "\n" + self.tr("…and %n more", "", more)
            question = self.tr(
                "Delete %n document(s) for good? This cannot be undone.", "", len(document_ids)
            )
            question += f"\n\n{names}"
        answer = QMessageBox.warning(
            self,
            self.tr("Delete permanently?"),
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes
