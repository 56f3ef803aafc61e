"""A stand-in for the GUI's BackendClient that runs each job at once, on the calling thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class _State:
    service: Any  # whatever the jobs call: a real service or a made-up page source


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
        result = job(self._state)
        if on_success is not None:
            on_success(result)
        return 1
