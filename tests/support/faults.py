"""Fault injection under botocore, and the one invariant every fault case ends with.

:class:`FaultInjector` replaces the HTTP layer's ``URLLib3Session.send`` for the whole process
(the CLI run in-process, the window's worker and transfer threads): requests of a named operation
(``"s3.UploadPart"``, ``"dynamodb.PutItem"``) are failed as told: a connection reset before the
request is sent, a reset after the backend applied it (the response is lost), a read timeout, a
response body cut off after its first MiB, a backend that is gone, or an error status with the
body AWS sends (500, 503, throttling). Everything
above the socket runs for real: botocore's retries and error parsing, s3transfer, the app.

:func:`assert_nothing_lost` checks, with clients of its own that no fault touches: no metadata
without a body, no body without metadata (sizes equal), no dangling multipart upload, no partial
download file.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session
from urllib3.exceptions import ProtocolError

from dms_desktop.core.schema import user_prefix
from dms_desktop.sandbox import SandboxInfo
from dms_desktop.sandbox.provisioning import owner_session, sandbox_client

S3_ERRORS = {
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Please reduce your request rate."),
}
DYNAMODB_ERRORS = {
    500: ("com.amazon.coral.service#InternalFailure", "Internal failure"),
    503: ("com.amazon.coral.service#ServiceUnavailableException", "Service unavailable"),
}
THROTTLING = {
    "ProvisionedThroughputExceededException": (
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    ),
    "ThrottlingException": (400, "com.amazon.coral.availability#ThrottlingException"),
    "SlowDown": (503, "SlowDown"),
}

# How each fault looks to botocore: raised before sending, raised after the backend applied the
# request (its response lost), or an HTTP error response.
RAISED_BEFORE = {"reset", "gone"}
RAISED_AFTER = {"reset-after", "timeout"}


def operation_of(request: Any) -> str:
    """``service.Operation`` of a prepared botocore request (the few this app sends)."""
    target = request.headers.get("X-Amz-Target")
    if target:
        prefix, _, name = (target.decode() if isinstance(target, bytes) else target).partition(".")
        service = "dynamodb" if prefix.startswith("DynamoDB") else prefix
        return f"{service}.{name}"
    query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
    method = request.method
    if method == "POST" and "uploads" in query:
        return "s3.CreateMultipartUpload"
    if method == "POST" and "uploadId" in query:
        return "s3.CompleteMultipartUpload"
    if method == "POST" and "delete" in query:
        return "s3.DeleteObjects"
    if method == "PUT":
        return "s3.UploadPart" if "partNumber" in query else "s3.PutObject"
    if method == "DELETE":
        return "s3.AbortMultipartUpload" if "uploadId" in query else "s3.DeleteObject"
    if method == "HEAD":
        return "s3.HeadObject"
    if method == "GET" and "versions" in query:
        return "s3.ListObjectVersions"
    if method == "GET" and ("list-type" in query or "uploads" in query):
        return "s3.List"
    return f"s3.{method}"


CUT_AFTER = 1024 * 1024


class _CutStream:
    """A response body whose connection breaks after ``CUT_AFTER`` bytes."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._left = CUT_AFTER

    def read(self, amount: int | None = None, **kwargs: Any) -> bytes:
        if self._left <= 0:
            self._raw.close()
            raise ProtocolError("Connection broken: injected fault")
        data: bytes = self._raw.read(min(amount or self._left, self._left), **kwargs)
        self._left -= len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def error_response(request: Any, operation: str, fault: str) -> AWSResponse:
    """The HTTP response AWS sends for ``fault`` ("500", "503" or a throttling code)."""
    service = operation.split(".", 1)[0]
    if fault in THROTTLING:
        status, code = THROTTLING[fault]
        message = "Rate exceeded"
    else:
        status = int(fault)
        code, message = (S3_ERRORS if service == "s3" else DYNAMODB_ERRORS)[status]
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = {"Content-Type": "application/xml"}
    else:
        body = f'{{"__type": "{code}", "message": "{message}"}}'.encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, _Body(body))


@dataclass
class Rule:
    operation: str
    fault: str  # reset, reset-after, timeout, cut, gone, 500, 503 or a THROTTLING code
    times: int  # how many matching requests fail (then they pass again)
    skip: int = 0  # let this many matching requests pass first
    seen: int = 0
    failed: int = 0

    def applies(self) -> bool:
        self.seen += 1
        if self.seen <= self.skip or self.failed >= self.times:
            return False
        self.failed += 1
        return True


