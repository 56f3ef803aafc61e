"""Search in the window: the results list, the "Saved searches" panel and the search box's
completion.

The search box takes the query language (core.search.query). While it holds a query, the
results replace the document list: each hit shows its name with the matched words in bold and
a line of its text with the matched words marked. An empty box goes back to the list, which
pages lazily as before. Searches run on the fast lane (``OperationContext.search``); a reply to
an older query is dropped.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSize,
    QStringListModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from ..core.changes import DocumentChanges
from ..core.errors import DmsError
from ..core.models import Document
from ..core.search.index import Highlighted, SearchHit
from ..core.search.query import FIELDS, QuerySyntaxError
from ..core.search.saved import SavedSearches
from ..core.search.service import SearchResults
from .operations import OperationContext, Operations

RESULT_LIMIT = 200
HIT_ROLE = Qt.ItemDataRole.UserRole + 20
QUERY_ROLE = Qt.ItemDataRole.UserRole + 21


def _marked_html(text: Highlighted, style: str) -> str:
    pieces: list[str] = []
    position = 0
    for start, end in text.ranges:
        pieces.append(html.escape(text.text[position:start]))
        pieces.append(f"<span style='{style}'>{html.escape(text.text[start:end])}</span>")
        position = end
    pieces.append(html.escape(text.text[position:]))
    return "".join(pieces)


MATCH_STYLE = "font-weight:bold; background-color:#fff0a0; color:#000000"
SELECTED_MATCH_STYLE = "font-weight:bold; text-decoration:underline"


def hit_html(hit: SearchHit, selected: bool = False) -> str:
    """A hit as the results list draws it: the name over a line of its text, the matched words
    in bold on a marker colour (underlined in a selected row)."""
    style = SELECTED_MATCH_STYLE if selected else MATCH_STYLE
    name = _marked_html(hit.name, style)
    snippet = _marked_html(hit.snippet, style) if hit.snippet.text else ""
    if not snippet and hit.note:
        snippet = f"<i>{html.escape(hit.note)}</i>"
    snippet_colour = "" if selected else "color:#505050;"
    return (
        f"<div style='font-size:10pt'>{name}</div>"
        f"<div style='{snippet_colour} font-size:9pt'>{snippet}</div>"
    )


class SearchResultsModel(QAbstractListModel):
    """The hits of the last search, best first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self._hits)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.name.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.snippet.text or hit.note or hit.name.text
        if role == HIT_ROLE:
            return hit
        return None

    def show_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def hit_at(self, row: int) -> SearchHit:
        return self._hits[row]

    def apply_changes(self, changes: DocumentChanges) -> None:
        """Follow "documents changed": a deleted document leaves, an edited one shows its new
        name (the next search scores it again)."""
        removed = {document.document_id for document in changes.removed}
        updated = {update.after.document_id: update.after for update in changes.updated}
        for row in reversed(range(len(self._hits))):
            hit = self._hits[row]
            if hit.document_id in removed:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._hits[row]
                self.endRemoveRows()
            elif hit.document_id in updated:
                after = updated[hit.document_id]
                name = hit.name if after.filename == hit.name.text else Highlighted(after.filename)
                self._hits[row] = SearchHit(after, name, hit.score, hit.snippet, hit.note)
                self.dataChanged.emit(self.index(row), self.index(row))


class SearchHitDelegate(QStyledItemDelegate):
    """Draws a hit on two lines with its matched words highlighted."""

    def _document(
        self, index: QModelIndex | QPersistentModelIndex, width: int, selected: bool = False
    ) -> QTextDocument:
        document = QTextDocument()
        document.setDocumentMargin(3)
        hit = index.data(HIT_ROLE)
        document.setHtml(hit_html(hit, selected) if isinstance(hit, SearchHit) else "")
        document.setTextWidth(max(width, 100))
        return document

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        document = self._document(index, option.rect.width(), selected)
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.setClipRect(option.rect.translated(-option.rect.topLeft()))
        context = QAbstractTextDocumentLayout.PaintContext()
        if selected:
            context.palette.setColor(
                context.palette.ColorRole.Text,
                option.palette.color(option.palette.ColorRole.HighlightedText),
            )
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        width = option.rect.width() if option.rect.width() > 0 else 600
        document = self._document(index, width)
        return QSize(width, int(document.size().height()) + 2)


