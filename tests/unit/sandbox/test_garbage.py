"""The sandbox server's garbage collection (sandbox/garbage.py): after a full collection that
took long, what it left is frozen, so the next full collections (which hold every request) do not
walk the sandbox's items again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from dms_desktop.sandbox import garbage


class _Item:
    """A long-lived object the collector tracks, like an item of a table."""

    def __init__(self, number: int) -> None:
        self.attrs = {"documentId": str(number)}


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def callbacks() -> Iterator[list[garbage.FreezeAfterLongCollections]]:
    """Policies the test adds to ``gc.callbacks``; removed, and everything unfrozen, after."""
    added: list[garbage.FreezeAfterLongCollections] = []
    try:
        yield added
    finally:
        for policy in added:
            gc.callbacks.remove(policy)
        gc.unfreeze()


def test_a_long_full_collection_freezes_what_it_left(
    callbacks: list[garbage.FreezeAfterLongCollections],
) -> None:
    every_collection_is_long = garbage.FreezeAfterLongCollections(seconds=0.0)
    gc.callbacks.append(every_collection_is_long)
    callbacks.append(every_collection_is_long)
    items = [_Item(number) for number in range(50_000)]

    gc.collect()

    # The items are frozen: later full collections do not walk them.
    assert gc.get_freeze_count() >= 2 * len(items)  # each item and its attributes
    assert len(gc.get_objects(generation=2)) < 1_000
    # An item no longer used is still freed at once (reference counting, no cycle) ...
    gone = weakref.ref(items.pop())
    assert gone() is None
    # ... and cyclic garbage made afterwards is still collected.
    cycle = weakref.ref(_Cycle())
    gc.collect()
    assert cycle() is None


def test_a_short_full_collection_freezes_nothing(
    callbacks: list[garbage.FreezeAfterLongCollections],
) -> None:
    never_long = garbage.FreezeAfterLongCollections(seconds=3600.0)
    gc.callbacks.append(never_long)
    callbacks.append(never_long)
    gc.unfreeze()
    items = [_Item(number) for number in range(1_000)]

    gc.collect()

    assert gc.get_freeze_count() == 0
    assert all(gc.is_tracked(item) for item in items)


def test_young_collections_are_not_timed(
    callbacks: list[garbage.FreezeAfterLongCollections],
) -> None:
    every_collection_is_long = garbage.FreezeAfterLongCollections(seconds=0.0)
    gc.callbacks.append(every_collection_is_long)
    callbacks.append(every_collection_is_long)
    gc.unfreeze()

    gc.collect(1)

    assert gc.get_freeze_count() == 0


def test_the_policy_is_in_place_while_a_server_runs_only() -> None:
    assert garbage.freeze_after_long_collections not in gc.callbacks
    with garbage.freezing_long_lived_objects():
        assert gc.callbacks.count(garbage.freeze_after_long_collections) == 1
        with garbage.freezing_long_lived_objects():
            assert gc.callbacks.count(garbage.freeze_after_long_collections) == 1
        assert gc.callbacks.count(garbage.freeze_after_long_collections) == 1
    assert garbage.freeze_after_long_collections not in gc.callbacks
