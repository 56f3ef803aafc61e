"""What becomes of a transfer that stops before it is done: kept to be resumed, or undone.

Shared by uploads (core.uploading) and downloads (core.downloading), so that every kind of
transfer keeps and reports the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from .cancellation import CancelToken
from .errors import Cancelled, DmsError, Paused, TransferInterrupted, Unavailable
from .formatting import printable
from .journal import Tracked

Notice = Callable[[str], None]
"""Told, in words for the user, about a decision taken on their behalf (e.g. a file that changed
since its upload was interrupted is uploaded again from the start)."""


def ignore_notice(_text: str) -> None:
    """No one to tell."""


def worth_keeping(error: BaseException, cancel: CancelToken | None) -> bool:
    """Whether what a transfer did is kept for a resume after ``error`` stopped it: a pause,
    Ctrl+C, or a failure that may pass (the network, the backend). A cancel and every other
    failure undo it."""
    if isinstance(error, KeyboardInterrupt):
        return True
    if isinstance(error, Cancelled):
        return cancel is not None and cancel.paused
    return isinstance(error, Unavailable)


def kept_error(error: DmsError, tracked: Tracked) -> DmsError:
    """The error to report for a transfer that stopped and is kept to be resumed."""
    entry = tracked.entry
    name = printable(getattr(entry, "filename", "") or getattr(entry, "name", ""))
    if isinstance(error, Cancelled):
        return Paused(f"{name}: paused; resuming it continues where it stopped.", tracked.name)
    return TransferInterrupted(
        f"{error} {name} was kept: resuming it continues where it stopped.", tracked.name
    )
