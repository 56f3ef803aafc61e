"""The Lambda handlers of the documents, called with API Gateway proxy events under moto."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from dms_desktop.api import handlers
from dms_desktop.api.idempotency import ClientTokens
from dms_desktop.api.inputs import parse_create_input
from dms_desktop.core.errors import Throttled
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.repository import DocumentRepository
from tests.unit.api.conftest import (
    ALICE,
    BOB,
    CLIENT_TOKENS,
    PENDING_UPLOADS,
    TABLE,
    Answer,
    complete,
    create,
    create_body,
    invoke,
    proxy_event,
    store,
    upload,
)

pytestmark = pytest.mark.usefixtures("api")


def get(document_id: str, user: str = ALICE) -> Answer:
    event = proxy_event("GET", "/documents/{documentId}", user=user, document_id=document_id)
    return invoke(handlers.get_document_by_id, event)


def delete(document_id: str, user: str = ALICE, *, permanently: bool = True) -> Answer:
    query = {"permanently": "true"} if permanently else None
    event = proxy_event(
        "DELETE", "/documents/{documentId}", user=user, document_id=document_id, query=query
    )
    return invoke(handlers.delete_document, event)


def list_documents(user: str = ALICE, **query: str) -> Answer:
    event = proxy_event("GET", "/documents", user=user, query=query or None)
    return invoke(handlers.get_documents, event)


def stored_items(dynamodb: Any, table: str = TABLE) -> list[dict[str, Any]]:
    return list(dynamodb.scan(TableName=table)["Items"])


def walk(user: str = ALICE, **query: str) -> list[list[str]]:
    """The ids of every page of a listing, following nextToken."""
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        answer = list_documents(user, **query, **({"nextToken": token} if token else {}))
        assert answer.status == 200, answer.body
        pages.append([document["documentId"] for document in answer.body["documents"]])
        token = answer.body["nextToken"]
        if token is None:
            return pages
        assert len(pages) < 100


# --- create, upload, get, delete --------------------------------------------------------------


def test_create_hands_out_an_upload_url_and_stores_nothing_yet(dynamodb: Any) -> None:
    answer = create(content=b"%PDF-1.7 hello", tags=["Invoice", "2024"], folder="taxes/2024")

    assert answer.status == 201
    assert answer.body["status"] == "pending"
    document = answer.body["document"]
    assert document["userId"] == ALICE  # the identity id API Gateway authorised
    assert document["filename"] == "report.pdf"
    assert document["fileType"] == "application/pdf"  # guessed from the name, as the app does
    assert document["size"] == len(b"%PDF-1.7 hello")
    assert document["tags"] == ["Invoice", "2024"]
    assert document["folder"] == "taxes/2024"
    assert document["s3Key"] == f"private/{ALICE}/{document['documentId']}"
    assert document["createdAt"] == document["updatedAt"]
    target = answer.body["upload"]
    assert target["method"] == "PUT"
    assert target["expiresIn"] <= 900
    assert "x-amz-checksum-sha256" in target["url"]  # the checksum is part of the signature
    # and so is the name a download is saved under
    assert target["headers"]["Content-Disposition"] == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    # Body first, metadata second, as on the desktop: nothing is listed before the body is there.
    assert stored_items(dynamodb) == []
    assert get(document["documentId"]).status == 404
    assert list_documents().body["documents"] == []


def test_complete_stores_the_document_once_its_body_is_uploaded(dynamodb: Any) -> None:
    content = b"quarterly numbers\n"
    created = create(content=content)
    document_id = created.body["document"]["documentId"]

    early = complete(document_id)
    assert early.status == 409
    assert "has not been uploaded yet" in early.body["message"]
    assert stored_items(dynamodb) == []

    assert upload(created, content).status_code == 200
    completed = complete(document_id)

    assert completed.status == 201
    assert completed.body["document"] == created.body["document"]
    assert len(stored_items(dynamodb)) == 1
    assert list_documents().body["documents"] == [created.body["document"]]
    again = complete(document_id)  # a retried call: the same document, no second one
    assert (again.status, again.body["document"]) == (200, created.body["document"])
    assert len(stored_items(dynamodb)) == 1


def test_a_body_that_does_not_match_what_was_announced_is_not_stored(dynamodb: Any) -> None:
    created = create(content=b"announced")
    document_id = created.body["document"]["documentId"]
    assert upload(created, b"something else").status_code == 200  # moto does not check it

    answer = complete(document_id)

    assert answer.status == 409
    assert "does not match" in answer.body["message"]
    assert stored_items(dynamodb) == []


def test_only_a_pending_upload_of_ones_own_can_be_completed(dynamodb: Any) -> None:
    created = create(ALICE, content=b"mine")
    upload(created, b"mine")
    document_id = created.body["document"]["documentId"]

    assert complete(document_id, user=BOB).status == 404
    assert complete(new_document_id()).status == 404
    assert stored_items(dynamodb) == []
    assert complete(document_id, user=ALICE).status == 201


def test_the_body_uploaded_to_the_url_is_downloaded_with_the_get_url(s3: Any) -> None:
    content = b"quarterly numbers\n" * 100
    stored = store(content=content, filename="Q3 résumé.txt")

    answer = get(stored["documentId"])

    assert answer.status == 200
    assert answer.body["document"] == stored
    response = requests.get(answer.body["download"]["url"], timeout=10)
    assert response.content == content
    disposition = response.headers["Content-Disposition"]
    assert unquote(disposition.split("''", 1)[1]) == "Q3 résumé.txt"


def test_delete_removes_the_metadata_then_the_body(dynamodb: Any, s3: Any) -> None:
    document = store(content=b"bye")

    answer = delete(document["documentId"])

    assert (answer.status, answer.body) == (204, None)
    assert stored_items(dynamodb) == []
    assert s3.list_objects_v2(Bucket="dms-documentsbucket-test").get("KeyCount") == 0
    assert get(document["documentId"]).status == 404


def test_missing_documents_are_404(dynamodb: Any) -> None:
    missing = new_document_id()
    for answer in (get(missing), delete(missing)):
        assert answer.status == 404
        assert answer.body["error"] == "NotFound"
        assert missing in answer.body["message"]


def test_deleting_twice_is_404_the_second_time() -> None:
    document_id = store()["documentId"]
    assert delete(document_id).status == 204
    assert delete(document_id).status == 404


def test_a_document_in_the_trash_is_neither_listed_nor_handed_out(dynamodb: Any) -> None:
    from dms_desktop.core.trash import move_to_trash

    document_id = store()["documentId"]
    move_to_trash(DocumentRepository(dynamodb, TABLE).batches, ALICE, [document_id], days=30)

    answer = get(document_id)
    assert answer.status == 404 and "in the trash" in answer.body["message"]
    assert list_documents().body == {"documents": [], "nextToken": None}


# --- isolation between users ------------------------------------------------------------------


def test_another_users_document_is_unreachable(dynamodb: Any) -> None:
    document_id = store(ALICE)["documentId"]

    assert get(document_id, user=BOB).status == 404
    assert delete(document_id, user=BOB).status == 404
    assert list_documents(BOB).body == {"documents": [], "nextToken": None}
    assert get(document_id, user=ALICE).status == 200


def test_a_user_id_in_the_body_is_refused_not_used(dynamodb: Any) -> None:
    answer = create(ALICE, userId=BOB)

    assert answer.status == 400
    assert set(answer.body["fields"]) == {"userId"}
    assert stored_items(dynamodb) == []


def test_a_next_token_of_another_user_is_refused() -> None:
    for _ in range(3):
        store(ALICE)
    token = list_documents(ALICE, limit="1").body["nextToken"]

    answer = list_documents(BOB, limit="1", nextToken=token)

    assert answer.status == 400
    assert set(answer.body["fields"]) == {"nextToken"}


def test_an_event_without_an_identity_is_401(dynamodb: Any) -> None:
    event = proxy_event("POST", "/documents", user=None, body=create_body())
    answer = invoke(handlers.create_document, event)
    assert answer.status == 401
    assert stored_items(dynamodb) == []


# --- listing ----------------------------------------------------------------------------------


def test_pages_follow_next_token_newest_first_without_gaps_or_repeats() -> None:
    created = [store(filename=f"doc {number}.txt") for number in range(7)]

    pages = walk(limit="3")

    assert [len(page) for page in pages] == [3, 3, 1]
    newest_first = [document["documentId"] for document in reversed(created)]
    assert [document_id for page in pages for document_id in page] == newest_first


def test_a_tag_filter_fills_every_page() -> None:
    tagged = []
    for number in range(12):
        document = store(tags=["Invoice"] if number % 4 == 0 else ["other"])
        if number % 4 == 0:
            tagged.append(document["documentId"])

    pages = walk(limit="2", tag="INVOICE")  # tags match ignoring case

    assert [len(page) for page in pages] == [2, 1]
    assert [document_id for page in pages for document_id in page] == tagged[::-1]


def test_the_default_listing_returns_documents_with_their_metadata() -> None:
    created = store(tags=["a"])
    answer = list_documents()
    assert answer.body == {"documents": [created], "nextToken": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"tag": "   "}, "tag"),
        ({"tag": "x" * 65}, "tag"),
        ({"nextToken": "not-a-cursor"}, "nextToken"),
        ({"sort": "name"}, "sort"),
    ],
)
def test_invalid_list_parameters_are_400(query: dict[str, str], field: str) -> None:
    answer = list_documents(**query)
    assert answer.status == 400
    assert answer.body["error"] == "InvalidInput"
    assert set(answer.body["fields"]) == {field}
    assert answer.body["fields"][field]


# --- invalid input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filename": ""}, "filename"),
        ({"filename": "a/b.pdf"}, "filename"),
        ({"filename": "bad\u0000name"}, "filename"),
        ({"filename": "é" * 200}, "filename"),
        ({"filename": 42}, "filename"),
        ({"size": -1}, "size"),
        ({"size": "5"}, "size"),
        ({"size": 6 * 1024**3}, "size"),
        ({"checksum": "abc"}, "checksum"),
        ({"checksum": "g" * 64}, "checksum"),
        ({"fileType": "pdf"}, "fileType"),
        ({"fileType": "text/plain; charset=utf-8"}, "fileType"),
        ({"tags": "invoice"}, "tags"),
        ({"tags": ["ok", " "]}, "tags"),
        ({"tags": [f"t{number}" for number in range(51)]}, "tags"),
        ({"tags": ["x" * 65]}, "tags"),
        ({"folder": "a/../b"}, "folder"),
        ({"clientToken": "has spaces"}, "clientToken"),
        ({"clientToken": ""}, "clientToken"),
        ({"owner": "someone"}, "owner"),
    ],
)
def test_each_invalid_field_is_a_400_naming_it(
    dynamodb: Any, changes: dict[str, Any], field: str
) -> None:
    answer = create(**changes)

    assert answer.status == 400
    assert answer.body["error"] == "InvalidInput"
    assert set(answer.body["fields"]) == {field}
    assert field in answer.body["message"]
    assert stored_items(dynamodb) == []


@pytest.mark.parametrize("missing", ["filename", "size", "checksum"])
def test_each_missing_required_field_is_a_400(missing: str) -> None:
    body = create_body()
    del body[missing]
    answer = invoke(handlers.create_document, proxy_event("POST", "/documents", body=body))
    assert answer.status == 400
    assert answer.body["fields"] == {missing: "This field is required."}


def test_several_invalid_fields_are_all_named() -> None:
    answer = create(filename="", size=-3, checksum="nope")
    assert set(answer.body["fields"]) == {"filename", "size", "checksum"}


@pytest.mark.parametrize("body", ["", "{not json", "[1, 2]", '"a string"'])
def test_a_body_that_is_not_a_json_object_is_400(body: str) -> None:
    answer = invoke(handlers.create_document, proxy_event("POST", "/documents", body=body))
    assert answer.status == 400
    assert set(answer.body["fields"]) == {"body"}


def test_a_base64_encoded_body_is_read() -> None:
    event = proxy_event("POST", "/documents")
    event["body"] = base64.b64encode(json.dumps(create_body()).encode()).decode()
    event["isBase64Encoded"] = True
    assert invoke(handlers.create_document, event).status == 201


def test_checksums_and_file_types_are_normalised_to_lower_case() -> None:
    checksum = hashlib.sha256(b"hello").hexdigest()
    document = create(checksum=checksum.upper(), fileType="Text/Plain").body["document"]
    assert (document["checksum"], document["fileType"]) == (checksum, "text/plain")


@pytest.mark.parametrize("document_id", ["123", "../etc", "0193"])
def test_a_malformed_document_id_is_400(document_id: str) -> None:
    for answer in (get(document_id), delete(document_id)):
        assert answer.status == 400
        assert set(answer.body["fields"]) == {"documentId"}


# --- idempotent create ------------------------------------------------------------------------


def test_a_retry_with_the_same_client_token_creates_no_second_document(dynamodb: Any) -> None:
    first = create(clientToken="upload-7f3a")
    retry = create(clientToken="upload-7f3a")  # the first answer was lost

    assert (first.status, retry.status) == (201, 201)
    assert retry.body["document"] == first.body["document"]
    assert upload(retry, b"hello").status_code == 200  # with the URL of the retry
    assert complete(first.body["document"]["documentId"]).status == 201
    assert len(stored_items(dynamodb)) == 1
    assert list_documents().body["documents"] == [first.body["document"]]

    late = create(clientToken="upload-7f3a")  # a retry after the upload was completed
    assert (late.status, late.body["status"]) == (200, "stored")
    assert late.body["document"] == first.body["document"]
    assert "upload" not in late.body


def test_the_same_client_token_for_a_different_document_is_409(dynamodb: Any) -> None:
    first = create(clientToken="upload-7f3a", filename="a.pdf")
    answer = create(clientToken="upload-7f3a", filename="b.pdf")

    assert answer.status == 409
    assert "clientToken" in answer.body["message"]
    upload(first, b"hello")
    complete(first.body["document"]["documentId"])
    assert [item["filename"]["S"] for item in stored_items(dynamodb)] == ["a.pdf"]


def test_client_tokens_belong_to_one_user() -> None:
    alice = create(ALICE, clientToken="same")
    bob = create(BOB, clientToken="same")
    assert alice.body["document"]["documentId"] != bob.body["document"]["documentId"]


def test_without_a_client_token_each_create_is_a_new_document() -> None:
    assert create().body["document"]["documentId"] != create().body["document"]["documentId"]


def test_a_retry_finishes_a_create_that_died_after_reserving_its_token(dynamodb: Any) -> None:
    """The first attempt reserved the token, then the function died before keeping the
    pending upload: the retry keeps it under the reserved id."""
    body = create_body(clientToken="crashed")
    reserved = new_document_id()
    fingerprint = parse_create_input(json.dumps(body)).fingerprint()
    ClientTokens(dynamodb, CLIENT_TOKENS).reserve(ALICE, "crashed", fingerprint, reserved)

    answer = invoke(handlers.create_document, proxy_event("POST", "/documents", body=body))

    assert answer.status == 201
    assert answer.body["document"]["documentId"] == reserved
    upload(answer, b"hello")
    assert complete(reserved).status == 201
    assert len(stored_items(dynamodb)) == 1


def test_an_expired_client_token_is_free_again(dynamodb: Any) -> None:
    first = create(clientToken="old").body["document"]
    dynamodb.update_item(
        TableName=CLIENT_TOKENS,
        Key={"userId": {"S": ALICE}, "clientToken": {"S": "old"}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    second = create(clientToken="old", filename="other.pdf").body["document"]
    assert second["documentId"] != first["documentId"]


# --- failures of the backend ------------------------------------------------------------------


def test_an_unexpected_failure_is_500_without_internals(dynamodb: Any) -> None:
    dynamodb.delete_table(TableName=PENDING_UPLOADS)  # misconfigured deployment: no such table

    answer = create()

    assert answer.status == 500
    assert answer.body == {
        "error": "InternalError",
        "message": "Something went wrong on our side; quote the request id if you report it.",
        "requestId": answer.request_id,
    }
    assert answer.headers["X-Request-Id"] == answer.request_id


def test_a_throttled_backend_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise Throttled("Could not list the documents: the backend is busy (throttling).")

    monkeypatch.setattr(DocumentRepository, "list_page", throttled)
    answer = list_documents()
    assert answer.status == 503
    assert answer.body["error"] == "Unavailable"
