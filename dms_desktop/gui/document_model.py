"""The document list's table model: pages load lazily on the fast lane as the user scrolls.

As in Qt's ``threadedfetchmore`` example: ``canFetchMore`` is false while a page is in flight;
``fetchMore`` only starts an operation; the reply inserts the rows. Sorting and filtering change
the backend query (each sort order is one Query on an index), never sort loaded rows. Uploads,
edits and deletes reach the rows through the window's "documents changed" signal
(:meth:`apply_changes`), without a reload.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QGuiApplication, QIcon, QPalette

from ..core.changes import DocumentChanges
from ..core.errors import DmsError, IntegrityError
from ..core.formatting import describe_type, human_size, human_time
from ..core.listing import ListQuery, Page, damaged_message, matches, sort_value
from ..core.models import Document
from ..core.rows import DocumentRow
from ..core.schema import SortField
from .operations import OperationContext, Operations
from .session import keep_first_page
from .translations import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)

DOCUMENT_ROLE = Qt.ItemDataRole.UserRole + 1
# The roles data() answers, as plain ints. A view asks for seven roles per cell on each paint;
# most get None, at once, without reading Qt's enums (each read is a slow attribute lookup).
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOL_TIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_DOCUMENT = int(DOCUMENT_ROLE)
_ROLES_ANSWERED = frozenset((_DISPLAY, _DECORATION, _TOOL_TIP, _ALIGNMENT, _DOCUMENT))
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
COLUMNS = (
    QT_TRANSLATE_NOOP("DocumentTableModel", "Name"),
    QT_TRANSLATE_NOOP("DocumentTableModel", "Type"),
    QT_TRANSLATE_NOOP("DocumentTableModel", "Size"),
    QT_TRANSLATE_NOOP("DocumentTableModel", "Tags"),
    QT_TRANSLATE_NOOP("DocumentTableModel", "Created"),
    QT_TRANSLATE_NOOP("DocumentTableModel", "Updated"),
)
COLUMN_SORTS: dict[int, SortField] = {
    0: SortField.NAME,
    1: SortField.TYPE,
    2: SortField.SIZE,
    4: SortField.CREATED,
    5: SortField.UPDATED,
}
SORT_COLUMNS = {sort: column for column, sort in COLUMN_SORTS.items()}
DEFAULT_PAGE_SIZE = 100

AnyIndex = QModelIndex | QPersistentModelIndex


class DocumentTableModel(QAbstractTableModel):
    """The signed-in user's documents for the current query, loaded page by page."""

    loading_changed = Signal(bool)
    status_changed = Signal()
    load_failed = Signal(object)  # DmsError
    rows_left_out = Signal(object)  # IntegrityError: damaged documents a page could not show

    def __init__(
        self,
        operations: Operations,
        icon_for: Callable[[str], QIcon] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._operations = operations
        self._icon_for = icon_for
        self._query = ListQuery(page_size=page_size)
        # Compact rows, not Documents (100,000 Documents took 1.4 KB each); the Document is
        # rebuilt when asked for.
        self._rows: list[DocumentRow] = []
        # The ids in ``_rows``, kept with them: a page skips ids already shown without a pass
        # over every loaded row (that made each page cost more as the list grew).
        self._loaded_ids: set[str] = set()
        # One tuple for each set of tags the rows carry: many documents carry the same tags.
        self._tag_sets: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._cursor: str | None = None
        self._has_more = False
        self._fetching = False
        self._generation = 0
        self._active = False
        self._snapshot_taken_at: datetime | None = None  # the rows are a list snapshot's

    # --- state ---

    @property
    def query(self) -> ListQuery:
        return self._query

    @property
    def has_more(self) -> bool:
        return self._has_more

    @property
    def is_loading(self) -> bool:
        return self._fetching

    @property
    def showing_snapshot(self) -> bool:
        """The rows are a list snapshot (core.list_snapshot), not yet the live first page."""
        return self._snapshot_taken_at is not None

    def status_text(self) -> str:
        count = len(self._rows)
        if self._fetching and not count:
            return self.tr("Loading documents…")
        if self._snapshot_taken_at is not None:
            return self.tr("%n document(s) as of {time}, not yet updated", "", count).format(
                time=human_time(self._snapshot_taken_at)
            )
        if self._has_more:
            return self.tr("%n document(s) loaded, more available", "", count)
        if not count and self._active and self._query.is_filtered:
            return self.tr("No documents match the filter")
        return self.tr("%n document(s)", "", count)

    def document_at(self, row: int) -> Document:
        return self._rows[row].document()

    def row_at(self, row: int) -> DocumentRow:
        """The row itself, for what needs only its fields (no ``Document`` is made)."""
        return self._rows[row]

    def documents(self) -> list[Document]:
        return [row.document() for row in self._rows]

    def row_of(self, document_id: str) -> int | None:
        if document_id not in self._loaded_ids:
            return None
        for number, row in enumerate(self._rows):
            if row.document_id == document_id:
                return number
        return None

    # --- loading ---

    def set_query(self, query: ListQuery) -> None:
        """Show ``query``'s listing from its first page (the loaded rows are dropped)."""
        self._query = query
        self.reload()

    def update_query(self, **changes: Any) -> None:
        query = replace(self._query, **changes)
        if query != self._query:
            self.set_query(query)

    def reload(self) -> None:
        """Start the listing again from the first page (F5)."""
        self._reset(active=True)
        self._request_page()

    def refresh(self) -> None:
        """Load the first page again, keeping the loaded rows until it arrives (F5): if the
        backend cannot be reached, what was loaded stays on screen."""
        if not self._active:
            self.reload()
            return
        self._generation += 1  # replies to earlier requests are ignored from now on
        self._request_page(replace=True)

    def clear(self) -> None:
        """Forget everything (sign-out); nothing loads until the next ``reload``."""
        self._reset(active=False)

    def show_snapshot(self, documents: list[Document], taken_at: datetime) -> None:
        """Show the rows of a list snapshot until ``refresh`` replaces them with the live page."""
        self._reset(active=True)
        self._append_page(Page(documents, cursor=None))
        self._snapshot_taken_at = taken_at
        self.status_changed.emit()

    def _reset(self, *, active: bool) -> None:
        self._active = active
        self._generation += 1  # replies to earlier requests are ignored from now on
        self._cursor = None
        self._has_more = False
        self._drop_rows()
        self._set_fetching(False)

    def _drop_rows(self) -> None:
        """No rows any more (nor the snapshot they may have come from)."""
        self._snapshot_taken_at = None
        self.beginResetModel()
        self._rows = []
        self._loaded_ids = set()
        self._tag_sets = {}
        self.endResetModel()

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self._has_more and not self._fetching

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008, N802
        if self.canFetchMore(parent):
            self._request_page()

    def _request_page(self, *, replace: bool = False) -> None:
        """Ask for the next page, or with ``replace`` for the first page to replace the rows."""
        generation = self._generation
        query, cursor = self._query, None if replace else self._cursor
        self._set_fetching(True)

        def load_page(ctx: OperationContext) -> Page:
            page = ctx.service.list_page(query, cursor)
            if cursor is None and query == ListQuery(page_size=query.page_size):
                keep_first_page(ctx, page.documents)  # the start-up listing, for next time
            return page

        def on_page(page: Page) -> None:
            if generation != self._generation:
                return
            if replace:
                self._drop_rows()
            self._append_page(page)

        def on_failure(error: DmsError) -> None:
            if generation == self._generation:
                self._set_fetching(False)
                self.load_failed.emit(error)

        self._operations.fast(load_page, on_page).failure(on_failure).run()

    def _append_page(self, page: Page) -> None:
        fresh: dict[str, DocumentRow] = {}  # a page repeating an id shows it once
        for document in page.documents:
            if document.document_id not in self._loaded_ids and document.document_id not in fresh:
                fresh[document.document_id] = self._row(document)
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh.values())
            self._loaded_ids.update(fresh)
            self.endInsertRows()
        self._cursor = page.cursor
        self._has_more = page.cursor is not None
        self._set_fetching(False)
        if page.damaged:
            self.rows_left_out.emit(IntegrityError(damaged_message(page.damaged)))

    def _row(self, document: Document) -> DocumentRow:
        """The compact row of ``document``, sharing its tuple of tags with the rows like it."""
        tags = self._tag_sets.setdefault(document.tags, document.tags)
        return DocumentRow.of(document, tags=tags)

    def _set_fetching(self, fetching: bool) -> None:
        changed = fetching != self._fetching
        self._fetching = fetching
        if changed:
            self.loading_changed.emit(fetching)
        self.status_changed.emit()

    # --- local changes (no full reload) ---

    def apply_changes(self, changes: DocumentChanges) -> None:
        """Follow the window's "documents changed" signal: show added documents where the
        listing would have them, edited ones in their rows, and drop removed ones."""
        if changes.removed:
            self.remove_documents(changes.removed_ids)
        if changes.updated:
            self.replace_documents([update.after for update in changes.updated])
        for document in changes.added:
            self.add_document(document)

    def add_document(self, document: Document) -> None:
        """Show a newly stored document where the current listing would have it."""
        if not self._active or not matches(document, self._query):
            return
        if self.row_of(document.document_id) is not None:
            self.replace_document(document)
            return
        position = self._position_for(document)
        if position == len(self._rows) and self._has_more:
            return  # it belongs to a page not loaded yet; it comes with that page
        self.beginInsertRows(QModelIndex(), position, position)
        self._rows.insert(position, self._row(document))
        self._loaded_ids.add(document.document_id)
        self.endInsertRows()
        self.status_changed.emit()

    def _position_for(self, document: Document) -> int:
        sort = self._query.sort
        keys = [sort_value(row, sort) for row in self._rows]
        value = sort_value(document, sort)
        if self._query.descending:
            negated = [_Descending(key) for key in keys]
            return bisect.bisect_left(negated, _Descending(value))
        return bisect.bisect_right(keys, value)

    def replace_document(self, document: Document) -> None:
        """Show an edited document (renamed, retagged) in its row, or drop it if it no longer
        matches the filter."""
        self.replace_documents([document])

    def replace_documents(self, documents: Sequence[Document]) -> None:
        """Show edited documents in their rows, or drop those that no longer match the filter:
        one pass over the rows and one ``dataChanged`` per run of adjacent rows (row by row, a
        tag added to 1,000 selected documents searched the rows 1,000 times)."""
        edited = {d.document_id: d for d in documents if d.document_id in self._loaded_ids}
        if not edited:
            return
        changed: list[int] = []
        unmatched: list[str] = []
        for number, row in enumerate(self._rows):
            document = edited.get(row.document_id)
            if document is None:
                continue
            if matches(document, self._query):
                self._rows[number] = self._row(document)
                changed.append(number)
            else:
                unmatched.append(document.document_id)
        last_column = len(COLUMNS) - 1
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
        if unmatched:
            self.remove_documents(unmatched)

    def remove_documents(self, document_ids: Iterable[str]) -> None:
        """Drop the rows of ``document_ids``. Each run of adjacent rows goes in one removal: the
        view and the selection then react once per run, not once per row (deleting 1,000
        selected rows one by one stalled the window for seconds)."""
        wanted = set(document_ids) & self._loaded_ids
        rows = [number for number, row in enumerate(self._rows) if row.document_id in wanted]
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        self._loaded_ids -= wanted
        self.status_changed.emit()

    # --- Qt model interface ---

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section])
        if role == Qt.ItemDataRole.ToolTipRole:
            if section in COLUMN_SORTS:
                return self.tr("Sort by {column}").format(column=self.tr(COLUMNS[section]).lower())
            return self.tr("Not sortable: click a tag in the Tags panel to show its documents")
        if role == Qt.ItemDataRole.ForegroundRole and section not in COLUMN_SORTS:
            # Greyed like a disabled control: this header does not sort.
            palette = QGuiApplication.palette()
            return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES_ANSWERED:
            return None
        number = index.row()
        if not 0 <= number < len(self._rows) or not index.isValid():
            return None
        row = self._rows[number]
        column = index.column()
        if role == _DISPLAY:
            return _display(row, column)
        if role == _DECORATION:
            return self._icon_for(row.file_type) if column == 0 and self._icon_for else None
        if role == _TOOL_TIP:
            name = row.filename
            if row.folder:
                name = self.tr("{name} in {folder}").format(name=row.filename, folder=row.folder)
            return f"{name}\n{row.file_type}, {human_size(row.size)}"
        if role == _ALIGNMENT:
            return _RIGHT_ALIGNED if column == 2 else None
        return row.document()  # _DOCUMENT

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        field = COLUMN_SORTS.get(column)
        if field is None:
            return
        self.update_query(sort=field, descending=order == Qt.SortOrder.DescendingOrder)


def _display(row: DocumentRow, column: int) -> str:
    if column == 0:
        return row.filename
    if column == 1:
        return describe_type(row.file_type)
    if column == 2:
        return human_size(row.size)
    if column == 3:
        return ", ".join(row.tags)
    if column == 4:
        return human_time(row.created_at)
    return human_time(row.updated_at)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Ascending row numbers as (first, last) runs of adjacent rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class _Descending:
    """Reverses the order of a sort value, for bisecting a descending list."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return bool(other.value < self.value)
