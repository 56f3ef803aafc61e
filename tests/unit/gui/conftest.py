"""Fixtures for the Qt layer: offscreen Qt, moto in-process, a real DocumentService behind the
two lanes of Operations and a TransferQueue, and threads that never outlive a test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from moto import mock_aws
from PySide6.QtCore import QItemSelectionModel
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB, TransferSettings
from dms_desktop.core.cancellation import CancelToken, ProgressCallback
from dms_desktop.core.errors import DmsError
from dms_desktop.core.models import Document
from dms_desktop.core.paths import AppPaths
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.document_events import DocumentEvents
from dms_desktop.gui.main_window import MainWindow
from dms_desktop.gui.message_bar import MessageBar
from dms_desktop.gui.operations import Account, Operations
from dms_desktop.gui.transfers import TransferQueue
from tests.support.aws import USER_ID, new_session

HOLD_TIMEOUT = 20.0  # seconds a held upload waits for the test before giving up
WINDOW_WAIT_MS = 10_000


@dataclass
class Cloud:
    """The moto-backed service and the raw clients, for assertions."""

    service: DocumentService
    s3: Any
    dynamodb: Any


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    with mock_aws():
        session = new_session()
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(**schema.table_definition())
        s3 = session.client("s3", config=Config(signature_version="s3v4"))  # as core.aws makes it
        s3.create_bucket(Bucket=schema.BUCKET_NAME)
        settings = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=4)
        service = DocumentService(
            DocumentRepository(dynamodb, schema.TABLE_NAME),
            BlobStore(s3, schema.BUCKET_NAME, settings),
            USER_ID,
        )
        yield Cloud(service, s3, dynamodb)


@pytest.fixture
def reported_errors() -> list[DmsError]:
    """Errors that reached the app-wide reporter (tests assert on it where it matters)."""
    return []


@pytest.fixture
def operations(
    cloud: Cloud, tmp_path: Path, reported_errors: list[DmsError]
) -> Iterator[Operations]:
    """Both lanes, whose operations work with the moto-backed service."""
    runner = Operations(
        Account(AppPaths.resolve(tmp_path / "home")),
        reported_errors.append,
        service_factory=lambda _account: cloud.service,
    )
    yield runner
    runner.shutdown()


@pytest.fixture
def events() -> DocumentEvents:
    """The window's "documents changed" signal, for widgets tested on their own."""
    return DocumentEvents()


class HeldUploads:
    """Wraps the service so that chosen uploads stop after their first progress report.

    A held upload waits (on a transfer thread) until its CancelToken is set or the test ends,
    so "cancel while running" is deterministic without sleeping.
    """

    def __init__(self, service: DocumentService) -> None:
        self._service = service
        self._lock = threading.Lock()
        self._wakes: list[threading.Event] = []
        self.names: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    def release_all(self) -> None:
        with self._lock:
            for wake in self._wakes:
                wake.set()

    def upload(
        self,
        source: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        **kwargs: Any,
    ) -> Document:
        progress = self._holding(source, progress, cancel)
        return self._service.upload(source, progress=progress, cancel=cancel, **kwargs)

    def upload_new_version(
        self,
        document_id: str,
        source: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        **kwargs: Any,
    ) -> Document:
        progress = self._holding(source, progress, cancel)
        return self._service.upload_new_version(
            document_id, source, progress=progress, cancel=cancel, **kwargs
        )

    def _holding(
        self, source: Path, progress: ProgressCallback | None, cancel: CancelToken | None
    ) -> ProgressCallback | None:
        """``progress``, made to wait after its first report if ``source`` is to be held."""
        if source.name not in self.names or cancel is None or progress is None:
            return progress
        wake = threading.Event()
        with self._lock:
            self._wakes.append(wake)
        cancel.on_cancel(wake.set)
        inner = progress
        held = False

        def holding_progress(done: int, total: int) -> None:
            nonlocal held
            inner(done, total)
            if not held:
                held = True
                wake.wait(HOLD_TIMEOUT)

        return holding_progress


@dataclass
class Transfers:
    queue: TransferQueue
    held: HeldUploads


@pytest.fixture
def transfers(cloud: Cloud) -> Iterator[Transfers]:
    held = HeldUploads(cloud.service)

    def provider() -> DocumentService:
        return held  # type: ignore[return-value]

    queue = TransferQueue(provider)
    yield Transfers(queue, held)
    held.release_all()
    queue.shutdown()


def write_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[..., Path]:
    def make(relative: str, size: int = 1000) -> Path:
        return write_file(tmp_path / "files" / relative, size)

    return make


@pytest.fixture
def window(
    qtbot: QtBot, operations: Operations, transfers: Transfers, tmp_path: Path
) -> Iterator[MainWindow]:
    """The main window of a signed-in user, shown and active; :func:`browse` loads its list."""
    widget = MainWindow(operations, transfers.queue, MessageBar(), AppPaths.resolve(tmp_path / "h"))
    qtbot.addWidget(widget)
    widget.set_signed_in(True)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    yield widget
    widget.confirm_quit_without_asking()


def browse(
    qtbot: QtBot, window: MainWindow, operations: Operations, rows: int | None = None
) -> None:
    """Load the window's first page (and tag counts); wait for ``rows`` rows if given."""
    window.start_browsing()
    qtbot.waitUntil(
        lambda: (
            not window.model.is_loading
            and not operations.busy
            and (rows is None or window.model.rowCount() == rows)
        ),
        timeout=WINDOW_WAIT_MS,
    )


def select_rows(window: MainWindow, names: set[str]) -> None:
    """Select the rows of the documents named, as a user's Ctrl+clicks would."""
    window.table.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row, document in enumerate(window.model.documents()):
        if document.filename in names:
            window.table.selectionModel().select(window.model.index(row, 0), flags)
