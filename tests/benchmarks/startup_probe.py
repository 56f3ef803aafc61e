"""`dms-desktop` as the start-up benchmark runs it: the app's own main(), plus a probe that prints
when the window was first painted, when it first painted rows and when it first painted the live
rows, then quits.

    python -m tests.benchmarks.startup_probe --home DIR
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QTableView

from dms_desktop.gui import app as desktop_app
from dms_desktop.gui.document_model import DocumentTableModel


class _Probe(QObject):
    """Watches the application's paint events for the main window and the document table: when
    the window was first painted, when it first painted rows (those of the list kept from the
    last start, if any: core.list_snapshot) and when it first painted the live rows."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, Any] = {}
        self._pending: set[str] = set()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            if "window_painted" not in self.marks and watched.objectName() == "mainWindow":
                self.marks["window_painted"] = time.time()
            parent = watched.parent()
            if (
                isinstance(parent, QTableView)
                and parent.objectName() == "documentTable"
                and parent.model().rowCount() > 0
            ):
                model = parent.model()
                assert isinstance(model, DocumentTableModel)
                self._after_paint("rows_painted")
                self.marks.setdefault("rows_rows", model.rowCount())
                self.marks.setdefault("rows_kept", model.showing_snapshot)
                if not model.showing_snapshot:
                    self._after_paint("live_rows_painted")
        return False

    def _after_paint(self, mark: str) -> None:
        """Record ``mark`` once this paint event is done (once)."""
        if mark in self.marks or mark in self._pending:
            return
        self._pending.add(mark)
        QTimer.singleShot(0, lambda: self._record(mark))

    def _record(self, mark: str) -> None:
        self.marks[mark] = time.time()
        if mark == "live_rows_painted":
            print(json.dumps(self.marks), flush=True)
            app = QApplication.instance()
            if app is not None:
                app.quit()


def main() -> int:
    probe = _Probe()
    original_init = QApplication.__init__

    def init(self: QApplication, *args: object) -> None:
        original_init(self, *args)
        self.installEventFilter(probe)

    QApplication.__init__ = init  # type: ignore[method-assign]
    return desktop_app.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
