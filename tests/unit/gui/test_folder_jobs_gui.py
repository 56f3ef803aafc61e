"""Folders and many files are one job in the transfers panel (issue 22): a dropped folder, files
picked in the upload dialog and a multi-selection downloaded each give one row with its files
done of all; a job kept by a pause shows at start-up as Interrupted and Resume finishes it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB, TransferSettings
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import Paused
from dms_desktop.core.job_progress import JobProgress
from dms_desktop.core.journal import Journal
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.localfiles import collect_upload_sources
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.message_bar import MessageBar
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.transfer_items import TransferState
from dms_desktop.gui.transfers import TransferQueue
from dms_desktop.gui.transfers_panel import BYTES, FILES, KIND, NAME, STATE, TransfersPanel
from tests.support.aws import USER_ID

from .conftest import Cloud, Transfers

WAIT_MS = 20_000


@pytest.fixture
def window(
    qtbot: QtBot, operations: Operations, transfers: Transfers, tmp_path: Path
) -> Iterator[MainWindow]:
    widget = MainWindow(operations, transfers.queue, MessageBar(), AppPaths.resolve(tmp_path / "h"))
    qtbot.addWidget(widget)
    widget.set_signed_in(True)
    widget.start_browsing()
    qtbot.waitUntil(lambda: not widget.model.is_loading and not operations.busy, timeout=WAIT_MS)
    yield widget
    widget.confirm_quit_without_asking()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "receipts"
    (root / "2023").mkdir(parents=True)
    for number in range(8):
        where = root / "2023" if number % 2 else root
        (where / f"receipt-{number}.txt").write_bytes(f"receipt {number}\n".encode() * 100)
    return root


def _drop(widget: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    actions = Qt.DropAction.CopyAction
    button, modifier = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(widget, QDragEnterEvent(QPoint(5, 5), actions, mime, button, modifier))
    QApplication.sendEvent(widget, QDropEvent(QPointF(5, 5), actions, mime, button, modifier))


def _click_upload(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.uploads.dialog
    assert dialog is not None
    button = dialog.findChild(QPushButton, "uploadButton")
    qtbot.waitUntil(lambda: not dialog.checking and button.isEnabled(), timeout=WAIT_MS)
    button.click()


def _cells(panel: TransfersPanel, row: int = 0) -> dict[int, str]:
    return {column: str(panel.model.index(row, column).data()) for column in range(8)}


def test_a_folder_dropped_on_the_window_is_one_job_row_with_its_file_counts(
    qtbot: QtBot, window: MainWindow, cloud: Cloud, folder: Path
) -> None:
    _drop(window, [folder])
    dialog = window.uploads.dialog
    assert dialog is not None and dialog.table.rowCount() == 8

    with qtbot.waitSignal(window.transfers_panel._queue.documents_uploaded, timeout=WAIT_MS):
        _click_upload(qtbot, window)

    panel = window.transfers_panel
    assert panel.model.rowCount() == 1
    cells = _cells(panel)
    assert (cells[NAME], cells[KIND], cells[FILES], cells[STATE]) == (
        "receipts",
        "Upload",
        "8 of 8",
        "Done",
    )
    stored = {d.filename: d for d in cloud.service.iter_documents(ListQuery())}
    assert len(stored) == 8 and stored["receipt-1.txt"].folder == "receipts/2023"
    qtbot.waitUntil(lambda: len(window.model.documents()) == 8, timeout=WAIT_MS)


def test_several_files_picked_in_the_dialog_are_one_job(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    picked = sorted(str(path) for path in folder.glob("*.txt"))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *_args: (picked, ""))
    window.upload_action.trigger()
    dialog = window.uploads.dialog
    assert dialog is not None
    dialog.add_files_button.click()
    assert dialog.table.rowCount() == len(picked) == 4

    with qtbot.waitSignal(window.transfers_panel._queue.documents_uploaded, timeout=WAIT_MS):
        _click_upload(qtbot, window)

    panel = window.transfers_panel
    assert panel.model.rowCount() == 1
    cells = _cells(panel)
    assert (cells[NAME], cells[FILES], cells[STATE]) == ("4 files", "4 of 4", "Done")
    assert len(list(cloud.service.iter_documents(ListQuery()))) == 4


def test_a_multi_selection_downloaded_is_one_job_row(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud.service.upload_job(collect_upload_sources([folder]), name="receipts", roots=[folder])
    window.refresh_action.trigger()
    qtbot.waitUntil(lambda: len(window.model.documents()) == 8, timeout=WAIT_MS)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(out))
    window.table.selectAll()

    with qtbot.waitSignal(window.transfers_panel._queue.download_finished, timeout=WAIT_MS):
        window.download_action.trigger()

    cells = _cells(window.transfers_panel)
    assert (cells[NAME], cells[KIND], cells[FILES], cells[STATE]) == (
        "8 documents",
        "Download",
        "8 of 8",
        "Done",
    )
    for path in folder.rglob("*.txt"):
        assert (out / path.name).read_bytes() == path.read_bytes()


def test_a_job_kept_by_a_pause_shows_at_the_start_and_resume_finishes_it(
    qtbot: QtBot, cloud: Cloud, folder: Path, tmp_path: Path
) -> None:
    for number in range(8, 40):  # more files than the job runs at once: some are left
        (folder / f"receipt-{number}.txt").write_bytes(f"receipt {number}\n".encode() * 100)
    settings = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=2)
    service = DocumentService(
        DocumentRepository(cloud.dynamodb, schema.TABLE_NAME),
        BlobStore(cloud.s3, schema.BUCKET_NAME, settings),
        USER_ID,
        Journal(tmp_path / "journal"),
    )
    cancel = CancelToken()

    def pause_after_three(job: JobProgress) -> None:
        if job.files_done >= 3:
            cancel.pause()

    with pytest.raises(Paused):
        service.upload_job(
            collect_upload_sources([folder]),
            name="receipts",
            roots=[folder],
            cancel=cancel,
            progress=pause_after_three,
        )
    queue = TransferQueue(lambda: service)
    panel = TransfersPanel(queue)
    qtbot.addWidget(panel)
    try:
        queue.show_interrupted(service.interrupted_transfers())
        cells = _cells(panel)
        assert cells[STATE] == "Interrupted" and cells[NAME] == "receipts"
        done, _of, total = cells[FILES].split()
        assert 3 <= int(done) < 40 and total == "40"
        assert "of" in cells[BYTES]

        panel.table.selectionModel().select(
            panel.model.index(0, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        with qtbot.waitSignal(queue.documents_uploaded, timeout=WAIT_MS):
            panel.resume_button.click()

        assert _cells(panel)[FILES] == "40 of 40"
        assert queue.get(queue.transfers()[0].transfer_id).state is TransferState.DONE
        stored = {d.filename: d.checksum for d in service.iter_documents(ListQuery())}
        for path in folder.rglob("*.txt"):
            assert stored[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert service.interrupted_transfers() == []
    finally:
        queue.shutdown()


def test_the_dialog_checks_a_big_folder_with_one_read_of_the_stored_checksums(
    qtbot: QtBot, window: MainWindow, cloud: Cloud, folder: Path
) -> None:
    for number in range(8, 30):
        (folder / f"receipt-{number}.txt").write_bytes(f"receipt {number}\n".encode() * 100)
    cloud.service.upload(folder / "receipt-0.txt")
    queries: list[dict[str, object]] = []
    cloud.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.Query",
        lambda params, **_: (
            queries.append(params) if params.get("IndexName") == "byChecksum" else None
        ),
    )

    _drop(window, [folder])
    dialog = window.uploads.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT_MS)

    assert len(queries) == 1  # the checksum index read once, not a query per file
    assert dialog.table.rowCount() == 30 and len(dialog.specs()) == 29  # the stored one skipped
    with qtbot.waitSignal(window.transfers_panel._queue.documents_uploaded, timeout=WAIT_MS):
        _click_upload(qtbot, window)
    assert _cells(window.transfers_panel)[FILES] == "29 of 29"
