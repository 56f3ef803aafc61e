"""`dms-desktop` as the start-up benchmark runs it: the app's own main(), plus a probe that prints
when the window was first painted and when it first painted rows, then quits.

    python -m tests.benchmarks.startup_probe --home DIR
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QTableView

from dms_desktop.gui import app as desktop_app


class _Probe(QObject):
    """Watches the application's paint events for the main window and the document table."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, float] = {}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            if "window_painted" not in self.marks and watched.objectName() == "mainWindow":
                self.marks["window_painted"] = time.time()
            parent = watched.parent()
            if (
                "rows_painted" not in self.marks
                and isinstance(parent, QTableView)
                and parent.objectName() == "documentTable"
                and parent.model().rowCount() > 0
            ):
                self.marks["rows_rows"] = parent.model().rowCount()
                QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        self.marks["rows_painted"] = time.time()
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