@dataclass
class FaultInjector:
    """The faults in force, and how many requests of each operation were sent."""

    rules: list[Rule] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _paused: int = 0

    def fail(self, operation: str, fault: str, times: int = 1, skip: int = 0) -> Rule:
        """Fail the next ``times`` requests of ``operation`` (after ``skip`` pass)."""
        rule = Rule(operation, fault, times, skip)
        with self._lock:
            self.rules.append(rule)
        return rule

    def go_away(self) -> Rule:
        """Every request finds no backend, until :meth:`clear`."""
        return self.fail("*", "gone", times=10**9)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def _fault_for(self, operation: str) -> str | None:
        with self._lock:
            if self._paused:
                return None
            self.sent[operation] += 1
            for rule in self.rules:
                if rule.operation in {operation, "*"} and rule.applies():
                    return rule.fault
        return None

    def send(self, original: Any, session: URLLib3Session, request: Any) -> Any:
        operation = operation_of(request)
        fault = self._fault_for(operation)
        if fault is None:
            return original(session, request)
        if fault == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        if fault == "gone":
            raise EndpointConnectionError(endpoint_url=request.url)
        if fault == "cut":
            response = original(session, request)
            response.raw = _CutStream(response.raw)
            return response
        if fault in RAISED_AFTER:
            original(session, request)  # the backend does it; the answer never arrives
            if fault == "timeout":
                raise ReadTimeoutError(endpoint_url=request.url)
            raise ConnectionClosedError(endpoint_url=request.url)
        return error_response(request, operation, fault)


_active: FaultInjector | None = None


@contextmanager
def injected_faults() -> Iterator[FaultInjector]:
    """A FaultInjector in force for every botocore request of this process."""
    global _active
    injector = FaultInjector()
    original = URLLib3Session.send

    def send(self: URLLib3Session, request: Any) -> Any:
        return injector.send(original, self, request)

    URLLib3Session.send = send  # type: ignore[method-assign]
    _active = injector
    try:
        yield injector
    finally:
        URLLib3Session.send = original  # type: ignore[method-assign]
        _active = None


@contextmanager
def _no_faults() -> Iterator[None]:
    if _active is None:
        yield
        return
    with _active.paused():
        yield


def _clients(info: SandboxInfo) -> tuple[Any, Any]:
    session = owner_session()
    return (
        sandbox_client(info.endpoint_url, "dynamodb", session),
        sandbox_client(info.endpoint_url, "s3", session),
    )


def stored_state(info: SandboxInfo, user_id: str) -> tuple[dict[str, int], dict[str, int], list]:
    """(metadata s3Key -> size, body key -> size, unfinished multipart uploads) of a user."""
    with _no_faults():
        dynamodb, s3 = _clients(info)
        metadata: dict[str, int] = {}
        request: dict[str, Any] = {
            "TableName": info.table,
            "KeyConditionExpression": "userId = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ConsistentRead": True,
        }
        while True:
            page = dynamodb.query(**request)
            for item in page["Items"]:
                metadata[item["s3Key"]["S"]] = int(item["size"]["N"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        prefix = user_prefix(user_id)
        bodies = {
            entry["Key"]: int(entry["Size"])
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=info.bucket, Prefix=prefix
            )
            for entry in page.get("Contents", [])
        }
        uploads = s3.list_multipart_uploads(Bucket=info.bucket, Prefix=prefix).get("Uploads", [])
        dynamodb.close()
        s3.close()
    return metadata, bodies, uploads


def assert_nothing_lost(info: SandboxInfo, user_id: str, *download_folders: Path) -> None:
    """The promise after any fault: metadata and bodies pair up exactly, no multipart upload is
    left unfinished, and no partial download file is left in ``download_folders``."""
    metadata, bodies, uploads = stored_state(info, user_id)
    assert set(metadata) <= set(bodies), f"metadata without a body: {set(metadata) - set(bodies)}"
    assert set(bodies) <= set(metadata), f"body without metadata: {set(bodies) - set(metadata)}"
    assert metadata == bodies, "a stored size differs from its metadata"
    assert uploads == [], f"dangling multipart uploads: {uploads}"
    for folder in download_folders:
        partial = [path.name for path in folder.rglob("*.dms-partial")]
        assert partial == [], f"partial download files left: {partial}"
