"""The documents acted on are exactly the selected rows, in list order, whatever the shape of the
selection (several ranges, rows gone since)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from dms_desktop.core.list_snapshot import ListSnapshot
from dms_desktop.core.paths import AppPaths
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.document_model import DocumentTableModel
from tests.support.documents import numbered_document

ROWS = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows


def _window_with_rows(qtbot: QtBot, tmp_path: Path, count: int) -> DesktopApp:
    desktop = DesktopApp(AppPaths.resolve(tmp_path / "home"))
    qtbot.addWidget(desktop.window)
    documents = [numbered_document(number) for number in range(count)]
    desktop.window.show_snapshot(ListSnapshot(datetime.now(UTC), documents))
    desktop.window.set_signed_in(True)
    return desktop


def _select(desktop: DesktopApp, first: int, last: int) -> None:
    model = desktop.window.model
    selection = QItemSelection(model.index(first, 0), model.index(last, 0))
    desktop.window.table.selectionModel().select(selection, ROWS)


def test_several_ranges_give_their_documents_in_list_order(qtbot: QtBot, tmp_path: Path) -> None:
    desktop = _window_with_rows(qtbot, tmp_path, 10)
    _select(desktop, 6, 7)
    _select(desktop, 1, 2)
    _select(desktop, 2, 3)  # overlapping: each row once

    names = [document.filename for document in desktop.window.selected_documents()]

    assert names == ["file 1.txt", "file 2.txt", "file 3.txt", "file 6.txt", "file 7.txt"]
    assert desktop.window.delete_action.isEnabled()
    assert not desktop.window.open_action.isEnabled()  # one document at a time
    desktop.shutdown()


def test_removed_rows_are_no_longer_selected(qtbot: QtBot, tmp_path: Path) -> None:
    desktop = _window_with_rows(qtbot, tmp_path, 5)
    _select(desktop, 3, 4)

    desktop.window.model.remove_documents([numbered_document(4).document_id])

    names = [document.filename for document in desktop.window.selected_documents()]
    assert names == ["file 3.txt"]
    desktop.shutdown()


def test_painting_the_column_headers_does_not_walk_the_selected_rows(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # To draw wholly selected columns, a header sharing the table's selection asks the model
    # about every selected row, column by column, on each paint (with or without highlighted
    # sections): with 1,000 of 6,000 rows selected, a third of the 60 ms the window froze after
    # the selection. Rows are selected, never columns.
    calls = 0
    row_count = DocumentTableModel.rowCount

    def counted_row_count(model: DocumentTableModel, *args: Any) -> int:
        nonlocal calls
        calls += 1
        return row_count(model, *args)

    # Before the model is made: the binding looks up a model's Python methods once.
    monkeypatch.setattr(DocumentTableModel, "rowCount", counted_row_count)
    desktop = _window_with_rows(qtbot, tmp_path, 3000)
    with qtbot.waitExposed(desktop.window):  # a context manager: it waits on leaving
        desktop.window.show()
    _select(desktop, 0, 999)
    QApplication.processEvents()
    calls = 0

    desktop.window.table.horizontalHeader().viewport().repaint()

    assert calls < 100
    desktop.shutdown()
