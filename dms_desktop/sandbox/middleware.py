"""The sandbox's WSGI middleware in front of moto: it answers the sandbox's owner only (its key,
its Host), serves health, leases, shutdown and reindex, and makes each change durable (the
write-ahead log, or a checkpoint) before its answer (see sandbox.server)."""

from __future__ import annotations

import contextlib
import hmac
import io
import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox import changes, search_host
from dms_desktop.sandbox.changes import ChangeSet
from dms_desktop.sandbox.checkpoints import Checkpointer, SharedExclusiveLock
from dms_desktop.sandbox.info import (
    CHALLENGE_HEADER,
    FOREIGN_HOST,
    HEALTH_PATH,
    KEY_HEADER,
    KEY_REJECTED,
    LEASE_PATH,
    PROOF_HEADER,
    SHUTDOWN_PATH,
    STOPPING,
    new_key,
    proof,
    proof_matches,
)
from dms_desktop.sandbox.lifecycle import (
    EXPIRED_LINK_BODY,
    is_owners_share_link,
    presigned_link_expired,
)
from dms_desktop.sandbox.web_uploads import ObjectCreatedHandler

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
unclosed_response = threading.local()  # the response a request thread has not closed yet


SERVICE_NAME = "dms-sandbox"


MAX_LEASE_SECONDS = 3600.0


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


class _ClosingResponse:
    """Passes the response through and runs ``on_close`` once, when the server closes it (or,
    if werkzeug skips that, when the request handler finishes: see _request_handler)."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._result = result
        self._on_close: Callable[[], None] | None = on_close
        unclosed_response.response = self

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        if getattr(unclosed_response, "response", None) is self:
            unclosed_response.response = None
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


@dataclass
class SandboxRuntime:
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
    in_flight: int = 0  # AWS requests received and not answered yet (their body being read too)
    in_flight_lock: threading.Lock = field(default_factory=threading.Lock)

    def request_started(self) -> None:
        with self.in_flight_lock:
            self.in_flight += 1

    def request_ended(self) -> None:
        with self.in_flight_lock:
            self.in_flight -= 1

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

    def __init__(self, app: WsgiApp, runtime: SandboxRuntime) -> None:
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
        runtime.request_started()
        try:
            result = self._serve(environ, start_response)
        except BaseException:
            runtime.request_ended()
            raise
        return _ClosingResponse(result, runtime.request_ended)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """An AWS request, for moto: its body read at once, under the shared lock."""
        runtime = self.runtime
        if not read_body_at_once(environ):
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
            # Received (a body may still be arriving) and not answered yet.
            "requests_in_flight": runtime.in_flight,
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


def _reindex(
    environ: dict[str, Any], start_response: Any, runtime: SandboxRuntime
) -> Iterable[bytes]:
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


def read_body_at_once(environ: dict[str, Any]) -> bool:
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
