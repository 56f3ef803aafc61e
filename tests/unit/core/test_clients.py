"""How the app's S3 clients send to the local sandbox: request bodies are not signed (a SHA-256
pass over every byte that protects nothing on loopback; elsewhere botocore decides, as it always
has), and an upload sends two parts at a time, not eight (the app and the sandbox server share
the machine's CPUs, and two already keep the server busy)."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.core.aws import make_client
from dms_desktop.core.blobs import TransferSettings
from tests.support.aws import new_session


class _Sent(Exception):
    """Stops a request once its headers are seen: no server is needed."""


def _content_hash_header(endpoint_url: str) -> str:
    s3 = make_client(new_session(), "s3", endpoint_url)
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(request.headers["X-Amz-Content-SHA256"].decode())
        raise _Sent

    s3.meta.events.register("before-send.s3.PutObject", capture)
    with pytest.raises(_Sent):
        s3.put_object(Bucket="documents", Key="a.txt", Body=b"hello")
    return seen[0]


@pytest.mark.parametrize(
    "endpoint_url", ["http://127.0.0.1:4566", "http://localhost:4566", "http://[::1]:4566"]
)
def test_bodies_sent_to_the_local_sandbox_are_not_signed(endpoint_url: str) -> None:
    assert _content_hash_header(endpoint_url) == "UNSIGNED-PAYLOAD"


def test_bodies_sent_over_plain_http_to_another_machine_are_signed() -> None:
    assert _content_hash_header("http://10.0.0.5:4566") != "UNSIGNED-PAYLOAD"


@pytest.mark.parametrize(
    ("endpoint_url", "parts_in_flight"),
    [
        ("http://127.0.0.1:4566", 2),
        ("http://localhost:4566", 2),
        ("http://192.0.2.10:4566", 8),
        ("https://s3.eu-west-1.amazonaws.com", 8),
        (None, 8),  # AWS's own endpoints
    ],
)
def test_uploads_to_the_local_sandbox_send_two_parts_at_a_time(
    endpoint_url: str | None, parts_in_flight: int
) -> None:
    assert TransferSettings.for_endpoint(endpoint_url).concurrency == parts_in_flight
