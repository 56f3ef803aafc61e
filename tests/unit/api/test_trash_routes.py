"""The web API's DELETE moves a document to the trash, as the desktop's Delete does;
``?permanently=true`` deletes it for good; ``POST .../restore`` brings it back as it was."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dms_desktop.api import handlers
from dms_desktop.core.ids import new_document_id
from tests.unit.api.conftest import ALICE, BOB, BUCKET, TABLE, Answer, invoke, proxy_event, store

pytestmark = pytest.mark.usefixtures("api")


def _delete(document_id: str, user: str = ALICE, **query: str) -> Answer:
    event = proxy_event(
        "DELETE", "/documents/{documentId}", user=user, document_id=document_id, query=query or None
    )
    return invoke(handlers.delete_document, event)


def _restore(document_id: str, user: str = ALICE) -> Answer:
    event = proxy_event(
        "POST", "/documents/{documentId}/restore", user=user, document_id=document_id
    )
    return invoke(handlers.restore_document, event)


def _get(document_id: str, user: str = ALICE) -> Answer:
    event = proxy_event("GET", "/documents/{documentId}", user=user, document_id=document_id)
    return invoke(handlers.get_document_by_id, event)


def _list(user: str = ALICE) -> list[str]:
    answer = invoke(handlers.get_documents, proxy_event("GET", "/documents", user=user))
    return [document["documentId"] for document in answer.body["documents"]]


def test_delete_moves_to_the_trash_and_restore_gives_back_the_same_document(
    dynamodb: Any, s3: Any
) -> None:
    document = store(content=b"keep every byte", tags=["invoice"])
    document_id = document["documentId"]

    trashed = _delete(document_id)

    assert trashed.status == 200
    assert trashed.body["document"]["trashedAt"] and trashed.body["document"]["purgeAt"]
    assert _list() == [] and _get(document_id).status == 404
    item = dynamodb.get_item(TableName=TABLE, Key=_key(document_id))["Item"]
    assert int(item["expiresAt"]["N"]) == trashed.body["document"]["purgeAt"]
    assert s3.head_object(Bucket=BUCKET, Key=document["s3Key"])  # the body stays

    restored = _restore(document_id)

    assert restored.status == 200
    assert restored.body["document"] == document
    assert _list() == [document_id]
    url = _get(document_id).body["download"]["url"]
    assert requests.get(url, timeout=10).content == b"keep every byte"


def test_the_trash_keeps_a_document_for_the_stacks_retention(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dms_desktop.api import backend

    monkeypatch.setenv(backend.TRASH_DAYS_VARIABLE, "7")
    backend.current_backend.cache_clear()
    document_id = store()["documentId"]

    answer = _delete(document_id)

    item = dynamodb.get_item(TableName=TABLE, Key=_key(document_id))["Item"]
    trashed_at = answer.body["document"]["trashedAt"]
    from dms_desktop.core.models import parse_timestamp

    days = (int(item["purgeAt"]["N"]) - parse_timestamp(trashed_at).timestamp()) / 86400
    assert 6.99 < days <= 7.0 + 1 / 86400  # purgeAt is rounded up to a whole second


def test_permanently_deletes_the_metadata_and_the_body_also_from_the_trash(
    dynamodb: Any, s3: Any
) -> None:
    kept, trashed = store(content=b"a"), store(content=b"b")
    assert _delete(trashed["documentId"]).status == 200

    for document in (kept, trashed):
        answer = _delete(document["documentId"], permanently="true")
        assert (answer.status, answer.body) == (204, None)

    assert dynamodb.scan(TableName=TABLE)["Items"] == []
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def _stored_versions(s3: Any, key: str) -> int:
    page = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
    return len([*page.get("Versions", []), *page.get("DeleteMarkers", [])])


def test_permanently_deletes_every_version_of_the_body_and_nothing_of_anyone_else(
    s3: Any,
) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    mine, hers = store(ALICE, content=b"v1"), store(BOB, content=b"hers v1")
    for document, content in ((mine, b"v2"), (mine, b"v3"), (hers, b"hers v2")):
        s3.put_object(Bucket=BUCKET, Key=document["s3Key"], Body=content)  # older versions
    assert _stored_versions(s3, mine["s3Key"]) == 3

    answer = _delete(mine["documentId"], permanently="true")

    assert answer.status == 204
    assert _stored_versions(s3, mine["s3Key"]) == 0  # no version, no delete marker
    assert _stored_versions(s3, hers["s3Key"]) == 2


def test_what_is_in_the_trash_or_missing_cannot_be_moved_there_again_or_restored() -> None:
    document_id = store()["documentId"]
    missing = new_document_id()

    assert _restore(document_id).status == 404  # not in the trash
    assert _delete(document_id).status == 200
    again = _delete(document_id)
    assert again.status == 404 and "in the trash" in again.body["message"]
    assert _delete(missing).status == 404
    assert _restore(missing).status == 404


def test_another_user_can_neither_trash_nor_restore_nor_delete_ones_documents(s3: Any) -> None:
    document = store(ALICE)
    document_id = document["documentId"]

    assert _delete(document_id, BOB).status == 404
    assert _delete(document_id, BOB, permanently="true").status == 404
    assert _list(ALICE) == [document_id]
    assert _delete(document_id, ALICE).status == 200
    assert _restore(document_id, BOB).status == 404
    assert _delete(document_id, BOB, permanently="true").status == 404
    assert s3.head_object(Bucket=BUCKET, Key=document["s3Key"])


@pytest.mark.parametrize(
    ("query", "field"),
    [({"permanently": "yes"}, "permanently"), ({"force": "true"}, "force")],
)
def test_unknown_delete_parameters_are_400(query: dict[str, str], field: str) -> None:
    document_id = store()["documentId"]
    answer = _delete(document_id, **query)
    assert answer.status == 400 and set(answer.body["fields"]) == {field}
    assert _list() == [document_id]


def _key(document_id: str) -> dict[str, Any]:
    return {"userId": {"S": ALICE}, "documentId": {"S": document_id}}
