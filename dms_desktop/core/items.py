"""How a document is stored as a DynamoDB item, and read back: strictly for the app, leniently for
the admin tools, and the server-side filter of an admin's scan.

The item holds the data model's fields plus derived attributes the indexes and filters need
(``nameKey``, ``typeKey``, ``tagKeys``). :func:`from_item` refuses an item that breaks the data
model (an IntegrityError naming the field); :func:`stored_item` reads any item, damaged or not, and
says what is wrong with it, so that the admin's check can report it and cleanups can match it.
The ``s3Key`` an item stores is never used (see core.schema): it is only compared with the key
the owner and id give, and a difference is reported as damage.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pydantic
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .errors import IntegrityError
from .ids import is_document_id
from .models import Document, format_timestamp, parse_timestamp, tag_key
from .schema import (
    BODY_VERSIONS,
    EXPIRES_AT,
    KEPT_EXPIRES_AT,
    NAME_KEY,
    OWNER_NAME,
    TAG_KEYS,
    TRASHED_AT,
    TYPE_KEY,
    is_user_id,
    object_key,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def fold(text: str) -> str:
    """NFC and casefolded, not trimmed: how a filename prefix or glob is matched."""
    return unicodedata.normalize("NFC", text).casefold()


def to_item(document: Document) -> dict[str, Any]:
    """The DynamoDB item of a document: the model's fields plus the derived index attributes.

    In the trash, the TTL attribute (``expiresAt``) holds when the document goes for good: its
    purge time, or a test record's own expiry if that comes first (kept in ``keptExpiresAt``
    meanwhile, for a restore)."""
    plain = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    plain["tags"] = list(document.tags)
    plain[NAME_KEY] = tag_key(document.filename)
    plain[TYPE_KEY] = f"{document.file_type}\x00{plain[NAME_KEY]}"
    plain[TAG_KEYS] = [tag_key(tag) for tag in document.tags]
    if document.in_trash and document.purge_at is not None:
        plain[EXPIRES_AT] = trash_expiry(document.purge_at, document.expires_at)
        if document.expires_at is not None:
            plain[KEPT_EXPIRES_AT] = document.expires_at
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def trash_expiry(purge_at: int, own_expiry: int | None) -> int:
    """The TTL of a document in the trash: its purge time, or its own expiry if earlier."""
    return purge_at if own_expiry is None else min(purge_at, own_expiry)


def from_item(item: dict[str, Any]) -> Document:
    """The document of a stored item; IntegrityError if the item breaks the data model."""
    plain = {
        name: _plain(_deserializer.deserialize(value))
        for name, value in item.items()
        if name != BODY_VERSIONS  # the version history (core.versions) is read on its own
    }
    if TRASHED_AT in plain:  # its expiresAt is the trash's TTL; its own expiry is kept apart
        plain[EXPIRES_AT] = plain.pop(KEPT_EXPIRES_AT, None)
    for name in _REPEATED_STRINGS:  # one copy for the many documents that share the value
        if isinstance(plain.get(name), str):
            plain[name] = sys.intern(plain[name])
    try:
        document = Document.model_validate(plain)
    except pydantic.ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise IntegrityError(
            f"The stored metadata of document {plain.get('documentId', '?')} is damaged "
            f"({where}: {problem['msg']}); an administrator sees it in the consistency check "
            "(`dms admin check`), and its owner can delete it."
        ) from exc
    _share_fields_set(document)
    return document


_REPEATED_STRINGS = ("userId", "fileType", "folder")

# pydantic keeps in each model the set of the fields it was given: 728 bytes, half of what a
# document takes (a window listing 100,000 documents holds them all). Documents are frozen, so
# the documents given the same fields can share one set (``model_copy`` copies it).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _share_fields_set(document: Document) -> None:
    fields = document.model_fields_set
    shared = _FIELDS_SETS.setdefault(frozenset(fields), fields)
    object.__setattr__(document, "__pydantic_fields_set__", shared)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(element) for element in value]
    if isinstance(value, set):
        return sorted(_plain(element) for element in value)
    return value


@dataclass(frozen=True)
class StoredItem:
    """A metadata item as the admin tools read it: leniently, so damaged items are seen too."""

    user_id: str
    document_id: str
    filename: str
    size: int
    tags: tuple[str, ...]
    tag_keys: frozenset[str]
    created_at: datetime | None
    checksum: str
    expires_at: float | None
    stored_key: str  # the item's own s3Key: compared with body_key, never used
    damage: str | None  # why the item is not a valid document; None if it is one
    owner_name: str = ""  # as the owner's app recorded it: a label only (core.owner_names)

    @property
    def body_key(self) -> str | None:
        """Where the body is: derived from owner and id; None if they cannot make a key."""
        if not is_user_id(self.user_id) or not is_document_id(self.document_id):
            return None
        return object_key(self.user_id, self.document_id)


def stored_item(item: dict[str, Any]) -> StoredItem:
    """Read any item: missing or mistyped fields get empty values, and ``damage`` says why the
    item is not a valid document (including a stored ``s3Key`` that is not its own)."""

    def text(name: str) -> str:
        value = item.get(name)
        return str(value.get("S", "")) if isinstance(value, dict) else ""

    def number(name: str) -> float | None:
        value = item.get(name)
        try:
            return float(value["N"]) if isinstance(value, dict) and "N" in value else None
        except (TypeError, ValueError):
            return None

    def strings(name: str) -> list[str]:
        value = item.get(name)
        entries = value.get("L", []) if isinstance(value, dict) else []
        return [str(e["S"]) for e in entries if isinstance(e, dict) and isinstance(e.get("S"), str)]

    tags = tuple(strings("tags"))
    try:
        created: datetime | None = parse_timestamp(text("createdAt"))
    except ValueError:
        created = None
    size = number("size")
    read = StoredItem(
        user_id=text("userId"),
        document_id=text("documentId"),
        filename=text("filename"),
        size=int(size) if size is not None and size == size else 0,  # NaN: 0
        tags=tags,
        tag_keys=frozenset(strings(TAG_KEYS)) or frozenset(tag_key(tag) for tag in tags),
        created_at=created,
        checksum=text("checksum"),
        expires_at=number(EXPIRES_AT),
        stored_key=text("s3Key"),
        damage=None,
        owner_name=text(OWNER_NAME),
    )
    try:
        from_item(item)
    except IntegrityError as error:
        return _with_damage(read, str(error))
    if read.stored_key and read.stored_key != read.body_key:
        return _with_damage(
            read,
            f"its stored s3Key {read.stored_key!r} is not its own key {read.body_key!r}; "
            "the app ignores the stored value",
        )
    return read


def recorded_owner_names(items: Iterable[StoredItem]) -> dict[str, str]:
    """The owner names recorded on ``items``, by owner id (the last one read wins)."""
    return {item.user_id: item.owner_name for item in items if item.user_id and item.owner_name}


def _with_damage(read: StoredItem, damage: str) -> StoredItem:
    return StoredItem(**{**read.__dict__, "damage": damage})


@dataclass(frozen=True)
class ScanFilter:
    """What a scan across every user's items keeps (all given conditions hold), evaluated by
    DynamoDB: a tag (any case), a filename prefix (any case), creation times, owners, sizes,
    and test records expired before a moment."""

    tag: str | None = None
    name_prefix: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    owners: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    expired_before: datetime | None = None

    def expression(self) -> tuple[str | None, dict[str, str], dict[str, Any]]:
        """(FilterExpression, ExpressionAttributeNames, ExpressionAttributeValues)."""
        conditions: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if self.tag:
            conditions.append(f"contains({TAG_KEYS}, :tag)")
            values[":tag"] = {"S": tag_key(self.tag)}
        if self.name_prefix:
            conditions.append(f"begins_with({NAME_KEY}, :prefix)")
            values[":prefix"] = {"S": fold(self.name_prefix)}
        if self.created_before is not None:
            conditions.append("createdAt < :before")
            values[":before"] = {"S": format_timestamp(self.created_before)}
        if self.created_after is not None:
            conditions.append("createdAt > :after")
            values[":after"] = {"S": format_timestamp(self.created_after)}
        if self.owners:
            placeholders = [f":owner{number}" for number in range(len(self.owners))]
            conditions.append(f"userId IN ({', '.join(placeholders)})")
            values.update(
                {name: {"S": owner} for name, owner in zip(placeholders, self.owners, strict=True)}
            )
        if self.min_size is not None:
            names["#size"] = "size"
            conditions.append("#size >= :min")
            values[":min"] = {"N": str(self.min_size)}
        if self.max_size is not None:
            names["#size"] = "size"
            conditions.append("#size <= :max")
            values[":max"] = {"N": str(self.max_size)}
        if self.expired_before is not None:
            conditions.append(f"{EXPIRES_AT} < :now")
            values[":now"] = {"N": str(int(self.expired_before.timestamp()))}
        return (" AND ".join(conditions) or None), names, values
