"""Faults while the window is open, on a real sandbox (issue 6, "Faults"): the backend going
away, reads timing out, another instance deleting what this one is about to download."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.retries.standard import ExponentialBackoff
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from dms_desktop.connect import open_backend, open_service, sign_in
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.transfer_items import TransferState
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.faults import FaultInjector, assert_nothing_lost, injected_faults
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server

PASSWORD = "window-fault-password"
_users = itertools.count(1)


@pytest.fixture
def faults() -> Iterator[FaultInjector]:
    with injected_faults() as injector:
        yield injector


@pytest.fixture(autouse=True)
def no_backoff_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The number of attempts matters here, not botocore's waits between them."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def username(shared_sandbox: SandboxHome, tmp_path: Path) -> str:
    """A user of their own with seven small documents."""
    name = f"winfault{next(_users)}-{tmp_path.name[-10:].lower()}"
    add_user(shared_sandbox.info, name, PASSWORD)
    backend = open_backend(shared_sandbox.paths)
    service = open_service(backend, sign_in(backend, name, PASSWORD))
    for number in range(7):
        path = tmp_path / f"row-{number}.txt"
        path.write_text(f"row {number}\n")
        service.upload(path)
    return name


@pytest.fixture
def desktop(qtbot: QtBot, shared_sandbox: SandboxHome, username: str) -> Iterator[DesktopApp]:
    app = start_signed_in(qtbot, shared_sandbox.home, username, PASSWORD, page_size=100)
    qtbot.waitUntil(lambda: app.window.model.rowCount() == 7, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not app.operations.busy, timeout=WAIT_MS)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def _names(app: DesktopApp) -> list[str]:
    return [document.filename for document in app.window.model.documents()]


@pytest.mark.nothing_lost(
    "fault",
    "the backend goes away, or every read times out, while the window is open",
    "the message bar says it cannot be reached; the loaded rows stay; Refresh recovers",
)
@pytest.mark.parametrize("fault", ["gone", "timeout"])
def test_backend_away_while_the_window_is_open(
    qtbot: QtBot,
    desktop: DesktopApp,
    faults: FaultInjector,
    shared_sandbox: SandboxHome,
    fault: str,
) -> None:
    loaded = _names(desktop)
    bar = desktop.message_bar
    if fault == "gone":
        faults.go_away()
    else:
        faults.fail("dynamodb.Query", "timeout", times=10**6)

    desktop.window.refresh_action.trigger()

    qtbot.waitUntil(lambda: bar.isVisible() and bar.is_error, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)
    assert "cannot be reached" in bar.text
    assert "Traceback" not in bar.text
    assert _names(desktop) == loaded  # what was loaded stays on screen

    faults.clear()  # the backend is back
    desktop.window.refresh_action.trigger()

    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not desktop.window.model.is_loading, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not desktop.operations.busy, timeout=WAIT_MS)
    assert sorted(_names(desktop)) == sorted(loaded)
    assert desktop.user is not None
    assert_nothing_lost(shared_sandbox.info, desktop.user.user_id)


@pytest.mark.nothing_lost(
    "fault",
    "a document deleted by another instance before the window downloads it",
    "the transfer fails with 'no document with id …' in the message bar; nothing written",
)
def test_download_of_a_document_another_instance_deleted(
    qtbot: QtBot,
    desktop: DesktopApp,
    shared_sandbox: SandboxHome,
    username: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = desktop.window.model.document_at(0)
    backend = open_backend(shared_sandbox.paths)
    other_instance = open_service(backend, sign_in(backend, username, PASSWORD))
    other_instance.delete(document.document_id)
    target = tmp_path / "out" / document.filename
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(target), ""))

    desktop.window.table.selectRow(0)
    desktop.window.download_action.trigger()

    transfers = desktop.transfers
    qtbot.waitUntil(
        lambda: bool(transfers.transfers()) and transfers.transfers()[0].state.finished,
        timeout=WAIT_MS,
    )
    transfer = transfers.transfers()[0]
    assert transfer.state is TransferState.FAILED
    assert "no document with id" in transfer.error
    qtbot.waitUntil(lambda: desktop.message_bar.isVisible(), timeout=WAIT_MS)
    assert document.filename in desktop.message_bar.text
    assert list(target.parent.iterdir()) == []
    assert desktop.user is not None
    assert_nothing_lost(shared_sandbox.info, desktop.user.user_id, target.parent)
