"""The main window on moto in-process: what a user does through its actions, the tag panel kept
up to date from "documents changed" without reading every count again, and the list paging
while the long lane is busy."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import DmsError
from dms_desktop.core.localfiles import UploadSource
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.upload_plan import ContentCheck, DuplicateFinder
from dms_desktop.gui import upload_rows
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.message_bar import MessageBar
from dms_desktop.gui.operations import Operations

from .conftest import Cloud, Transfers, browse, select_rows

WAIT_MS = 10_000
HOLD_SECONDS = 20.0


@pytest.fixture
def tag_reads(cloud: Cloud) -> list[dict[str, Any]]:
    """Every full read of the tag counts (a Query of the partition's tags) sent to DynamoDB."""
    reads: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_kwargs: Any) -> None:
        if str(params.get("ProjectionExpression", "")).startswith("tags"):
            reads.append(params)

    cloud.dynamodb.meta.events.register("provide-client-params.dynamodb.Query", record)
    return reads


@pytest.fixture
def window(window: MainWindow, qtbot: QtBot, operations: Operations) -> MainWindow:
    """The window of a signed-in user, browsing (first page and tag counts loaded)."""
    browse(qtbot, window, operations)
    return window


def shown_tags(window: MainWindow) -> list[str]:
    panel = window.tag_browser
    return [item.text() for item in (panel.item(row) for row in range(panel.count())) if item]


def upload_through_the_dialog(qtbot: QtBot, window: MainWindow, path: Path, tags: str) -> None:
    window.upload_action.trigger()
    dialog = window.uploads.dialog
    assert dialog is not None
    dialog.add_paths([path])
    dialog.tags_edit.setText(tags)
    button = dialog.findChild(QPushButton, "uploadButton")
    qtbot.waitUntil(lambda: not dialog.checking and button.isEnabled(), timeout=WAIT_MS)
    button.click()


def test_the_tag_panel_follows_uploads_edits_and_deletes_without_reading_the_counts_again(
    qtbot: QtBot,
    cloud: Cloud,
    operations: Operations,
    transfers: Transfers,
    tag_reads: list[dict[str, Any]],
    make_file: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud.service.upload(make_file("march.pdf"), tags=["Invoice", "2024"])
    cloud.service.upload(make_file("trip.pdf"), tags=["travel"])
    widget = MainWindow(operations, transfers.queue, MessageBar(), AppPaths.resolve(tmp_path / "h"))
    qtbot.addWidget(widget)
    widget.set_signed_in(True)
    widget.start_browsing()
    qtbot.waitUntil(lambda: len(shown_tags(widget)) == 4, timeout=WAIT_MS)
    assert shown_tags(widget) == ["All documents", "2024  (1)", "Invoice  (1)", "travel  (1)"]
    assert len(tag_reads) == 1

    upload_through_the_dialog(qtbot, widget, make_file("april.pdf"), "invoice, tax")
    qtbot.waitUntil(lambda: "Invoice  (2)" in shown_tags(widget), timeout=WAIT_MS)
    assert shown_tags(widget) == [
        "All documents",
        "2024  (1)",
        "Invoice  (2)",
        "tax  (1)",
        "travel  (1)",
    ]
    assert "april.pdf" in [document.filename for document in widget.model.documents()]

    select_rows(widget, {"trip.pdf"})
    tags_edit = widget.detail_pane.findChild(QLineEdit, "detailTagsEdit")
    tags_edit.setText("travel, 2024")
    widget.detail_pane.findChild(QPushButton, "detailSaveButton").click()
    qtbot.waitUntil(lambda: "2024  (2)" in shown_tags(widget), timeout=WAIT_MS)

    monkeypatch.setattr(QMessageBox, "warning", lambda *_args: QMessageBox.StandardButton.Yes)
    select_rows(widget, {"march.pdf", "trip.pdf"})
    widget.delete_action.trigger()
    qtbot.waitUntil(lambda: "travel  (1)" not in shown_tags(widget), timeout=WAIT_MS)
    assert shown_tags(widget) == ["All documents", "Invoice  (1)", "tax  (1)"]
    assert [document.filename for document in widget.model.documents()] == ["april.pdf"]
    assert widget.detail_pane.document() is None  # the document shown was deleted

    assert len(tag_reads) == 1, "no full read of the tag counts after the first"
    stored = {tag.casefold(): count for tag, count in cloud.service.tag_counts().items()}
    assert stored == {"invoice": 1, "tax": 1}, "what F5 would show (tags match in any case)"
    widget.confirm_quit_without_asking()


def test_counts_are_read_again_when_a_change_arrives_during_a_read(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    tag_reads: list[dict[str, Any]],
    make_file: Callable[..., Path],
) -> None:
    """A read may or may not have seen an upload that finished meanwhile: one more read."""
    panel = window.tag_browser
    panel.reload()
    added = cloud.service.upload(make_file("late.pdf"), tags=["late"])
    from dms_desktop.core.changes import DocumentChanges

    window.events.publish(DocumentChanges.of_added([added]))  # while the read is in flight
    qtbot.waitUntil(lambda: len(tag_reads) == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.counts() == {"late": 1}, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)


def test_the_list_pages_while_a_big_file_is_hashed_for_the_duplicate_check(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The duplicate check hashes on the long lane: F5 still brings the page meanwhile."""
    hashing = threading.Event()
    release = threading.Event()
    real_check = upload_rows.check_content

    def slow_check(
        finder: DuplicateFinder, source: UploadSource, cancel: CancelToken | None = None
    ) -> ContentCheck:
        hashing.set()
        if not release.wait(HOLD_SECONDS):
            raise DmsError("the test never let the hash finish")
        return real_check(finder, source, cancel)

    monkeypatch.setattr(upload_rows, "check_content", slow_check)
    cloud.service.upload(make_file("arrived.pdf"))
    window.upload_action.trigger()
    dialog = window.uploads.dialog
    assert dialog is not None
    try:
        dialog.add_paths([make_file("huge.iso")])
        assert hashing.wait(HOLD_SECONDS)

        window.refresh_action.trigger()
        qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)

        assert [document.filename for document in window.model.documents()] == ["arrived.pdf"]
        assert dialog.checking, "the hash is still running"
    finally:
        release.set()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT_MS)
    dialog.reject()


def test_every_action_of_the_window_runs_without_an_error(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    reported_errors: list[DmsError],
) -> None:
    """Each action as its menu entry, button or shortcut triggers it (QAction.triggered passes a
    ``checked`` flag): an exception in any slot fails this test."""
    cloud.service.upload(make_file("one.txt"))
    window.refresh_action.trigger()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=WAIT_MS)
    select_rows(window, {"one.txt"})
    window.set_admin(True)
    # Dialogs that would wait for an answer are answered "no" / cancelled.
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a: QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.No)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: "")
    skipped = {"&Quit", "Sign &out", "Sign &in…", "&Open"}  # they leave the window or the app

    triggered = []
    for action in window.findChildren(QAction):
        if action.text() in skipped or not action.text() or not action.isEnabled():
            continue
        action.trigger()
        triggered.append(action.text())
        if window.uploads.dialog is not None:
            window.uploads.dialog.reject()
            assert window.uploads.dialog is None  # a cancelled dialog is forgotten

    assert {"&Upload…", "&Download…", "De&lete", "Delete &Permanently…", "&Refresh", "Find"} <= set(
        triggered
    )
    assert "Upload New &Version…" in triggered
    assert window.admin.cleanup_dialog is not None and window.admin.consistency_dialog is not None
    window.admin.cleanup_dialog.close()
    window.admin.consistency_dialog.close()
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)
    assert reported_errors == []
