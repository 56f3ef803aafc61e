"""Download and Delete Permanently of the selected documents (gui.document_actions): the questions
they ask and what they report say a count in English grammar ("1 file already exists", "2 files
already exist"), from the translated texts' English plural forms (docs/translating.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.operations import Operations

from .conftest import Cloud, Transfers, browse, select_rows

WAIT_MS = 10_000


def test_the_replace_question_counts_the_files_that_exist_already(
    qtbot: QtBot,
    window: MainWindow,
    operations: Operations,
    transfers: Transfers,
    cloud: Cloud,
    make_file: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("a.txt", "b.txt"):
        cloud.service.upload(make_file(name))
    browse(qtbot, window, operations, rows=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("kept", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(out))
    asked: list[str] = []

    def cancel(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    select_rows(window, {"a.txt", "b.txt"})

    window.download_action.trigger()
    (out / "b.txt").write_text("kept", encoding="utf-8")
    window.download_action.trigger()

    assert asked[0] == (
        f"1 file already exists in {out}: a.txt.\n"
        "Replace them? (No keeps them and skips those documents.)"
    )
    assert asked[1].startswith(f"2 files already exist in {out}: ")
    assert transfers.queue.transfers() == []  # Cancel: nothing downloaded
    assert (out / "a.txt").read_text(encoding="utf-8") == "kept"


def test_delete_permanently_asks_and_reports_one_document_in_the_singular(
    qtbot: QtBot,
    window: MainWindow,
    operations: Operations,
    cloud: Cloud,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud.service.upload(make_file("gone.txt"))
    browse(qtbot, window, operations, rows=1)
    asked: list[str] = []

    def confirm(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", confirm)
    select_rows(window, {"gone.txt"})

    window.delete_permanently_action.trigger()

    qtbot.waitUntil(lambda: window.model.rowCount() == 0, timeout=WAIT_MS)
    assert asked[0].startswith("Delete 1 document for good? This cannot be undone")
    assert asked[0].endswith("\n\n• gone.txt")
    assert window.statusBar().currentMessage() == "Deleted 1 document"
