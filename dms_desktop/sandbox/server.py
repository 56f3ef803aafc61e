"""The sandbox server: moto behind a middleware that makes each change durable before its answer.

Every request's body is read first (in one read, see ``_read_body_at_once``); then the request
holds a shared lock while moto runs it (a read: also while its response is sent); a checkpoint
holds the lock exclusively, so it pickles the backends between requests.

A request that changes something is answered only once the change is on disk: what it touched is
written to the write-ahead log as after-images (``changes``, ``wal``; new bodies into their body
files first) and synced, several requests sharing one ``fsync``. A change the log has no form
for (creating a table, say) is saved by a full checkpoint before the answer instead. So a
``kill -9`` of the sandbox loses no acknowledged change: a start loads the last checkpoint and
replays the log after it. What it does lose: the parts of multipart uploads in progress (never
kept, see ``persistence``; the uploads themselves are, so they can be aborted), and sign-ins to
the identity pool, which the app does not rely on (see ``changes``).

Checkpoints only bound the log (and so the time a start spends replaying it): one runs
``CHECKPOINT_QUIET_SECONDS`` after the last change, ``CHECKPOINT_MAX_DELAY_SECONDS`` after the
first one under continuous load, or as soon as the log holds ``CHECKPOINT_LOG_BYTES``. The state
file is replaced atomically and names the first log segment it does not contain; the segments
before it are deleted once it is committed.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import io
import ipaddress
import json
import logging
import os
import signal
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import botocore.config
import filelock
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

import dms_desktop
from dms_desktop.core.aws import attach_credentials, new_session, route_endpoint
from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import private_folder
from dms_desktop.core.schema import TABLE_NAME, time_to_live_specification
from dms_desktop.sandbox import changes, fast_query, multipart, samples, search_host
from dms_desktop.sandbox.changes import ChangeLog, ChangeSet
from dms_desktop.sandbox.connection import KeyedRoute
from dms_desktop.sandbox.info import (
    ACCESS_KEY_ID,
    ADMIN_USER,
    ADMINS_GROUP,
    CHALLENGE_HEADER,
    DEMO_USER,
    FOREIGN_HOST,
    HEALTH_PATH,
    INFO_FILE,
    KEY_HEADER,
    KEY_REJECTED,
    LEASE_PATH,
    PROOF_HEADER,
    REGION,
    RUN_LOCK_FILE,
    SECRET_ACCESS_KEY,
    SHUTDOWN_PATH,
    STOPPING,
    WAL_DIR,
    SandboxInfo,
    new_key,
    proof,
    proof_matches,
    write_atomically,
)
from dms_desktop.sandbox.lifecycle import (
    EXPIRED_LINK_BODY,
    TrashPurger,
    is_owners_share_link,
    presigned_link_expired,
    upgrade_resources,
)
from dms_desktop.sandbox.passwords import plain_passwords_left
from dms_desktop.sandbox.persistence import (
    SandboxResources,
    StateStore,
    clear_backends,
    keys_without_body_file,
    take_out_lost_objects,
)
from dms_desktop.sandbox.wal import WriteAheadLog
from dms_desktop.sandbox.web_uploads import ObjectCreatedHandler

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
TEMPLATE_FILE = "dms-backend.yaml"  # the AWS template (resources/cloudformation)
SANDBOX_STACK = "dms-local"
SERVICE_NAME = "dms-sandbox"
CHECKPOINT_QUIET_SECONDS = 5.0
CHECKPOINT_MAX_DELAY_SECONDS = 60.0
CHECKPOINT_LOG_BYTES = 64 * 1024 * 1024
CHECKPOINT_RETRY_SECONDS = 5.0

SAMPLES_TIMEOUT_SECONDS = 60.0
MAX_LEASE_SECONDS = 3600.0

_serving_in_this_process = threading.Lock()  # moto's backends are process-wide

# DynamoDB operations that do not change anything; every other request is a mutation, including
# all Cognito calls (sign-ins store refresh tokens, GetId stores identities).
DYNAMODB_READS = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def is_mutation(environ: dict[str, Any]) -> bool:
    """Whether a request may change the backends (and so needs a checkpoint)."""
    if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD", "OPTIONS"):
        return False
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target.startswith("DynamoDB_"):
        return target.rsplit(".", 1)[-1] not in DYNAMODB_READS
    # DescribeStream, GetShardIterator, GetRecords: reads of the table's stream.
    return not target.startswith("DynamoDBStreams_")


def quiet_noisy_loggers() -> None:
    """Werkzeug logs each request; botocore logs credentials and tokens at DEBUG; moto warns
    about each template resource it cannot deploy (known: see _deploy_template)."""
    warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
    logging.getLogger("moto.cloudformation.parsing").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    for name in ("botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


class SharedExclusiveLock:
    """A readers-writer lock: requests share it, a checkpoint holds it alone.

    A waiting checkpoint blocks new requests, so continuous load cannot starve it.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire_shared(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: not self._writer and not self._writers_waiting)
            self._readers += 1

    def release_shared(self) -> None:
        with self._condition:
            self._readers -= 1
            if self._readers == 0:
                self._condition.notify_all()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        self.acquire_shared()
        try:
            yield
        finally:
            self.release_shared()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            try:
                self._condition.wait_for(lambda: not self._writer and self._readers == 0)
            finally:
                self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()


