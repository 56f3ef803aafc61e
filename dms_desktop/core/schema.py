"""The backend's shape: the `Documents` table with its indexes, and the S3 key scheme.

One definition, used by the sandbox (to create the table) and by the repository (to query it).
The sort orders are local secondary indexes on the user's partition, so that every sort order is a
single Query that pages through the whole partition (see docs/architecture.md, "Keys and indexes").

A body's S3 key always follows from its owner and document id (:func:`object_key`). Items carry
the key too (``s3Key``, part of the data model), but a user can write their own items, so the
app never acts on the stored value: every get, delete and check uses the derived key.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .ids import is_document_id

TABLE_NAME = "Documents"
BUCKET_NAME = "dms-documents"

# Derived attributes the repository maintains next to the data model's fields.
NAME_KEY = "nameKey"  # NFC + casefolded filename: case-insensitive name order and search
TYPE_KEY = "typeKey"  # fileType + NUL + nameKey: type order, then name order inside a type
TAG_KEYS = "tagKeys"  # casefolded tags: case-insensitive tag filter
OWNER_NAME = "ownerName"  # the uploader's user name as their app reported it (core.owner_names)
CHECKSUM_INDEX = "byChecksum"
EXPIRES_AT = "expiresAt"
"""The table's TTL attribute (a Number, epoch seconds): DynamoDB deletes expired items. Test
records carry it from the start; a document in the trash carries its purge time there."""
TRASHED_AT = "trashedAt"  # when the document was moved to the trash (only while it is there)
PURGE_AT = "purgeAt"  # when the trash purges it (epoch seconds; only while it is there)
KEPT_EXPIRES_AT = "keptExpiresAt"  # a test record's own expiry, kept while it is in the trash
TRASH_INDEX = "byTrashed"
"""A sparse global index of the documents in the trash (partition userId, sort trashedAt)."""
DEFAULT_TRASH_DAYS = 30
"""Days a document stays in the trash before it is purged (the template's TrashRetentionDays)."""
BODY_VERSIONS = "bodyVersions"
"""A document's version history (core.versions): a list of maps, the oldest first."""
OLD_VERSION_DAYS = 30
"""Days an old version of a document stays after a newer one replaced it (the template's
NoncurrentVersionDays default and its lifecycle rule; the sandbox expires them alike)."""
MAX_OLD_VERSIONS = 20
"""At most this many old versions per document: the app deletes the oldest beyond it."""


class SortField(StrEnum):
    """A sort order of the document list; each one is a single Query on one index."""

    CREATED = "created"
    NAME = "name"
    SIZE = "size"
    TYPE = "type"
    UPDATED = "updated"


# sort field -> (index name or None for the table itself, range key attribute, attribute type)
SORT_INDEXES: dict[SortField, tuple[str | None, str, str]] = {
    SortField.CREATED: (None, "documentId", "S"),
    SortField.NAME: ("byName", NAME_KEY, "S"),
    SortField.SIZE: ("bySize", "size", "N"),
    SortField.TYPE: ("byType", TYPE_KEY, "S"),
    SortField.UPDATED: ("byUpdated", "updatedAt", "S"),
}


BODY_PREFIX = "private/"  # every body lies under it, in a folder per user


def is_user_id(text: str) -> bool:
    """Whether ``text`` can be a partition's user id (one segment of an S3 key)."""
    return bool(text) and "/" not in text and text not in {".", ".."}


def object_key(user_id: str, document_id: str) -> str:
    """The S3 key of a document's body, from its owner and id only (never from the filename,
    never from what an item stores). ValueError if either could step outside the owner's folder:
    callers check ids read from the table first (:func:`is_document_id`, :func:`is_user_id`)."""
    if not is_user_id(user_id) or not is_document_id(document_id):
        raise ValueError(f"no object key for user {user_id!r} and document {document_id!r}")
    return f"{BODY_PREFIX}{user_id}/{document_id}"


def user_prefix(user_id: str) -> str:
    if not is_user_id(user_id):
        raise ValueError(f"no key prefix for user {user_id!r}")
    return f"{BODY_PREFIX}{user_id}/"


def item_key(user_id: str, document_id: str) -> dict[str, Any]:
    """The primary key of a document's item (low-level client form)."""
    return {"userId": {"S": user_id}, "documentId": {"S": document_id}}


def time_to_live_specification() -> dict[str, Any]:
    """`UpdateTimeToLive` specification: test records expire on their ``expiresAt``."""
    return {"AttributeName": EXPIRES_AT, "Enabled": True}


STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
"""The table's stream carries each item before and after a change: search indexes follow it."""


def table_definition(table_name: str = TABLE_NAME) -> dict[str, Any]:
    """`CreateTable` arguments for the Documents table with its sort and checksum indexes."""
    attributes = {"userId": "S", "documentId": "S", "checksum": "S", TRASHED_AT: "S"}
    local_indexes = []
    for index_name, range_key, attr_type in SORT_INDEXES.values():
        if index_name is None:
            continue
        attributes[range_key] = attr_type
        local_indexes.append(
            {
                "IndexName": index_name,
                "KeySchema": [
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()
        ],
        "KeySchema": [
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "documentId", "KeyType": "RANGE"},
        ],
        "LocalSecondaryIndexes": local_indexes,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": CHECKSUM_INDEX,
                "KeySchema": [
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": "checksum", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["filename", "size"],
                },
            },
            {
                "IndexName": TRASH_INDEX,
                "KeySchema": [
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": TRASHED_AT, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    }
