"""A stand-in for the GUI's BackendClient that runs each job at once, on the calling thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dms_desktop.core.errors import DmsError


@dataclass
class _State:
    service: Any  # whatever the jobs call: a real service or a made-up page source
    remembered: bool = False  # as WorkerState: the session is not remembered, no list is kept


class ImmediateBackend:
    """``BackendClient.call`` that runs the job at once on this thread, against ``service``."""

    def __init__(self, service: Any) -> None:
        self._state = _State(service)

    def call(
        self,
        job: Callable[[Any], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Any], None] | None = None,
    ) -> int:
        try:
            result = job(self._state)
        except DmsError as error:  # as BackendClient: the job's failure goes to on_failure
            if on_failure is None:
                raise
            on_failure(error)
            return 1
        if on_success is not None:
            on_success(result)
        return 1
