"""The real window (DesktopApp) against a real sandbox, driven like a user would (pytest-qt)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.httpsession import URLLib3Session
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from dms_desktop.core.listing import ListQuery
from dms_desktop.core.schema import SortField
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.transfer_items import UploadSpec
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = [
    pytest.mark.server,
    # PySide6 marks QDragEnterEvent's only constructor deprecated; there is no other one.
    pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning"),
]

CLI = [sys.executable, "-m", "dms_desktop.cli"]


@pytest.fixture(autouse=True)
def no_boto3_on_the_gui_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail if any HTTP request to the backend is sent from the GUI thread."""
    offenders: list[str] = []
    original = URLLib3Session.send

    def send(self: URLLib3Session, request: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            caller = next(
                (
                    f"{frame.filename}:{frame.lineno}"
                    for frame in reversed(traceback.extract_stack())
                    if frame.name != "send"
                    and ("/dms_desktop/" in frame.filename or "/tests/" in frame.filename)
                ),
                "?",
            )
            offenders.append(f"{request.method} {request.url} from {caller}")
        return original(self, request)

    monkeypatch.setattr(URLLib3Session, "send", send)
    yield offenders
    assert offenders == [], f"boto3 called on the GUI thread: {offenders}"


@pytest.fixture(scope="module")
def window_user(shared_sandbox: SandboxHome) -> tuple[str, str]:
    """A user of their own with 12 small documents, so each test knows what is listed."""
    username, password = "windowuser", "window-password"
    add_user(shared_sandbox.info, username, password)
    from dms_desktop.connect import open_backend, open_service, sign_in

    backend = open_backend(shared_sandbox.paths)
    service = open_service(backend, sign_in(backend, username, password))
    folder = shared_sandbox.home / "window-user-files"
    folder.mkdir()
    for number in range(12):
        path = folder / f"note-{number:02d}-{'odd' if number % 2 else 'even'}.txt"
        path.write_text(f"note number {number}\n" * (number + 1))
        service.upload(path, tags=["odd" if number % 2 else "even"])
    return username, password


@pytest.fixture
def desktop(
    qtbot: QtBot, shared_sandbox: SandboxHome, window_user: tuple[str, str]
) -> Iterator[DesktopApp]:
    app = start_signed_in(qtbot, shared_sandbox.home, *window_user)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def _names(desktop: DesktopApp) -> list[str]:
    return [document.filename for document in desktop.window.model.documents()]


def _load_everything(qtbot: QtBot, desktop: DesktopApp) -> None:
    model, table = desktop.window.model, desktop.window.table
    while model.has_more:
        table.scrollToBottom()
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.is_loading, timeout=WAIT_MS)


def test_model_passes_qt_model_tester(qtmodeltester: Any, desktop: DesktopApp) -> None:
    qtmodeltester.check(desktop.window.model)


def test_scrolling_loads_further_pages(qtbot: QtBot, desktop: DesktopApp) -> None:
    model = desktop.window.model
    status = desktop.window.loaded_label
    assert model.rowCount() >= 5
    assert model.rowCount() < 12 or not model.has_more

    _load_everything(qtbot, desktop)

    assert model.rowCount() == 12
    assert status.text() == "12 documents"
    assert _names(desktop) == sorted(_names(desktop), reverse=True)  # newest first


def test_sorting_by_a_column_header_is_done_by_the_backend(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    header = desktop.window.table.horizontalHeader()
    header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # what clicking "Name" does
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)

    assert desktop.window.model.query.sort is SortField.NAME
    first_page = _names(desktop)
    assert first_page[:5] == [f"note-{n:02d}-{'odd' if n % 2 else 'even'}.txt" for n in range(5)]


def test_search_finds_a_document_beyond_the_first_page(qtbot: QtBot, desktop: DesktopApp) -> None:
    window = desktop.window
    window.table.verticalHeader().setDefaultSectionSize(2000)  # one page fills the viewport
    window.model.update_query(page_size=2)
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)
    assert window.model.rowCount() == 2 and window.model.has_more
    assert "note-00-even.txt" not in _names(desktop)  # the oldest: far beyond the first page

    # The search box searches the index, not the loaded pages: the results replace the list.
    window.search_edit.setText("NOTE-00")
    results = window.search_results.model

    def found() -> list[str]:
        return [results.hit_at(row).name.text for row in range(results.rowCount())]

    qtbot.waitUntil(lambda: found() == ["note-00-even.txt"], timeout=WAIT_MS)
    assert window.search_area.searching
    window.search_edit.clear()
    qtbot.waitUntil(lambda: not window.search_area.searching, timeout=WAIT_MS)


