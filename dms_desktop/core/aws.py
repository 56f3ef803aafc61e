"""boto3 plumbing: sessions, client configuration and the translation of AWS errors into domain
errors.

Every boto3 call of the app goes through clients made here from an explicit ``boto3.Session``
(made by :func:`new_session`; one per thread, never the shared default session), with bounded
standard-mode retries and timeouts. :func:`aws_errors` turns botocore failures into the few domain
errors users see.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import ConnectTimeoutError as BotoConnectTimeoutError
from botocore.loaders import Loader

from .. import __version__
from .errors import (
    AuthError,
    ConfigError,
    Conflict,
    DmsError,
    IntegrityError,
    NotFound,
    Throttled,
    Unavailable,
    ValidationError,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "SlowDown",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
}
_AUTH = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "NotAuthorizedException",
    "MissingAuthenticationTokenException",
}
_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload", "NoSuchVersion"}
# S3 found the body it received different from the checksum sent with it.
_DAMAGED_IN_TRANSIT = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}
_MISCONFIGURED = {"ResourceNotFoundException", "NoSuchBucket"}


class _SharedLoader(Loader):
    """botocore's loader of its JSON data (endpoints, service models), one for the whole process.

    boto3 appends its own data folder to the loader of each new session; this loader has it from
    the start and hands out a copy of its search paths, so those appends do not pile up."""

    def __init__(self) -> None:
        extra = os.environ.get("AWS_DATA_PATH")  # as botocore's own create_loader reads it
        paths = [str(Path(path).expanduser()) for path in extra.split(os.pathsep)] if extra else []
        super().__init__(extra_search_paths=paths)
        self._fixed_paths = [*super().search_paths, str(Path(boto3.__file__).parent / "data")]

    @property
    def search_paths(self) -> list[str]:
        return list(self._fixed_paths)


@functools.cache  # two threads racing here at first would each parse once; no harm
def _loader() -> _SharedLoader:
    return _SharedLoader()


class EndpointRoute(Protocol):
    """Keeps requests to a local endpoint (the sandbox) going to the right place, with the proof
    that they come from its owner; see :func:`route_endpoint`."""

    def prepare(self, request: Any) -> None:
        """Called before each attempt of a request is signed (botocore's ``AWSRequest``): may
        add headers and move the request to where the endpoint is now."""

    def recover(self, context: dict[str, Any], error: BaseException | None, code: str) -> bool:
        """Called after an attempt failed with ``error`` (no answer) or with the error ``code``
        in the answer: True to send the request again at once (the endpoint was found again or
        restarted). May raise a DmsError that says why the request cannot succeed."""


_routes: dict[str, EndpointRoute] = {}
_routes_lock = threading.Lock()


def route_endpoint(endpoint_url: str, route: EndpointRoute) -> None:
    """Send the requests of every client made from a :func:`new_session` session to
    ``endpoint_url`` through ``route`` (from now on, also for clients made before)."""
    with _routes_lock:
        _routes[_origin(endpoint_url)] = route


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _route_of(url: str) -> EndpointRoute | None:
    if not _routes:  # AWS itself: nothing to look up
        return None
    return _routes.get(_origin(url))


def _prepare_routed(request: Any, **_kwargs: Any) -> None:
    route = _route_of(request.url)
    if route is not None:
        route.prepare(request)


def _recover_routed(
    request_dict: dict[str, Any],
    response: Any = None,
    caught_exception: BaseException | None = None,
    **_kwargs: Any,
) -> float | None:
    """botocore's retry hook: a routed endpoint may recover from a failed attempt (then it is
    sent again at once; the standard retry handler's own answer comes first, see botocore's
    ``first_non_none_response``)."""
    code = ""
    if caught_exception is None:
        if response is None or response[0].status_code < 400:
            return None
        code = str(response[1].get("Error", {}).get("Code", ""))
    route = _route_of(request_dict["url"])
    if route is None:
        return None
    return 0.0 if route.recover(request_dict["context"], caught_exception, code) else None


def new_session(
    *,
    region_name: str | None = None,
    profile_name: str | None = None,
) -> boto3.Session:
    """A boto3 session whose botocore data (endpoints, service models) is read once per process.

    botocore parses megabytes of JSON (the endpoints, each service's model) for the first clients
    of each session, in C code that holds the interpreter lock: a worker building its clients
    stalled the window's 5 ms heartbeat for 26-65 ms at a time (and for more on a busy machine).
    Sessions made here share one loader, whose cache keeps what was parsed.

    Their clients' requests to a local endpoint go through its route (:func:`route_endpoint`)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    register: Any = core.register  # the stubs type handlers as returning None; ours answer
    register("before-sign", _prepare_routed)
    register("needs-retry", _recover_routed)
    return boto3.session.Session(
        region_name=region_name,
        profile_name=profile_name,
        botocore_session=core,
    )


def attach_credentials(session: boto3.Session, credentials: Credentials) -> None:
    """Sign the clients ``session`` makes from now on with ``credentials`` (clients it made
    before keep theirs: a sign-in's unsigned Cognito clients stay unsigned). A new session costs
    ~15 ms of set-up, so a sign-in reuses its own for the signed-in user."""
    # How botocore itself attaches resolved credentials to a session (no public setter).
    session._session._credentials = credentials  # type: ignore[attr-defined]


def session_for_thread(session: boto3.Session) -> boto3.Session:
    """A new session with the region, profile and credentials of ``session``, for the calling
    thread: a thread that talks to AWS for a signed-in user makes its clients on a session of its
    own (a Session is not safe to share between threads; making clients changes it).

    The credentials object itself is shared: botocore's refreshable credentials renew under a
    lock of their own, so every thread's clients sign with the user's current keys."""
    fresh = new_session(
        region_name=session.region_name,
        profile_name=session._session.profile,  # None unless the session was made with one
    )
    credentials = session.get_credentials()  # resolved at sign-in: only read here
    if credentials is not None:
        attach_credentials(fresh, credentials)
    return fresh


def client_config(*, max_pool_connections: int = 10) -> Config:
    """Bounded retries and timeouts, so a dead backend fails in seconds, not minutes."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=max_pool_connections,
        user_agent_extra=f"dms-desktop/{__version__}",
    )


def make_client(
    session: boto3.Session, service: str, endpoint_url: str | None, **config: Any
) -> Any:
    """A client of ``service`` on ``session`` (thread-safe to use; the session itself is not)."""
    factory: Any = session.client  # boto3-stubs overloads every service name; ours is a variable
    client_settings = client_config(**config)
    if service == "s3":  # presigned links too in SigV4 (botocore presigns SigV2 otherwise)
        client_settings = client_settings.merge(Config(signature_version="s3v4"))
    if service == "s3" and is_loopback(endpoint_url):
        # Over http botocore signs each request body: one more SHA-256 pass over every byte
        # sent (a third of an upload's CPU), which protects nothing on this machine's loopback.
        # Over https, as on AWS, botocore does not sign bodies anyway: TLS and the checksum
        # header protect them.
        client_settings = client_settings.merge(Config(s3={"payload_signing_enabled": False}))
    return factory(service, endpoint_url=endpoint_url, config=client_settings)


def is_loopback(endpoint_url: str | None) -> bool:
    """Whether ``endpoint_url`` is on this machine (the local sandbox)."""
    host = urlsplit(endpoint_url).hostname if endpoint_url else None
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: BaseException, action: str) -> DmsError:
    """The domain error for a botocore failure while doing ``action`` ("list documents")."""
    if isinstance(exc, DmsError):
        return exc
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message") or code
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "ConditionalCheckFailedException":
            return Conflict(f"Could not {action}: the document was changed by someone else.")
        if code in _DAMAGED_IN_TRANSIT:
            return IntegrityError(
                f"Could not {action}: the file was damaged on the way to the server ({code}); "
                "nothing was stored. Try again."
            )
        if code in _THROTTLING:
            return Throttled(
                f"Could not {action}: the backend is busy (throttling). Try again in a moment."
            )
        if code in _AUTH or status == 403:
            return AuthError(
                f"Could not {action}: access denied or the session expired ({message}). "
                "Sign in again."
            )
        if code in _MISCONFIGURED:
            return ConfigError(
                f"Could not {action}: {message}. Check the table and bucket names of the profile."
            )
        if code in _NOT_FOUND or status == 404:
            return NotFound(f"Could not {action}: it does not exist (any more).")
        if code == "ValidationException":
            return ValidationError(f"Could not {action}: the backend rejected it ({message}).")
        if status >= 500 or code in {"InternalServerError", "ServiceUnavailable"}:
            return Unavailable(
                f"Could not {action}: the backend failed ({code or status}). Try again later."
            )
        return DmsError(f"Could not {action}: {message} ({code}).")
    if isinstance(exc, NoCredentialsError):
        return AuthError(f"Could not {action}: no credentials. Sign in first.")
    if isinstance(
        exc,
        EndpointConnectionError
        | BotoConnectTimeoutError
        | ConnectionClosedError
        | ReadTimeoutError,
    ):
        return Unavailable(
            f"Could not {action}: the backend cannot be reached ({exc}). "
            "Check the network or that the sandbox is running, then try again."
        )
    if isinstance(exc, ResponseStreamingError):
        return Unavailable(
            f"Could not {action}: the connection broke while receiving data. Try again."
        )
    if isinstance(exc, BotoCoreError):
        return Unavailable(f"Could not {action}: {exc}.")
    return DmsError(f"Could not {action}: unexpected error ({type(exc).__name__}).")


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Re-raise botocore failures inside the block as domain errors (the original as the cause)."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        error = translate(exc, action)
        log.debug("%s failed: %r", action, exc)
        raise error from exc
