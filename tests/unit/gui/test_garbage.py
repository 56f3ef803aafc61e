"""Cyclic garbage holding Qt objects is collected on the GUI thread, never on a worker thread."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from dms_desktop.gui.garbage import MainThreadGarbageCollector


class _Holder:
    """A dead cycle with a Qt object in it, like a closed dialog and its connected closures."""

    def __init__(self) -> None:
        self.qt_object = QObject()
        self.me = self


def test_worker_threads_never_collect_qt_garbage(qtbot: QtBot) -> None:
    gc.enable()  # Python's normal state: without the guard, the worker below would collect
    collector = MainThreadGarbageCollector()
    collector.start()
    try:
        holder = _Holder()
        alive = weakref.ref(holder)
        del holder
        threads_that_collected: list[str] = []

        def note_collection(phase: str, info: dict[str, int]) -> None:
            if phase == "start" and threading.current_thread() is not threading.main_thread():
                threads_that_collected.append(threading.current_thread().name)

        gc.callbacks.append(note_collection)
        try:
            # Lists are tracked by the collector: this many would trigger collections.
            worker = threading.Thread(target=lambda: [[] for _ in range(200_000)])
            worker.start()
            worker.join()
            assert alive() is not None  # nothing was collected on the worker thread
            assert threads_that_collected == []

            busy_gui = [[] for _ in range(5_000)]  # the GUI thread allocates past the threshold
            collector.check()  # what the timer does every second
            assert alive() is None
            assert len(busy_gui) == 5_000
        finally:
            gc.callbacks.remove(note_collection)
    finally:
        collector.stop()
    assert gc.isenabled()


class _Row:
    """A long-lived object the collector tracks, like a document in a long list."""

    def __init__(self, number: int) -> None:
        self.number = number


def _make_a_full_collection_due() -> None:
    for _ in range(gc.get_threshold()[2] + 1):
        gc.collect(1)


def test_long_lived_objects_are_walked_by_one_full_collection_only(qtbot: QtBot) -> None:
    collector = MainThreadGarbageCollector()
    collector.start()
    try:
        rows = [_Row(number) for number in range(50_000)]
        _make_a_full_collection_due()
        collector.check()  # a full collection: the rows survive it
        # The next full collections do not walk them again (each would stall the window).
        assert all(gc.is_tracked(row) for row in rows[:10])
        assert len(gc.get_objects(generation=2)) < 1_000
        assert gc.get_freeze_count() >= len(rows)

        # A row no longer used is still freed at once (reference counting, no cycle).
        gone = weakref.ref(rows.pop())
        assert gone() is None

        # Cyclic garbage made later is still collected, on the GUI thread.
        holder = _Holder()
        alive = weakref.ref(holder)
        del holder
        _make_a_full_collection_due()
        collector.check()
        assert alive() is None
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0  # stop gives every object back to the normal collector
    assert gc.isenabled()
