"""Starting the real window and signing in through its dialog, for the window tests."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.core.paths import AppPaths
from dms_desktop.gui.app import DesktopApp

WAIT_MS = 20_000


def start_signed_in(
    qtbot: QtBot,
    home: Path,
    username: str,
    password: str,
    page_size: int = 5,
    *,
    remember: bool = True,
) -> DesktopApp:
    """The app on ``home``, signed in as ``username`` with the sign-in dialog ("remember me" as
    ``remember``), with its first page of ``page_size`` rows loaded."""
    desktop = DesktopApp(AppPaths.resolve(home))
    qtbot.addWidget(desktop.window)
    desktop.start()
    qtbot.waitUntil(lambda: desktop.sign_in_dialog is not None, timeout=WAIT_MS)
    dialog = desktop.sign_in_dialog
    assert dialog is not None
    dialog.findChild(QLineEdit, "usernameEdit").setText(username)
    dialog.findChild(QLineEdit, "passwordEdit").setText(password)
    dialog.findChild(QCheckBox, "rememberCheck").setChecked(remember)
    dialog.findChild(QPushButton, "signInButton").click()
    qtbot.waitUntil(lambda: desktop.user is not None, timeout=WAIT_MS)
    desktop.window.model.update_query(page_size=page_size)
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)
    return desktop
