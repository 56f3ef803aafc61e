"""The way of this process to a data folder's sandbox, shared by the window and the CLI.

A :class:`SandboxConnection` is what ``connect.open_backend`` joins (or starts) the sandbox with.
It is the route (``core.aws.route_endpoint``) of every address the sandbox has had in this
process, so every boto3 client the app builds (the user's, the sign-in's unsigned Cognito
clients, the admin tools', pycognito's, which is given ours) sends its requests through it:

- each request carries the key of the sandbox's current start (only its owner can read it);
- a request that finds the sandbox gone (connection refused, a key it does not take because it
  restarted, an answer that it is stopping) makes the connection look for it: where the
  sandbox's info file says it runs now (another port, started by another program), or else it
  starts it again. The request is then sent again there, and the session goes on: the sandbox
  keeps its users, tokens and keys across restarts, and the credentials renew themselves from
  the refresh token as always. When it cannot, one ``SandboxError`` says why;
- :meth:`SandboxConnection.keep_open` holds a lease that the sandbox's idle timer honours, for
  as long as a window is open.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import ConnectionError as BotoConnectionError

from dms_desktop.core.aws import route_endpoint
from dms_desktop.core.errors import AuthError, SandboxError
from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import control
from dms_desktop.sandbox.info import KEY_HEADER, KEY_REJECTED, STOPPING, SandboxInfo

log = logging.getLogger(__name__)

_GENERATION = "dms_sandbox_generation"  # which start of the sandbox a request was prepared for
_RECOVERIES = "dms_sandbox_recoveries"
MAX_RECOVERIES_PER_REQUEST = 2
LEASE_SECONDS = 120.0
LEASE_RENEWAL_SECONDS = 40.0


def _set_header(headers: Any, name: str, value: str) -> None:
    """Set a header of a botocore request once (its headers are an email Message, where
    assigning adds another header of the same name)."""
    if name in headers:
        headers.replace_header(name, value)
    else:
        headers[name] = value


class KeyedRoute:
    """The route of a sandbox that does not move: adds its key to each request (the sandbox
    process's own clients)."""

    def __init__(self, key: str) -> None:
        self._key = key

    def prepare(self, request: Any) -> None:
        _set_header(request.headers, KEY_HEADER, self._key)

    def recover(self, context: dict[str, Any], error: BaseException | None, code: str) -> bool:
        return False


class SandboxConnection:
    """This process's connection to the sandbox of one data folder (see the module's doc)."""

    _by_folder: ClassVar[dict[Path, SandboxConnection]] = {}
    _by_folder_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, paths: AppPaths, port: int, idle_timeout: float | None) -> None:
        self.paths = paths
        self.port = port
        self.idle_timeout = idle_timeout
        self._info: SandboxInfo | None = None
        self._generation = 0
        self._lock = threading.RLock()
        self._listeners: list[KeepOpen] = []

    @classmethod
    def of(
        cls,
        paths: AppPaths,
        port: int = 0,
        idle_timeout: float | None = control.DEFAULT_IDLE_TIMEOUT,
    ) -> SandboxConnection:
        """The connection to the sandbox of ``paths``' data folder (one per folder and process);
        ``port`` and ``idle_timeout`` are for when it has to be started."""
        folder = paths.sandbox_dir.expanduser().resolve()
        with cls._by_folder_lock:
            connection = cls._by_folder.get(folder)
            if connection is None:
                connection = cls._by_folder[folder] = cls(paths, port, idle_timeout)
            connection.port, connection.idle_timeout = port, idle_timeout
            return connection

    @property
    def info(self) -> SandboxInfo:
        """The sandbox as last found (joined or started); connects first if never."""
        info = self._info
        return info if info is not None else self.connect()

    def connect(self, timeout: float = control.START_TIMEOUT) -> SandboxInfo:
        """Join the running sandbox, or start it; from now on requests to it (at any address it
        has had) go through this connection."""
        with self._lock:
            current = self._info
            if current is not None and control.health(current) is not None:
                return current
            info = control.join_or_start(self.paths, self.port, timeout, self.idle_timeout)
            return self._found(info)

    def _found(self, info: SandboxInfo) -> SandboxInfo:
        previous = self._info
        self._info = info
        self._generation += 1
        route_endpoint(info.endpoint_url, self)
        if previous is not None and previous.endpoint_url != info.endpoint_url:
            log.info(
                "The local sandbox is at %s now, was %s", info.endpoint_url, previous.endpoint_url
            )
        for listener in list(self._listeners):
            listener.sandbox_moved()
        return info

    # --- core.aws.EndpointRoute --------------------------------------------------------------

    def prepare(self, request: Any) -> None:
        """Address the request to where the sandbox is now, with the key of its start."""
        info = self._info
        if info is None:
            return
        target = urlsplit(info.endpoint_url)
        parts = urlsplit(request.url)
        if parts.netloc != target.netloc:
            request.url = urlunsplit(parts._replace(scheme=target.scheme, netloc=target.netloc))
            if "Host" in request.headers:
                _set_header(request.headers, "Host", target.netloc)
        _set_header(request.headers, KEY_HEADER, info.key)
        request.context[_GENERATION] = self._generation

    def recover(self, context: dict[str, Any], error: BaseException | None, code: str) -> bool:
        """After a failed attempt: True when the sandbox was gone and has been found again (or
        started), so that the request is sent again; False when the failure was something else.
        Raises SandboxError when it is gone and cannot be started."""
        if error is not None:
            if not isinstance(error, BotoConnectionError | ConnectionClosedError):
                return False
        elif code not in (KEY_REJECTED, STOPPING):
            return False
        recoveries = int(context.get(_RECOVERIES, 0))
        if recoveries >= MAX_RECOVERIES_PER_REQUEST:
            return False
        context[_RECOVERIES] = recoveries + 1
        with self._lock:
            if context.get(_GENERATION) != self._generation:
                return True  # another request found it meanwhile
            current = self._info
            if current is not None and control.health(current) is not None:
                return False  # still there: not a sandbox that went away
            return self._rejoin(current)

    def _rejoin(self, previous: SandboxInfo | None) -> bool:
        reason = "stopped" if previous is None else f"at {previous.endpoint_url} stopped"
        log.info("The local sandbox %s; joining or starting it again", reason)
        try:
            info = control.join_or_start(
                self.paths, self.port, control.START_TIMEOUT, self.idle_timeout
            )
        except SandboxError as exc:
            raise SandboxError(
                f"The local sandbox stopped and could not be started again: {exc}"
            ) from exc
        if previous is not None and info.user_pool_id != previous.user_pool_id:
            self._found(info)
            raise AuthError(
                "The local sandbox was reset (`dms local reset`) since you signed in: sign in "
                "again."
            )
        self._found(info)
        return True

    # --- keeping it running ------------------------------------------------------------------

    def keep_open(self) -> KeepOpen:
        """Keep the sandbox from stopping for being idle until ``close()`` (a window does, for as
        long as it is open); a lease renewed on a thread of its own, also after a restart."""
        keeper = KeepOpen(self)
        with self._lock:
            self._listeners.append(keeper)
        keeper.start()
        return keeper

    def _forget(self, keeper: KeepOpen) -> None:
        with self._lock:
            if keeper in self._listeners:
                self._listeners.remove(keeper)


