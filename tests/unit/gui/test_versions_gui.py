"""Versions in the window: "Upload New Version…" and a file dropped on a row store a new version
(asked first, with the transfer's progress), and the detail pane's Versions tab lists them,
previews the selected one, downloads it and restores it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB, TransferSettings
from dms_desktop.core.journal import Journal
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.message_bar import MessageBar
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.transfer_items import TransferState, UploadSpec
from dms_desktop.gui.transfers import TransferQueue
from dms_desktop.gui.transfers_panel import STATE, TransfersPanel
from tests.support.aws import USER_ID

from .conftest import Cloud, HeldUploads, Transfers, write_file

WAIT_MS = 10_000


@pytest.fixture
def versioned(cloud: Cloud) -> Cloud:
    cloud.s3.put_bucket_versioning(
        Bucket=schema.BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"}
    )
    return cloud


@pytest.fixture
def window(
    qtbot: QtBot, operations: Operations, transfers: Transfers, tmp_path: Path
) -> Iterator[MainWindow]:
    widget = MainWindow(operations, transfers.queue, MessageBar(), AppPaths.resolve(tmp_path / "h"))
    qtbot.addWidget(widget)
    widget.set_signed_in(True)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.confirm_quit_without_asking()


@pytest.fixture
def journaled(versioned: Cloud, tmp_path: Path) -> Iterator[Transfers]:
    """A queue over a service that keeps paused and interrupted transfers in a journal."""
    settings = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=2)
    service = DocumentService(
        DocumentRepository(versioned.dynamodb, schema.TABLE_NAME),
        BlobStore(versioned.s3, schema.BUCKET_NAME, settings),
        USER_ID,
        Journal(tmp_path / "journal"),
    )
    held = HeldUploads(service)
    queue = TransferQueue(lambda: held)  # type: ignore[arg-type, return-value]
    yield Transfers(queue, held)
    held.release_all()
    queue.shutdown()


@pytest.fixture
def journaled_window(
    qtbot: QtBot, operations: Operations, journaled: Transfers, tmp_path: Path
) -> Iterator[MainWindow]:
    widget = MainWindow(operations, journaled.queue, MessageBar(), AppPaths.resolve(tmp_path / "h"))
    qtbot.addWidget(widget)
    widget.set_signed_in(True)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.confirm_quit_without_asking()


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "local" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def _browse_one(qtbot: QtBot, window: MainWindow, operations: Operations) -> None:
    window.start_browsing()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1 and not operations.busy, timeout=WAIT_MS)
    window.table.selectRow(0)


def _wait_for_size(qtbot: QtBot, window: MainWindow, size: int) -> None:
    qtbot.waitUntil(lambda: window.model.document_at(0).size == size, timeout=WAIT_MS)


def _drop_on_row(window: MainWindow, path: Path, row: int) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    viewport = window.table.viewport()
    point = window.table.visualRect(window.model.index(row, 0)).center()
    actions = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(point, actions, mime, buttons, keys))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), actions, mime, buttons, keys))


def test_upload_new_version_from_the_context_menu_keeps_the_document(
    qtbot: QtBot,
    window: MainWindow,
    versioned: Cloud,
    operations: Operations,
    transfers: Transfers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = versioned.service.upload(_file(tmp_path, "report.txt", b"v1"), tags=["Q3"])
    _browse_one(qtbot, window, operations)
    changed = _file(tmp_path, "report-edited.txt", b"version two")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(changed), ""))
    assert window.versions.upload_version_action.isEnabled()

    window.versions.upload_version_action.trigger()

    _wait_for_size(qtbot, window, len(b"version two"))
    row = window.model.document_at(0)
    assert (row.document_id, row.filename) == (document.document_id, "report.txt")
    assert row.tags == ("Q3",)
    (transfer,) = transfers.queue.transfers()
    assert transfer.state is TransferState.DONE and transfer.done == transfer.total
    assert "new version of report.txt" in window._message_bar.text
    history = versioned.service.versions.history(document.document_id)
    assert [v.number for v in history.versions] == [1, 2]


def test_a_file_dropped_on_a_row_becomes_its_new_version_when_confirmed(
    qtbot: QtBot,
    window: MainWindow,
    versioned: Cloud,
    operations: Operations,
    transfers: Transfers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = versioned.service.upload(_file(tmp_path, "plan.md", b"# plan"))
    _browse_one(qtbot, window, operations)
    asked: list[Any] = []

    def cancel(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    _drop_on_row(window, _file(tmp_path, "plan v2.md", b"# plan, revised"), 0)
    assert len(asked) == 1 and "plan v2.md" in asked[0][2] and "plan.md" in asked[0][2]
    assert transfers.queue.transfers() == []  # cancelled: nothing sent

    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    _drop_on_row(window, _file(tmp_path, "plan v2.md", b"# plan, revised"), 0)

    _wait_for_size(qtbot, window, len(b"# plan, revised"))
    assert window.model.rowCount() == 1  # no second document
    history = versioned.service.versions.history(document.document_id)
    assert [v.number for v in history.versions] == [1, 2]


def test_the_versions_tab_lists_previews_downloads_and_restores(
    qtbot: QtBot,
    window: MainWindow,
    versioned: Cloud,
    operations: Operations,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_file: Callable[..., Path],
) -> None:
    document = versioned.service.upload(_file(tmp_path, "notes.txt", b"first words"))
    versioned.service.upload_new_version(
        document.document_id, _file(tmp_path, "n2", b"second words")
    )
    _browse_one(qtbot, window, operations)
    pane = window.detail_pane
    tab = pane.versions_tab

    with qtbot.waitSignal(tab.history_shown, timeout=WAIT_MS):
        bar = pane.tabs.tabBar()
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())

    assert tab.table.rowCount() == 2
    assert tab.table.item(0, 0).text() == "2 (current)"
    assert not tab.restore_button.isEnabled()  # the current version is current already
    tab.table.selectRow(1)  # version 1
    qtbot.waitUntil(lambda: tab.preview_text.toPlainText() == "first words", timeout=WAIT_MS)
    assert tab.restore_button.isEnabled()

    target = tmp_path / "saved v1.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    assert target.read_bytes() == b"first words"

    with qtbot.waitSignal(tab.history_shown, timeout=WAIT_MS):
        qtbot.mouseClick(tab.restore_button, Qt.MouseButton.LeftButton)

    assert tab.table.rowCount() == 3
    assert tab.table.item(0, 0).text() == "3 (current)"
    assert window.model.document_at(0).size == len(b"first words")
    assert "Version 1 of notes.txt is the current version again" in window._message_bar.text


def test_a_stale_restore_is_reported_and_changes_nothing(
    qtbot: QtBot,
    window: MainWindow,
    versioned: Cloud,
    operations: Operations,
    tmp_path: Path,
    reported_errors: list[Any],
) -> None:
    document = versioned.service.upload(_file(tmp_path, "a.txt", b"one"))
    versioned.service.upload_new_version(document.document_id, _file(tmp_path, "b", b"2"))
    _browse_one(qtbot, window, operations)
    tab = window.detail_pane.versions_tab
    with qtbot.waitSignal(tab.history_shown, timeout=WAIT_MS):
        window.detail_pane.tabs.setCurrentWidget(tab)
    versioned.service.rename(document.document_id, "renamed elsewhere.txt")  # another window
    tab.table.selectRow(1)

    qtbot.mouseClick(tab.restore_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: bool(reported_errors), timeout=WAIT_MS)
    assert "changed since you last saw it" in str(reported_errors[0])
    assert len(versioned.service.versions.history(document.document_id).versions) == 2


def test_several_files_dropped_on_a_row_are_new_documents(
    qtbot: QtBot,
    window: MainWindow,
    versioned: Cloud,
    operations: Operations,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    versioned.service.upload(_file(tmp_path, "a.txt", b"a"))
    _browse_one(qtbot, window, operations)
    asked: list[Any] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(_file(tmp_path, n, b"x"))) for n in ("b.txt", "c.txt")])
    point = window.table.visualRect(window.model.index(0, 0)).center()
    actions = Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    viewport = window.table.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(point, actions, mime, buttons, keys))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), actions, mime, buttons, keys))

    assert asked == []  # no question about versions
    assert window.uploads.dialog is not None  # the usual upload of new documents
    window.uploads.dialog.reject()


def test_a_paused_new_version_resumes_from_the_transfers_panel_and_adds_one_version(
    qtbot: QtBot,
    journaled_window: MainWindow,
    journaled: Transfers,
    versioned: Cloud,
    operations: Operations,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = journaled_window
    document = versioned.service.upload(_file(tmp_path, "film.mov", b"v1"), tags=["clips"])
    _browse_one(qtbot, window, operations)
    changed = write_file(tmp_path / "local" / "film-cut.mov", 17 * MiB)  # four parts of 5 MiB
    journaled.held.names.add(changed.name)  # it stops after its first bytes, until paused
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(changed), ""))
    window.versions.upload_version_action.trigger()
    (transfer,) = journaled.queue.transfers()
    qtbot.waitUntil(lambda: transfer.done > 0, timeout=WAIT_MS)
    panel = window.transfers_panel
    panel.table.selectRow(0)

    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: transfer.state is TransferState.PAUSED, timeout=WAIT_MS)
    (kept,) = journaled.held.interrupted_transfers()
    assert kept.new_version_of == document.document_id
    uploads = versioned.s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", [])
    assert len(uploads) == 1  # kept with its parts, for the resume
    assert window.model.document_at(0).size == 2  # the document is as it was
    assert panel.resume_button.isEnabled() and panel.discard_button.isEnabled()

    qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)

    _wait_for_size(qtbot, window, 17 * MiB)
    assert transfer.state is TransferState.DONE and len(journaled.queue.transfers()) == 1
    row = window.model.document_at(0)
    assert (row.document_id, row.filename, row.tags) == (
        document.document_id,
        "film.mov",
        ("clips",),
    )
    assert window.model.rowCount() == 1
    assert "new version of film.mov" in window._message_bar.text
    history = versioned.service.versions.history(document.document_id)
    assert [v.number for v in history.versions] == [1, 2]
    out = versioned.service.download(document.document_id, tmp_path / "out.mov")
    assert out.read_bytes() == changed.read_bytes()
    assert versioned.s3.list_multipart_uploads(Bucket=schema.BUCKET_NAME).get("Uploads", []) == []
    assert journaled.held.interrupted_transfers() == []


def test_a_new_version_interrupted_before_the_start_shows_as_one_and_resumes(
    qtbot: QtBot, journaled: Transfers, versioned: Cloud, tmp_path: Path
) -> None:
    document = versioned.service.upload(_file(tmp_path, "film.mov", b"v1"))
    changed = write_file(tmp_path / "local" / "film-cut.mov", 12 * MiB)
    journaled.held.names.add(changed.name)
    first = journaled.queue.upload(UploadSpec(changed, new_version_of=document))
    transfer = journaled.queue.get(first)
    qtbot.waitUntil(lambda: transfer.done > 0, timeout=WAIT_MS)
    journaled.queue.pause(first)
    qtbot.waitUntil(lambda: transfer.state is TransferState.PAUSED, timeout=WAIT_MS)
    kept = journaled.held.interrupted_transfers()
    # The next start: a new queue and panel over the same journal.
    queue = TransferQueue(lambda: journaled.held)  # type: ignore[arg-type, return-value]
    try:
        panel = TransfersPanel(queue)
        qtbot.addWidget(panel)
        queue.show_interrupted(kept)
        assert panel.model.rowCount() == 1
        assert str(panel.model.index(0, STATE).data()) == "Interrupted"
        assert "film.mov (new version)" in str(panel.model.index(0, 0).data())

        with qtbot.waitSignal(queue.version_uploaded, timeout=WAIT_MS) as stored:
            panel.resume_all_button.click()

        before, after = stored.args
        assert before.document_id == after.document_id == document.document_id
        assert after.size == 12 * MiB
        history = versioned.service.versions.history(document.document_id)
        assert [v.number for v in history.versions] == [1, 2]
    finally:
        queue.shutdown()
