"""Client tokens: a retried ``POST /documents`` gets the document of the first attempt.

A token is reserved with a conditional ``PutItem`` (``attribute_not_exists``) in a small table of
its own (partition ``userId``, sort ``clientToken``), together with the new document's id and a
fingerprint of the request. A retry finds the reservation and reuses that id; the document itself
is then written with the core's conditional create, so whichever attempt gets there first stores
it and the others read it back. If the first attempt died between the two writes, the retry
finishes the job. Reservations expire after a day (DynamoDB TTL on ``expiresAt``; items past
their expiry that TTL has not removed yet count as free).
"""

from __future__ import annotations

import time
from typing import Any

from ..core.aws import aws_errors
from ..core.errors import Conflict

TOKEN_LIFETIME_SECONDS = 24 * 3600
EXPIRES_AT = "expiresAt"


class ClientTokenReused(Conflict):
    """The client token was already used for a request asking for a different document."""


def client_tokens_table_definition(table_name: str) -> dict[str, Any]:
    """`CreateTable` arguments of the client token table (the SAM template has the same)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "clientToken", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "clientToken", "KeyType": "RANGE"},
        ],
    }


class ClientTokens:
    """The client token table, through a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def reserve(self, user_id: str, token: str, fingerprint: str, document_id: str) -> str:
        """The document id this token stands for: ``document_id`` if the token is new, else
        the id of the first request with it. ClientTokenReused if that asked for another
        document."""
        now = int(time.time())
        key = {"userId": {"S": user_id}, "clientToken": {"S": token}}
        with aws_errors("reserve the client token"):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        **key,
                        "documentId": {"S": document_id},
                        "fingerprint": {"S": fingerprint},
                        EXPIRES_AT: {"N": str(now + TOKEN_LIFETIME_SECONDS)},
                    },
                    ConditionExpression="attribute_not_exists(clientToken) OR #expires < :now",
                    ExpressionAttributeNames={"#expires": EXPIRES_AT},
                    ExpressionAttributeValues={":now": {"N": str(now)}},
                )
                return document_id
            except self._client.exceptions.ConditionalCheckFailedException:
                earlier = self._client.get_item(
                    TableName=self._table, Key=key, ConsistentRead=True
                ).get("Item")
        if earlier is None:  # expired and removed in between: extremely unlikely, retryable
            raise Conflict("The client token changed while it was being used; try again.")
        if earlier["fingerprint"]["S"] != fingerprint:
            raise ClientTokenReused(
                "This clientToken was already used for a different document; "
                "use a new token for a new document."
            )
        return str(earlier["documentId"]["S"])
