"""The preview widget the detail pane and the Versions tab share: a preview that arrives after the
widget is gone (its window closed meanwhile) is dropped, not a traceback."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from dms_desktop.core.errors import DmsError
from dms_desktop.core.previews import PreviewKind
from dms_desktop.gui.operations import OperationContext, Operations
from dms_desktop.gui.preview_panel import PreviewPanel
from dms_desktop.gui.previews import PreviewResult
from tests.unit.core.conftest import make_document

WAIT_MS = 10_000


def test_a_preview_that_arrives_after_the_panel_is_gone_is_dropped(
    qtbot: QtBot, operations: Operations, reported_errors: list[DmsError]
) -> None:
    panel = PreviewPanel(operations, reported_errors.append)
    release = threading.Event()

    def slow_preview(_ctx: OperationContext) -> PreviewResult:
        release.wait(WAIT_MS / 1000)
        return PreviewResult(PreviewKind.TEXT, text="late words")

    panel.load(make_document(filename="notes.txt", file_type="text/plain"), slow_preview)
    running = panel._running
    assert running is not None
    panel.deleteLater()  # the window closes while the preview is being built
    qtbot.waitUntil(lambda: not Shiboken.isValid(panel))
    release.set()
    qtbot.waitUntil(lambda: running.finished, timeout=WAIT_MS)  # delivered: no exception
    assert reported_errors == []
