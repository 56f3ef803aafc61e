"""The main window's toolbar, its menu bar (File, View, Account, Admin) and its side docks, built
from the window's actions and panels; the Theme submenu and Help come from :mod:`.window_menus`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMenu, QSizePolicy, QToolBar, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_toolbar(window: MainWindow) -> QToolBar:
    """Upload, Download, Open, Delete, Refresh; the search box and its Save; the type filter;
    Sign out at the far end."""
    toolbar = QToolBar(QCoreApplication.translate("MainWindow", "Main"))
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (
        window.upload_action,
        window.download_action,
        window.open_action,
        window.delete_action,
        window.refresh_action,
    ):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addWidget(window.search_edit)
    toolbar.addAction(window.save_search_action)
    toolbar.addWidget(window.type_filter)
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    toolbar.addWidget(spacer)
    toolbar.addAction(window.sign_out_action)
    window.addToolBar(toolbar)
    return toolbar


def build_menus(window: MainWindow, quit_action: QAction) -> QAction:
    """File, View and Account (the Admin menu is gui.admin_menu); the Account menu's first line,
    which says who is signed in."""
    menus = window.menuBar()
    file_menu = menus.addMenu(QCoreApplication.translate("MainWindow", "&File"))
    for action in (
        window.upload_action,
        window.versions.upload_version_action,
        window.download_action,
        window.open_action,
        window.share_action,
        window.edit_tags_action,
        window.delete_action,
        window.delete_permanently_action,
    ):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)
    view_menu = menus.addMenu(QCoreApplication.translate("MainWindow", "&View"))
    view_menu.setObjectName("viewMenu")  # gui.window_menus adds the Theme submenu
    view_menu.addAction(window.refresh_action)
    view_menu.addAction(window.show_trash_action)
    view_menu.addAction(window.tags_dock.toggleViewAction())
    view_menu.addAction(window.transfers_panel.toggleViewAction())
    account_menu = menus.addMenu(QCoreApplication.translate("MainWindow", "&Account"))
    account_label = account_menu.addAction(
        QCoreApplication.translate("MainWindow", "Not signed in")
    )
    account_label.setEnabled(False)
    account_menu.addAction(window.sign_in_action)
    account_menu.addAction(window.sign_out_action)
    return account_label


def dock_tags_and_searches(
    window: MainWindow, tags: QWidget, trash_entry: QWidget, saved_searches: QWidget
) -> tuple[QDockWidget, QDockWidget]:
    """The left side: the tags with the Trash entry below them, and the saved searches under
    that; both docks can be moved and closed (View menu)."""
    panel = QWidget()
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(tags, 1)
    layout.addWidget(trash_entry)
    tags_dock = QDockWidget(QCoreApplication.translate("MainWindow", "Tags"), window)
    tags_dock.setObjectName("tagsDock")
    tags_dock.setWidget(panel)
    tags_dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, tags_dock)
    window.resizeDocks([tags_dock], [180], Qt.Orientation.Horizontal)
    saved_dock = QDockWidget(QCoreApplication.translate("MainWindow", "Saved searches"), window)
    saved_dock.setObjectName("savedSearchesDock")
    saved_dock.setWidget(saved_searches)
    saved_dock.setFeatures(tags_dock.features())
    window.splitDockWidget(tags_dock, saved_dock, Qt.Orientation.Vertical)
    window.resizeDocks([tags_dock, saved_dock], [3, 1], Qt.Orientation.Vertical)
    return tags_dock, saved_dock


def document_context_menu(window: MainWindow) -> QMenu:
    """The list's context menu for the selected documents."""
    menu = QMenu(window)
    for action in (
        window.open_action,
        window.download_action,
        window.share_action,
        window.edit_tags_action,
        window.versions.upload_version_action,
    ):
        menu.addAction(action)
    rename = menu.addAction(QCoreApplication.translate("MainWindow", "Rename…"))
    rename.triggered.connect(window.focus_name_edit)
    menu.addSeparator()
    menu.addAction(window.delete_action)
    menu.addAction(window.delete_permanently_action)
    return menu
