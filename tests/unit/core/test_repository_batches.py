"""The repository's batched requests: deletes of many items, names of many ids, the admin's scan."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dms_desktop.core import schema
from dms_desktop.core.cancellation import CancelToken
from dms_desktop.core.errors import AuthError, Cancelled, Throttled
from dms_desktop.core.items import ScanFilter
from dms_desktop.core.repository import DocumentRepository, to_item
from tests.support.aws import OTHER_USER_ID, USER_ID

from .conftest import make_document, put_documents


class Unprocessing:
    """A DynamoDB client that processes only the first ``processed`` entries of each batch
    request for its first ``times`` calls, and hands the rest back as throttled DynamoDB does."""

    def __init__(self, client: Any, *, times: int, processed: int = 1) -> None:
        self._client = client
        self.times = times
        self.processed = processed
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls > self.times:
            return dict(self._client.batch_write_item(RequestItems=RequestItems))
        ((table, requests),) = RequestItems.items()
        if requests[: self.processed]:
            self._client.batch_write_item(RequestItems={table: requests[: self.processed]})
        rest = requests[self.processed :]
        return {"UnprocessedItems": {table: rest} if rest else {}}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls > self.times:
            return dict(self._client.batch_get_item(RequestItems=RequestItems))
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        first = {**request, "Keys": keys[: self.processed]}
        answer = self._client.batch_get_item(RequestItems={table: first}) if first["Keys"] else {}
        rest = keys[self.processed :]
        return {
            "Responses": answer.get("Responses", {table: []}),
            "UnprocessedKeys": {table: {**request, "Keys": rest}} if rest else {},
        }


def _stored_ids(dynamodb: Any) -> set[str]:
    return {item["documentId"]["S"] for item in dynamodb.scan(TableName=schema.TABLE_NAME)["Items"]}


def _repository(client: Any, sleeps: list[float]) -> DocumentRepository:
    return DocumentRepository(client, schema.TABLE_NAME, sleep=sleeps.append)


# --- delete_items ------------------------------------------------------------------------------


def test_items_are_deleted_25_per_request_and_gone_ones_count_as_deleted(
    dynamodb: Any, repository: DocumentRepository
) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(60)]
    put_documents(dynamodb, documents)
    keys = [(USER_ID, document.document_id) for document in documents]
    already_gone = (USER_ID, make_document().document_id)
    seen: list[int] = []

    outcome = repository.delete_items([*keys, already_gone], progress=seen.append)

    assert outcome.done == [*keys, already_gone] and outcome.ok
    assert outcome.requests == 3
    assert seen == [25, 50, 61]
    assert _stored_ids(dynamodb) == set()


def test_unprocessed_items_are_retried_with_bounded_backoff(dynamodb: Any) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(10)]
    put_documents(dynamodb, documents)
    flaky = Unprocessing(dynamodb, times=2)
    sleeps: list[float] = []

    outcome = _repository(flaky, sleeps).delete_items(
        (USER_ID, document.document_id) for document in documents
    )

    assert outcome.ok and len(outcome.done) == 10
    assert outcome.requests == 3
    assert len(sleeps) == 2 and all(0 <= pause <= 2.0 for pause in sleeps)
    assert _stored_ids(dynamodb) == set()


def test_items_still_unprocessed_after_eight_requests_are_reported_as_failed(
    dynamodb: Any,
) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(10)]
    put_documents(dynamodb, documents)
    sleeps: list[float] = []

    outcome = _repository(Unprocessing(dynamodb, times=1000), sleeps).delete_items(
        (USER_ID, document.document_id) for document in documents
    )

    assert len(outcome.done) == 8 and len(outcome.failed) == 2  # one item per request got in
    assert all("unprocessed after 8 attempts" in reason for reason in outcome.failed.values())
    assert outcome.requests == 8 and len(sleeps) == 7
    assert _stored_ids(dynamodb) == {key[1] for key in outcome.failed}


class _Refusing:
    def __init__(self, client: Any, code: str) -> None:
        self._client = client
        self._code = code
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls == 1:
            error = {"Error": {"Code": self._code, "Message": "refused"}}
            raise ClientError(error, "BatchWriteItem")  # type: ignore[arg-type]
        return dict(self._client.batch_write_item(RequestItems=RequestItems))


def test_a_failed_request_fails_its_batch_and_the_next_batch_is_still_sent(dynamodb: Any) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(30)]
    put_documents(dynamodb, documents)
    keys = [(USER_ID, document.document_id) for document in documents]

    outcome = _repository(_Refusing(dynamodb, "InternalServerError"), []).delete_items(keys)

    assert list(outcome.failed) == keys[:25] and outcome.done == keys[25:]
    assert _stored_ids(dynamodb) == {key[1] for key in keys[:25]}


def test_access_denied_stops_the_run(dynamodb: Any) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(30)]
    put_documents(dynamodb, documents)
    keys = [(USER_ID, document.document_id) for document in documents]

    outcome = _repository(_Refusing(dynamodb, "AccessDeniedException"), []).delete_items(keys)

    assert isinstance(outcome.stopped_by, AuthError)
    assert outcome.done == [] and outcome.not_attempted == keys
    assert len(_stored_ids(dynamodb)) == 30


def test_cancel_stops_before_the_next_batch(dynamodb: Any, repository: DocumentRepository) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(60)]
    put_documents(dynamodb, documents)
    keys = [(USER_ID, document.document_id) for document in documents]
    cancel = CancelToken()

    outcome = repository.delete_items(keys, cancel=cancel, progress=lambda _done: cancel.cancel())

    assert outcome.cancelled and outcome.done == keys[:25] and outcome.not_attempted == keys[25:]
    assert len(_stored_ids(dynamodb)) == 35


# --- stored_names ------------------------------------------------------------------------------


def test_names_of_existing_documents_in_batches_of_100_damaged_ones_too(
    dynamodb: Any, repository: DocumentRepository
) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(150)]
    put_documents(dynamodb, documents)
    damaged = to_item(make_document(filename="fine.txt"))
    damaged["filename"] = {"S": "../escape"}
    dynamodb.put_item(TableName=schema.TABLE_NAME, Item=damaged)
    unknown = make_document().document_id
    requests: list[int] = []
    dynamodb.meta.events.register(
        "before-send.dynamodb.BatchGetItem", lambda **_: requests.append(1)
    )
    wanted = [unknown, damaged["documentId"]["S"], *(d.document_id for d in documents)]

    names = repository.stored_names(USER_ID, wanted)

    assert unknown not in names
    assert names[damaged["documentId"]["S"]] == "../escape"
    assert [names[d.document_id] for d in documents] == [f"{n}.txt" for n in range(150)]
    assert len(requests) == 2


def test_unprocessed_keys_are_read_again(dynamodb: Any) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(5)]
    put_documents(dynamodb, documents)
    sleeps: list[float] = []

    names = _repository(Unprocessing(dynamodb, times=3, processed=1), sleeps).stored_names(
        USER_ID, [document.document_id for document in documents]
    )

    assert len(names) == 5 and len(sleeps) == 3


def test_keys_never_processed_are_a_throttling_error(dynamodb: Any) -> None:
    documents = [make_document(filename=f"{n}.txt") for n in range(3)]
    put_documents(dynamodb, documents)

    with pytest.raises(Throttled, match="try again"):
        _repository(Unprocessing(dynamodb, times=1000, processed=0), []).stored_names(
            USER_ID, [document.document_id for document in documents]
        )


# --- scan --------------------------------------------------------------------------------------


def test_the_scan_reads_every_users_items_leniently_and_filters_on_the_server(
    dynamodb: Any, repository: DocumentRepository
) -> None:
    mine = make_document(filename="Test plan.txt", tags=["Test"])
    theirs = make_document(OTHER_USER_ID, filename="notes.txt", tags=["test"])
    plain = make_document(OTHER_USER_ID, filename="other.txt")
    put_documents(dynamodb, [mine, theirs, plain])
    damaged = to_item(make_document(filename="fine.txt", tags=["test"]))
    damaged["size"] = {"S": "big"}
    dynamodb.put_item(TableName=schema.TABLE_NAME, Item=damaged)

    everything = {item.document_id: item for item in repository.scan(segments=3)}
    tagged = {item.document_id for item in repository.scan(ScanFilter(tag="TEST"))}
    theirs_only = {
        item.document_id for item in repository.scan(ScanFilter(owners=(OTHER_USER_ID,)))
    }

    assert len(everything) == 4
    assert everything[damaged["documentId"]["S"]].damage is not None
    assert everything[mine.document_id].damage is None
    assert tagged == {mine.document_id, theirs.document_id, damaged["documentId"]["S"]}
    assert theirs_only == {theirs.document_id, plain.document_id}


def test_the_scan_can_be_cancelled(dynamodb: Any, repository: DocumentRepository) -> None:
    put_documents(dynamodb, [make_document()])
    cancel = CancelToken()
    cancel.cancel()

    with pytest.raises(Cancelled):
        list(repository.scan(cancel=cancel))
