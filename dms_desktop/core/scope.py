"""Every request a user's service sends stays inside that user's own documents.

On AWS the IAM policy already enforces this; on the sandbox (moto enforces no IAM) and against
bugs in the app, a botocore hook on the user's clients checks each request before it is built:
DynamoDB keys, items, start keys, query key conditions and every key of a batch or of a write
transaction must carry the user's id, no Scan, read transactions or PartiQL; S3 keys (each key of
a DeleteObjects too) and list prefixes must lie under ``private/{userId}/``. A request outside is
refused.
"""

from __future__ import annotations

from typing import Any

from .errors import AuthError
from .schema import user_prefix

_KEYED_PARAMETERS = ("Key", "Item", "ExclusiveStartKey")
_S3_LISTINGS = {"ListObjectsV2", "ListObjects", "ListMultipartUploads", "ListObjectVersions"}
# Never sent by a user's service; their keys are not checked here, so they are refused.
_UNCHECKED = {
    "Scan",
    "TransactGetItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
}


class OutOfScope(AuthError):
    """The app tried to reach documents that are not the signed-in user's (a bug: refused)."""


def guard_user_scope(dynamodb: Any, s3: Any, user_id: str) -> None:
    """Make ``dynamodb`` and ``s3`` refuse any request outside ``user_id``'s documents."""
    own_key = {"S": user_id}
    prefix = user_prefix(user_id)

    def refuse(operation: str) -> OutOfScope:
        return OutOfScope(
            f"Refused {operation}: it would reach documents that are not yours. "
            "This is a bug in the app; please report it."
        )

    def check_dynamodb(params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation in _UNCHECKED:
            raise refuse(operation)
        for name in _KEYED_PARAMETERS:
            if name in params and params[name].get("userId") != own_key:
                raise refuse(operation)
        if any(key.get("userId") != own_key for key in _batch_keys(params)):
            raise refuse(operation)
        if operation == "Query":
            condition = params.get("KeyConditionExpression", "")
            user_value = params.get("ExpressionAttributeValues", {}).get(":user")
            if not condition.startswith("userId = :user") or user_value != own_key:
                raise refuse(operation)

    def check_s3(params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        keys = [params["Key"]] if "Key" in params else []
        keys += [entry.get("Key") for entry in params.get("Delete", {}).get("Objects", [])]
        if not all(_inside(key, prefix) for key in keys):
            raise refuse(operation)
        if operation in _S3_LISTINGS and not str(params.get("Prefix", "")).startswith(prefix):
            raise refuse(operation)

    dynamodb.meta.events.register("before-parameter-build.dynamodb", check_dynamodb)
    s3.meta.events.register("before-parameter-build.s3", check_s3)


def _batch_keys(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every key and item of a BatchGetItem, BatchWriteItem or TransactWriteItems request."""
    keys: list[dict[str, Any]] = []
    for entry in params.get("TransactItems", []):
        for action, request in entry.items():  # {"Update": {"Key": ...}}, {"Put": {"Item": ...}}
            keys.append(request.get("Item" if action == "Put" else "Key") or {})
    for requests in params.get("RequestItems", {}).values():
        if isinstance(requests, dict):  # BatchGetItem: {"Keys": [...], ...}
            keys += requests.get("Keys", [])
            continue
        for request in requests:  # BatchWriteItem: [{"DeleteRequest": {"Key": ...}}, ...]
            delete = request.get("DeleteRequest", {}).get("Key")
            keys.append(delete or request.get("PutRequest", {}).get("Item") or {})
    return keys


def _inside(key: object, prefix: str) -> bool:
    """Whether an S3 key lies in the folder ``prefix``, with no dot segments to step out."""
    text = str(key)
    return text.startswith(prefix) and not {".", ".."} & set(text.split("/"))
