"""TransactWriteItems in the sandbox at the cost of the items it names, not of the whole table.

moto 5.2 makes a deep copy of the whole table once per item of a transaction (up to 100 per
request), to put the table back if the transaction fails. At a few thousand documents a request of
100 writes took over a minute: botocore timed out and sent it again, and the second attempt's
conditions failed against the first one's writes, so a move of 1,000 documents to the trash
reported documents "changed meanwhile" that nobody had touched.

This module answers a TransactWriteItems the way DynamoDB does, all or nothing, in two steps:

1. Every item is checked before anything is written: one operation per item, no item named twice
   (a validation error for the request), and each condition evaluated against the item as it is.
   If any condition fails (or an item names a table that does not exist) the transaction is
   cancelled with one reason per item, as moto reports them, and nothing is written.
2. The writes are then applied through moto's own ``put_item`` / ``delete_item`` /
   ``update_item`` (so the write-ahead log and the sorted lists see them as usual). If one fails
   half-way (an update expression moto rejects), the items written so far are put back as they
   were, from copies of those items alone, and the error is reported as moto reports it.

:func:`install` must run before :func:`dms_desktop.sandbox.changes.install`, whose hook on this
method notes the items a transaction names for the write-ahead log.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")
_CONDITION_FAILED = "The conditional request failed"  # moto's and DynamoDB's words

Reason = tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]


class _Write:
    """One item of a transaction, checked and ready to apply."""

    def __init__(self, operation: str, request: dict[str, Any], key: dict[str, Any]) -> None:
        self.operation = operation
        self.request = request
        self.key = key
        self.table_name: str = request["TableName"]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """DynamoDB's TransactWriteItems: every write or none (see the module)."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    writes = [_parse(self, entry) for entry in transact_items]
    _check_unique(writes)
    reasons = [_check_condition(self, write) for write in writes]
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    _apply(self, writes)


def _parse(backend: DynamoDBBackend, entry: dict[str, Any]) -> _Write:
    if len(entry) > 1:
        raise TransactWriteSingleOpException()
    operation, request = next(iter(entry.items()))
    if operation not in _OPERATIONS:
        raise MockValidationException(f"Unsupported transaction operation: {operation}")
    if operation != "Put":
        return _Write(operation, request, request["Key"])
    attrs = request["Item"]
    table = backend.tables.get(request["TableName"])
    if table is None:  # reported as the item's reason, as for the other operations
        return _Write(operation, request, {})
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return _Write(operation, request, key)


def _check_unique(writes: list[_Write]) -> None:
    named: set[tuple[str, str]] = set()
    for write in writes:
        target = (write.table_name, str(dict(sorted(write.key.items()))))
        if target in named:
            raise MultipleTransactionsException()
        named.add(target)


def _check_condition(backend: DynamoDBBackend, write: _Write) -> Reason:
    """Why this item cancels the transaction, or ``(None, None, None)``."""
    try:
        current = backend.get_item(write.table_name, write.key)
        condition = write.request.get("ConditionExpression")
        if condition is None:
            return (None, None, None)
        check = get_filter_expression(
            condition,
            write.request.get("ExpressionAttributeNames"),
            write.request.get("ExpressionAttributeValues"),
        )
        if check.expr(current):
            return (None, None, None)
        old = None
        wants_old = write.request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        if wants_old and current is not None:
            old = current.to_json()["Attributes"]
        return ("ConditionalCheckFailed", _CONDITION_FAILED, old)
    except MockValidationException:
        raise
    except Exception as error:  # noqa: BLE001 (moto reports any other error as the reason)
        return (type(error).__name__, str(error), None)


def _apply(backend: DynamoDBBackend, writes: list[_Write]) -> None:
    written: list[tuple[_Write, dict[str, Any] | None]] = []
    for position, write in enumerate(writes):
        if write.operation == "ConditionCheck":
            continue
        before = backend.get_item(write.table_name, write.key)
        snapshot = copy.deepcopy(before.to_json()["Attributes"]) if before is not None else None
        try:
            _write(backend, write)
        except Exception as error:
            _put_back(backend, reversed(written))
            if isinstance(error, MockValidationException):
                raise
            reasons: list[Reason] = [(None, None, None)] * len(writes)
            reasons[position] = (type(error).__name__, str(error), None)
            raise TransactionCanceledException(reasons) from error
        written.append((write, snapshot))


def _write(backend: DynamoDBBackend, write: _Write) -> None:
    request = write.request
    expression: dict[str, Any] = {
        "condition_expression": request.get("ConditionExpression"),
        "expression_attribute_names": request.get("ExpressionAttributeNames"),
        "expression_attribute_values": request.get("ExpressionAttributeValues"),
    }
    if write.operation == "Put":
        backend.put_item(write.table_name, request["Item"], **expression)
    elif write.operation == "Delete":
        backend.delete_item(write.table_name, write.key, **expression)
    else:
        backend.update_item(
            write.table_name,
            write.key,
            update_expression=request["UpdateExpression"],
            **expression,
        )


def _put_back(
    backend: DynamoDBBackend, written: Iterable[tuple[_Write, dict[str, Any] | None]]
) -> None:
    for write, snapshot in written:
        if snapshot is None:
            backend.delete_item(write.table_name, write.key)
        else:
            backend.put_item(write.table_name, snapshot)


def install() -> None:
    """Answer TransactWriteItems as described above (process-wide, idempotent: a hook that
    already wraps this answer is kept)."""
    if inspect.unwrap(DynamoDBBackend.transact_write_items) is not transact_write_items:
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
