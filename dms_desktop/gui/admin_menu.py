"""The Admin menu (shown to admins only) and its two dialogs: cleaning up test records and checking
that metadata and stored files agree. The dialogs (and the worker) check the role again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMainWindow

from .operations import Operations

if TYPE_CHECKING:
    from .cleanup_dialog import CleanupDialog
    from .consistency_dialog import ConsistencyDialog


class AdminMenu(QObject):
    """Admin > Clean up test records…, Check consistency…; one dialog of each, per user."""

    def __init__(self, window: QMainWindow, operations: Operations) -> None:
        super().__init__(window)
        self._window = window
        self._operations = operations
        self._is_admin = False
        self.cleanup_dialog: CleanupDialog | None = None
        self.consistency_dialog: ConsistencyDialog | None = None
        self.menu = window.menuBar().addMenu(self.tr("A&dmin"))
        self.menu.setObjectName("adminMenu")
        self.cleanup_action = self.menu.addAction(self.tr("&Clean up test records…"))
        self.cleanup_action.setObjectName("adminCleanupAction")
        self.cleanup_action.triggered.connect(self.open_cleanup_dialog)
        self.check_action = self.menu.addAction(self.tr("Check &consistency…"))
        self.check_action.setObjectName("adminCheckAction")
        self.check_action.triggered.connect(self.open_consistency_dialog)
        self.menu.menuAction().setVisible(False)  # set_admin(True) shows it

    def set_admin(self, is_admin: bool) -> None:
        """Show the menu to admins only; a new sign-in gets new dialogs (a dialog belongs to the
        user who opened it; one still running is left to finish)."""
        self._is_admin = is_admin
        self.menu.menuAction().setVisible(is_admin)
        if self.cleanup_dialog is not None and not self.cleanup_dialog.running:
            self.cleanup_dialog.close()
            self.cleanup_dialog.deleteLater()
            self.cleanup_dialog = None
        if self.consistency_dialog is not None and not self.consistency_dialog.running:
            self.consistency_dialog.close()
            self.consistency_dialog.deleteLater()
            self.consistency_dialog = None

    @Slot()
    def open_cleanup_dialog(self) -> None:
        if self.cleanup_dialog is None:
            from .cleanup_dialog import CleanupDialog  # loads the admin tools (boto3) when used

            self.cleanup_dialog = CleanupDialog(
                self._operations, self._is_admin, parent=self._window
            )
        self.cleanup_dialog.show()
        self.cleanup_dialog.raise_()

    @Slot()
    def open_consistency_dialog(self) -> None:
        if self.consistency_dialog is None:
            from .consistency_dialog import ConsistencyDialog

            self.consistency_dialog = ConsistencyDialog(
                self._operations, self._is_admin, parent=self._window
            )
        self.consistency_dialog.show()
        self.consistency_dialog.raise_()
