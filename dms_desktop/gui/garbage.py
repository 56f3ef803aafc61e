"""Garbage collection on the GUI thread only.

Python's cyclic garbage collector runs on whichever thread happens to allocate when a threshold
is crossed: with transfers and the backend worker, often not the GUI thread. If a dead cycle
holds Qt objects (a dialog and the closures connected to it), their C++ destructors then run on
that thread, which crashes Qt. So, as Anki and calibre do, automatic collection is switched off
and a timer collects on the GUI thread, generation by generation as the counts demand.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer, Slot

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 1000


class MainThreadGarbageCollector(QObject):
    """While it runs, cyclic garbage is collected on the GUI thread, never elsewhere."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Stop the timer, collect one last time here, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        gc.enable()

    @Slot()
    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return
