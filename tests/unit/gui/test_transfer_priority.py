"""Transfers run below the window's CPU priority: hashing and sending a large file on a busy
machine must not keep the window waiting for a core (Linux, the platform the app is built for,
where the nice value is per thread)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from dms_desktop.gui.transfers import (
    LOWEST_PRIORITY,
    TRANSFER_NICENESS,
    TransferQueue,
    UploadSpec,
)
from tests.support.documents import numbered_document


def _nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class _RecordingService:
    """Records the nice values of the thread running the upload and of a thread it starts (as
    s3transfer does)."""

    def __init__(self) -> None:
        self.nice: dict[str, int] = {}

    def upload(self, path: Path, **_: Any) -> object:
        self.nice["transfer"] = _nice_of_this_thread()
        helper = threading.Thread(target=lambda: self.nice.update(started=_nice_of_this_thread()))
        helper.start()
        helper.join()
        return numbered_document(1)


def test_transfer_threads_and_the_threads_they_start_yield_the_cpu(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window_nice = _nice_of_this_thread()
    service = _RecordingService()
    queue = TransferQueue(lambda: service)  # type: ignore[arg-type,return-value]
    source = tmp_path / "a.txt"
    source.write_text("a")

    with qtbot.waitSignal(queue.upload_finished, timeout=10_000):
        queue.upload(UploadSpec(source))
    queue.shutdown()

    expected = min(window_nice + TRANSFER_NICENESS, LOWEST_PRIORITY)
    assert service.nice == {"transfer": expected, "started": expected}
    assert _nice_of_this_thread() == window_nice  # the GUI thread keeps its own
