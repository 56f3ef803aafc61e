"""The S3 requests a test's process sends, to show what a resumed transfer sent (and not)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.httpsession import URLLib3Session


@contextmanager
def requests_sent() -> Iterator[list[str]]:
    """Every S3 request this process sends meanwhile: "UploadPart N" for a part, else the method
    and the names of its query parameters ("GET max-parts,uploadId" for ListParts) or, without
    any, its Range ("GET bytes=1024-")."""
    sent: list[str] = []
    original = URLLib3Session.send

    def send(self: URLLib3Session, request: Any) -> Any:
        query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
        if "partNumber" in query:
            sent.append(f"UploadPart {query['partNumber'][0]}")
        elif "X-Amz-Target" not in request.headers:
            detail = ",".join(sorted(query)) or _text(request.headers.get("Range", ""))
            sent.append(f"{request.method} {detail}")
        return original(self, request)

    URLLib3Session.send = send  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        URLLib3Session.send = original  # type: ignore[method-assign]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
