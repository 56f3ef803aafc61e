"""The sandbox's TransactWriteItems: all or nothing, answered as moto answers it, without copying
the table (moto's copy per item made a 100-document trash move take over a minute at a few
thousand documents, and botocore's retry then reported conflicts nobody had caused)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from dms_desktop.core import schema
from dms_desktop.sandbox import transactions
from tests.support.aws import USER_ID, new_session

TABLE = "Documents"
MOTO_TRANSACT = DynamoDBBackend.transact_write_items


def _key(document_id: str) -> dict[str, Any]:
    return {"userId": {"S": USER_ID}, "documentId": {"S": document_id}}


def _item(document_id: str, version: int) -> dict[str, Any]:
    return {**_key(document_id), "filename": {"S": f"{document_id}.txt"}, "v": {"N": str(version)}}


def _put(document_id: str, version: int) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": _item(document_id, version)}}


def _put_new(document_id: str) -> dict[str, Any]:
    request = _put(document_id, 1)
    request["Put"]["ConditionExpression"] = "attribute_not_exists(documentId)"
    return request


def _bump(document_id: str, expected: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": _key(document_id),
            "UpdateExpression": "SET v = :next",
            "ConditionExpression": "v = :expected",
            "ExpressionAttributeValues": {
                ":next": {"N": str(expected + 1)},
                ":expected": {"N": str(expected)},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _delete(document_id: str) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": TABLE,
            "Key": _key(document_id),
            "ConditionExpression": "attribute_exists(documentId)",
        }
    }


def _still(document_id: str, version: int) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": _key(document_id),
            "ConditionExpression": "v = :v",
            "ExpressionAttributeValues": {":v": {"N": str(version)}},
        }
    }


def _broken_update(document_id: str) -> dict[str, Any]:
    """Passes its condition, then moto rejects its update expression (an unknown placeholder)."""
    return {
        "Update": {
            "TableName": TABLE,
            "Key": _key(document_id),
            "UpdateExpression": "SET v = :missing",
        }
    }


# (name, existing items as id -> version, the transaction)
SCENARIOS: list[tuple[str, dict[str, int], list[dict[str, Any]]]] = [
    (
        "every kind of write applies",
        {"a": 1, "b": 1, "c": 4},
        [_put_new("new"), _bump("a", 1), _delete("b"), _still("c", 4), _put("a2", 7)],
    ),
    (
        "one failed condition writes nothing",
        {"a": 1, "b": 2},
        [_put_new("new"), _bump("a", 1), _bump("b", 1), _delete("a-missing")],
    ),
    (
        "a failed condition check writes nothing",
        {"a": 1, "c": 4},
        [_bump("a", 1), _still("c", 3)],
    ),
    (
        "a write that fails half-way puts back what was written",
        {"a": 1, "b": 5},
        [_put_new("new"), _bump("a", 1), _delete("b"), _broken_update("a2")],
    ),
    (
        "an item named twice is a validation error",
        {"a": 1},
        [_bump("a", 1), _delete("a")],
    ),
    (
        "a table that does not exist cancels the transaction",
        {"a": 1},
        [_bump("a", 1), {"Put": {"TableName": "Nowhere", "Item": _item("x", 1)}}],
    ),
]


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = new_session().client("dynamodb")
        dynamodb.create_table(**schema.table_definition(TABLE))
        yield dynamodb


def _outcome(client: Any, existing: dict[str, int], transaction: list[dict[str, Any]]) -> Any:
    """The error (code, cancellation reasons) or None, and the table's items afterwards."""
    for document_id, version in existing.items():
        client.put_item(TableName=TABLE, Item=_item(document_id, version))
    try:
        client.transact_write_items(TransactItems=transaction)
        error = None
    except ClientError as failure:
        error = (
            failure.response["Error"]["Code"],
            failure.response.get("CancellationReasons"),
        )
    items = client.scan(TableName=TABLE)["Items"]
    return error, sorted(items, key=lambda item: item["documentId"]["S"])


def _answered_by(
    monkeypatch: pytest.MonkeyPatch, method: Callable[..., None]
) -> Callable[[dict[str, int], list[dict[str, Any]]], Any]:
    def run(existing: dict[str, int], transaction: list[dict[str, Any]]) -> Any:
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", method)
        with mock_aws():
            dynamodb = new_session().client("dynamodb")
            dynamodb.create_table(**schema.table_definition(TABLE))
            return _outcome(dynamodb, existing, transaction)

    return run


@pytest.mark.parametrize(
    ("existing", "transaction"),
    [scenario[1:] for scenario in SCENARIOS],
    ids=[scenario[0] for scenario in SCENARIOS],
)
def test_answers_as_moto_does(
    monkeypatch: pytest.MonkeyPatch, existing: dict[str, int], transaction: list[dict[str, Any]]
) -> None:
    ours = _answered_by(monkeypatch, transactions.transact_write_items)(existing, transaction)
    motos = _answered_by(monkeypatch, MOTO_TRANSACT)(existing, transaction)
    assert ours == motos


def test_a_transaction_copies_no_table(monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transactions.transact_write_items)

    def no_copy(_table: Table, _memo: dict[int, Any]) -> Table:
        raise AssertionError("the whole table was copied")

    monkeypatch.setattr(Table, "__deepcopy__", no_copy, raising=False)
    for document_id in ("a", "b"):
        client.put_item(TableName=TABLE, Item=_item(document_id, 1))
    client.transact_write_items(TransactItems=[_bump("a", 1), _delete("b"), _put_new("c")])
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[_bump("a", 1), _put_new("d")])
    with pytest.raises(ClientError, match="TransactionCanceled"):  # after writing "e"
        client.transact_write_items(TransactItems=[_put_new("e"), _broken_update("a")])
    versions = {
        item["documentId"]["S"]: item["v"]["N"] for item in client.scan(TableName=TABLE)["Items"]
    }
    assert versions == {"a": "2", "c": "1"}


def test_outcomes_are_what_dynamodb_promises(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only moto's opinion: the cases a trash move relies on, spelled out."""
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transactions.transact_write_items)
    error, items = _outcome(client, {"a": 1, "b": 2}, [_bump("a", 1), _bump("b", 1)])
    assert error is not None and error[0] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error[1]] == ["None", "ConditionalCheckFailed"]
    assert error[1][1]["Item"]["v"] == {"N": "2"}  # ALL_OLD: what the item is now
    assert {item["documentId"]["S"]: item["v"]["N"] for item in items} == {"a": "1", "b": "2"}


def test_install_keeps_a_hook_that_wraps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", MOTO_TRANSACT)
    transactions.install()
    assert DynamoDBBackend.transact_write_items is transactions.transact_write_items

    def hook(*args: Any, **kwargs: Any) -> None:
        transactions.transact_write_items(*args, **kwargs)

    hook.__wrapped__ = transactions.transact_write_items  # type: ignore[attr-defined]
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", hook)
    transactions.install()
    assert DynamoDBBackend.transact_write_items is hook
