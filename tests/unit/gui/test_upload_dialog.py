"""The upload dialog: local checks before anything is sent, duplicates found on the worker."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)
from pytestqt.qtbot import QtBot

from dms_desktop.core import blobs as blobs_module
from dms_desktop.core import localfiles as localfiles_module
from dms_desktop.core.blobs import MiB
from dms_desktop.core.errors import DmsError
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.upload_dialog import UploadDialog, split_tags
from dms_desktop.gui.upload_rows import FOLDER, NAME, PROBLEM_COLOR, STATUS, UPLOAD_ANYWAY
from tests.support.hashing import HashedBytes, settled_file
from tests.unit.gui.conftest import Cloud, Transfers

TIMEOUT = 20_000


def _dialog(qtbot: QtBot, operations: Operations, paths: list[Path] | None = None) -> UploadDialog:
    dialog = UploadDialog(operations, ["Invoices", "invoices-2024", "Travel"], paths)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None
    return item


def _checked(qtbot: QtBot, dialog: UploadDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.checking, timeout=TIMEOUT)


def _parts(dialog: UploadDialog) -> tuple[QTableWidget, QLineEdit, QLabel, QPushButton]:
    table = dialog.findChild(QTableWidget, "uploadFileTable")
    tags = dialog.findChild(QLineEdit, "uploadTagsEdit")
    problem = dialog.findChild(QLabel, "uploadProblemLabel")
    button = dialog.findChild(QPushButton, "uploadButton")
    assert table and tags and problem and button
    return table, tags, problem, button


def test_bad_filename_and_bad_tags_block_the_upload(
    qtbot: QtBot,
    operations: Operations,
    make_file: Callable[..., Path],
    reported_errors: list[DmsError],
) -> None:
    bad = make_file("bad\x01name.txt")
    good = make_file("good.txt")
    dialog = _dialog(qtbot, operations, [bad])
    table, tags, problem, button = _parts(dialog)
    assert dialog.objectName() == "uploadDialog"

    assert "control or invisible" in _cell(table, 0, STATUS).text()
    assert _cell(table, 0, STATUS).foreground().color() == PROBLEM_COLOR
    assert problem.isVisible() and "cannot be uploaded" in problem.text()
    assert not button.isEnabled()

    dialog.add_paths([good])
    _checked(qtbot, dialog)
    assert not button.isEnabled()  # the bad one is still there

    table.selectRow(0)
    dialog.remove_selected()
    qtbot.waitUntil(button.isEnabled, timeout=TIMEOUT)
    assert not problem.isVisible()
    assert table.rowCount() == 1 and _cell(table, 0, NAME).text() == "good.txt"

    tags.setText("Invoices, " + "x" * 65)
    assert not button.isEnabled()
    assert problem.isVisible() and problem.text().startswith("Tags:")
    tags.setText("Invoices, 2024, invoices,")  # trailing comma while typing is fine
    assert button.isEnabled()
    assert not problem.isVisible()

    dialog.upload_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    (spec,) = dialog.specs()
    assert (spec.path, spec.tags, spec.folder) == (good, ("Invoices", "2024"), "")
    # The duplicate check's checksum goes with the upload (core.upload_plan).
    assert spec.content is not None
    assert spec.content.checksum == hashlib.sha256(good.read_bytes()).hexdigest()
    assert reported_errors == []


def test_empty_or_missing_files_cannot_be_uploaded(
    qtbot: QtBot, operations: Operations, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, operations)
    table, _tags, _problem, button = _parts(dialog)
    assert table.rowCount() == 0 and not button.isEnabled()
    dialog.add_paths([tmp_path / "gone.pdf"])
    assert "does not exist" in _cell(table, 0, STATUS).text()
    assert not button.isEnabled()
    dialog.accept()  # e.g. Enter: refused while there is a problem
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_duplicates_are_skipped_unless_upload_anyway(
    qtbot: QtBot,
    operations: Operations,
    cloud: Cloud,
    make_file: Callable[..., Path],
) -> None:
    stored = make_file("stored.pdf", 3000)
    cloud.service.upload(stored)  # setup, before the worker uses the service
    copy = make_file("copy of stored.pdf")
    copy.write_bytes(stored.read_bytes())
    fresh = make_file("fresh.pdf", 2000)

    dialog = _dialog(qtbot, operations, [copy, fresh])
    table, _tags, _problem, button = _parts(dialog)
    assert not button.isEnabled()  # still checking
    _checked(qtbot, dialog)
    qtbot.waitUntil(button.isEnabled, timeout=TIMEOUT)

    assert _cell(table, 0, STATUS).text() == "Already stored: skipped"
    assert _cell(table, 0, STATUS).toolTip().startswith("Already stored as stored.pdf")
    assert not table.wordWrap()  # one line per file: a wrapped status was cut off
    assert _cell(table, 1, STATUS).text() == "Ready"
    anyway = _cell(table, 0, UPLOAD_ANYWAY)
    assert anyway.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert anyway.checkState() == Qt.CheckState.Unchecked
    assert not _cell(table, 1, UPLOAD_ANYWAY).flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert "skipped unless" in dialog.summary_label.text()
    assert [spec.path for spec in dialog.specs()] == [fresh]

    anyway.setCheckState(Qt.CheckState.Checked)  # as a click on the checkbox does
    assert "another copy" in _cell(table, 0, STATUS).text()
    assert [spec.path for spec in dialog.specs()] == [copy, fresh]
    dialog.set_upload_anyway(0, False)
    assert [spec.path for spec in dialog.specs()] == [fresh]


def test_only_duplicates_means_nothing_to_upload(
    qtbot: QtBot, operations: Operations, cloud: Cloud, make_file: Callable[..., Path]
) -> None:
    stored = make_file("stored.txt", 100)
    cloud.service.upload(stored)
    dialog = _dialog(qtbot, operations, [stored])
    _checked(qtbot, dialog)
    assert not dialog.upload_button.isEnabled()
    dialog.set_upload_anyway(0, True)
    qtbot.waitUntil(dialog.upload_button.isEnabled, timeout=TIMEOUT)


def test_a_folder_keeps_its_relative_folders(
    qtbot: QtBot, operations: Operations, make_file: Callable[..., Path], tmp_path: Path
) -> None:
    make_file("Invoices/b.txt")
    make_file("Invoices/2024/a.pdf")
    dialog = _dialog(qtbot, operations)
    dialog.add_paths([tmp_path / "files" / "Invoices"])
    dialog.add_paths([tmp_path / "files" / "Invoices"])  # twice: no repeated rows
    table, _tags, _problem, _button = _parts(dialog)
    assert [(_cell(table, r, NAME).text(), _cell(table, r, FOLDER).text()) for r in range(2)] == [
        ("b.txt", "Invoices"),
        ("a.pdf", "Invoices/2024"),
    ]
    assert table.rowCount() == 2
    _checked(qtbot, dialog)
    assert [(spec.path.name, spec.folder) for spec in dialog.specs()] == [
        ("b.txt", "Invoices"),
        ("a.pdf", "Invoices/2024"),
    ]


def test_cancel_sends_nothing_and_ignores_late_results(
    qtbot: QtBot,
    operations: Operations,
    cloud: Cloud,
    make_file: Callable[..., Path],
    reported_errors: list[DmsError],
) -> None:
    path = make_file("a.txt")
    dialog = _dialog(qtbot, operations, [path])
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected
    qtbot.waitUntil(lambda: not operations.busy, timeout=TIMEOUT)
    assert dialog.checking  # the late answer was ignored: the dialog is closed
    assert cloud.service.find_duplicates("0" * 64) == []
    listing = cloud.s3.list_objects_v2(Bucket="dms-documents")
    assert listing.get("KeyCount", 0) == 0
    assert reported_errors == []  # a cancelled check is not an error to report


def test_tag_completion_works_on_the_last_tag(qtbot: QtBot, operations: Operations) -> None:
    dialog = _dialog(qtbot, operations)
    _table, tags, _problem, _button = _parts(dialog)
    completer = tags.completer()
    assert completer.caseSensitivity() == Qt.CaseSensitivity.CaseInsensitive
    assert completer.splitPath("Travel, inv") == ["inv"]
    tags.setText("Travel, inv")
    completer.setCompletionPrefix("inv")
    assert completer.completionCount() == 2
    completer.setCurrentRow(0)
    assert completer.pathFromIndex(completer.currentIndex()) == "Travel, Invoices"
    assert split_tags(" a, ,b ,") == ["a", "b"]


def test_names_that_could_disguise_themselves_are_shown_escaped(
    qtbot: QtBot, operations: Operations, tmp_path: Path
) -> None:
    spoof = tmp_path / "invoice\u202efdp.exe"
    spoof.write_bytes(b"x")
    broken = tmp_path / "two\nlines.txt"
    broken.write_bytes(b"y")

    dialog = _dialog(qtbot, operations, [spoof, broken])
    table, _tags, _problem, button = _parts(dialog)

    assert _cell(table, 0, NAME).text() == "invoice\\u202efdp.exe"
    assert _cell(table, 1, NAME).text() == "two\\nlines.txt"
    assert "\u202e" not in _cell(table, 0, NAME).toolTip()
    assert "U+202E" in _cell(table, 0, STATUS).text()
    assert "\n" not in _cell(table, 1, STATUS).text()
    assert not button.isEnabled()


def test_a_file_uploaded_from_the_dialog_is_hashed_once(
    qtbot: QtBot,
    operations: Operations,
    transfers: Transfers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed = HashedBytes()
    monkeypatch.setattr(localfiles_module, "hashlib", hashed)
    monkeypatch.setattr(blobs_module, "hashlib", hashed)
    source = settled_file(tmp_path / "scan.pdf", os.urandom(6 * MiB))  # a multipart upload
    dialog = _dialog(qtbot, operations, [source])
    _checked(qtbot, dialog)
    dialog.upload_button.click()
    (spec,) = dialog.specs()

    with qtbot.waitSignal(transfers.queue.upload_finished, timeout=TIMEOUT) as finished:
        transfers.queue.upload(spec)

    assert finished.args[0].checksum == hashlib.sha256(source.read_bytes()).hexdigest()
    assert hashed.count == source.stat().st_size  # the duplicate check's hash only


def test_a_quoted_tag_with_a_comma_is_one_tag(qtbot: QtBot, operations: Operations) -> None:
    dialog = _dialog(qtbot, operations)
    _table, tags, _problem, _button = _parts(dialog)
    tags.setFocus()
    qtbot.keyClicks(tags, '"Smith, John", letters')
    assert dialog.tags == ("Smith, John", "letters")


def test_enter_after_adding_files_and_typing_tags_uploads(
    qtbot: QtBot,
    operations: Operations,
    make_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Enter in the tags field reopened the file chooser: "Add files…" had had the focus, and
    a dialog's button that had the focus answers Enter."""
    path = make_file("notes.txt")
    chooser_opened: list[object] = []

    def choose(*args: object, **kwargs: object) -> tuple[list[str], str]:
        chooser_opened.append(args)
        return [str(path)], ""

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileNames", choose)
    dialog = _dialog(qtbot, operations)
    _table, tags, _problem, button = _parts(dialog)
    add_files = dialog.findChild(QPushButton, "addUploadFilesButton")
    add_files.setFocus()
    qtbot.keyClick(add_files, Qt.Key.Key_Space)
    assert len(chooser_opened) == 1
    qtbot.waitUntil(button.isEnabled, timeout=TIMEOUT)  # the duplicate check is done

    tags.setFocus()
    qtbot.keyClicks(tags, "notes")
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT):
        qtbot.keyClick(tags, Qt.Key.Key_Return)
    assert len(chooser_opened) == 1
    assert [spec.path for spec in dialog.specs()] == [path]


def test_the_summary_and_the_expiry_say_counts_in_english_grammar(
    qtbot: QtBot, operations: Operations, make_file: Callable[..., Path], tmp_path: Path
) -> None:
    def summary_is(text: str) -> Callable[[], bool]:
        return lambda: dialog.summary_label.text() == text

    dialog = _dialog(qtbot, operations, [make_file("one.txt", 10)])
    assert dialog.summary_label.text() == "1 file, 10 bytes. Checking 1 for duplicates…"
    qtbot.waitUntil(summary_is("1 file, 10 bytes."), timeout=TIMEOUT)
    dialog.add_paths([make_file("two.txt", 10), tmp_path / "gone.pdf"])
    qtbot.waitUntil(summary_is("3 files, 20 bytes."), timeout=TIMEOUT)
    assert dialog.problem_label.text().startswith("1 file cannot be uploaded")

    dialog.expires_check.setChecked(True)
    assert dialog.expires_days.text() == "7 days"
    dialog.expires_days.setValue(1)
    assert dialog.expires_days.text() == "1 day"