def test_tag_browser_and_type_filter_reach_the_backend(qtbot: QtBot, desktop: DesktopApp) -> None:
    browser = desktop.window.tag_browser
    qtbot.waitUntil(lambda: browser.count() >= 3, timeout=WAIT_MS)
    labels = [browser.item(row).text() for row in range(browser.count())]
    assert "odd  (6)" in labels and "even  (6)" in labels

    odd = next(
        browser.item(row) for row in range(browser.count()) if "odd" in browser.item(row).text()
    )
    browser.itemClicked.emit(odd)
    qtbot.waitUntil(lambda: desktop.window.model.query.tag == "odd", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)
    _load_everything(qtbot, desktop)
    assert len(_names(desktop)) == 6 and all("odd" in name for name in _names(desktop))

    type_filter = desktop.window.type_filter
    type_filter.setCurrentIndex(type_filter.findText("PDF"))
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)
    assert desktop.window.model.rowCount() == 0
    assert desktop.window.loaded_label.text() == "No documents match the filter"


def _drag_and_drop(widget: QWidget, mime: QMimeData) -> None:
    """What the system sends for a real drag: enter (Qt then targets the widget), then drop."""
    point = QPoint(200, 200)
    enter = QDragEnterEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(point),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)


def _click_upload_when_ready(qtbot: QtBot, desktop: DesktopApp) -> None:
    """Wait for the upload dialog to finish its checks, then press Upload."""
    qtbot.waitUntil(lambda: desktop.window.uploads.dialog is not None, timeout=WAIT_MS)
    dialog = desktop.window.uploads.dialog
    assert dialog is not None
    button = dialog.findChild(QPushButton, "uploadButton")
    qtbot.waitUntil(lambda: not dialog.checking and button.isEnabled(), timeout=WAIT_MS)
    button.click()


def test_dropping_files_uploads_them_and_they_appear_without_a_reload(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path
) -> None:
    dropped = tmp_path / "dropped-report.md"
    dropped.write_text("# Dropped\n" + os.urandom(8).hex())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    window = desktop.window
    reloads: list[int] = []
    window.model.modelReset.connect(lambda: reloads.append(1))

    _drag_and_drop(window, mime)
    _click_upload_when_ready(qtbot, desktop)

    qtbot.waitUntil(lambda: "dropped-report.md" in _names(desktop), timeout=WAIT_MS)
    assert reloads == []
    assert _names(desktop)[0] == "dropped-report.md"  # newest first


def test_dropping_text_says_it_is_not_supported(desktop: DesktopApp) -> None:
    mime = QMimeData()
    mime.setText("just some text")
    _drag_and_drop(desktop.window, mime)

    bar = desktop.message_bar
    assert bar.isVisible()
    assert "not supported" in bar.text


