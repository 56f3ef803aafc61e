"""The ObjectCreated Lambda under moto: EventBridge and S3 notification events for a web app's
upload make it a document of the user whose folder it lies in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import pytest

from dms_desktop.api import object_created
from dms_desktop.core import schema
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository
from tests.unit.api.conftest import BUCKET, TABLE, LambdaContext

IDENTITY = "eu-west-1:5d1c1a9e-6f0b-4a51-9a43-2b7d0c1e9f10"


@pytest.fixture
def function(api: None) -> Any:
    object_created.current_backend.cache_clear()
    yield object_created.handle_object_created
    object_created.current_backend.cache_clear()


def _eventbridge(key: str, bucket: str = BUCKET) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "c9888434-815d-c6f4-9fc2-4dd7bdeccaaf",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2024-11-26T00:30:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 5, "etag": "x", "sequencer": "0064D3901D00059242"},
            "request-id": "XRRTKJXSZQCWNQR1",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


def _notification(key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": 5},
                },
            }
        ]
    }


def _documents(dynamodb: Any) -> list[Any]:
    return list(DocumentRepository(dynamodb, TABLE).iter_all(IDENTITY, ListQuery()))


@pytest.mark.parametrize("shape", [_eventbridge, _notification])
def test_an_upload_event_makes_the_file_a_document(
    function: Any, s3: Any, dynamodb: Any, shape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    key = f"private/{IDENTITY}/Holiday plan + budget.xlsx"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"cells")

    result = function(shape(key), LambdaContext())

    assert result == {"objects": {key: "adopted"}}
    (document,) = _documents(dynamodb)
    assert document.filename == "Holiday plan + budget.xlsx"
    assert document.size == 5
    assert [entry["Key"] for entry in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [
        schema.object_key(IDENTITY, document.document_id)
    ]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["outcome"] for line in logged if line.get("operation") == "ObjectCreated"] == [
        "adopted"
    ]
    assert all("Holiday" not in json.dumps(line) for line in logged)  # no filenames in logs


def test_an_eventbridge_key_sent_url_encoded_is_found(
    function: Any, s3: Any, dynamodb: Any
) -> None:
    key = f"private/{IDENTITY}/two words.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"words")

    function(_eventbridge(quote_plus(key, safe="/:")), LambdaContext())

    assert [document.filename for document in _documents(dynamodb)] == ["two words.txt"]


def test_objects_of_another_bucket_and_other_events_are_ignored(
    function: Any, s3: Any, dynamodb: Any
) -> None:
    key = f"private/{IDENTITY}/elsewhere.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    removed = _notification(key)
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"

    assert function(_eventbridge(key, bucket="another-bucket"), LambdaContext()) == {"objects": {}}
    assert function(removed, LambdaContext()) == {"objects": {}}
    assert function({"unexpected": True}, LambdaContext()) == {"objects": {}}
    assert _documents(dynamodb) == []