class KeepOpen:
    """A lease on the sandbox's idle timer, renewed every ``LEASE_RENEWAL_SECONDS``."""

    def __init__(self, connection: SandboxConnection) -> None:
        self._connection = connection
        self._holder = f"{uuid.uuid4()}"
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sandbox_moved(self) -> None:
        """Take the lease on the sandbox where it is now, at once."""
        self._wake.set()

    def close(self) -> None:
        """Let go of the lease (the sandbox may stop once idle) and stop renewing it."""
        self._connection._forget(self)
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._closing.is_set():
            info = self._connection._info
            if info is not None and not control.hold_lease(info, self._holder, LEASE_SECONDS):
                log.info("Could not renew the lease on the local sandbox at %s", info.endpoint_url)
            self._wake.wait(LEASE_RENEWAL_SECONDS)
            self._wake.clear()
        info = self._connection._info
        if info is not None:
            control.release_lease(info, self._holder)


def connect_or_start(
    paths: AppPaths,
    port: int = 0,
    timeout: float = control.START_TIMEOUT,
    idle_timeout: float | None = control.DEFAULT_IDLE_TIMEOUT,
) -> SandboxInfo:
    """The running sandbox of this data folder, started in the background if none runs (waiting
    up to ``timeout`` seconds); this process's requests to it go through its
    :class:`SandboxConnection` from now on. Safe to call from several processes at once."""
    return SandboxConnection.of(paths, port, idle_timeout).connect(timeout)
