"""The main window: document list, tag browser, detail pane, transfers, and the actions on them.

A thin layer: every backend call is an operation on one of the two lanes (gui.operations) or a
transfer (TransferQueue); every failure reaches the one MessageBar. Uploads, edits and deletes
are published as one "documents changed" signal (``events``) that the list, the tag panel and
the detail pane follow.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QModelIndex,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.identity import SignedIn
from ..core.list_snapshot import ListSnapshot
from ..core.models import Document
from ..core.paths import AppPaths
from .account_status import AccountStatus
from .admin_menu import AdminMenu
from .detail_pane import DetailPane
from .document_actions import DocumentActions
from .document_events import DocumentEvents
from .document_model import DocumentTableModel
from .document_table import HeaderSorting, make_document_table, make_type_filter
from .drops import DropHandler
from .icons import action_icon, app_icon, file_type_icon, make_action
from .kept_selection import KeptSelection
from .lifecycle_actions import LifecycleActions
from .list_selection import ListSelection
from .message_bar import MessageBar
from .operations import Operations
from .search_box import SearchBox
from .search_view import (
    SavedSearchesPanel,
    SearchArea,
    SearchResultsView,
)
from .tag_panel import TagPanel
from .transfers import TransferQueue
from .transfers_panel import TransfersPanel
from .trash_view import TrashView
from .upload_actions import UploadActions
from .version_actions import VersionActions
from .window_bars import (
    build_menus,
    build_toolbar,
    dock_tags_and_searches,
    document_context_menu,
)

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The document browser of one signed-in user."""

    sign_out_requested = Signal()
    sign_in_requested = Signal()

    def __init__(
        self,
        operations: Operations,
        transfers: TransferQueue,
        message_bar: MessageBar,
        paths: AppPaths,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("DMS Desktop"))
        self.setWindowIcon(app_icon())
        self._fit_to_screen()
        self._operations = operations
        self._transfers = transfers
        self._paths = paths
        self._message_bar = message_bar
        self._quitting_confirmed = False
        self._signed_in = False

        self.events = DocumentEvents(self)
        self.model = DocumentTableModel(operations, file_type_icon, parent=self)
        self.events.changed.connect(self.model.apply_changes)
        self._build_table()
        self.lifecycle = LifecycleActions(
            self,
            self.selection.documents,
            self.selection.tagged,
            operations,
            message_bar,
            self.events,
        )
        self.document_actions = DocumentActions(
            self, self.selected_documents, operations, transfers, message_bar, self.events, paths
        )
        self.detail_pane = DetailPane(operations, self.events, message_bar.report_error)
        self.versions = VersionActions(
            self,
            self.table,
            self.selected_documents,
            operations,
            transfers,
            message_bar,
            self.events,
        )
        self.trash_view = TrashView(operations, self.events, message_bar.report_error)
        self._build_central()
        self._build_tag_browser()
        self.transfers_panel = TransfersPanel(transfers, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.transfers_panel)
        self.uploads = UploadActions(
            self,
            operations,
            transfers,
            message_bar,
            self.events,
            self.tag_browser.known_tags,
            lambda: self._signed_in,
        )
        self._build_actions()
        self._build_status_bar()
        self._connect_signals()
        self.drop_handler = DropHandler(self)
        self.drop_handler.install(self)
        self.drop_handler.files_dropped.connect(self.uploads.on_files_dropped)
        self.drop_handler.unsupported_drop.connect(self._message_bar.show_notice)
        self.transfers_panel.hide()  # shown when the first transfer starts
        self._transfers.changed.connect(self._show_transfers_panel)
        self.set_signed_in(False)

    # --- building ---

    def _fit_to_screen(self) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        width, height = 1440, 880
        if screen is not None:
            width = min(width, int(screen.width() * 0.95))
            height = min(height, int(screen.height() * 0.92))
        self.resize(width, height)

    def _build_table(self) -> None:
        table = make_document_table(self.model)
        self.table = table
        self.search_results = SearchResultsView()
        self.search_area = SearchArea(table, self.search_results)
        self.selection = ListSelection(table, self.model, self.search_area, self.search_results)
        self.kept_selection = KeptSelection(table, self.model, self.selection.tagged)
        self.sorting = HeaderSorting(
            table,
            self.model,
            self.kept_selection.keep,
            lambda text: self.statusBar().showMessage(text, 8000),
        )
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._show_context_menu)
        table.activated.connect(self._on_activated)

    def _build_central(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("mainSplitter")
        self.search_results.hit_selected.connect(self._on_hit_selected)
        self.search_results.hit_activated.connect(self.document_actions.open_document)
        self.events.changed.connect(self.search_results.model.apply_changes)
        splitter.addWidget(self.search_area)
        splitter.addWidget(self.detail_pane)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([900, 340])
        self.pages = QStackedWidget()  # the documents, or the trash
        self.pages.setObjectName("mainPages")
        self.pages.addWidget(splitter)
        self.pages.addWidget(self.trash_view)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self._message_bar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

    def _build_tag_browser(self) -> None:
        self.tag_browser = TagPanel(self._operations, self.events)
        self.tag_browser.tag_chosen.connect(self._on_tag_chosen)
        self.tag_browser.known_tags_changed.connect(self.detail_pane.set_known_tags)
        # Below the tags, the trash (a list of its own: the tag list holds only tags).
        self.trash_entry = QListWidget()
        self.trash_entry.setObjectName("trashEntry")
        self.trash_entry.addItem(QListWidgetItem(action_icon("delete"), self.tr("Trash")))
        self.trash_entry.setMaximumHeight(self.trash_entry.sizeHintForRow(0) * 2 + 8)
        self.trash_entry.itemClicked.connect(self.show_trash)
        self.saved_searches = SavedSearchesPanel(self._operations)
        self.tags_dock, self.saved_searches_dock = dock_tags_and_searches(
            self, self.tag_browser, self.trash_entry, self.saved_searches
        )
        self.search = SearchBox(
            self._operations,
            self.search_area,
            self.search_results,
            self.saved_searches,
            self.tag_browser.known_tags,
            self._message_bar.report_error,
            self,
        )
        self.search_edit = self.search.edit
        self.query_completer = self.search.completer
        self.search.list_shown.connect(self._on_selection_changed)
        self.search.results_shown.connect(self._on_hit_cleared)
        self.search.down_to_list.connect(self._focus_list)

    def _build_actions(self) -> None:
        self.upload_action = make_action(
            self, "uploadAction", self.tr("&Upload…"), "upload", "Ctrl+U", self.uploads.show_dialog
        )
        self.download_action = make_action(
            self,
            "downloadAction",
            self.tr("&Download…"),
            "download",
            "Ctrl+S",
            self.document_actions.download_selected,
        )
        self.open_action = make_action(
            self, "openAction", self.tr("&Open"), "open", None, self.document_actions.open_selected
        )
        self.delete_action = self.lifecycle.trash_action  # to the trash; Undo restores
        self.delete_permanently_action = make_action(
            self,
            "deletePermanentlyAction",
            self.tr("Delete &Permanently…"),
            "delete",
            "Shift+Delete",
            self.document_actions.delete_selected,
        )
        self.share_action = self.lifecycle.share_action
        self.edit_tags_action = self.lifecycle.edit_tags_action
        self.refresh_action = make_action(
            self, "refreshAction", self.tr("&Refresh"), "refresh", "F5", self.refresh
        )
        self.sign_out_action = make_action(
            self,
            "signOutAction",
            self.tr("Sign &out"),
            "sign-out",
            None,
            self.sign_out_requested.emit,
        )
        self.sign_in_action = make_action(
            self,
            "signInAction",
            self.tr("Sign &in…"),
            "sign-out",
            None,
            self.sign_in_requested.emit,
        )
        self.sign_in_action.setVisible(False)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        self.save_search_action = make_action(
            self, "saveSearchAction", self.tr("Save search…"), "search", None, self.search.save
        )
        self.save_search_action.setEnabled(False)
        self.search.query_present.connect(self.save_search_action.setEnabled)

        self.type_filter = make_type_filter()
        self.type_filter.currentIndexChanged.connect(self._apply_type_filter)

        self.show_trash_action = make_action(
            self, "showTrashAction", self.tr("&Trash"), "delete", None, self.show_trash
        )
        build_toolbar(self)
        self._account_line = build_menus(self, quit_action)
        self.admin = AdminMenu(self, self._operations)

    def _build_status_bar(self) -> None:
        self.loaded_label = QLabel()
        self.loaded_label.setObjectName("loadedStatusLabel")
        self.statusBar().addWidget(self.loaded_label, 1)
        self.account = AccountStatus(self, self._account_line)

    def _connect_signals(self) -> None:
        self.model.status_changed.connect(self._update_status)
        self.model.load_failed.connect(self._message_bar.report_error)
        self.model.rows_left_out.connect(self._message_bar.report_error)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.modelReset.connect(self._on_selection_changed)
        self.model.rowsRemoved.connect(self._on_selection_changed)
        self.detail_pane.open_requested.connect(self.document_actions.open_document)
        self.detail_pane.share_requested.connect(self.lifecycle.share_document)
        self.detail_pane.versions_tab.download_requested.connect(self.versions.download_version)
        self.detail_pane.versions_tab.restore_requested.connect(self.versions.restore_version)
        self.versions.row_drops.files_dropped.connect(self.uploads.on_files_dropped)
        self.versions.row_drops.unsupported_drop.connect(self._message_bar.show_notice)

    # --- session ---

    def show_user(self, user: SignedIn, profile: str) -> None:
        """Who is signed in, on which profile, and until when (the session's end)."""
        self.account.show_user(user, profile)

    def set_signed_in(self, signed_in: bool) -> None:
        self.sign_in_action.setVisible(not signed_in)
        self.sign_out_action.setVisible(signed_in)
        for action in (self.upload_action, self.refresh_action, self.show_trash_action):
            action.setEnabled(signed_in)
        self.trash_entry.setEnabled(signed_in)
        self.search_edit.setEnabled(signed_in)
        self.type_filter.setEnabled(signed_in)
        self.table.setEnabled(signed_in)  # greys the rows of a list snapshot until then
        self._signed_in = signed_in
        self._update_actions(len(self.selection.rows()))

    def set_admin(self, is_admin: bool) -> None:
        self.admin.set_admin(is_admin)

    def show_snapshot(self, snapshot: ListSnapshot) -> None:
        """Show the list as the user last saw it, greyed until the session resumes and the live
        first page replaces it (see core.list_snapshot)."""
        self.model.show_snapshot(snapshot.documents, snapshot.taken_at)

    def start_browsing(self) -> None:
        """Load the first page and the tag counts (after sign-in); rows already shown (a list
        snapshot) stay until the first page replaces them."""
        self.model.refresh()
        self.tag_browser.reload()
        self.saved_searches.reload()

    def clear_user(self) -> None:
        """Sign-out: forget everything of the previous user that the window shows."""
        self.kept_selection.forget()
        self.model.clear()
        self.detail_pane.show_document(None)
        self.tag_browser.clear_counts()
        self.trash_view.clear()
        self.show_documents()
        self.account.clear()
        self.search.clear()
        self._update_status()

    # --- browsing ---

    @Slot()
    def refresh(self) -> None:
        self._message_bar.dismiss()
        self.kept_selection.keep()
        self.model.refresh()
        self.tag_browser.reload()
        if self.pages.currentWidget() is self.trash_view:
            self.trash_view.reload()

    @Slot()
    def show_trash(self) -> None:
        """Show the trash instead of the documents (read again each time)."""
        if not self._signed_in:
            return
        self.table.clearSelection()  # the actions on documents do not act on the trash
        self.tag_browser.clearSelection()
        self.trash_entry.setCurrentRow(0)
        self.pages.setCurrentWidget(self.trash_view)
        self.trash_view.reload()

    def show_documents(self) -> None:
        self.trash_entry.clearSelection()
        self.pages.setCurrentIndex(0)

    @Slot(object)
    def _on_tag_chosen(self, tag: str | None) -> None:
        self.show_documents()
        self.kept_selection.forget()  # another list: what was selected may not be in it
        self.model.update_query(tag=tag)

    @Slot(object)
    def _on_hit_selected(self, document: Document | None) -> None:
        count = len(self.search_results.selected_documents())
        if document is not None:
            self.detail_pane.show_document(document)
        elif count:
            self.detail_pane.show_selection_count(count)
        else:
            self.detail_pane.show_document(None)
        self._update_actions(count)

    @Slot()
    def _on_hit_cleared(self) -> None:
        self._on_hit_selected(None)

    @Slot(int)
    def _apply_type_filter(self, index: int) -> None:
        self.kept_selection.forget()
        self.model.update_query(file_type=self.type_filter.itemData(index))

    @Slot()
    def _focus_list(self) -> None:
        """Down in an empty search box: the list takes the keyboard (its first row, if none)."""
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if self.model.rowCount() and not self.selection.rows():
            self.table.selectRow(0)

    @Slot()
    def _update_status(self) -> None:
        self.loaded_label.setText(self.model.status_text())

    def selected_documents(self) -> list[Document]:
        return self.selection.documents()

    @Slot()
    def _on_selection_changed(self) -> None:
        if self.search_area.searching:  # the results' selection drives the pane and actions
            return
        # Counts rows: the model rebuilds a Document from its row when asked (~10 us each), so
        # 1,000 selected rows would cost ~10 ms per pass for nothing but a count.
        rows = self.selection.rows()
        if self.kept_selection.pending and not self.kept_selection.restoring:
            if not rows:  # the reload dropped the rows: the pane shows them until they are back
                self._update_actions(0)
                return
            self.kept_selection.forget()  # the user chose something else meanwhile
        if len(rows) == 1:
            self.detail_pane.show_document(self.model.document_at(rows[0]))
        elif rows:
            self.detail_pane.show_selection_count(len(rows))
        else:
            self.detail_pane.show_document(None)
        self._update_actions(len(rows))

    def _update_actions(self, count: int) -> None:
        """Enable the actions that fit ``count`` selected rows."""
        self.download_action.setEnabled(count > 0)
        self.delete_permanently_action.setEnabled(count > 0)
        self.open_action.setEnabled(count == 1)
        self.lifecycle.update(count)
        self.versions.update(count)

    @Slot(QPoint)
    def _show_context_menu(self, position: QPoint) -> None:
        if not self.selected_documents():
            return
        menu = document_context_menu(self)
        menu.exec(self.table.viewport().mapToGlobal(position))

    @Slot()
    def focus_name_edit(self) -> None:
        """Rename… : the detail pane's name field, its text selected."""
        name_edit = self.detail_pane.findChild(QLineEdit, "detailNameEdit")
        if name_edit is not None:
            name_edit.setFocus()
            name_edit.selectAll()

    # --- opening and downloading ---

    @Slot(QModelIndex)
    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.document_actions.open_document(self.model.document_at(index.row()))

    @Slot(int)
    def _show_transfers_panel(self, _transfer_id: int) -> None:
        waiting = any(t.state.resumable for t in self._transfers.transfers())  # Resume / Discard
        if (self._transfers.active_count or waiting) and not self.transfers_panel.isVisible():
            self.transfers_panel.show()

    # --- closing ---

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        running = self._transfers.active_count
        if running and not self._quitting_confirmed:
            answer = QMessageBox.question(
                self,
                self.tr("Transfers are running"),
                self.tr("%n transfer(s) still running. Cancel and quit?", "", running),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self._quitting_confirmed = True
        event.accept()

    def confirm_quit_without_asking(self) -> None:
        """For tests and programmatic quits: closing will not ask about running transfers."""
        self._quitting_confirmed = True
