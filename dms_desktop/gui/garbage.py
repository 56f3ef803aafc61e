"""Garbage collection on the GUI thread only.

Python's cyclic garbage collector runs on whichever thread happens to allocate when a threshold
is crossed: with transfers and the backend worker, often not the GUI thread. If a dead cycle
holds Qt objects (a dialog and the closures connected to it), their C++ destructors then run on
that thread, which crashes Qt. So, as Anki and calibre do, automatic collection is switched off
and a timer collects on the GUI thread, generation by generation as the counts demand.

A full collection walks every tracked object: with 100,000 rows in the document list (two per
row) it stalled the window for 100-150 ms. So when the objects left after a full collection
are many, they are frozen (``gc.freeze``): later collections skip them. Frozen objects are still
freed by reference counting when no longer used (rows are plain data, without cycles); only a
cycle that was alive when frozen and dies later stays until ``stop``.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer, Slot

log = logging.getLogger(__name__)

# Often enough that a young generation stays small (a busy second allocates 100,000 objects).
CHECK_INTERVAL_MS = 200
# Objects left after a full collection beyond which they are frozen (a full collection walks
# roughly 2-4 million objects a second here, so this keeps one under about 10 ms).
FREEZE_ABOVE = 20_000


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
        gc.unfreeze()
        gc.collect()
        gc.enable()

    @Slot()
    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                if generation == 2:
                    self._freeze_survivors()
                return

    def _freeze_survivors(self) -> None:
        """After a full collection, every survivor not frozen yet is in the oldest generation."""
        survivors = len(gc.get_objects(generation=2))
        if survivors > FREEZE_ABOVE:
            gc.freeze()
            log.debug("froze %d long-lived objects (%d in all)", survivors, gc.get_freeze_count())
