"""The sandbox server's garbage collection (sandbox/garbage.py): after a full collection that
took long, what it left is frozen, so the next full collections (which hold every request) do not
walk the sandbox's items again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator

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
def with_policy() -> Iterator[Callable[[float], None]]:
    """Adds a policy of a given threshold to ``gc.callbacks``; removed, and everything
    unfrozen, after the test."""
    added: list[garbage.FreezeAfterLongCollections] = []

    def add(seconds: float) -> None:
        policy = garbage.FreezeAfterLongCollections(seconds=seconds)
        gc.callbacks.append(policy)
        added.append(policy)
        gc.unfreeze()

    try:
        yield add
    finally:
        for policy in added:
            gc.callbacks.remove(policy)
        gc.unfreeze()


def test_a_long_full_collection_freezes_what_it_left(
    with_policy: Callable[[float], None],
) -> None:
    with_policy(0.0)  # every collection is long
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


def test_a_short_full_collection_freezes_nothing(with_policy: Callable[[float], None]) -> None:
    with_policy(3600.0)  # no collection is long
    items = [_Item(number) for number in range(1_000)]

    gc.collect()

    assert gc.get_freeze_count() == 0
    assert all(gc.is_tracked(item) for item in items)


def test_young_collections_are_not_timed(with_policy: Callable[[float], None]) -> None:
    with_policy(0.0)

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
