"""A user who writes another user's S3 key into their own item's ``s3Key`` (issue 21, item 1):
the web API's get, download link and delete act on the key the caller and id give, never on the
stored one, so the other user's file is neither handed out nor deleted."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dms_desktop.api import handlers
from tests.unit.api.conftest import ALICE, BOB, TABLE, Answer, invoke, proxy_event, store

pytestmark = pytest.mark.usefixtures("api")


def _get(document_id: str, user: str) -> Answer:
    event = proxy_event("GET", "/documents/{documentId}", user=user, document_id=document_id)
    return invoke(handlers.get_document_by_id, event)


def _delete(document_id: str, user: str) -> Answer:
    event = proxy_event(
        "DELETE",
        "/documents/{documentId}",
        user=user,
        document_id=document_id,
        query={"permanently": "true"},  # the body goes at once
    )
    return invoke(handlers.delete_document, event)


def test_a_forged_s3_key_is_ignored_by_get_download_and_delete(dynamodb: Any, s3: Any) -> None:
    victim = store(BOB, b"bob's private letter")
    forger = store(ALICE, b"alice's own file")
    dynamodb.update_item(  # what Alice may write on her own item
        TableName=TABLE,
        Key={"userId": {"S": ALICE}, "documentId": {"S": forger["documentId"]}},
        UpdateExpression="SET s3Key = :victim",
        ExpressionAttributeValues={":victim": {"S": victim["s3Key"]}},
    )

    got = _get(forger["documentId"], ALICE)

    assert got.status == 200
    assert got.body["document"]["s3Key"] == f"private/{ALICE}/{forger['documentId']}"
    downloaded = requests.get(got.body["download"]["url"], timeout=10)
    assert downloaded.content == b"alice's own file"

    assert _delete(forger["documentId"], ALICE).status == 204

    kept = _get(victim["documentId"], BOB)
    assert kept.status == 200
    assert requests.get(kept.body["download"]["url"], timeout=10).content == (
        b"bob's private letter"
    )
    assert s3.head_object(Bucket="dms-documentsbucket-test", Key=victim["s3Key"])
