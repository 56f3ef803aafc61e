"""Waiting for the sandbox to have answered every request it received (``requests_in_flight``
in its health answer), e.g. those of a client killed mid-request: the server finishes them on
its own, and what they store shows only then."""

from __future__ import annotations

import threading
import time

from dms_desktop.sandbox import SandboxInfo
from dms_desktop.sandbox.control import health


def wait_until_answered(info: SandboxInfo, timeout: float = 60.0) -> None:
    """Return once the sandbox has no request in flight; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        status = health(info) or {}
        if status.get("requests_in_flight") == 0:
            return
        assert time.monotonic() < deadline, f"the sandbox still answers requests: {status}"
        pause.wait(0.02)
