"""The sandbox's HTTP server: werkzeug on 127.0.0.1, with the connections it has open (so that a
stop closes idle keep-alive ones) and its own listening socket (a taken port is one clear error)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

from moto.moto_server.werkzeug_app import (
    MotoRequestHandler,
)
from werkzeug.serving import BaseWSGIServer, make_server

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox.middleware import HOST, WsgiApp, unclosed_response

log = logging.getLogger(__name__)


class OpenConnections:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}

    def add(self, connection: socket.socket, thread: threading.Thread) -> None:
        with self._lock:
            self._open[connection] = thread

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.pop(connection, None)

    def close_all(self, timeout: float) -> None:
        with self._lock:
            open_now = list(self._open.items())
        for connection, _thread in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _connection, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))


def _request_handler(connections: OpenConnections) -> type[MotoRequestHandler]:
    class TrackedRequestHandler(MotoRequestHandler):
        """Remembers open connections so that stopping can close idle keep-alive ones."""

        def setup(self) -> None:
            super().setup()
            connections.add(self.connection, threading.current_thread())

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                connections.discard(self.connection)

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            finally:
                # werkzeug does not close the response when the client resets the connection
                # while the request is drained (a client killed mid-response): without this the
                # request kept its shared lock, the next checkpoint waited for it forever, and
                # every later request with it.
                response = getattr(unclosed_response, "response", None)
                if response is not None:
                    response.close()

    return TrackedRequestHandler


def _listening_socket(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port; SandboxError if the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name == "nt":  # without this, Windows lets another program share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined,unused-ignore]
        else:  # restart at once on the same port (TIME_WAIT); still refuses a live listener
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if port:
            raise SandboxError(
                f"Port {port} on {HOST} is already in use by another program "
                f"({exc.strerror}); choose another port under [profiles.local] in the config "
                "file, or use port = 0 for any free port"
            ) from exc
        raise SandboxError(f"The local sandbox cannot listen on {HOST}: {exc}") from exc
    return sock


def bind_server(app: WsgiApp, port: int, connections: OpenConnections) -> BaseWSGIServer:
    # Our own socket: werkzeug would print and sys.exit() if binding failed.
    with _listening_socket(port) as sock:
        return make_server(
            HOST,
            port,
            app,
            threaded=True,
            request_handler=_request_handler(connections),
            fd=sock.fileno(),
        )
