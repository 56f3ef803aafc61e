"""Every request a user's service sends stays inside that user's own documents.

On AWS the IAM policy already enforces this; on the sandbox (moto enforces no IAM) and against
bugs in the app, a botocore hook on the user's clients checks each request before it is built:
DynamoDB keys, items, start keys and query key conditions must carry the user's id, no Scan, and
S3 keys and list prefixes must lie under ``private/{userId}/``. A request outside is refused.
"""

from __future__ import annotations

from typing import Any

from .errors import AuthError
from .schema import user_prefix

_KEYED_PARAMETERS = ("Key", "Item", "ExclusiveStartKey")
_S3_LISTINGS = {"ListObjectsV2", "ListObjects", "ListMultipartUploads", "ListObjectVersions"}


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
        if operation == "Scan":
            raise refuse(operation)
        for name in _KEYED_PARAMETERS:
            if name in params and params[name].get("userId") != own_key:
                raise refuse(operation)
        if operation == "Query":
            condition = params.get("KeyConditionExpression", "")
            user_value = params.get("ExpressionAttributeValues", {}).get(":user")
            if not condition.startswith("userId = :user") or user_value != own_key:
                raise refuse(operation)

    def check_s3(params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        key = params.get("Key")
        if key is not None and not str(key).startswith(prefix):
            raise refuse(operation)
        if operation in _S3_LISTINGS and not str(params.get("Prefix", "")).startswith(prefix):
            raise refuse(operation)

    dynamodb.meta.events.register("before-parameter-build.dynamodb", check_dynamodb)
    s3.meta.events.register("before-parameter-build.s3", check_s3)