@dataclass
class _CheckpointStatus:
    generation: int = 0  # mutating requests started
    saved_generation: int = 0  # mutating requests whose effects are in the state file
    first_unsaved_at: float | None = None
    last_mutation_end: float = 0.0
    checkpoints: int = 0
    last_error: str | None = None
    failed_at: float | None = None


class Checkpointer:
    """Makes each change durable (the log, or a checkpoint), and saves the state after changes,
    debounced, on its own thread."""

    def __init__(
        self,
        store: StateStore,
        lock: SharedExclusiveLock,
        resources: SandboxResources,
        change_log: ChangeLog,
    ) -> None:
        self.store = store
        self.lock = lock
        self.resources = resources
        self.change_log = change_log
        self.wal = change_log.wal
        self.samples_seeded = False
        self.before_save: Callable[[], None] | None = None  # runs holding the state alone
        self.status = _CheckpointStatus()
        self._commits = 0  # requests in make_durable
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def mutation_started(self) -> None:
        """Call with the shared lock held, before the request changes anything."""
        with self._condition:
            self.status.generation += 1
            if self.status.first_unsaved_at is None:
                self.status.first_unsaved_at = time.monotonic()

    def mutation_finished(self) -> None:
        with self._condition:
            self.status.last_mutation_end = time.monotonic()
            self._condition.notify_all()

    def mark_dirty(self) -> None:
        """Something outside a request changed what the state holds."""
        self.mutation_started()
        self.mutation_finished()

    def make_durable(self, changed: ChangeSet, service: str, operation: str, status: int) -> None:
        """Return once what a request changed is on disk (SandboxError if it cannot be)."""
        with self._condition:
            self._commits += 1
        try:
            self._make_durable(changed, service, operation, status)
        finally:
            with self._condition:
                self._commits -= 1
                self._condition.notify_all()

    def wait_for_commits(self, timeout: float) -> None:
        """Wait until no request is writing its changes to the log (before closing it)."""
        with self._condition:
            self._condition.wait_for(lambda: self._commits == 0, timeout)

    def _make_durable(self, changed: ChangeSet, service: str, operation: str, status: int) -> None:
        if changed.addresses:
            self.wal.wait_durable(self.change_log.commit(changed.addresses))
        if (
            changes.needs_checkpoint(service, operation, status, changed)
            and not self.checkpoint_now()
        ):
            raise SandboxError(f"The sandbox could not save its state: {self.status.last_error}")

    def snapshot(self) -> dict[str, Any]:
        records, size = self.wal.size()
        with self._condition:
            return {
                "generation": self.status.generation,
                "saved_generation": self.status.saved_generation,
                "checkpoints": self.status.checkpoints,
                "last_checkpoint_error": self.status.last_error,
                "log_records": records,
                "log_bytes": size,
            }

    def _seconds_until_due(self) -> float | None:
        """None when nothing is unsaved; 0 when a checkpoint is due now."""
        status = self.status
        if status.generation == status.saved_generation or status.first_unsaved_at is None:
            return None
        now = time.monotonic()
        due = min(
            status.last_mutation_end + CHECKPOINT_QUIET_SECONDS,
            status.first_unsaved_at + CHECKPOINT_MAX_DELAY_SECONDS,
        )
        if self.wal.size()[1] >= CHECKPOINT_LOG_BYTES:
            due = now
        if status.failed_at is not None:
            due = max(due, status.failed_at + CHECKPOINT_RETRY_SECONDS)
        return max(0.0, due - now)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopping:
                    wait = self._seconds_until_due()
                    if wait == 0.0:
                        break
                    self._condition.wait(wait)
                if self._stopping:
                    return
            self.checkpoint_now()

    def checkpoint_now(self) -> bool:
        """Save the state now; False (logged, retried later) if it failed."""
        started = time.monotonic()
        try:
            with self.lock.exclusive():
                new_keys = keys_without_body_file()
            # Large bodies are copied while requests go on: a stored body never changes.
            self.store.write_bodies(new_keys)
            with self.lock.exclusive():
                with self._condition:
                    generation = self.status.generation
                with self.wal.lock:  # records from now on go to the new segment
                    segment = self.wal.rotate_locked()
                if self.before_save is not None:
                    self.before_save()
                removed = self.store.save(self.resources, self.samples_seeded, segment)
                with self._condition:
                    self.status.saved_generation = generation
                    self.status.first_unsaved_at = None
                    self.status.checkpoints += 1
                    self.status.last_error = None
                    self.status.failed_at = None
            self.wal.remove_before(segment)
        except Exception as exc:
            log.exception("Sandbox checkpoint failed")
            with self._condition:
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                self.status.failed_at = time.monotonic()
            return False
        log.debug(
            "Checkpoint %d in %.3f s (%d new bodies, %d unused removed)",
            generation,
            time.monotonic() - started,
            len(new_keys),
            removed,
        )
        return True


