"""Shared fixtures for the Qt-free core: moto in-process, an explicit boto3 Session, the table,
the bucket, and the repository / blob store / service built on them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB, TransferSettings
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.core.models import Document
from dms_desktop.core.repository import DocumentRepository, to_item
from dms_desktop.core.service import DocumentService
from tests.support.aws import USER_ID, new_session

BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never read the real user's AWS config or credentials."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def session(aws: None) -> boto3.session.Session:
    return new_session()


@pytest.fixture
def dynamodb(session: boto3.session.Session) -> Any:
    client = session.client("dynamodb")
    client.create_table(**schema.table_definition())
    return client


@pytest.fixture
def s3(session: boto3.session.Session) -> Any:
    client = session.client("s3")
    client.create_bucket(Bucket=schema.BUCKET_NAME)
    return client


@pytest.fixture
def repository(dynamodb: Any) -> DocumentRepository:
    return DocumentRepository(dynamodb, schema.TABLE_NAME)


@pytest.fixture
def settings() -> TransferSettings:
    return TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=4)


@pytest.fixture
def blobs(s3: Any, settings: TransferSettings) -> BlobStore:
    return BlobStore(s3, schema.BUCKET_NAME, settings)


@pytest.fixture
def service(repository: DocumentRepository, blobs: BlobStore) -> DocumentService:
    return DocumentService(repository, blobs, USER_ID)


def make_document(
    user_id: str = USER_ID,
    *,
    document_id: str | None = None,
    filename: str = "report.pdf",
    file_type: str = "application/pdf",
    size: int = 10,
    tags: tuple[str, ...] | list[str] = (),
    checksum: str = "0" * 64,
    created_at: datetime = BASE_TIME,
    updated_at: datetime | None = None,
    folder: str = "",
) -> Document:
    document_id = document_id or new_document_id()
    return Document(
        user_id=user_id,
        document_id=document_id,
        filename=filename,
        file_type=file_type,
        size=size,
        tags=tuple(tags),
        folder=folder,
        created_at=created_at,
        updated_at=updated_at or created_at,
        checksum=checksum,
    )


_TYPES = ["application/pdf", "image/png", "image/jpeg", "text/plain", "text/markdown"]


def varied_documents(count: int, user_id: str = USER_ID) -> list[Document]:
    """``count`` documents whose names, sizes, types and update times are all in a different
    order from their creation order (and have ties), so every sort order is exercised."""
    documents = []
    for number in range(count):
        documents.append(
            make_document(
                user_id,
                filename=f"{'Doc' if number % 2 else 'doc'} {(number * 7919) % 1009:04d}.bin",
                file_type=_TYPES[number % len(_TYPES)],
                size=(number * 37) % 23,
                tags=[f"t{number % 5}"],
                updated_at=BASE_TIME + timedelta(seconds=(number * 13) % 29),
            )
        )
    return documents


def put_documents(client: Any, documents: list[Document]) -> None:
    """Write documents straight into the table (BatchWriteItem, 25 at a time): fast setup."""
    for start in range(0, len(documents), 25):
        chunk = documents[start : start + 25]
        request = {schema.TABLE_NAME: [{"PutRequest": {"Item": to_item(doc)}} for doc in chunk]}
        while request:
            response = client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}


def write_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def walk(
    repository: DocumentRepository, query: ListQuery, user_id: str = USER_ID
) -> tuple[list[Document], list[Page]]:
    """Every page of a listing, following the cursors the way the window does."""
    pages: list[Page] = []
    cursor: str | None = None
    while True:
        page = repository.list_page(user_id, query, cursor)
        pages.append(page)
        assert len(page.documents) <= query.page_size
        if page.cursor is None:
            break
        assert len(pages) < 10_000, "the listing never ends"
        cursor = page.cursor
    return [doc for page in pages for doc in page.documents], pages


def ids(documents: list[Document]) -> list[str]:
    return [document.document_id for document in documents]


def newest_first(documents: list[Document]) -> list[str]:
    return sorted(ids(documents), reverse=True)
