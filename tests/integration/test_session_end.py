"""When the session ends: shown by the window and the CLI, kept by "remember me", enforced after.

The sandbox's refresh tokens never expire, so the app enforces the end itself (as Cognito does on
AWS): these tests move the sign-in clock instead of waiting 30 days.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.core import auth
from dms_desktop.core.formatting import human_time
from dms_desktop.core.identity import DEFAULT_SESSION_DAYS
from dms_desktop.gui.app import DesktopApp
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server

WAIT_MS = 30_000


class MovableClock:
    def __init__(self) -> None:
        self.offset = timedelta()
        self._real = auth.clock

    def __call__(self) -> datetime:
        return self._real() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    moved = MovableClock()
    monkeypatch.setattr(auth, "clock", moved)
    return moved


def _session_ends(sandbox: SandboxHome) -> datetime | None:
    result = sandbox.dms("whoami", "--json")
    assert result.code == 0, result.err
    ends = json.loads(result.out)["sessionEnds"]
    return datetime.fromisoformat(ends) if ends else None


def test_the_cli_shows_when_the_session_ends_and_remembers_it(
    fresh_sandbox: SandboxHome, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", "demo-password")
    before = auth.clock()
    assert fresh_sandbox.dms("login", "-u", "demo").code == 0
    monkeypatch.delenv("DMS_PASSWORD")

    ends = _session_ends(fresh_sandbox)  # the remembered session, resumed
    assert ends is not None
    assert before + timedelta(days=DEFAULT_SESSION_DAYS) <= ends
    assert ends <= auth.clock() + timedelta(days=DEFAULT_SESSION_DAYS)
    whoami = fresh_sandbox.dms("whoami")
    assert f"session ends {human_time(ends)}" in whoami.out

    clock.offset = timedelta(days=DEFAULT_SESSION_DAYS - 1)  # a later start: the same end
    assert _session_ends(fresh_sandbox) == ends

    clock.offset = timedelta(days=DEFAULT_SESSION_DAYS, minutes=1)
    expired = fresh_sandbox.dms("whoami")
    assert expired.code == 6
    assert expired.err.strip() == "dms: The remembered session has expired; sign in again."


def _close(app: DesktopApp) -> None:
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


@pytest.fixture
def apps() -> Iterator[list[DesktopApp]]:
    started: list[DesktopApp] = []
    yield started
    for app in started:
        _close(app)


def _start(qtbot: QtBot, sandbox: SandboxHome, apps: list[DesktopApp]) -> DesktopApp:
    app = DesktopApp(sandbox.paths)
    apps.append(app)
    qtbot.addWidget(app.window)
    app.start()
    qtbot.waitUntil(lambda: app.user is not None or app.sign_in_dialog is not None, timeout=WAIT_MS)
    return app


def test_the_window_shows_when_the_session_ends_until_it_has_ended(
    qtbot: QtBot, fresh_sandbox: SandboxHome, clock: MovableClock, apps: list[DesktopApp]
) -> None:
    first = _start(qtbot, fresh_sandbox, apps)
    dialog = first.sign_in_dialog
    assert dialog is not None
    dialog.findChild(QLineEdit, "passwordEdit").setText("demo-password")
    dialog.findChild(QPushButton, "signInButton").click()  # "remember me" is on by default
    qtbot.waitUntil(lambda: first.user is not None, timeout=WAIT_MS)
    assert first.user is not None and first.user.session_ends is not None
    until = human_time(first.user.session_ends)
    label = first.window.account.label
    assert label.text() == f"Signed in as demo (local) · session until {until}"
    assert "enter your password again" in label.toolTip()
    _close(apps.pop())

    clock.offset = timedelta(days=DEFAULT_SESSION_DAYS - 1)
    second = _start(qtbot, fresh_sandbox, apps)
    assert second.user is not None, "the remembered session is resumed without a password"
    assert second.window.account.label.text().endswith(f"session until {until}")
    _close(apps.pop())

    clock.offset = timedelta(days=DEFAULT_SESSION_DAYS, minutes=1)
    third = _start(qtbot, fresh_sandbox, apps)
    assert third.user is None and third.sign_in_dialog is not None
    assert third.message_bar.text == "The remembered session has expired; sign in again."
    assert third.window.account.label.text() == "Not signed in"
    third.sign_in_dialog.reject()
