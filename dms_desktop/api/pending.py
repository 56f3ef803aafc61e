"""Uploads the web API has handed a URL for but whose body it has not seen yet.

``POST /documents`` does not write the document: it keeps the record it will write here, keyed
by owner and document id, and hands out an upload URL. ``POST /documents/{id}/complete`` writes
the record once the body is in the bucket and matches it (core.records), then forgets the
pending upload. So the API keeps the desktop's order, body first and metadata second: no listed
document ever lacks its body, and an upload never completed leaves at worst a body nobody sees,
which the admin check removes. A pending upload expires after a day (DynamoDB TTL on
``expiresAt``; one past its expiry that TTL has not removed yet counts as gone).
"""

from __future__ import annotations

import time
from typing import Any

from ..core.aws import aws_errors
from ..core.models import Document

PENDING_LIFETIME_SECONDS = 24 * 3600
EXPIRES_AT = "expiresAt"


def pending_uploads_table_definition(table_name: str) -> dict[str, Any]:
    """`CreateTable` arguments of the pending upload table (the SAM template has the same)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "documentId", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "documentId", "KeyType": "RANGE"},
        ],
    }


class PendingUploads:
    """The pending upload table, through a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def keep(self, document: Document) -> None:
        """Remember the record to write once ``document``'s body is uploaded."""
        expires = int(time.time()) + PENDING_LIFETIME_SECONDS
        with aws_errors("remember the upload"):
            self._client.put_item(
                TableName=self._table,
                Item={
                    **_key(document.user_id, document.document_id),
                    "record": {"S": document.model_dump_json(by_alias=True)},
                    EXPIRES_AT: {"N": str(expires)},
                },
            )

    def find(self, user_id: str, document_id: str) -> Document | None:
        """The record waiting for its body, or None (never created, completed, or expired)."""
        with aws_errors("look up the upload"):
            item = self._client.get_item(
                TableName=self._table, Key=_key(user_id, document_id), ConsistentRead=True
            ).get("Item")
        if item is None or int(item[EXPIRES_AT]["N"]) < time.time():
            return None
        return Document.model_validate_json(item["record"]["S"])

    def forget(self, user_id: str, document_id: str) -> None:
        with aws_errors("forget the completed upload"):
            self._client.delete_item(TableName=self._table, Key=_key(user_id, document_id))


def _key(user_id: str, document_id: str) -> dict[str, Any]:
    return {"userId": {"S": user_id}, "documentId": {"S": document_id}}
