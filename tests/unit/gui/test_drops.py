"""Dropping files and folders on the window; everything else is explained, not ignored."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from dms_desktop.gui.drops import UNSUPPORTED_DROP_MESSAGE, DropHandler, paths_from_mime


def _mime(urls: list[str] | None = None, text: str | None = None) -> QMimeData:
    mime = QMimeData()
    if urls is not None:
        mime.setUrls([QUrl(url) for url in urls])
    if text is not None:
        mime.setText(text)
    return mime


def test_file_urls_become_paths(tmp_path: Path) -> None:
    first = tmp_path / "a report.pdf"
    second = tmp_path / "b.txt"
    first.write_text("a")
    second.write_text("b")
    urls = [QUrl.fromLocalFile(str(p)).toString() for p in (first, second, first)]
    assert paths_from_mime(_mime(urls)) == [first, second]


def test_a_folder_is_a_path(tmp_path: Path) -> None:
    folder = tmp_path / "Invoices"
    folder.mkdir()
    assert paths_from_mime(_mime([QUrl.fromLocalFile(str(folder)).toString()])) == [folder]


def test_text_and_web_links_are_not_files(tmp_path: Path) -> None:
    assert paths_from_mime(_mime(text="some words")) is None
    assert paths_from_mime(_mime(["https://example.com/report.pdf"])) is None
    local = tmp_path / "x.txt"
    local.write_text("x")
    mixed = _mime(["https://example.com/a", QUrl.fromLocalFile(str(local)).toString()])
    assert paths_from_mime(mixed) == [local]


def _drop(widget: QWidget, mime: QMimeData) -> tuple[bool, bool]:
    """Drag ``mime`` onto ``widget`` and drop it; whether the enter and the drop were accepted."""
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(  # a QPoint: PySide6 < 6.12 takes no QPointF here
        QPoint(5, 5), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(
        QPointF(5, 5), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_drop_handler_reports_files(qtbot: QtBot, tmp_path: Path) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    handler = DropHandler(window)
    handler.install(window)
    assert window.acceptDrops()
    path = tmp_path / "notes.md"
    path.write_text("# notes")
    mime = _mime([QUrl.fromLocalFile(str(path)).toString()])
    with (
        qtbot.assertNotEmitted(handler.unsupported_drop),
        qtbot.waitSignal(handler.files_dropped, timeout=1000) as blocker,
    ):
        accepted = _drop(window, mime)
    assert blocker.args == [[path]]
    assert accepted == (True, True)


def test_drop_handler_explains_text_drops(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    handler = DropHandler(window)
    handler.install(window)
    with (
        qtbot.assertNotEmitted(handler.files_dropped),
        qtbot.waitSignal(handler.unsupported_drop, timeout=1000) as blocker,
    ):
        _drop(window, _mime(text="https://example.com"))
    assert blocker.args == [UNSUPPORTED_DROP_MESSAGE]
    with qtbot.waitSignal(handler.unsupported_drop, timeout=1000):
        _drop(window, _mime(["https://example.com/file.pdf"]))
