"""Every test runs isolated from the real user's config, data, keyring and AWS settings."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

# GUI tests run offscreen unless a test starts its own X server.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest

from tests.support.keyrings import MemoryKeyring

if TYPE_CHECKING:  # Qt is imported by the tests that use it, not by every test
    from PySide6.QtWidgets import QApplication

# The "Nothing lost" table (docs/nothing-lost.md) from the cases marked nothing_lost.
pytest_plugins = ["tests.support.nothing_lost_report", "tests.support.search"]

_ISOLATED_ENV = (
    "DMS_HOME",
    "DMS_PROFILE",
    "DMS_USERNAME",
    "DMS_PASSWORD",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)


@pytest.fixture(autouse=True)
def isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MemoryKeyring]:
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_"):  # per-service endpoints (botocore reads them)
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path_factory.mktemp("aws") / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(Path("/nonexistent/credentials")))
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def qapp(qapp: QApplication) -> QApplication:
    """pytest-qt's application, with the translations the app installs at start-up
    (gui.translations) for English, whatever the machine's language: the window's texts with a
    count are written once with ``%n`` and read "1 document" / "2 documents" through them."""
    from PySide6.QtCore import QLocale

    from dms_desktop.gui.translations import install_translations

    install_translations(qapp, QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    return qapp


def _new_live_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if thread not in before
        and thread.is_alive()
        and not isinstance(thread, threading._DummyThread)  # foreign (Qt) threads seen once
    ]


@pytest.fixture(autouse=True)
def no_thread_left_running() -> Iterator[None]:
    """Fail a test that leaves a Python thread running (workers, pools, transfers)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while (leftovers := _new_live_threads(before)) and time.monotonic() < deadline:
        leftovers[0].join(0.05)
    assert not leftovers, f"threads left running: {[thread.name for thread in leftovers]}"


@pytest.fixture(autouse=True)
def collect_garbage_on_the_main_thread() -> Iterator[None]:
    """As the app does (gui/garbage.py): no automatic collection on transfer or worker threads,
    where collecting a dead cycle of Qt objects crashes Qt; collect here, on the main thread."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def no_timer_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QTimer running (napari's conftest does the same)."""
    from PySide6.QtCore import QTimer

    started: list[QTimer] = []
    original_start = QTimer.start

    def start(self: QTimer, *args: object) -> None:
        started.append(self)
        original_start(self, *args)

    monkeypatch.setattr(QTimer, "start", start)
    yield
    running = []
    for timer in started:
        try:
            if timer.isActive():
                running.append(timer.objectName() or repr(timer.parent()))
        except RuntimeError:  # its C++ object is gone with its parent: not running
            continue
    assert not running, f"timers left running: {running}"


class _UnexpectedErrors(logging.Handler):
    """Keeps the window's reports of bugs: exceptions logged that are not a DmsError."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        from dms_desktop.core.errors import DmsError

        error = record.exc_info[1] if record.exc_info else None
        if error is not None and not isinstance(error, DmsError):
            self.records.append(record)


@pytest.fixture(autouse=True)
def no_bug_reported_by_the_window(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test in which the window met a bug: an operation or a transfer raised something
    other than a DmsError. The user sees "Something went wrong"; the exception never reaches
    Qt, so pytest-qt's capture of exceptions in slots cannot see it."""
    handler = _UnexpectedErrors()
    window_logs = logging.getLogger("dms_desktop.gui")
    window_logs.addHandler(handler)
    yield
    window_logs.removeHandler(handler)
    if request.node.get_closest_marker("reports_unexpected_error") is None:
        bugs = [f"{record.getMessage()}: {record.exc_info[1]!r}" for record in handler.records]  # type: ignore[index]
        assert not bugs, f"the window reported a bug: {bugs}"
