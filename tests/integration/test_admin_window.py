"""The Admin menu's dialogs in the real window on the sandbox: owners by name (from the sandbox's
user pool), chosen by name, and closed with their Close button."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.gui.cleanup_dialog import CleanupDialog
from dms_desktop.sandbox import ADMIN_USER, DEMO_USER, add_user
from tests.integration.conftest import SandboxHome
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server

TAG = "owner-names-window"


def _upload_as(sandbox: SandboxHome, user: tuple[str, str], tmp_path: Path, name: str) -> None:
    backend = open_backend(sandbox.paths)
    service = open_service(backend, sign_in(backend, *user))
    source = tmp_path / user[0] / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(f"{name} of {user[0]}\n")
    service.upload(source, tags=[TAG])


def test_the_cleanup_dialog_names_the_owners_and_picks_them_by_name(
    qtbot: QtBot, shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    erin = ("erin", "erin-password-1")
    add_user(shared_sandbox.info, *erin)
    _upload_as(shared_sandbox, DEMO_USER, tmp_path, "demo-fixture.txt")
    _upload_as(shared_sandbox, erin, tmp_path, "erin-fixture.txt")
    desktop = start_signed_in(qtbot, shared_sandbox.home, *ADMIN_USER)
    try:
        window = desktop.window
        window.admin.cleanup_action.trigger()  # Admin > Clean up test records…
        dialog = window.admin.cleanup_dialog
        assert isinstance(dialog, CleanupDialog) and dialog.isVisible()
        dialog.tag_edit.setText(TAG)
        with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
            qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
        owner = dialog.model.OWNER
        owners = {dialog.proxy.index(row, owner).data() for row in range(dialog.proxy.rowCount())}
        assert owners == {"demo", "erin"}

        dialog.owners_edit.setText("Erin")
        with qtbot.waitSignal(dialog.plan_ready, timeout=WAIT_MS):
            qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
        names = [dialog.proxy.index(row, 0).data() for row in range(dialog.proxy.rowCount())]
        assert names == ["erin-fixture.txt"]
        assert "erin: 1 document," in dialog.per_user_label.text()

        qtbot.mouseClick(
            dialog.findChild(QPushButton, "adminCloseButton"), Qt.MouseButton.LeftButton
        )
        assert not dialog.isVisible()
    finally:
        desktop.window.confirm_quit_without_asking()
        desktop.window.close()
        desktop.shutdown()