def test_delete_permanently_asks_then_removes_the_rows(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victims = []
    for name in ("delete-me-1.txt", "delete-me-2.txt"):
        path = tmp_path / name
        path.write_text(name + os.urandom(4).hex())
        victims.append(path)
    window = desktop.window
    for path in victims:
        window.uploads.upload([UploadSpec(path)])
    qtbot.waitUntil(
        lambda: {"delete-me-1.txt", "delete-me-2.txt"} <= set(_names(desktop)), timeout=WAIT_MS
    )
    asked: list[str] = []

    def confirm(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", confirm)
    window.table.clearSelection()
    for name in ("delete-me-1.txt", "delete-me-2.txt"):
        row = _names(desktop).index(name)
        window.table.selectionModel().select(
            window.model.index(row, 0),
            window.table.selectionModel().SelectionFlag.Select
            | window.table.selectionModel().SelectionFlag.Rows,
        )
    window.delete_permanently_action.trigger()

    qtbot.waitUntil(lambda: "delete-me-1.txt" not in _names(desktop), timeout=WAIT_MS)
    assert "delete-me-2.txt" not in _names(desktop)
    assert "Delete 2 documents for good?" in asked[0]
    assert "delete-me-1.txt" in asked[0] and "delete-me-2.txt" in asked[0]


def test_moving_many_rows_to_the_trash_is_one_batched_job(
    qtbot: QtBot,
    desktop: DesktopApp,
    shared_sandbox: SandboxHome,
    window_user: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dms_desktop.connect import open_backend, open_service, sign_in
    from tests.support.faults import operation_of

    def seed() -> DocumentService:  # as another app instance would, off the GUI thread
        backend = open_backend(shared_sandbox.paths)
        service = open_service(backend, sign_in(backend, *window_user))
        for number in range(40):
            path = tmp_path / f"bulk-{number:02d}.txt"
            path.write_text(f"bulk {number} {os.urandom(4).hex()}")
            service.upload(path)
        return service

    with ThreadPoolExecutor(1) as pool:
        service = pool.submit(seed).result()
    window = desktop.window
    window.refresh_action.trigger()
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)
    _load_everything(qtbot, desktop)
    qtbot.waitUntil(
        lambda: sum(n.startswith("bulk-") for n in _names(desktop)) == 40, timeout=WAIT_MS
    )
    window.table.clearSelection()
    for name in _names(desktop):
        if name.startswith("bulk-"):
            window.table.selectionModel().select(
                window.model.index(_names(desktop).index(name), 0),
                window.table.selectionModel().SelectionFlag.Select
                | window.table.selectionModel().SelectionFlag.Rows,
            )
    sent: list[str] = []
    original = URLLib3Session.send

    def counting(self: URLLib3Session, request: Any) -> Any:
        sent.append(operation_of(request))
        return original(self, request)

    monkeypatch.setattr(URLLib3Session, "send", counting)

    window.delete_action.trigger()

    qtbot.waitUntil(
        lambda: not any(n.startswith("bulk-") for n in _names(desktop)), timeout=WAIT_MS
    )
    writes = [name for name in sent if "Delete" in name or "Batch" in name or "Trans" in name]
    assert sorted(writes) == ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"]
    with ThreadPoolExecutor(1) as pool:
        left = pool.submit(lambda: list(service.iter_documents(ListQuery()))).result()
    assert not any(document.filename.startswith("bulk-") for document in left)


def test_an_error_from_an_operation_reaches_the_message_bar(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    from dms_desktop.core.errors import Unavailable

    def failing(ctx: object) -> None:
        raise Unavailable("Could not list the documents: the backend cannot be reached.")

    desktop.operations.fast(failing).run()

    qtbot.waitUntil(desktop.message_bar.isVisible, timeout=WAIT_MS)
    assert desktop.message_bar.is_error
    assert "cannot be reached" in desktop.message_bar.text
    assert "Traceback" not in desktop.message_bar.text


def test_sign_out_clears_the_window(qtbot: QtBot, desktop: DesktopApp) -> None:
    assert desktop.window.model.rowCount() > 0
    with qtbot.waitSignal(desktop.window.detail_pane.preview_shown, timeout=WAIT_MS):
        desktop.window.table.selectRow(0)  # caches a preview of this user's document
    previews = desktop.paths.cache_dir / "previews"
    assert any(previews.iterdir())

    desktop.window.sign_out_action.trigger()

    qtbot.waitUntil(lambda: desktop.sign_in_dialog is not None, timeout=WAIT_MS)
    assert desktop.window.model.rowCount() == 0
    assert desktop.window.tag_browser.count() == 1  # only "All documents"
    assert desktop.window.account.label.text() == "Not signed in"
    assert not previews.exists()  # nothing of the previous user stays on disk
    desktop.sign_in_dialog.reject()


def test_end_to_end_upload_list_preview_download_delete(
    qtbot: QtBot, fresh_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign in -> upload -> see it listed -> preview -> download -> delete, on a fresh sandbox."""
    app = start_signed_in(qtbot, fresh_sandbox.home, "demo", "demo-password", page_size=50)
    try:
        window = app.window
        source = tmp_path / "e2e-notes.md"
        source.write_text("# End to end\n\nUploaded from the window.\n")

        window.uploads.open_dialog([source])
        _click_upload_when_ready(qtbot, app)
        qtbot.waitUntil(lambda: "e2e-notes.md" in _names(app), timeout=WAIT_MS)

        row = _names(app).index("e2e-notes.md")
        with qtbot.waitSignal(window.detail_pane.preview_shown, timeout=WAIT_MS):
            window.table.selectRow(row)
        markdown = window.detail_pane.findChild(
            QTextBrowser,
            "previewMarkdownView",
        )
        assert "Uploaded from the window." in markdown.toPlainText()

        target = tmp_path / "downloaded.md"
        monkeypatch.setattr(
            "PySide6.QtWidgets.QFileDialog.getSaveFileName",
            lambda *args, **kwargs: (str(target), ""),
        )
        with qtbot.waitSignal(app.transfers.download_finished, timeout=WAIT_MS):
            window.download_action.trigger()
        assert target.read_bytes() == source.read_bytes()

        monkeypatch.setattr(QMessageBox, "warning", lambda *args: QMessageBox.StandardButton.Yes)
        window.delete_action.trigger()
        qtbot.waitUntil(lambda: "e2e-notes.md" not in _names(app), timeout=WAIT_MS)
        # Checked from another process, as a second app instance would see it.
        listed = subprocess.run(
            [*CLI, "--home", str(fresh_sandbox.home), "list", "--search", "e2e-notes"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        )
        assert listed.stdout.strip() == "No documents match."
    finally:
        app.window.confirm_quit_without_asking()
        app.window.close()
        app.shutdown()


def test_quit_with_running_transfers_asks_first(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as file:
        file.truncate(200 * 1024 * 1024)  # sparse: fast to make, slow enough to upload
    desktop.window.uploads.upload([UploadSpec(big)])
    qtbot.waitUntil(lambda: desktop.transfers.active_count == 1, timeout=WAIT_MS)
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.No)

    desktop.window.close()

    assert desktop.window.isVisible()  # the user said no: the window stays
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    desktop.window.close()
    assert not desktop.window.isVisible()
    desktop.transfers.cancel_all()
    qtbot.waitUntil(lambda: desktop.transfers.active_count == 0, timeout=WAIT_MS)


def test_query_model_default_is_newest_first() -> None:
    assert ListQuery().sort is SortField.CREATED and ListQuery().descending


def test_two_users_each_see_only_their_own_documents(qtbot: QtBot, desktop: DesktopApp) -> None:
    _load_everything(qtbot, desktop)
    first_user = desktop.user
    assert first_user is not None
    assert {doc.user_id for doc in desktop.window.model.documents()} == {first_user.user_id}
    assert "welcome.md" not in _names(desktop)  # a sample of the demo user

    desktop.window.sign_out_action.trigger()
    qtbot.waitUntil(lambda: desktop.sign_in_dialog is not None, timeout=WAIT_MS)
    dialog = desktop.sign_in_dialog
    assert dialog is not None
    dialog.findChild(QLineEdit, "usernameEdit").setText("demo")
    dialog.findChild(QLineEdit, "passwordEdit").setText("demo-password")
    dialog.findChild(QPushButton, "signInButton").click()
    qtbot.waitUntil(lambda: desktop.user is not None, timeout=WAIT_MS)
    # The demo user's list is long on the shared sandbox (other tests upload as demo): read it
    # all, in big pages, before looking for its sample.
    desktop.window.model.update_query(page_size=200)
    qtbot.waitUntil(lambda: desktop.window.model.rowCount() > 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)
    _load_everything(qtbot, desktop)

    assert "welcome.md" in _names(desktop)
    assert desktop.user.user_id != first_user.user_id
    assert {doc.user_id for doc in desktop.window.model.documents()} == {desktop.user.user_id}
    assert not any(name.startswith("note-") for name in _names(desktop))


@pytest.mark.parametrize("way", ["action", "shortcut", "toolbar button", "file menu"])
def test_upload_dialog_opens_the_way_a_user_asks_for_it(
    qtbot: QtBot, desktop: DesktopApp, way: str
) -> None:
    """Upload opens from its action, Ctrl+U, the toolbar button and File > Upload, empty."""
    window = desktop.window
    if way == "action":
        window.upload_action.trigger()
    elif way == "shortcut":
        with qtbot.waitActive(window):  # a window shortcut fires only in the active window
            window.show()
            window.activateWindow()
        window.table.setFocus()
        qtbot.keyClick(window.table, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    elif way == "toolbar button":
        toolbar = window.findChild(QToolBar, "mainToolbar")
        button = toolbar.widgetForAction(window.upload_action)
        assert isinstance(button, QToolButton)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    else:
        file_menu = window.menuBar().actions()[0].menu()
        entry = next(a for a in file_menu.actions() if a.text() == "&Upload…")
        entry.trigger()
    qtbot.waitUntil(lambda: window.uploads.dialog is not None, timeout=WAIT_MS)
    dialog = window.uploads.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.specs() == []  # nothing chosen yet: the user picks files in the dialog
    dialog.reject()


def test_open_without_a_default_app_says_so_and_offers_download(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19 item 5: Open with no app for the file failed silently (only the console said)."""
    asked: list[str] = []

    def no_app(url: QUrl) -> bool:
        asked.append(url.toLocalFile())
        return False  # what Qt answers where no app is registered for the file's type

    monkeypatch.setattr("PySide6.QtGui.QDesktopServices.openUrl", no_app)
    window = desktop.window
    window.show()
    qtbot.waitExposed(window)
    window.table.selectRow(0)
    document = window.selected_documents()[0]
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Return)  # Open

    bar = desktop.message_bar
    qtbot.waitUntil(lambda: bar.isVisible() and "No app" in bar.text, timeout=WAIT_MS)
    assert asked and Path(asked[0]).name == document.filename
    assert document.filename in bar.text and "Download it" in bar.text
    action = bar.findChild(QPushButton, "messageActionButton")
    assert action.isVisible() and action.text() == "Download…"

    target = tmp_path / "chosen" / document.filename
    target.parent.mkdir()
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *args, **kw: (str(target), "")
    )
    with qtbot.waitSignal(desktop.transfers.download_finished, timeout=WAIT_MS):
        qtbot.mouseClick(action, Qt.MouseButton.LeftButton)
    assert target.read_bytes() == Path(asked[0]).read_bytes()
    assert not bar.isVisible()


def _click_header(qtbot: QtBot, desktop: DesktopApp, column: int) -> None:
    header = desktop.window.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
    )


def test_the_tags_header_says_it_does_not_sort(qtbot: QtBot, desktop: DesktopApp) -> None:
    """Issue 19 item 9: clicking "Tags" sorted nothing, silently."""
    window = desktop.window
    window.show()
    qtbot.waitExposed(window)
    before = window.model.query
    tags_column = window.model.headerData(3, Qt.Orientation.Horizontal)
    assert tags_column == "Tags"
    tip = window.model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "Not sortable" in tip

    _click_header(qtbot, desktop, 3)

    assert "cannot be sorted by tags" in window.statusBar().currentMessage()
    assert window.model.query == before
    header = window.table.horizontalHeader()
    assert header.sortIndicatorSection() != 3


def test_sorting_keeps_the_selection_and_the_detail_pane(qtbot: QtBot, desktop: DesktopApp) -> None:
    """Issue 19 item 9: sorting cleared the selection and emptied the detail pane."""
    window = desktop.window
    window.show()
    qtbot.waitExposed(window)
    names = _names(desktop)
    chosen = names[2]
    with qtbot.waitSignal(window.detail_pane.preview_shown, timeout=WAIT_MS):
        qtbot.mouseClick(
            window.table.viewport(),
            Qt.MouseButton.LeftButton,
            pos=window.table.visualRect(window.model.index(2, 0)).center(),
        )
    pane = window.detail_pane
    assert pane.document() is not None and pane.document().filename == chosen

    _click_header(qtbot, desktop, 0)  # sort by name
    assert pane.document() is not None, "the detail pane went empty while the list reloaded"
    qtbot.waitUntil(lambda: window.model.query.sort is SortField.NAME, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)

    qtbot.waitUntil(lambda: [d.filename for d in window.selected_documents()] == [chosen])
    assert pane.document() is not None and pane.document().filename == chosen
    assert window.delete_action.isEnabled()


def test_the_short_columns_show_their_text_whole(qtbot: QtBot, desktop: DesktopApp) -> None:
    """A look at the window on a virtual screen: "CSV spreadsheet" showed as "CSV spreadsh…"."""
    from dms_desktop.core.formatting import describe_type

    table = desktop.window.table
    metrics = table.fontMetrics()
    texts = {1: [describe_type("text/csv"), describe_type("application/pdf")]}
    texts[2] = ["1023 bytes"]
    texts[4] = texts[5] = [desktop.window.model.index(0, 4).data()]
    for column, samples in texts.items():
        for text in samples:
            assert metrics.horizontalAdvance(text) + 8 <= table.columnWidth(column), text


def test_down_in_the_search_box_moves_to_the_first_result(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    """Search, then act on the result from the keyboard (the end-to-end process test does)."""
    window = desktop.window
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    qtbot.keyClicks(window.search_edit, "NOTE-03")
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Return)
    results = window.search_results.model
    qtbot.waitUntil(
        lambda: (
            [results.hit_at(row).name.text for row in range(results.rowCount())]
            == ["note-03-odd.txt"]
        ),
        timeout=WAIT_MS,
    )

    qtbot.keyClick(window.search_edit, Qt.Key.Key_Down)

    assert window.search_results.list.hasFocus()  # the results are in the list's place
    assert [document.filename for document in window.selected_documents()] == ["note-03-odd.txt"]
