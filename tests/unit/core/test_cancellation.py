"""The cooperative cancel flag that transfers and batches check."""

from __future__ import annotations

import pytest

from dms_desktop.core.cancellation import CancelToken
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
