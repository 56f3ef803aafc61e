"""Search test helpers: stream records as DynamoDB Streams delivers them, documents with text
bodies, and an OpenSearch-compatible server (osmem-server, an in-memory server a PyPI wheel
ships) for the OpenSearch index."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.models import Document
from dms_desktop.core.repository import to_item

_sequence = iter(range(10**20, 10**21))


def document(
    number: int,
    *,
    user_id: str = "user-a",
    filename: str | None = None,
    file_type: str = "text/plain",
    body: bytes = b"",
    tags: tuple[str, ...] = (),
    folder: str = "",
    version: int = 1,
    size: int | None = None,
    created: datetime | None = None,
    updated: datetime | None = None,
) -> Document:
    document_id = f"01900000-0000-7000-8000-{number:012d}"
    moment = created or datetime(2026, 1, 1, tzinfo=UTC)
    return Document(
        user_id=user_id,
        document_id=document_id,
        filename=filename or f"file {number}.txt",
        file_type=file_type,
        size=len(body) if size is None else size,
        tags=tags,
        folder=folder,
        created_at=moment,
        updated_at=updated or moment,
        s3_key=schema.object_key(user_id, document_id),
        checksum=hashlib.sha256(body).hexdigest(),
        version=version,
    )


def _keys(doc: Document) -> dict[str, Any]:
    return {"userId": {"S": doc.user_id}, "documentId": {"S": doc.document_id}}


def record(
    event: str,
    new: Document | None = None,
    old: Document | None = None,
    *,
    expired: bool = False,
) -> dict[str, Any]:
    """A stream record (NEW_AND_OLD_IMAGES) as GetRecords or a Lambda event carries it."""
    subject = new or old
    assert subject is not None
    stream: dict[str, Any] = {
        "Keys": _keys(subject),
        "SequenceNumber": str(next(_sequence)),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        stream["NewImage"] = to_item(new)
    if old is not None:
        stream["OldImage"] = to_item(old)
    result: dict[str, Any] = {"eventName": event, "eventSource": "aws:dynamodb", "dynamodb": stream}
    if expired:
        result["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return result


def insert(doc: Document) -> dict[str, Any]:
    return record("INSERT", new=doc)


def modify(old: Document, new: Document) -> dict[str, Any]:
    return record("MODIFY", new=new, old=old)


def remove(doc: Document, *, expired: bool = False) -> dict[str, Any]:
    return record("REMOVE", old=doc, expired=expired)


class Bodies:
    """Document bodies by (user id, document id), read as the indexer reads them."""

    def __init__(self) -> None:
        self.bodies: dict[tuple[str, str], bytes] = {}
        self.reads: list[tuple[str, str]] = []

    def put(self, doc: Document, body: bytes) -> Document:
        self.bodies[(doc.user_id, doc.document_id)] = body
        return doc

    def read(self, user_id: str, document_id: str, limit: int) -> tuple[bytes, bool]:
        from dms_desktop.core.errors import NotFound

        self.reads.append((user_id, document_id))
        body = self.bodies.get((user_id, document_id))
        if body is None:
            raise NotFound("no such body")
        return body[:limit], len(body) > limit


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """An OpenSearch-compatible server (osmem-server) for this test process."""
    from osmem_server import OsmemServer

    with OsmemServer.start(japanese=False) as server:
        yield server.url


def pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (ASCII); no lines: a page with only a
    drawn square, as a scan without a text layer looks to a text extractor."""
    if lines:
        shown = " ".join(f"({line}) Tj T*" for line in lines)
        content = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode()
    else:
        content = b"0 0 0 rg 100 100 200 200 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def wait_for(condition: Any, timeout: float = 20.0, what: str = "the search index") -> Any:
    """Poll ``condition()`` until it returns something true (the index is written by another
    process: there is no signal to wait on); fails the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} did not catch up in {timeout} s"
        time.sleep(0.05)  # polling another process's index
