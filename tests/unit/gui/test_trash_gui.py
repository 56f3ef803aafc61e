"""The trash in the window: Delete moves the selection to the trash and the message bar offers
Undo; the side panel's Trash lists it with Deleted and Purged on, and restores, deletes
permanently or empties it; Shift+Delete asks and deletes for good."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from dms_desktop.core.errors import NotFound
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.schema import BUCKET_NAME
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.operations import Operations

from .conftest import Cloud, browse, select_rows

WAIT_MS = 10_000


def _names(window: MainWindow) -> set[str]:
    return {document.filename for document in window.model.documents()}


def _open_trash(qtbot: QtBot, window: MainWindow) -> QTableWidget:
    entry = window.trash_entry
    with qtbot.waitSignal(window.trash_view.loaded, timeout=WAIT_MS):
        rect = entry.visualItemRect(entry.item(0))
        qtbot.mouseClick(entry.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.pages.currentWidget() is window.trash_view
    return window.trash_view.table


def _trash_names(table: QTableWidget) -> list[str]:
    return [table.item(row, 0).text() for row in range(table.rowCount())]


def _select_trash_rows(table: QTableWidget, names: set[str]) -> None:
    table.clearSelection()
    for row in range(table.rowCount()):
        if table.item(row, 0).text() in names:
            table.selectionModel().select(
                table.model().index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )


def test_delete_moves_to_the_trash_and_undo_brings_the_documents_back_as_they_were(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = [
        cloud.service.upload(make_file("march.pdf"), tags=["Invoice"]),
        cloud.service.upload(make_file("trip.pdf"), tags=["travel"]),
    ]
    browse(qtbot, window, operations)
    asked: list[object] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: asked.append(args))
    select_rows(window, {"march.pdf", "trip.pdf"})

    window.delete_action.trigger()

    qtbot.waitUntil(lambda: _names(window) == set(), timeout=WAIT_MS)
    assert asked == []  # nothing to confirm: it can be undone
    bar = window._message_bar
    qtbot.waitUntil(lambda: "moved to the trash" in bar.text, timeout=WAIT_MS)
    assert bar.text == "2 documents moved to the trash"
    undo = bar.findChild(QPushButton, "messageActionButton")
    assert undo.isVisible() and undo.text() == "Undo"
    assert list(cloud.service.iter_documents(ListQuery())) == []
    assert window.tag_browser.counts() == {}  # trashed documents are not counted

    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: _names(window) == {"march.pdf", "trip.pdf"}, timeout=WAIT_MS)
    assert [cloud.service.get(doc.document_id) for doc in before] == before
    qtbot.waitUntil(lambda: window.tag_browser.counts() == {"Invoice": 1, "travel": 1})
    assert cloud.service.trash_page().documents == []


def test_the_trash_lists_restores_deletes_permanently_and_empties(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documents = {
        name: cloud.service.upload(make_file(name), tags=["Finance"])
        for name in ("a.pdf", "b.pdf", "c.pdf", "d.pdf")
    }
    cloud.service.trash_many([doc.document_id for doc in documents.values()])
    browse(qtbot, window, operations)
    assert _names(window) == set()

    table = _open_trash(qtbot, window)

    assert [table.horizontalHeaderItem(c).text() for c in range(4)] == [
        "Name",
        "Size",
        "Deleted",
        "Purged on",
    ]
    assert sorted(_trash_names(table)) == ["a.pdf", "b.pdf", "c.pdf", "d.pdf"]
    assert all(table.item(row, 3).text() for row in range(4))
    view = window.trash_view
    assert not view.restore_button.isEnabled()

    _select_trash_rows(table, {"a.pdf"})
    with qtbot.waitSignal(view.changed, timeout=WAIT_MS):
        qtbot.mouseClick(view.restore_button, Qt.MouseButton.LeftButton)
    assert sorted(_trash_names(table)) == ["b.pdf", "c.pdf", "d.pdf"]
    assert cloud.service.get(documents["a.pdf"].document_id) == documents["a.pdf"]

    monkeypatch.setattr(QMessageBox, "warning", lambda *_a: QMessageBox.StandardButton.Yes)
    _select_trash_rows(table, {"b.pdf"})
    with qtbot.waitSignal(view.changed, timeout=WAIT_MS):
        qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    assert sorted(_trash_names(table)) == ["c.pdf", "d.pdf"]
    with pytest.raises(NotFound):
        cloud.service.get(documents["b.pdf"].document_id)

    with qtbot.waitSignal(view.changed, timeout=WAIT_MS):
        qtbot.mouseClick(view.empty_button, Qt.MouseButton.LeftButton)
    assert _trash_names(table) == []
    assert cloud.service.trash_page().documents == []
    listed = cloud.s3.list_objects_v2(Bucket=BUCKET_NAME).get("Contents", [])
    keys = {entry["Key"] for entry in listed}
    assert keys == {documents["a.pdf"].s3_key}

    tags = window.tag_browser  # a click on "All documents": back to the list
    rect = tags.visualItemRect(tags.item(0))
    qtbot.mouseClick(tags.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.pages.currentIndex() == 0
    qtbot.waitUntil(lambda: _names(window) == {"a.pdf"}, timeout=WAIT_MS)


def test_shift_delete_asks_and_deletes_for_good(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = cloud.service.upload(make_file("gone.pdf"))
    browse(qtbot, window, operations)
    asked: list[str] = []

    def answer(*args: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", answer)
    select_rows(window, {"gone.pdf"})
    window.table.setFocus()

    qtbot.keyClick(window.table, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)

    qtbot.waitUntil(lambda: _names(window) == set(), timeout=WAIT_MS)
    assert "for good" in asked[0]
    with pytest.raises(NotFound):
        cloud.service.get(document.document_id)
    assert cloud.service.trash_page().documents == []


def test_the_trash_shows_its_dates_on_one_line(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    """The Deleted and Purged on dates wrapped onto two lines in a narrow column."""
    document = cloud.service.upload(make_file("a.pdf"))
    cloud.service.trash_many([document.document_id])
    browse(qtbot, window, operations)

    table = _open_trash(qtbot, window)

    assert not table.wordWrap()
    metrics = table.fontMetrics()
    for column in (1, 2, 3):
        text = table.item(0, column).text()
        assert text and table.columnWidth(column) >= metrics.horizontalAdvance(text)


def _with_versions(
    cloud: Cloud, make_file: Callable[..., Path], name: str, count: int
) -> tuple[str, str]:
    """A document whose file has ``count`` versions in the bucket: (its id, its key)."""
    document = cloud.service.upload(make_file(name, size=100))
    for number in range(2, count + 1):
        cloud.service.upload_new_version(
            document.document_id, make_file(f"v{number}/{name}", size=100 + number)
        )
    return document.document_id, document.s3_key


def _stored_versions(cloud: Cloud, key: str) -> int:
    """How many versions and delete markers of ``key`` the bucket keeps."""
    page = cloud.s3.list_object_versions(Bucket=BUCKET_NAME, Prefix=key)
    return len([*page.get("Versions", []), *page.get("DeleteMarkers", [])])


def test_deleting_for_good_in_the_window_and_the_trash_leaves_no_old_version(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud.s3.put_bucket_versioning(
        Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"}
    )
    stored = {name: _with_versions(cloud, make_file, name, 3) for name in "abcd"}
    keys = {name: key for name, (_id, key) in stored.items()}
    _kept_id, kept = _with_versions(cloud, make_file, "kept", 2)
    cloud.service.trash_many([stored["c"][0], stored["d"][0]])
    browse(qtbot, window, operations)
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a: QMessageBox.StandardButton.Yes)
    assert all(_stored_versions(cloud, key) == 3 for key in keys.values())

    select_rows(window, {"a", "b"})  # the window's Delete Permanently…
    window.delete_permanently_action.trigger()
    qtbot.waitUntil(lambda: _names(window) == {"kept"}, timeout=WAIT_MS)
    assert [_stored_versions(cloud, keys[name]) for name in "ab"] == [0, 0]

    table = _open_trash(qtbot, window)  # the trash's Delete permanently, then Empty trash
    view = window.trash_view
    _select_trash_rows(table, {"c"})
    with qtbot.waitSignal(view.changed, timeout=WAIT_MS):
        qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    assert _stored_versions(cloud, keys["c"]) == 0
    assert _stored_versions(cloud, keys["d"]) == 3
    with qtbot.waitSignal(view.changed, timeout=WAIT_MS):
        qtbot.mouseClick(view.empty_button, Qt.MouseButton.LeftButton)
    assert _stored_versions(cloud, keys["d"]) == 0
    assert _stored_versions(cloud, kept) == 2
