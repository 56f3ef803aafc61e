"""The server's garbage collection: a full collection that takes long freezes what it left.

The server holds every item of its tables as Python objects: 100,000 documents are millions of
them. Python's full (oldest-generation) collection walks every tracked object, and every request
waits for it meanwhile: 2-3 s each time with 100,000 documents just written (``dms local seed``),
and still about 55 ms every few seconds after a start had frozen the loaded state (the sorted
lists and item sizes built afterwards).

So, as the window does with its rows (``gui/garbage.py``), a full collection that took longer
than ``FREEZE_AFTER_S`` is followed by ``gc.freeze()``: every object it left is alive at that
moment, and later collections skip it. A frozen object is still freed by reference counting when
no longer used (items, their attributes and the sorted lists' entries hold no cycles); only a
cycle that was alive then and dies later (a request being served at that moment) stays until the
server exits. Reads alone leave full collections of 1-2 ms, which freeze nothing; while many
writes come in (a seed of 100,000 documents), one freezes about every second, each keeping only
what the requests in flight at that moment had made.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

OLDEST = 2
# A full collection walks about 2-4 million objects a second here: 5 ms is 10,000-20,000 of them.
FREEZE_AFTER_S = 0.005


class FreezeAfterLongCollections:
    """A ``gc.callbacks`` entry: freezes after a full collection that took over ``seconds``."""

    def __init__(self, seconds: float = FREEZE_AFTER_S) -> None:
        self.seconds = seconds
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != OLDEST:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        started, self._started = self._started, None
        if started is not None and time.perf_counter() - started > self.seconds:
            gc.freeze()  # right after a full collection: all that is tracked is alive
            # (not gc.get_freeze_count(): it walks every frozen object, millions of them)
            log.debug("froze the survivors of a full collection")


freeze_after_long_collections = FreezeAfterLongCollections()


@contextlib.contextmanager
def freezing_long_lived_objects() -> Iterator[None]:
    """While inside, in this process, a long full collection freezes its survivors (the server
    runs inside; an in-process sandbox of the tests leaves the process as it found it)."""
    if freeze_after_long_collections in gc.callbacks:  # a server inside a server: not ours
        yield
        return
    gc.callbacks.append(freeze_after_long_collections)
    try:
        yield
    finally:
        gc.callbacks.remove(freeze_after_long_collections)
