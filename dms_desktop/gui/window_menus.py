"""The window's View > Theme submenu and its Help menu (About), added to the main window by the
app (they concern the whole application, not the document list)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu

from .about_dialog import AboutDialog
from .appearance import Appearance, Theme
from .translations import QT_TRANSLATE_NOOP

_THEME_LABELS = {
    Theme.SYSTEM: QT_TRANSLATE_NOOP("WindowMenus", "&System"),
    Theme.LIGHT: QT_TRANSLATE_NOOP("WindowMenus", "&Light"),
    Theme.DARK: QT_TRANSLATE_NOOP("WindowMenus", "&Dark"),
}


class WindowMenus(QObject):
    """View > Theme (System / Light / Dark, the current one checked) and Help > About."""

    def __init__(self, window: QMainWindow, appearance: Appearance, log_folder: Path) -> None:
        super().__init__(window)
        self._window = window
        self._appearance = appearance
        self._log_folder = log_folder
        self.about_dialog: AboutDialog | None = None

        view_menu = window.findChild(QMenu, "viewMenu")
        if view_menu is None:  # a window without one: the theme gets its own menu
            view_menu = window.menuBar().addMenu(self.tr("&View"))
        view_menu.addSeparator()
        self.theme_menu = view_menu.addMenu(self.tr("&Theme"))
        self.theme_menu.setObjectName("themeMenu")
        group = QActionGroup(self)
        group.setExclusive(True)
        self.theme_actions: dict[Theme, QAction] = {}
        for theme, label in _THEME_LABELS.items():
            action = self.theme_menu.addAction(self.tr(label))
            action.setObjectName(f"theme{theme.value.capitalize()}Action")
            action.setCheckable(True)
            action.setChecked(theme is appearance.theme)
            action.setData(theme.value)
            group.addAction(action)
            self.theme_actions[theme] = action
        group.triggered.connect(self._on_theme_chosen)

        self.help_menu = window.menuBar().addMenu(self.tr("&Help"))
        self.help_menu.setObjectName("helpMenu")
        self.about_action = self.help_menu.addAction(self.tr("&About DMS Desktop"))
        self.about_action.setObjectName("aboutAction")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)

    @Slot(QAction)
    def _on_theme_chosen(self, action: QAction) -> None:
        self._appearance.set_theme(Theme(action.data()))

    @Slot()
    def show_about(self) -> None:
        """The About dialog (one; raised again if open)."""
        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self._log_folder, self._window)
        self.about_dialog.show()
        self.about_dialog.raise_()
        self.about_dialog.activateWindow()
