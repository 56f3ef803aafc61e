"""Editing the tags of several selected rows at once: the dialog shows the tags they all share
and the ones only some have, the change reaches every row and the tag counts, and a document
changed meanwhile is reported once, not overwritten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.core.listing import ListQuery
from dms_desktop.gui.bulk_tag_dialog import BulkTagDialog
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.operations import Operations

from .conftest import Cloud, browse, select_rows

WAIT_MS = 10_000


def _tags_of(window: MainWindow) -> dict[str, tuple[str, ...]]:
    return {document.filename: document.tags for document in window.model.documents()}


def _open_dialog(window: MainWindow) -> BulkTagDialog:
    window.edit_tags_action.trigger()
    dialog = window.lifecycle.bulk_tag_dialog
    assert isinstance(dialog, BulkTagDialog) and dialog.isVisible()
    return dialog


def test_tags_edited_with_several_rows_selected_change_all_of_them(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    cloud.service.upload(make_file("a.pdf"), tags=["Invoice", "2024"])
    cloud.service.upload(make_file("b.pdf"), tags=["Invoice"])
    cloud.service.upload(make_file("c.pdf"), tags=["travel"])
    browse(qtbot, window, operations, 3)
    select_rows(window, {"a.pdf", "b.pdf", "c.pdf"})

    dialog = _open_dialog(window)

    assert dialog.shared_label.text() == "(none)"
    assert dialog.partial_label.text() == "2024 (1), Invoice (2), travel (1)"
    dialog.add_edit.setText("Final")
    dialog.remove_edit.setText("invoice")
    qtbot.mouseClick(dialog.findChild(QPushButton, "bulkApplyButton"), Qt.MouseButton.LeftButton)

    qtbot.waitUntil(
        lambda: (
            _tags_of(window)
            == {"a.pdf": ("2024", "Final"), "b.pdf": ("Final",), "c.pdf": ("travel", "Final")}
        ),
        timeout=WAIT_MS,
    )
    assert window.tag_browser.counts() == {"2024": 1, "Final": 3, "travel": 1}
    assert {
        doc.filename: doc.tags for doc in cloud.service.iter_documents(ListQuery())
    } == _tags_of(window)


def test_a_document_changed_meanwhile_is_reported_and_keeps_its_change(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    first = cloud.service.upload(make_file("first.pdf"), tags=["x"])
    other = cloud.service.upload(make_file("other.pdf"), tags=["x"])
    browse(qtbot, window, operations, 2)
    select_rows(window, {"first.pdf", "other.pdf"})
    dialog = _open_dialog(window)
    assert dialog.shared_label.text() == "x"
    edited: list[bool] = []

    def edit_elsewhere(**_: Any) -> None:  # another app instance, between read and write
        if not edited:
            edited.append(True)
            cloud.service.rename(other.document_id, "renamed.pdf")

    cloud.dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", edit_elsewhere)
    dialog.add_edit.setText("y")
    qtbot.mouseClick(dialog.findChild(QPushButton, "bulkApplyButton"), Qt.MouseButton.LeftButton)

    bar = window._message_bar
    qtbot.waitUntil(lambda: bar.is_error and bar.isVisible(), timeout=WAIT_MS)
    assert "1 document could not be retagged" in bar.text
    assert "changed meanwhile" in bar.text
    assert cloud.service.get(first.document_id).tags == ("x", "y")
    assert cloud.service.get(other.document_id).tags == ("x",)
    assert cloud.service.get(other.document_id).filename == "renamed.pdf"


def test_empty_edits_are_refused_in_the_dialog(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    cloud.service.upload(make_file("one.pdf"))
    browse(qtbot, window, operations, 1)
    select_rows(window, {"one.pdf"})
    dialog = _open_dialog(window)

    qtbot.mouseClick(dialog.findChild(QPushButton, "bulkApplyButton"), Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    assert "add or to remove" in dialog.problem_label.text()
    dialog.reject()


def test_a_large_selection_shows_its_progress_with_a_cancel_button(
    qtbot: QtBot,
    window: MainWindow,
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    names = {f"bulk-{n:02d}.pdf" for n in range(30)}
    for name in sorted(names):
        cloud.service.upload(make_file(name))
    browse(qtbot, window, operations, 30)
    select_rows(window, names)
    dialog = _open_dialog(window)
    dialog.add_edit.setText("batch")
    bar = window._message_bar

    qtbot.mouseClick(dialog.findChild(QPushButton, "bulkApplyButton"), Qt.MouseButton.LeftButton)

    assert bar.text == "Changing the tags of 30 documents…"
    assert bar.findChild(QPushButton, "messageActionButton").text() == "Cancel"
    qtbot.waitUntil(lambda: window.tag_browser.counts() == {"batch": 30}, timeout=WAIT_MS)
    assert not bar.isVisible()
    assert all(tags == ("batch",) for tags in _tags_of(window).values())
