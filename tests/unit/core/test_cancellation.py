"""The cooperative cancel flag that transfers and batches check."""

from __future__ import annotations

import pytest

from dms_desktop.core import cancellation
from dms_desktop.core.cancellation import CancelToken, throttled
from dms_desktop.core.errors import Cancelled


def test_a_new_token_is_not_cancelled() -> None:
    token = CancelToken()
    assert not token.cancelled
    token.raise_if_cancelled()  # no error


def test_cancel_runs_callbacks_once_and_raises_afterwards() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("a"))
    token.on_cancel(lambda: calls.append("b"))
    token.cancel()
    token.cancel()
    assert calls == ["a", "b"]
    assert token.cancelled
    with pytest.raises(Cancelled, match="The upload was cancelled"):
        token.raise_if_cancelled("The upload")


def test_callbacks_registered_after_cancel_run_at_once() -> None:
    token = CancelToken()
    token.cancel()
    calls: list[int] = []
    token.on_cancel(lambda: calls.append(1))()  # the returned unregister is harmless
    assert calls == [1]


def test_unregistered_callbacks_do_not_run() -> None:
    token = CancelToken()
    calls: list[int] = []
    unregister = token.on_cancel(lambda: calls.append(1))
    unregister()
    unregister()
    token.cancel()
    assert calls == []


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttled_progress_reports_the_first_the_last_and_one_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock()
    monkeypatch.setattr(cancellation.time, "monotonic", clock)
    seen: list[tuple[int, int]] = []
    report = throttled(lambda done, total: seen.append((done, total)), interval=0.1)

    report(0, 100)  # the first: at once, so a display starts
    for done in range(1, 50):
        clock.now += 0.001
        report(done, 100)  # 49 reports within 0.05 s: none shown
    clock.now += 0.1
    report(60, 100)  # the interval has passed
    report(99, 100)
    report(100, 100)  # the last: always, so a display ends complete

    assert seen == [(0, 100), (60, 100), (100, 100)]
