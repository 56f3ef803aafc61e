"""The toolbar's search box: it searches when the typing pauses (or on Enter), shows the results in
place of the document list, drops replies to earlier queries, and Down moves on to the results."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

from ..core.errors import DmsError
from .operations import Operations
from .search_view import (
    QueryCompleter,
    SavedSearchesPanel,
    SearchArea,
    SearchResultsView,
    ask_name_and_save,
    report_search_error,
    run_search,
)

if TYPE_CHECKING:
    from ..core.search.service import SearchResults  # loads botocore: not at the window's start

SEARCH_DELAY_MS = 300


class SearchBox(QObject):
    """The search box (``edit``) and what it drives: the results in the search area."""

    query_present = Signal(bool)  # whether there is a query to save
    list_shown = Signal()  # the box was emptied: the document list is back
    results_shown = Signal()  # new results replaced the previous ones
    down_to_list = Signal()  # Down with no query: the list takes the keyboard

    def __init__(
        self,
        operations: Operations,
        area: SearchArea,
        results: SearchResultsView,
        saved: SavedSearchesPanel,
        known_tags: Callable[[], list[str]],
        report_error: Callable[[DmsError], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._operations = operations
        self._area = area
        self._results = results
        self._saved = saved
        self._report_error = report_error
        self._parent = parent
        self._generation = 0  # a reply to an earlier search is dropped
        self.edit = QLineEdit()
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText(self.tr("Search (Ctrl+F): words, tag:, type:, size:…"))
        # The query language's field names stay as they are (core.search.query reads them).
        self.edit.setToolTip(
            self.tr(
                'Words and "phrases" in names and contents; tag:x -tag:x type:pdf '
                "folder:a/b size:>1M created:>=2026-01-01 updated:<7d name:x; OR; ( )"
            )
        )
        self.edit.setClearButtonEnabled(True)
        self.edit.setMaximumWidth(420)
        self.completer = QueryCompleter(self.edit, known_tags)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply)
        self.edit.textChanged.connect(self._schedule)
        self.edit.returnPressed.connect(self.apply)
        self.edit.installEventFilter(self)  # Down moves on to the results
        saved.search_chosen.connect(self.run)
        find = QAction(self.tr("Find"), parent)  # Ctrl+F anywhere in the window
        find.setShortcut(QKeySequence("Ctrl+F"))
        find.triggered.connect(self.focus)
        parent.addAction(find)

    @Slot(str)
    def _schedule(self, _text: str) -> None:
        """Search when the typing pauses (restarts the delay at every key)."""
        self._timer.start()

    @Slot()
    def apply(self) -> None:
        """Empty: the document list; otherwise the results of the query, in its place."""
        self._timer.stop()
        text = self.edit.text().strip()
        self.query_present.emit(bool(text))
        self._generation += 1
        if not text:
            self._area.show_list()
            self.list_shown.emit()
            return
        generation = self._generation
        self._area.show_results()
        search = self._operations.fast(
            lambda ctx: run_search(ctx, text), functools.partial(self._show_results, generation)
        )
        search.failure(functools.partial(self._failed, generation)).run()

    def _show_results(self, generation: int, results: SearchResults) -> None:
        if generation == self._generation:
            self._results.show_results(results)
            self.results_shown.emit()

    def _failed(self, generation: int, error: DmsError) -> None:
        if generation == self._generation:
            report_search_error(self._results, self._report_error, error)

    @Slot(str)
    def run(self, query: str) -> None:
        """Put ``query`` in the search box and search (a saved search, say)."""
        self.edit.setText(query)
        self.apply()

    @Slot()
    def save(self) -> None:
        """Ask for a name and keep the query among the saved searches."""
        query = self.edit.text().strip()
        if query:
            ask_name_and_save(self._parent, self._saved, query)

    @Slot()
    def focus(self) -> None:
        self.edit.setFocus()
        self.edit.selectAll()

    def clear(self) -> None:
        """Sign-out: no query, no results, and no reply to a search still on its way."""
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._generation += 1
        self._results.model.show_hits([])
        self._area.show_list()
        self._saved.clear_searches()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Down in the search box moves to the list (its first row, if none is selected), as
        in a browser's address bar: search, then act on the result from the keyboard."""
        if (
            watched is self.edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            self.apply()
            if self._area.searching:  # the results: their first row once they are in
                self._results.take_focus()
            else:
                self.down_to_list.emit()
            return True
        return super().eventFilter(watched, event)
