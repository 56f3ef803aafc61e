"""The indexer Lambda function: a stream event in, the OpenSearch index (osmem-server) in step,
bodies read from S3 (moto), failures answered as partial batch failures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dms_desktop.core.search.extract import TextCache
from dms_desktop.core.search.indexer import StreamIndexer
from dms_desktop.core.search.opensearch import OpenSearchIndex, signed_client
from dms_desktop.core.search.query import parse_query
from dms_desktop.indexer import handler
from tests.support.search import document, insert, pdf, remove

BUCKET = "dms-documentsbucket-test"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="eu-west-1"
        ).client("s3")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


@pytest.fixture
def index(opensearch_url: str) -> Iterator[OpenSearchIndex]:
    found = OpenSearchIndex(
        signed_client(opensearch_url, "eu-west-1", "es", None),
        f"indexer-{uuid.uuid4().hex[:10]}",
        refresh=True,
    )
    found.ensure_index()
    yield found
    found.close()


@pytest.fixture
def lambda_indexer(
    s3: Any, index: OpenSearchIndex, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> StreamIndexer:
    indexer = StreamIndexer(index, handler.S3Bodies(s3, BUCKET).read, TextCache(tmp_path))
    monkeypatch.setattr(handler, "current_indexer", lambda: indexer)
    return indexer


def _store(s3: Any, number: int, body: bytes, **fields: Any) -> Any:
    doc = document(number, body=body, **fields)
    s3.put_object(Bucket=BUCKET, Key=doc.s3_key, Body=body)
    return doc


def _names(index: OpenSearchIndex, user: str, text: str) -> list[str]:
    return [hit.name.text for hit in index.search(user, parse_query(text))]


def test_a_batch_is_indexed_with_the_text_of_its_bodies(
    s3: Any, index: OpenSearchIndex, lambda_indexer: StreamIndexer
) -> None:
    notes = _store(s3, 1, b"the quokka meeting", filename="notes.txt")
    report = _store(
        s3, 2, pdf(["Annual aardvark report"]), filename="report.pdf", file_type="application/pdf"
    )
    answer = handler.handle_stream({"Records": [insert(notes), insert(report)]}, None)
    assert answer == {"batchItemFailures": []}
    assert _names(index, "user-a", "quokka") == ["notes.txt"]
    assert _names(index, "user-a", "aardvark") == ["report.pdf"]
    handler.handle_stream({"Records": [remove(notes, expired=True)]}, None)
    assert _names(index, "user-a", "quokka") == []


def test_a_body_that_cannot_be_read_is_a_partial_batch_failure(
    s3: Any, index: OpenSearchIndex, lambda_indexer: StreamIndexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _store(s3, 1, b"first words", filename="first.txt")
    second = _store(s3, 2, b"second words", filename="second.txt")
    records = [insert(first), insert(second)]
    original = s3.get_object

    def failing(**kwargs: Any) -> Any:
        if kwargs["Key"] == second.s3_key:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "GetObject")
        return original(**kwargs)

    monkeypatch.setattr(s3, "get_object", failing)
    answer = handler.handle_stream({"Records": records}, None)
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]
    }
    assert _names(index, "user-a", "words") == ["first.txt"]


def test_a_ranged_read_says_whether_there_is_more(s3: Any) -> None:
    doc = _store(s3, 1, b"x" * 100)
    bodies = handler.S3Bodies(s3, BUCKET)
    assert bodies.read(doc.user_id, doc.document_id, 10) == (b"x" * 10, True)
    assert bodies.read(doc.user_id, doc.document_id, 1000) == (b"x" * 100, False)
