"""The records of a job's small files are written many to a request as they come in (issue 22),
and a record that comes alone is not held back waiting for others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dms_desktop.core import schema
from dms_desktop.core.ids import new_document_id
from dms_desktop.core.record_batches import RecordBatcher
from dms_desktop.core.records import new_document_record
from dms_desktop.core.repository import DocumentRepository
from tests.unit.core.conftest import USER_ID


def _record(number: int) -> Any:
    return new_document_record(
        user_id=USER_ID,
        document_id=new_document_id(),
        filename=f"scan-{number}.pdf",
        file_type="application/pdf",
        size=4096,
        checksum=f"{number:064x}",
    )


def _sent(dynamodb: Any, operation: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    dynamodb.meta.events.register(
        f"provide-client-params.dynamodb.{operation}", lambda params, **_: sent.append(params)
    )
    return sent


def test_records_handed_in_together_are_written_many_to_a_request(
    dynamodb: Any, repository: DocumentRepository
) -> None:
    batcher = RecordBatcher(repository, "alice")
    batches = _sent(dynamodb, "BatchWriteItem")
    records = [_record(number) for number in range(200)]

    with ThreadPoolExecutor(16) as pool:  # as a job's threads hand them in
        assert list(pool.map(batcher.store, records)) == records

    for record in records:
        stored = repository.get(USER_ID, record.document_id)
        assert (stored.filename, stored.checksum) == (record.filename, record.checksum)
    assert 0 < len(batches) < len(records) / 4  # many records a request
    key = {"userId": {"S": USER_ID}, "documentId": {"S": records[5].document_id}}
    item = dynamodb.get_item(TableName=schema.TABLE_NAME, Key=key)["Item"]
    assert item[schema.OWNER_NAME]["S"] == "alice"


def test_a_record_that_comes_alone_is_written_at_once_with_its_condition(
    dynamodb: Any, repository: DocumentRepository
) -> None:
    batcher = RecordBatcher(repository, None)
    puts = _sent(dynamodb, "PutItem")
    record = _record(1)

    assert batcher.store(record) == record

    (put,) = puts
    assert put["ConditionExpression"] == "attribute_not_exists(documentId)"
    assert batcher.store(record).document_id == record.document_id  # a retry: the same record