_unclosed = threading.local()  # the response a request thread has not closed yet


class _ClosingResponse:
    """Passes the response through and runs ``on_close`` once, when the server closes it (or,
    if werkzeug skips that, when the request handler finishes: see _request_handler)."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._result = result
        self._on_close: Callable[[], None] | None = on_close
        _unclosed.response = self

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        if getattr(_unclosed, "response", None) is self:
            _unclosed.response = None
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


@dataclass
class _Runtime:
    """What the middleware needs from the running server."""

    sandbox_dir: Path
    key: str = field(default_factory=new_key, repr=False)
    hosts: frozenset[str] = frozenset()  # the Host headers requests may carry
    lock: SharedExclusiveLock = field(default_factory=SharedExclusiveLock)
    checkpointer: Checkpointer | None = None
    search: search_host.SearchHost | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)
    closed: bool = False
    last_request: float = field(default_factory=time.monotonic)
    leases: dict[str, float] = field(default_factory=dict)  # holder -> monotonic end
    leases_lock: threading.Lock = field(default_factory=threading.Lock)
    object_created: ObjectCreatedHandler | None = None  # web uploads become documents

    def listen_on(self, port: int) -> None:
        self.hosts = frozenset({f"{HOST}:{port}", f"localhost:{port}", HOST, "localhost"})

    def last_activity(self) -> float:
        """The last AWS request, or the end of the latest lease (in the future while held)."""
        with self.leases_lock:
            return max([self.last_request, *self.leases.values()])

    def live_leases(self) -> int:
        now = time.monotonic()
        with self.leases_lock:
            return sum(1 for end in self.leases.values() if end > now)


class SandboxMiddleware:
    """Lets only the owner in; the control endpoints (health, shutdown, lease); and the
    request/checkpoint lock around moto.

    Every request must name this sandbox as its Host (a web page that points a domain of its own
    at 127.0.0.1 cannot) and carry the key of this start, which only the sandbox folder's owner
    can read (the health check may prove it instead, see ``info.proof``); anything else gets 403
    before moto sees it. No CORS headers are sent: no web page may read an answer."""

    def __init__(self, app: WsgiApp, runtime: _Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        runtime = self.runtime
        start_response = _without_cors(start_response)
        path = environ.get("PATH_INFO", "")
        refusal = self._refusal(environ, path)
        if refusal is not None:
            return _refused(environ, start_response, *refusal)
        if path == HEALTH_PATH:
            return self._health(environ, start_response)
        if path == SHUTDOWN_PATH and environ.get("REQUEST_METHOD") == "POST":
            if not _is_loopback(str(environ.get("REMOTE_ADDR", ""))):
                return _json_response(start_response, "403 Forbidden", {"error": "loopback only"})
            runtime.stop_requested.set()
            return _json_response(start_response, "202 Accepted", {"stopping": True})
        if path == LEASE_PATH:
            return self._lease(environ, start_response)
        if path == search_host.REINDEX_PATH and environ.get("REQUEST_METHOD") == "POST":
            return _reindex(environ, start_response, runtime)
        if presigned_link_expired(str(environ.get("QUERY_STRING", ""))):  # as S3 does
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "application/xml"),
                    ("Content-Length", str(len(EXPIRED_LINK_BODY))),
                ],
            )
            return [EXPIRED_LINK_BODY]

        runtime.last_request = time.monotonic()
        if not _read_body_at_once(environ):
            return _json_response(
                start_response, "400 Bad Request", {"error": "the request's body ended early"}
            )
        mutating = is_mutation(environ)
        runtime.lock.acquire_shared()
        if runtime.closed:
            runtime.lock.release_shared()
            return _refused(
                environ, start_response, "503 Service Unavailable", STOPPING, "stopping"
            )
        checkpointer = runtime.checkpointer
        if mutating and checkpointer is not None:
            return self._change(environ, start_response, checkpointer)

        def finished() -> None:
            runtime.last_request = time.monotonic()
            runtime.lock.release_shared()

        try:
            with changes.recording() as changed:
                result = self.app(environ, start_response)
            if changed.addresses and checkpointer is not None:
                # A read that found an object's body lost took the object out: log that too
                # (no need to wait: a start would find the body lost again).
                checkpointer.change_log.commit(changed.addresses)
        except BaseException:
            finished()
            raise
        return _ClosingResponse(result, finished)

    def _change(
        self, environ: dict[str, Any], start_response: Any, checkpointer: Checkpointer
    ) -> Iterable[bytes]:
        """Run a request that may change something; answer once its changes are on disk. The
        stream records it makes are durable when it is answered (see search_host.StreamGate)."""
        ticket = search_host.gate.enter()
        try:
            return self._change_durably(environ, start_response, checkpointer)
        finally:
            search_host.gate.leave(ticket)

    def _change_durably(
        self, environ: dict[str, Any], start_response: Any, checkpointer: Checkpointer
    ) -> Iterable[bytes]:
        runtime = self.runtime
        service, operation = changes.service_of(environ)
        answer: list[Any] = []
        written: list[bytes] = []

        def hold_back(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = [status, headers, exc_info]
            return written.append

        checkpointer.mutation_started()
        changed = ChangeSet()
        try:
            with changes.recording() as changed:
                try:
                    result = self.app(environ, hold_back)
                    try:
                        body = b"".join([*written, *result])
                    finally:
                        close = getattr(result, "close", None)
                        if close is not None:
                            close()
                finally:
                    changes.note_cognito(service, operation)
        except BaseException:
            with contextlib.suppress(Exception):  # keep the log in step with memory
                checkpointer.make_durable(changed, service, operation, 500)
            raise
        finally:
            runtime.last_request = time.monotonic()
            runtime.lock.release_shared()
            checkpointer.mutation_finished()
        status = int(str(answer[0]).split()[0]) if answer else 500
        try:
            checkpointer.make_durable(changed, service, operation, status)
        except (SandboxError, OSError) as exc:
            log.exception("A change could not be saved")
            return _json_response(
                start_response, "503 Service Unavailable", {"error": f"not saved: {exc}"}
            )
        handler = runtime.object_created
        if handler is not None and service == "s3" and 200 <= status < 300:
            handler.handle(handler.created_keys(environ, changed.addresses))
        start_response(*answer)
        return [body]

    def _refusal(self, environ: dict[str, Any], path: str) -> tuple[str, str, str] | None:
        """Why this request is refused (status, code, message), or None if it is the owner's."""
        runtime = self.runtime
        if str(environ.get("HTTP_HOST", "")).lower() not in runtime.hosts:
            return "403 Forbidden", FOREIGN_HOST, "not addressed to this sandbox"
        given = str(environ.get(_environ_key(KEY_HEADER), ""))
        if given and hmac.compare_digest(given.encode(), runtime.key.encode()):
            return None
        if not given and is_owners_share_link(
            runtime.key,
            str(environ.get("REQUEST_METHOD", "")),
            path,
            str(environ.get("QUERY_STRING", "")),
        ):
            return None  # a share link its owner made (sandbox.lifecycle), for plain HTTP
        if path == HEALTH_PATH and not given:
            challenge = str(environ.get(_environ_key(CHALLENGE_HEADER), ""))
            claimed = str(environ.get(_environ_key(PROOF_HEADER), ""))
            if challenge and proof_matches(runtime.key, "client", challenge, claimed):
                return None
        return (
            "403 Forbidden",
            KEY_REJECTED,
            "this local sandbox answers its owner only (the key of this start is missing or "
            "wrong: it may have restarted)",
        )

    def _health(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        runtime = self.runtime
        body: dict[str, Any] = {
            "service": SERVICE_NAME,
            "pid": os.getpid(),
            "sandbox_dir": str(runtime.sandbox_dir),
            "ready": runtime.checkpointer is not None,
            "leases": runtime.live_leases(),
            # Since the last AWS request; and since that or the end of the last lease.
            "quiet_seconds": time.monotonic() - runtime.last_request,
            "idle_seconds": max(0.0, time.monotonic() - runtime.last_activity()),
        }
        challenge = str(environ.get(_environ_key(CHALLENGE_HEADER), ""))
        if challenge:
            body["proof"] = proof(runtime.key, "server", challenge)
        if runtime.checkpointer is not None:
            body.update(runtime.checkpointer.snapshot())
        return _json_response(start_response, "200 OK", body)

    def _lease(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """POST {"holder", "seconds"}: not idle until then (renewed by a window while it is
        open); DELETE {"holder"}: let go."""
        runtime = self.runtime
        method = environ.get("REQUEST_METHOD")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(min(length, 4096)) or b"{}")
            holder = str(request["holder"])[:200]
            seconds = min(max(float(request.get("seconds", 0)), 0.0), MAX_LEASE_SECONDS)
        except (ValueError, KeyError, TypeError, OSError):
            return _json_response(start_response, "400 Bad Request", {"error": "bad lease"})
        now = time.monotonic()
        with runtime.leases_lock:
            for name, end in list(runtime.leases.items()):
                if end <= now:  # expired: its end stays the last activity it vouched for
                    del runtime.leases[name]
                    runtime.last_request = max(runtime.last_request, end)
            if method == "POST":
                runtime.leases[holder] = now + seconds
            elif method == "DELETE":
                if runtime.leases.pop(holder, None) is not None:
                    runtime.last_request = max(runtime.last_request, now)
            else:
                return _json_response(start_response, "405 Method Not Allowed", {})
        return _json_response(start_response, "200 OK", {"held": method == "POST"})


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _without_cors(start_response: Any) -> Any:
    """``start_response`` without any Access-Control-* header (moto's Flask apps and S3 bucket
    CORS rules add them)."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [(name, value) for name, value in headers if not _is_cors_header(name)]
        return start_response(status, kept, exc_info) if exc_info else start_response(status, kept)

    return start


def _is_cors_header(name: str) -> bool:
    return name.lower().startswith("access-control-")


def _refused(
    environ: dict[str, Any], start_response: Any, status: str, code: str, message: str
) -> list[bytes]:
    """An answer botocore reads as the AWS error ``code`` (JSON for the JSON protocols, XML for
    S3 and the query protocols)."""
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in content_type:
        data = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    else:
        data = (
            f"<ErrorResponse><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            "</ErrorResponse>"
        ).encode()
        content_type = "application/xml"
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("x-amzn-ErrorType", code),
        ],
    )
    return [data]


def _reindex(environ: dict[str, Any], start_response: Any, runtime: _Runtime) -> Iterable[bytes]:
    """Rebuild search entries from the table; answers one JSON line per progress report."""
    if not _is_loopback(str(environ.get("REMOTE_ADDR", ""))):
        return _json_response(start_response, "403 Forbidden", {"error": "loopback only"})
    search = runtime.search
    if search is None:
        return _json_response(start_response, "503 Service Unavailable", {"error": "no search"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(min(length, 4096)) or b"{}")
        user = request.get("user")
        if user is not None and not isinstance(user, str):
            raise ValueError("user must be a string")
    except (ValueError, OSError, AttributeError) as exc:
        return _json_response(start_response, "400 Bad Request", {"error": str(exc)})
    return search_host.stream_reindex(search, user, start_response)


def _read_body_at_once(environ: dict[str, Any]) -> bool:
    """Read the request's body in one call, for moto to take as it is; False if it ended early.

    Left to werkzeug, moto reads a body 64 KB at a time, joins the pieces and copies them into
    ``bytes``: two more copies of every part of an upload, into fresh memory. One read fills one
    buffer, and moto gets that very object back (``BytesIO`` hands it over without a copy)."""
    if "wsgi.input_terminated" in environ:  # chunked: werkzeug de-chunks it as it is read
        return True
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True  # werkzeug answers a malformed length
    if length <= 0:
        return True
    try:
        body = environ["wsgi.input"].read(length)
    except OSError:
        return False
    if len(body) < length:
        return False
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = True
    return True


def _json_response(start_response: Any, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class _Connections:
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


def _request_handler(connections: _Connections) -> type[MotoRequestHandler]:
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
                response = getattr(_unclosed, "response", None)
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


def _bind(app: WsgiApp, port: int, connections: _Connections) -> BaseWSGIServer:
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


def owner_session() -> boto3.session.Session:
    """A session for the sandbox's owner: dummy AWS credentials (the sandbox checks none: its
    key does the checking, added to each request by the sandbox's route, see core.aws)."""
    session = new_session(region_name=REGION)
    attach_credentials(session, Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    return session


def sandbox_client(
    endpoint_url: str, service: str, session: boto3.session.Session | None, **config: Any
) -> Any:
    """A boto3 client for the sandbox as its owner (few retries unless ``config`` says)."""
    settings = botocore.config.Config(
        retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=60
    ).merge(botocore.config.Config(**config))
    service_name: Any = service  # boto3-stubs overloads on literal service names
    return (session or owner_session()).client(
        service_name, endpoint_url=endpoint_url, config=settings
    )


def create_user(cognito: Any, user_pool_id: str, username: str, password: str, admin: bool) -> None:
    """A confirmed user with a permanent password (raises botocore ClientError), or none at all:
    a step that fails (a password the policy rejects) removes the user it had created."""
    cognito.admin_create_user(UserPoolId=user_pool_id, Username=username, MessageAction="SUPPRESS")
    try:
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=username, Password=password, Permanent=True
        )
        if admin:
            cognito.admin_add_user_to_group(
                UserPoolId=user_pool_id, Username=username, GroupName=ADMINS_GROUP
            )
    except BaseException:
        with contextlib.suppress(ClientError, BotoCoreError):
            cognito.admin_delete_user(UserPoolId=user_pool_id, Username=username)
        raise


def _deploy_template(endpoint_url: str, session: boto3.session.Session) -> tuple[str, str]:
    """The table and the bucket from the AWS template itself (one definition of the backend),
    deployed by moto's CloudFormation; returns (table, bucket).

    moto skips the template's Cognito resources, its bucket policy and the table's TTL (see
    tests/infra/test_moto_deploy.py): _create_resources makes the pools the same way by hand,
    and switches TTL on here.
    """
    template = files("dms_desktop.resources").joinpath("cloudformation", TEMPLATE_FILE)
    cloudformation = sandbox_client(endpoint_url, "cloudformation", session)
    dynamodb = sandbox_client(endpoint_url, "dynamodb", session)
    try:
        cloudformation.create_stack(
            StackName=SANDBOX_STACK,
            TemplateBody=template.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "TableName", "ParameterValue": TABLE_NAME}],
            Capabilities=["CAPABILITY_IAM"],
        )
        (stack,) = cloudformation.describe_stacks(StackName=SANDBOX_STACK)["Stacks"]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise SandboxError(
                f"The sandbox could not deploy {TEMPLATE_FILE} ({stack['StackStatus']}: "
                f"{stack.get('StackStatusReason', 'no reason given')})."
            )
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
        table, bucket = outputs["TableName"], outputs["BucketName"]
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification=time_to_live_specification()
        )
    finally:
        cloudformation.close()
        dynamodb.close()
    return table, bucket


