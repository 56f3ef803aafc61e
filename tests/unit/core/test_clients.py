"""How the app's S3 clients sign what they send: request bodies to the local sandbox are not
signed (a SHA-256 pass over every byte that protects nothing on loopback); elsewhere botocore
decides, as it always has."""

from __future__ import annotations

from typing import Any

import pytest

from dms_desktop.core.aws import make_client
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
