"""The TrashPurge function on the table's stream (moto, in-process): a document the TTL purged
from the trash loses its body and every stored version of it; no other record deletes anything,
and the key never comes from what the item stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dms_desktop.api import trash_purge
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.schema import object_key
from tests.unit.api.conftest import ALICE, BOB, BUCKET, LambdaContext

TTL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@pytest.fixture
def bucket(s3: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The documents bucket, versioned as the backend stack makes it."""
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv(trash_purge.BUCKET_VARIABLE, BUCKET)
    trash_purge.current_bucket.cache_clear()
    yield s3
    trash_purge.current_bucket.cache_clear()


def _record(
    sequence: int,
    user_id: str,
    document_id: str,
    *,
    event: str = "REMOVE",
    identity: dict[str, str] | None = TTL,
    in_trash: bool = True,
    s3_key: str | None = None,
) -> dict[str, Any]:
    keys = {"userId": {"S": user_id}, "documentId": {"S": document_id}}
    old: dict[str, Any] = {
        **keys,
        "filename": {"S": "report.pdf"},
        "s3Key": {"S": s3_key or f"private/{user_id}/{document_id}"},
        "expiresAt": {"N": "1700000000"},
    }
    if in_trash:
        old["trashedAt"] = {"S": "2026-01-01T00:00:00.000Z"}
        old["purgeAt"] = {"N": "1700000000"}
    record: dict[str, Any] = {
        "eventID": f"event-{sequence}",
        "eventName": event,
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "Keys": keys,
            "OldImage": old,
            "SequenceNumber": str(100 + sequence),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    if identity is not None:
        record["userIdentity"] = identity
    return record


def _put(s3: Any, user_id: str, document_id: str, *bodies: bytes) -> None:
    for body in bodies:
        s3.put_object(Bucket=BUCKET, Key=object_key(user_id, document_id), Body=body)


def _versions(s3: Any, user_id: str, document_id: str) -> int:
    page = s3.list_object_versions(Bucket=BUCKET, Prefix=object_key(user_id, document_id))
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def _handle(*records: dict[str, Any]) -> dict[str, Any]:
    return trash_purge.handle_stream({"Records": list(records)}, LambdaContext())


def test_a_document_purged_from_the_trash_loses_its_body_and_every_version(bucket: Any) -> None:
    purged, kept = new_document_id(), new_document_id()
    _put(bucket, ALICE, purged, b"v1", b"v2", b"v3")
    bucket.delete_object(Bucket=BUCKET, Key=object_key(ALICE, purged))  # a delete marker too
    _put(bucket, ALICE, kept, b"mine")

    answer = _handle(_record(1, ALICE, purged))

    assert answer == {"batchItemFailures": []}
    assert _versions(bucket, ALICE, purged) == 0
    assert _versions(bucket, ALICE, kept) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"identity": None},  # a user's or an app's delete
        {"identity": {"type": "Service", "principalId": "other.amazonaws.com"}},
        {"in_trash": False},  # a test record whose own expiry came: admin cleanup's
        {"event": "MODIFY"},
        {"event": "INSERT"},
    ],
)
def test_no_other_record_deletes_a_body(bucket: Any, change: dict[str, Any]) -> None:
    document_id = new_document_id()
    _put(bucket, ALICE, document_id, b"keep me")

    answer = _handle(_record(1, ALICE, document_id, **change))

    assert answer == {"batchItemFailures": []}
    assert _versions(bucket, ALICE, document_id) == 1


def test_the_key_comes_from_the_records_keys_never_from_the_stored_s3_key(bucket: Any) -> None:
    victim, forged = new_document_id(), new_document_id()
    _put(bucket, BOB, victim, b"bob's letter")
    _put(bucket, ALICE, forged, b"alice's file")

    _handle(_record(1, ALICE, forged, s3_key=object_key(BOB, victim)))

    assert _versions(bucket, BOB, victim) == 1
    assert _versions(bucket, ALICE, forged) == 0


def test_keys_that_cannot_be_a_documents_are_passed_over(bucket: Any) -> None:
    _put(bucket, ALICE, new_document_id(), b"x")

    answer = _handle(_record(1, f"{ALICE}/..", "not-an-id"), _record(2, "../..", "x"))

    assert answer == {"batchItemFailures": []}
    assert bucket.list_object_versions(Bucket=BUCKET)["Versions"]


def test_a_body_that_cannot_be_deleted_is_reported_with_everything_after_it(
    bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = new_document_id(), new_document_id(), new_document_id()
    for document_id in (first, second, third):
        _put(bucket, ALICE, document_id, b"body")
    client, _ = trash_purge.current_bucket()  # the function's own client
    real = client.delete_objects
    refused = object_key(ALICE, second)

    def delete_objects(**request: Any) -> dict[str, Any]:
        if request["Delete"]["Objects"][0]["Key"] == refused:
            return {"Errors": [{"Key": refused, "Code": "InternalError", "Message": "try again"}]}
        answer: dict[str, Any] = real(**request)
        return answer

    monkeypatch.setattr(client, "delete_objects", delete_objects)

    answer = _handle(*(_record(n, ALICE, d) for n, d in enumerate((first, second, third))))

    assert answer == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert _versions(bucket, ALICE, first) == 0
    assert _versions(bucket, ALICE, second) == 1
    assert _versions(bucket, ALICE, third) == 1  # tried again with the failed one

    monkeypatch.setattr(client, "delete_objects", real)
    again = _handle(*(_record(n, ALICE, d) for n, d in enumerate((first, second, third))))
    assert again == {"batchItemFailures": []}
    assert _versions(bucket, ALICE, second) == _versions(bucket, ALICE, third) == 0