def _create_resources(endpoint_url: str) -> SandboxResources:
    """First start of an empty folder: the template's table and bucket, then the user pool,
    users and identity pool."""
    session = owner_session()
    table, bucket = _deploy_template(endpoint_url, session)
    cognito = sandbox_client(endpoint_url, "cognito-idp", session)
    identity = sandbox_client(endpoint_url, "cognito-identity", session)
    try:
        pool = cognito.create_user_pool(
            PoolName="dms-local",
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireUppercase": False,
                    "RequireLowercase": False,
                    "RequireNumbers": False,
                    "RequireSymbols": False,
                }
            },
        )["UserPool"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="dms-desktop",
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_SRP_AUTH",
            ],
        )["UserPoolClient"]
        cognito.create_group(UserPoolId=pool["Id"], GroupName=ADMINS_GROUP)
        create_user(cognito, pool["Id"], *DEMO_USER, admin=False)
        create_user(cognito, pool["Id"], *ADMIN_USER, admin=True)
        identity_pool = identity.create_identity_pool(
            IdentityPoolName="dms_local",
            AllowUnauthenticatedIdentities=False,
            CognitoIdentityProviders=[
                {
                    "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}",
                    "ClientId": client["ClientId"],
                    "ServerSideTokenCheck": False,
                }
            ],
        )
    finally:
        for service_client in (cognito, identity):
            service_client.close()
    return SandboxResources(
        user_pool_id=pool["Id"],
        app_client_id=client["ClientId"],
        identity_pool_id=identity_pool["IdentityPoolId"],
        table=table,
        bucket=bucket,
    )


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` while serving (only possible on the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("Signal %d: stopping the sandbox", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _seed_samples(info: SandboxInfo) -> None:
    try:
        samples.seed_sample_documents(info)
    except Exception:
        log.exception("Could not add the sample documents to the local sandbox")


def run_sandbox(
    sandbox_dir: Path,
    port: int = 0,
    idle_timeout: float | None = None,
    on_ready: Callable[[SandboxInfo], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve the sandbox of ``sandbox_dir`` until stopped, idle, or signalled; see ``serve``."""
    quiet_noisy_loggers()
    multipart.install()
    changes.install()  # after multipart: both change how objects read their bodies
    fast_query.install()
    # Read when each service's app is made (at its first request): no CORS headers from moto.
    werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
    sandbox_dir = private_folder(sandbox_dir.expanduser().resolve())
    if not _serving_in_this_process.acquire(blocking=False):
        raise SandboxError(
            "A local sandbox is already running in this program (moto's state is per process)"
        )
    try:
        _run_in_folder(sandbox_dir, port, idle_timeout, on_ready, stop_event)
    finally:
        _serving_in_this_process.release()


def _run_in_folder(
    sandbox_dir: Path,
    port: int,
    idle_timeout: float | None,
    on_ready: Callable[[SandboxInfo], None] | None,
    stop_event: threading.Event | None,
) -> None:
    run_lock = filelock.FileLock(str(sandbox_dir / RUN_LOCK_FILE))
    try:
        run_lock.acquire(timeout=0)
    except filelock.Timeout as exc:
        raise SandboxError(
            f"A local sandbox is already running for {sandbox_dir}; stop it with "
            "`dms local stop` first"
        ) from exc
    try:
        _serve_locked(sandbox_dir, port, idle_timeout, on_ready, stop_event)
    finally:
        clear_backends()
        run_lock.release()


def _serve_locked(
    sandbox_dir: Path,
    port: int,
    idle_timeout: float | None,
    on_ready: Callable[[SandboxInfo], None] | None,
    stop_event: threading.Event | None,
) -> None:
    store = StateStore(sandbox_dir)
    loaded = store.load()
    wal = WriteAheadLog(sandbox_dir / WAL_DIR)
    change_log = ChangeLog(wal, store)
    replayed = lost = 0
    if loaded is None:
        if wal.segments():
            log.warning("No state file in %s: its write-ahead log is dropped", sandbox_dir)
            wal.remove_before(wal.segments()[-1] + 1)
    else:
        try:
            replayed = change_log.replay(loaded.wal_segment)
        except Exception as exc:
            log.exception("Cannot replay the sandbox's write-ahead log")
            raise SandboxError(
                f"The local sandbox's write-ahead log in {wal.directory} is unreadable ({exc}); "
                "run `dms local reset` to move it aside and start with an empty sandbox"
            ) from exc
        lost = take_out_lost_objects()
        log.info("Replayed %d logged change(s); %d object(s) with a lost body", replayed, lost)
    change_log.remember_tokens()
    wal.start()
    runtime = _Runtime(sandbox_dir=sandbox_dir)
    if stop_event is not None:
        runtime.stop_requested = stop_event
    app = SandboxMiddleware(DomainDispatcherApplication(create_backend_app), runtime)
    connections = _Connections()
    server = _bind(app, port, connections)
    runtime.listen_on(server.port)
    endpoint_url = f"http://{HOST}:{server.port}"
    route_endpoint(endpoint_url, KeyedRoute(runtime.key))  # this process's own clients
    server_thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="sandbox-http"
    )
    server_thread.start()
    checkpointer: Checkpointer | None = None
    search: search_host.SearchHost | None = None
    purger: TrashPurger | None = None
    samples_thread: threading.Thread | None = None
    info_path = sandbox_dir / INFO_FILE
    try:
        if loaded is None:
            log.info("First start of the local sandbox in %s", sandbox_dir)
            try:
                resources, samples_seeded = _create_resources(endpoint_url), False
            except Exception as exc:
                log.exception("Could not create the sandbox's resources")
                raise SandboxError(
                    f"The local sandbox could not set itself up in {sandbox_dir}: {exc}"
                ) from exc
        else:
            resources, samples_seeded = loaded.resources, loaded.samples_seeded
        checkpointer = Checkpointer(store, runtime.lock, resources, change_log)
        # Recorded before seeding: the hook runs once, even if it fails or is interrupted.
        checkpointer.samples_seeded = True
        if loaded is None and not checkpointer.checkpoint_now():
            raise SandboxError(f"The local sandbox cannot write its state in {sandbox_dir}")
        runtime.checkpointer = checkpointer
        if replayed or lost:
            checkpointer.mark_dirty()  # fold the log into the state soon
        checkpointer.start()
        search = search_host.SearchHost(
            sandbox_dir,
            resources.table,
            resources.bucket,
            runtime.lock.shared,
            runtime.lock.exclusive,
            change_log.replayed_items,
            checkpointer.mark_dirty,
        )
        checkpointer.before_save = search.trim_consumed
        runtime.search = search
        search.start()
        runtime.object_created = ObjectCreatedHandler(
            sandbox_client(endpoint_url, "s3", None),
            sandbox_client(endpoint_url, "dynamodb", None),
            resources.table,
            resources.bucket,
        )
        if loaded is not None:  # a folder made by an earlier version: add what it lacks
            upgrade_resources(sandbox_client(endpoint_url, "dynamodb", None), resources.table)
        purger = TrashPurger(
            functools.partial(sandbox_client, endpoint_url, session=None),
            resources.table,
            resources.bucket,
        )
        if loaded is not None:
            purger.purge_now()  # what expired while the sandbox was stopped, before anyone looks
        purger.start()
        info = SandboxInfo(
            endpoint_url=endpoint_url,
            region=REGION,
            user_pool_id=resources.user_pool_id,
            app_client_id=resources.app_client_id,
            identity_pool_id=resources.identity_pool_id,
            table=resources.table,
            bucket=resources.bucket,
            pid=os.getpid(),
            key=runtime.key,
        )
        if loaded is not None and plain_passwords_left():
            checkpointer.mark_dirty()  # a state from before passwords were hashed
        if not samples_seeded:
            if loaded is not None:
                checkpointer.mark_dirty()
            # Clients are told about the sandbox only once its samples are in: none of them
            # sees a half-seeded first start. Seeding talks HTTP to us, so not a request thread.
            samples_thread = threading.Thread(
                target=_seed_samples, args=(info,), name="sandbox-samples"
            )
            samples_thread.start()
            samples_thread.join(timeout=SAMPLES_TIMEOUT_SECONDS)
        write_atomically(info_path, info.to_json().encode())
        log.info(
            "Local sandbox for %s listening on %s (dms_desktop from %s)",
            sandbox_dir,
            endpoint_url,
            Path(dms_desktop.__file__).parent,
        )
        if on_ready is not None:
            on_ready(info)
        with _stop_on_signals(runtime.stop_requested):
            _wait_for_stop(runtime, idle_timeout)
    finally:
        if search is not None:
            search.stop()  # before the last checkpoint, which drops what it consumed
        if purger is not None:
            purger.stop()
        _shut_down(server, server_thread, runtime, checkpointer, samples_thread, connections)
        with contextlib.suppress(OSError):
            info_path.unlink()


def _wait_for_stop(runtime: _Runtime, idle_timeout: float | None) -> None:
    """Until a stop is asked for, or ``idle_timeout`` seconds passed without an AWS request
    while no lease was held (a window holds one while it is open)."""
    while True:
        timeout = 1.0
        if idle_timeout is not None:
            idle_for = time.monotonic() - runtime.last_activity()
            if idle_for >= idle_timeout:
                log.info("Local sandbox idle for %.0f s: stopping", idle_for)
                return
            timeout = min(timeout, idle_timeout - idle_for)
        if runtime.stop_requested.wait(timeout):
            return


def _shut_down(
    server: BaseWSGIServer,
    server_thread: threading.Thread,
    runtime: _Runtime,
    checkpointer: Checkpointer | None,
    samples_thread: threading.Thread | None,
    connections: _Connections,
) -> None:
    if samples_thread is not None:  # let a first start finish its samples
        samples_thread.join(timeout=30)
    server.shutdown()  # no new connections
    server_thread.join()
    if checkpointer is not None:
        checkpointer.stop()
    with runtime.lock.exclusive():  # waits for requests in flight; later ones get 503
        runtime.closed = True
    if checkpointer is not None:
        checkpointer.checkpoint_now()
        checkpointer.wait_for_commits(timeout=10)  # their records: redundant now, but answered
        checkpointer.wal.close()
    connections.close_all(timeout=10)
    server.server_close()
    if runtime.object_created is not None:
        runtime.object_created.close()
    log.info("Local sandbox for %s stopped", runtime.sandbox_dir)
