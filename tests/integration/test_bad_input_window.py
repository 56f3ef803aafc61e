"""Bad input and integrity through the window (DesktopApp on a real sandbox), issue 6.

The upload dialog shows each problem on its row before anything is sent; a download the
window cannot verify is reported in the message bar and never replaces the user's file.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.upload_dialog import UploadDialog
from dms_desktop.gui.upload_rows import NAME, STATUS
from dms_desktop.sandbox import add_user
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome
from tests.support.nothing_lost_cases import (
    CHANGED_BEHIND_BACK,
    CONTROL_NAME,
    EMOJI_NAME,
    EMPTY_FILE,
    EXISTING_TARGET,
    NFD_NAME,
    RESERVED_NAME,
    RTL_NAME,
    SYMLINK_LOOPS,
    UNREADABLE_FILE,
    case,
)
from tests.support.unreadable import unreadable_file
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def bad_input_user(shared_sandbox: SandboxHome) -> tuple[str, str]:
    username, password = "badinputuser", "bad-input-password"
    add_user(shared_sandbox.info, username, password)
    return username, password


@pytest.fixture
def desktop(
    qtbot: QtBot, shared_sandbox: SandboxHome, bad_input_user: tuple[str, str]
) -> Iterator[DesktopApp]:
    app = start_signed_in(qtbot, shared_sandbox.home, *bad_input_user, page_size=100)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def names(desktop: DesktopApp) -> list[str]:
    return [document.filename for document in desktop.window.model.documents()]


def open_dialog(qtbot: QtBot, desktop: DesktopApp) -> UploadDialog:
    desktop.window.uploads.open_dialog([])
    qtbot.waitUntil(lambda: desktop.window.uploads.dialog is not None, timeout=WAIT_MS)
    dialog = desktop.window.uploads.dialog
    assert dialog is not None
    return dialog


def statuses(dialog: UploadDialog) -> dict[str, str]:
    table = dialog.findChild(QTableWidget, "uploadFileTable")
    return {
        table.item(row, NAME).text(): table.item(row, STATUS).text()
        for row in range(table.rowCount())
    }


@case(NFD_NAME)
@case(EMOJI_NAME)
@case(RTL_NAME)
@case(RESERVED_NAME)
@case(CONTROL_NAME)
@case(UNREADABLE_FILE)
@case(EMPTY_FILE)
@case(SYMLINK_LOOPS)
def test_the_upload_dialog_shows_each_problem_and_uploads_the_rest(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, desktop)
    with unreadable_file("locked-window.pdf") as locked:
        dialog.add_paths([locked])  # the check runs on the GUI thread, now as that user
        unreadable_status = statuses(dialog)[locked.name]
    assert "cannot be read (permission denied)" in unreadable_status

    folder = tmp_path / "Window Upload"
    (folder / "sub").mkdir(parents=True)
    good_names = [
        unicodedata.normalize("NFD", "Résumé window.pdf"),
        "🎉 window 👩‍👩‍👧.txt",
        "تقرير window.pdf",
        "CON",
        "empty-window.txt",
    ]
    for name in good_names:
        (folder / name).write_bytes(b"" if name.startswith("empty") else os.urandom(300))
    (folder / "sub" / "loop").symlink_to(folder)
    bell = tmp_path / "bell\x07window.txt"
    bell.write_text("bell")
    dialog.add_paths([folder, bell])
    qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT_MS)

    shown = statuses(dialog)
    assert "U+0007" in shown["bell\\x07window.txt"]  # the name shown escaped, not rung
    button = dialog.findChild(QPushButton, "uploadButton")
    assert not button.isEnabled()  # nothing goes while a row has a problem
    assert len(shown) == len(good_names) + 2  # the loop added no rows

    table = dialog.findChild(QTableWidget, "uploadFileTable")
    for row in reversed(range(table.rowCount())):
        if table.item(row, NAME).text() in {"bell\\x07window.txt", locked.name}:
            table.selectRow(row)
            dialog.remove_selected()
    qtbot.waitUntil(button.isEnabled, timeout=WAIT_MS)
    button.click()

    expected = {unicodedata.normalize("NFC", name) for name in good_names}
    qtbot.waitUntil(lambda: expected <= set(names(desktop)), timeout=WAIT_MS)
    sizes = {doc.filename: doc.size for doc in desktop.window.model.documents()}
    assert sizes["empty-window.txt"] == 0
    assert not {bell.name, locked.name} & set(names(desktop))


def _upload_one(desktop: DesktopApp, path: Path) -> str:
    from dms_desktop.connect import open_backend, open_service, sign_in

    backend = open_backend(desktop.paths)
    service = open_service(backend, sign_in(backend, "badinputuser", "bad-input-password"))
    return service.upload(path).document_id


def _select(qtbot: QtBot, desktop: DesktopApp, document_ids: list[str]) -> None:
    window = desktop.window
    window.refresh_action.trigger()
    qtbot.waitUntil(
        lambda: set(document_ids) <= {d.document_id for d in window.model.documents()},
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: not window.model.is_loading, timeout=WAIT_MS)
    window.table.clearSelection()
    rows = [
        number
        for number, document in enumerate(window.model.documents())
        if document.document_id in document_ids
    ]
    selection = window.table.selectionModel()
    for row in rows:
        selection.select(
            window.model.index(row, 0),
            selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
        )


@case(CHANGED_BEHIND_BACK)
def test_a_download_of_a_changed_body_is_reported_and_keeps_the_users_file(
    qtbot: QtBot,
    desktop: DesktopApp,
    shared_sandbox: SandboxHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "window-ledger.csv"
    data = os.urandom(50_000)
    source.write_bytes(data)
    document_id = _upload_one(desktop, source)
    _select(qtbot, desktop, [document_id])
    chosen = next(d for d in desktop.window.model.documents() if d.document_id == document_id)
    sandbox_client(shared_sandbox.info.endpoint_url, "s3", None).put_object(
        Bucket=shared_sandbox.info.bucket, Key=chosen.s3_key, Body=data[::-1]
    )
    folder = tmp_path / "downloads"
    folder.mkdir()
    mine = folder / "window-ledger.csv"
    mine.write_text("the user's own copy")
    # The save dialog asked about replacing; the user said yes.
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *args, **kwargs: (str(mine), "")
    )

    with qtbot.waitSignal(desktop.transfers.transfer_failed, timeout=WAIT_MS):
        desktop.window.download_action.trigger()

    qtbot.waitUntil(desktop.message_bar.isVisible, timeout=WAIT_MS)
    assert "does not match its checksum" in desktop.message_bar.text
    assert "Traceback" not in desktop.message_bar.text
    assert mine.read_text() == "the user's own copy"
    assert [path.name for path in folder.iterdir()] == ["window-ledger.csv"]


@case(EXISTING_TARGET)
def test_downloading_into_a_folder_asks_before_replacing_and_no_keeps_the_file(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = []
    for name in ("window-keep.txt", "window-new.txt"):
        path = tmp_path / name
        path.write_text(f"stored {name}")
        ids.append(_upload_one(desktop, path))
    _select(qtbot, desktop, ids)
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "window-keep.txt").write_text("my version")
    asked: list[str] = []

    def answer_no(*args: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer_no)
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *args, **kwargs: str(folder)
    )

    with qtbot.waitSignal(desktop.transfers.download_finished, timeout=WAIT_MS):
        desktop.window.download_action.trigger()

    assert asked and "window-keep.txt" in asked[0]
    assert (folder / "window-keep.txt").read_text() == "my version"
    assert (folder / "window-new.txt").read_text() == "stored window-new.txt"
    assert sorted(path.name for path in folder.iterdir()) == ["window-keep.txt", "window-new.txt"]