class SearchResultsView(QWidget):
    """The results list, or what was wrong with the query (the bad part under a caret)."""

    hit_selected = Signal(object)  # the Document of the hit, or None
    hit_activated = Signal(object)  # the Document of the hit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchResults")
        self.model = SearchResultsModel(self)
        self.list = QListView()
        self.list.setObjectName("searchResultsList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(SearchHitDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setUniformItemSizes(False)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setObjectName("searchSummary")
        self.problem = QLabel()
        self.problem.setObjectName("searchProblem")
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.setStyleSheet("font-family: monospace; color: #a00000; padding: 6px;")
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addWidget(self.list, 1)
        self.list.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.list.activated.connect(self._on_activated)
        self._milliseconds = "0"
        self._best_only = False
        self.model.rowsRemoved.connect(self._show_summary)

    def show_results(self, results: SearchResults) -> None:
        self.problem.hide()
        self.model.show_hits(results.hits)
        self._milliseconds = f"{results.seconds * 1000:.0f}"
        self._best_only = len(results.hits) >= RESULT_LIMIT
        self._show_summary()
        self.list.setVisible(True)
        if self.list.hasFocus():  # Down from the search box came first
            self._select_first()

    @Slot()
    def _show_summary(self) -> None:
        """How many documents the results hold (also after some left them: moved to the trash,
        deleted), and how long the search took."""
        count = self.model.rowCount()
        if self._best_only:
            summary = self.tr("%n document(s) found (the best ones) in {ms} ms", "", count)
        else:
            summary = self.tr("%n document(s) found in {ms} ms", "", count)
        self.summary.setText(summary.format(ms=self._milliseconds))

    def take_focus(self) -> None:
        """Focus the results, on their first row (now, or when they come in)."""
        self.list.setFocus(Qt.FocusReason.OtherFocusReason)
        self._select_first()

    def _select_first(self) -> None:
        if self.model.rowCount() and not self.list.selectionModel().hasSelection():
            self.list.setCurrentIndex(self.model.index(0))

    def show_problem(self, error: QuerySyntaxError) -> None:
        self.model.show_hits([])
        self.summary.setText(self.tr("This search cannot be read:"))
        self.problem.setText(str(error))
        self.problem.show()

    def selected_documents(self) -> list[Document]:
        rows = sorted(index.row() for index in self.list.selectionModel().selectedRows())
        return [self.model.hit_at(row).document for row in rows if row < self.model.rowCount()]

    @Slot()
    def _on_selection_changed(self) -> None:
        documents = self.selected_documents()
        self.hit_selected.emit(documents[0] if len(documents) == 1 else None)

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        self.hit_activated.emit(self.model.hit_at(index.row()).document)


class SavedSearchesPanel(QListWidget):
    """The user's saved searches: a click runs one; its context menu deletes it."""

    search_chosen = Signal(str)  # the query

    def __init__(self, operations: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("savedSearches")
        self._operations = operations
        self._generation = 0
        self.itemClicked.connect(self._on_item_clicked)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)

    def reload(self) -> None:
        self._generation += 1
        self._operations.fast(_list, functools.partial(self._show, self._generation)).run()

    def clear_searches(self) -> None:
        self._generation += 1
        self.clear()

    def save(self, name: str, query: str) -> None:
        self._operations.fast(
            lambda ctx: _save(ctx, name, query), functools.partial(self._show, None)
        ).run()

    def delete(self, name: str) -> None:
        self._operations.fast(
            lambda ctx: _delete(ctx, name), functools.partial(self._show, None)
        ).run()

    def _show(self, generation: int | None, searches: dict[str, str]) -> None:
        if generation is not None and generation != self._generation:
            return
        self.clear()
        for name, query in searches.items():
            item = QListWidgetItem(name)
            item.setData(QUERY_ROLE, query)
            item.setToolTip(query)
            self.addItem(item)

    @Slot(QListWidgetItem)
    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self.search_chosen.emit(str(item.data(QUERY_ROLE)))

    def _show_menu(self, position: QPoint) -> None:
        item = self.itemAt(position)
        if item is None:
            return
        menu = QMenu(self)
        delete = menu.addAction(self.tr("Delete saved search"))
        delete.triggered.connect(functools.partial(self.delete, item.text()))
        menu.popup(self.viewport().mapToGlobal(position))


def saved_searches(ctx: OperationContext) -> SavedSearches:
    user = ctx.account.user
    if user is None:
        from ..core.errors import AuthError

        raise AuthError(QCoreApplication.translate("SavedSearchesPanel", "Not signed in."))
    return SavedSearches(ctx.paths.data_dir, ctx.account.profile_name or "default", user.user_id)


def _list(ctx: OperationContext) -> dict[str, str]:
    return {} if ctx.account.user is None else saved_searches(ctx).list()


def _save(ctx: OperationContext, name: str, query: str) -> dict[str, str]:
    saved = saved_searches(ctx)
    saved.save(name, query)
    return saved.list()


def _delete(ctx: OperationContext, name: str) -> dict[str, str]:
    saved = saved_searches(ctx)
    saved.delete(name)
    return saved.list()


def ask_search_name(parent: QWidget, query: str) -> str | None:
    name, accepted = QInputDialog.getText(
        parent,
        QCoreApplication.translate("SavedSearchesPanel", "Save search"),
        QCoreApplication.translate("SavedSearchesPanel", "A name for the search") + f"\n{query}",
        QLineEdit.EchoMode.Normal,
    )
    return name.strip() if accepted and name.strip() else None


class QueryCompleter(QObject):
    """Completion in the search box: field names, and after ``tag:`` the user's tags."""

    def __init__(self, edit: QLineEdit, known_tags: Callable[[], list[str]]) -> None:
        super().__init__(edit)
        self._edit = edit
        self._known_tags = known_tags
        self._model = QStringListModel(self)
        self.completer = QCompleter(self._model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setWidget(edit)
        self.completer.activated[str].connect(self._insert)  # type: ignore[index]
        edit.textEdited.connect(self._update)

    def _token(self) -> tuple[int, str]:
        text = self._edit.text()[: self._edit.cursorPosition()]
        start = max(text.rfind(" "), text.rfind("(")) + 1
        return start, text[start:]

    def candidates(self, token: str) -> list[str]:
        """What may complete ``token`` (the word before the cursor)."""
        sign = "-" if token.startswith("-") else ""
        bare = token[len(sign) :]
        if bare.casefold().startswith("tag:"):
            tags = [f'"{tag}"' if " " in tag else tag for tag in self._known_tags()]
            return [f"{sign}tag:{tag}" for tag in tags]
        if len(bare) >= 2 and ":" not in bare and bare.isalpha():  # not at every first letter
            return [f"{sign}{field}:" for field in FIELDS if field.startswith(bare.casefold())]
        return []

    @Slot(str)
    def _update(self, _text: str) -> None:
        _start, token = self._token()
        options = self.candidates(token)
        if not options or options == [token]:
            self._hide_popup()
            return
        self._model.setStringList(options)
        self.completer.setCompletionPrefix(token)
        if self.completer.completionCount() == 0:
            self._hide_popup()
            return
        self.completer.complete()

    def _hide_popup(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()

    @Slot(str)
    def _insert(self, completion: str) -> None:
        start, token = self._token()
        text = self._edit.text()
        cursor = start + len(token)
        self._edit.setText(text[:start] + completion + text[cursor:])
        self._edit.setCursorPosition(start + len(completion))


class SearchArea(QStackedWidget):
    """The document list, or the results while the search box holds a query."""

    def __init__(self, table: QWidget, results: SearchResultsView) -> None:
        super().__init__()
        self.setObjectName("searchArea")
        self.addWidget(table)
        self.addWidget(results)
        self._table = table
        self._results = results

    @property
    def searching(self) -> bool:
        return self.currentWidget() is self._results

    def show_list(self) -> None:
        self.setCurrentWidget(self._table)

    def show_results(self) -> None:
        self.setCurrentWidget(self._results)


def run_search(ctx: OperationContext, text: str) -> SearchResults:
    return ctx.search().search(text, RESULT_LIMIT)


def report_search_error(
    view: SearchResultsView, report: Callable[[DmsError], None], error: DmsError
) -> None:
    """A query that cannot be read is shown in place of the results, with its caret; anything
    else goes to the window's one reporter."""
    if isinstance(error, QuerySyntaxError):
        view.show_problem(error)
    else:
        report(error)


def ask_name_and_save(parent: QWidget, panel: SavedSearchesPanel, query: str) -> None:
    name = ask_search_name(parent, query)
    if name is not None:
        panel.save(name, query)
