"""Copy share link in the window: from the context menu's action or the detail pane's button, a
small dialog asks how long the link works, and the link lands on the clipboard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.share_dialog import ShareLinkDialog

from .conftest import Cloud

WAIT_MS = 10_000


def _copy_link(qtbot: QtBot, window: MainWindow, choice: str) -> dict[str, list[str]]:
    qtbot.waitUntil(lambda: window.lifecycle.share_dialog is not None, timeout=WAIT_MS)
    dialog = window.lifecycle.share_dialog
    assert isinstance(dialog, ShareLinkDialog) and dialog.isVisible()
    dialog.expiry_box.setCurrentIndex(dialog.expiry_box.findText(choice))
    # The sandbox presigns every link itself: the dialog and the message bar say so.
    assert dialog.signer_label.text() == "The link is presigned with your sign-in's credentials."
    bar = window._message_bar
    bar.dismiss()
    clipboard = QGuiApplication.clipboard()
    before = clipboard.text()
    qtbot.mouseClick(dialog.findChild(QPushButton, "shareCopyButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar.isVisible() and clipboard.text() != before, timeout=WAIT_MS)
    assert "copied (presigned with your sign-in's credentials)" in bar.text
    url = clipboard.text()
    return parse_qs(urlsplit(url).query) | {"path": [urlsplit(url).path]}


def test_copy_share_link_puts_a_link_of_the_chosen_lifetime_on_the_clipboard(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    document = cloud.service.upload(make_file("report.pdf"))
    window.start_browsing()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1 and not operations.busy, timeout=WAIT_MS)
    window.table.selectRow(0)
    assert window.share_action.isEnabled()

    window.share_action.trigger()
    link = _copy_link(qtbot, window, "7 days")

    assert link["X-Amz-Expires"] == ["604800"]
    assert unquote(link["path"][0]).endswith(document.s3_key)
    assert "report.pdf" in window._message_bar.text

    qtbot.mouseClick(
        window.detail_pane.findChild(QPushButton, "detailShareButton"), Qt.MouseButton.LeftButton
    )
    assert _copy_link(qtbot, window, "1 hour")["X-Amz-Expires"] == ["3600"]


def test_the_dialog_says_who_makes_each_link_and_offers_none_that_cannot_be_made(
    qtbot: QtBot, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    """A Cognito sign-in on AWS: links of an hour presigned with its credentials; longer ones by
    the web API if the profile has it, else not offered."""
    document = cloud.service.upload(make_file("report.pdf"))
    with_api = ShareLinkDialog(document, None, {"1h": "credentials", "1d": "api", "7d": "api"})
    without = ShareLinkDialog(document, None, {"1h": "credentials", "1d": None, "7d": None})
    for dialog in (with_api, without):
        qtbot.addWidget(dialog)

    assert with_api.expiry_box.currentText() == "1 day"
    assert with_api.signer_label.text() == "The link is made by the web API."
    with_api.expiry_box.setCurrentIndex(with_api.expiry_box.findText("1 hour"))
    assert with_api.signer_label.text() == (
        "The link is presigned with your sign-in's credentials."
    )
    assert without.expiry_box.currentText() == "1 hour"
    model = without.expiry_box.model()
    enabled = [model.item(row).isEnabled() for row in range(model.rowCount())]  # type: ignore[attr-defined]
    assert enabled == [True, False, False]
