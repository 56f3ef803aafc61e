"""Many documents written straight to a backend (BatchWriteItem, parallel PUTs): for tests and
benchmarks that need thousands of them fast, behind the app's back."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dms_desktop.core.ids import new_document_id
from dms_desktop.core.models import Document, utc_now
from dms_desktop.core.repository import to_item


def make_test_records(user_id: str, count: int, tag: str, body: bytes) -> list[Document]:
    """``count`` documents of ``user_id`` tagged ``tag``, each with ``body`` as its content."""
    now = utc_now()
    documents = []
    for number in range(count):
        document_id = new_document_id()
        documents.append(
            Document(
                user_id=user_id,
                document_id=document_id,
                filename=f"seed {number:05d}.txt",
                file_type="text/plain",
                size=len(body),
                tags=(tag,),
                created_at=now,
                updated_at=now,
                checksum="0" * 64,
            )
        )
    return documents


def seed_metadata(
    dynamodb: Any, table: str, documents: Sequence[Document], threads: int = 4
) -> None:
    """Write the documents' metadata with BatchWriteItem (25 per request, unprocessed retried)."""
    chunks = [documents[start : start + 25] for start in range(0, len(documents), 25)]

    def write(chunk: Sequence[Document]) -> None:
        request: dict[str, Any] = {table: [{"PutRequest": {"Item": to_item(doc)}} for doc in chunk]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, chunks))


def seed_bodies(s3: Any, bucket: str, documents: Sequence[Document], body: bytes) -> None:
    """PUT ``body`` as the content of every document (8 at a time)."""

    def put(document: Document) -> None:
        s3.put_object(Bucket=bucket, Key=document.s3_key, Body=body)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, documents))
