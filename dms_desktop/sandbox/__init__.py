"""The local sandbox: an embedded, persistent AWS-compatible backend (moto) on 127.0.0.1.

One sandbox per data folder. Clients call ``connect_or_start`` (through the folder's
``SandboxConnection``, which keeps their requests going to it); ``dms local serve`` runs
``serve`` in the foreground. Only its owner can reach it (see ``middleware.SandboxMiddleware``).
The state lives in ``AppPaths.sandbox_dir`` (see ``persistence`` for the format and ``server``
for what a crash can lose).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox.connection import SandboxConnection, connect_or_start
from dms_desktop.sandbox.control import add_user, remove_user, reset, stop
from dms_desktop.sandbox.info import ADMIN_USER, DEMO_USER, SandboxInfo

__all__ = [
    "ADMIN_USER",
    "DEMO_USER",
    "SandboxConnection",
    "SandboxInfo",
    "add_user",
    "connect_or_start",
    "remove_user",
    "reset",
    "serve",
    "stop",
]


def serve(
    paths: AppPaths,
    port: int = 0,
    idle_timeout: float | None = None,
    on_ready: Callable[[SandboxInfo], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Run this folder's sandbox in the foreground until stopped.

    Returns on SIGTERM/SIGINT (when called on the main thread), when ``stop_event`` is set, or after
    ``idle_timeout`` seconds without a request; the state is checkpointed before it returns.
    Raises ``SandboxError`` if the port is taken, the state is unreadable, or a sandbox already
    runs for this folder.
    """
    from dms_desktop.sandbox.server import run_sandbox

    run_sandbox(paths.sandbox_dir, port, idle_timeout, on_ready, stop_event)
