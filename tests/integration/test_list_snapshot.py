"""A returning user sees their list the moment the window opens: the first page as they last saw
it, greyed, until the session resumes and the live page replaces it. Only for a remembered
session; gone at sign-out, at `dms logout` and when the remembered session is."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot

from dms_desktop.connect import Backend
from dms_desktop.core.identity import KEYRING_SERVICE, SignedIn
from dms_desktop.core.list_snapshot import ListSnapshots
from dms_desktop.gui import session
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.operations import OperationContext
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server

USERNAME, PASSWORD = "snapshotuser", "snapshot-password"
PROFILE = "local"


@pytest.fixture(scope="module", autouse=True)
def snapshot_user(shared_sandbox: SandboxHome) -> tuple[str, str]:
    """A user of their own with three documents."""
    add_user(shared_sandbox.info, USERNAME, PASSWORD)
    folder = shared_sandbox.home / "snapshot-user-files"
    folder.mkdir()
    for number in range(3):
        (folder / f"kept-{number}.txt").write_text(f"kept {number}\n")
    _upload_as_user(shared_sandbox, *sorted(folder.iterdir()))
    return USERNAME, PASSWORD


def _upload_as_user(sandbox: SandboxHome, *files: Path) -> None:
    from dms_desktop.connect import open_backend, open_service, sign_in

    backend = open_backend(sandbox.paths)
    service = open_service(backend, sign_in(backend, USERNAME, PASSWORD))
    for path in files:
        service.upload(path)


@pytest.fixture
def apps(shared_sandbox: SandboxHome) -> Iterator[list[DesktopApp]]:
    started: list[DesktopApp] = []
    yield started
    for app in started:
        app.window.confirm_quit_without_asking()
        app.window.close()
        app.shutdown()
    ListSnapshots.of(shared_sandbox.paths).forget(PROFILE)  # the shared home stays clean


def _close(app: DesktopApp) -> None:
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def _names(app: DesktopApp) -> list[str]:
    return [document.filename for document in app.window.model.documents()]


def _first_run(qtbot: QtBot, sandbox: SandboxHome, apps: list[DesktopApp]) -> list[str]:
    """Sign in with "remember me" (on by default), see the list, quit; the names seen."""
    app = start_signed_in(qtbot, sandbox.home, USERNAME, PASSWORD, page_size=100)
    seen = _names(app)
    _close(app)
    return seen


def test_a_returning_user_sees_the_list_at_once_then_the_live_one(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    apps: list[DesktopApp],
    tmp_path: Path,
) -> None:
    seen = _first_run(qtbot, shared_sandbox, apps)
    assert sorted(seen) == ["kept-0.txt", "kept-1.txt", "kept-2.txt"]
    added = tmp_path / "added-since.txt"
    added.write_text("new\n")
    _upload_as_user(shared_sandbox, added)  # e.g. from another computer

    app = DesktopApp(shared_sandbox.paths)
    apps.append(app)
    qtbot.addWidget(app.window)
    app.start()

    # Before the worker has done anything: the list as last seen, greyed, and said to be old.
    model, table = app.window.model, app.window.table
    assert _names(app) == seen
    assert not table.isEnabled()
    assert "not yet updated" in model.status_text()

    qtbot.waitUntil(lambda: app.user is not None and not model.is_loading, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "added-since.txt" in _names(app), timeout=WAIT_MS)
    assert sorted(_names(app)) == sorted([*seen, "added-since.txt"])
    assert table.isEnabled()
    assert "not yet updated" not in model.status_text()


def test_without_remember_me_no_list_is_kept(
    qtbot: QtBot, shared_sandbox: SandboxHome, apps: list[DesktopApp]
) -> None:
    app = start_signed_in(qtbot, shared_sandbox.home, USERNAME, PASSWORD, remember=False)
    apps.append(app)

    assert app.window.model.rowCount() > 0
    assert ListSnapshots.of(shared_sandbox.paths).load(PROFILE) is None


def test_sign_out_deletes_the_kept_list(
    qtbot: QtBot, shared_sandbox: SandboxHome, apps: list[DesktopApp]
) -> None:
    app = start_signed_in(qtbot, shared_sandbox.home, USERNAME, PASSWORD)
    apps.append(app)
    snapshots = ListSnapshots.of(shared_sandbox.paths)
    assert snapshots.load(PROFILE) is not None

    app.sign_out()

    qtbot.waitUntil(lambda: app.sign_in_dialog is not None, timeout=WAIT_MS)
    assert snapshots.load(PROFILE) is None


def test_cli_logout_deletes_the_kept_list(
    qtbot: QtBot, shared_sandbox: SandboxHome, apps: list[DesktopApp]
) -> None:
    _first_run(qtbot, shared_sandbox, apps)

    assert shared_sandbox.dms("logout").code == 0

    assert ListSnapshots.of(shared_sandbox.paths).load(PROFILE) is None


def test_a_kept_list_whose_session_is_gone_is_cleared_and_sign_in_asked(
    qtbot: QtBot, shared_sandbox: SandboxHome, apps: list[DesktopApp]
) -> None:
    _first_run(qtbot, shared_sandbox, apps)
    keyring.delete_password(KEYRING_SERVICE, PROFILE)  # e.g. the keyring was reset

    app = DesktopApp(shared_sandbox.paths)
    apps.append(app)
    qtbot.addWidget(app.window)
    app.start()
    assert app.window.model.rowCount() > 0  # shown greyed while the worker finds out

    qtbot.waitUntil(lambda: app.sign_in_dialog is not None, timeout=WAIT_MS)
    assert app.window.model.rowCount() == 0
    assert ListSnapshots.of(shared_sandbox.paths).load(PROFILE) is None
    app.sign_in_dialog.reject()


def test_a_returning_user_is_signed_in_while_the_window_is_still_busy(
    qtbot: QtBot,
    shared_sandbox: SandboxHome,
    apps: list[DesktopApp],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _first_run(qtbot, shared_sandbox, apps)
    resumed = threading.Event()
    real_resume = session.resume

    def resume_and_tell(ctx: OperationContext, backend: Backend) -> object:
        user = real_resume(ctx, backend)
        if isinstance(user, SignedIn):
            resumed.set()
        return user

    monkeypatch.setattr(session, "resume", resume_and_tell)
    app = DesktopApp(shared_sandbox.paths)
    apps.append(app)
    qtbot.addWidget(app.window)
    app.start()

    # The window's thread handles no event here, as during its first paint (13-40 ms at a real
    # start): the fast lane still goes from connecting to signed in, without waiting for it.
    assert resumed.wait(WAIT_MS / 1000), "the lane waited for the window to resume"
    qtbot.waitUntil(
        lambda: app.user is not None and not app.window.model.is_loading, timeout=WAIT_MS
    )
    assert set(seen) <= set(_names(app))  # the live list
