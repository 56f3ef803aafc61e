"""The end of a document the trash purges: its body (and every stored version of it) deleted.

DynamoDB's TTL deletes the item of a document whose time in the trash is over; the table's
stream then carries a REMOVE record made by the service itself. :func:`purged_from_trash` tells
such a record apart from every other one (a user's delete, an update, an expired test record)
and gives the document's owner and id from the record's keys; :func:`delete_body_for_good`
deletes the body whose key follows from them. On AWS a function on the stream runs these
(dms_desktop.api.trash_purge); on the local sandbox, which purges by itself, the sandbox does
(dms_desktop.sandbox.lifecycle).

The key is derived from the owner and the document id only, never from an attribute a user can
write (``s3Key``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .body_deletion import delete_bodies_for_good
from .errors import AuthError, Unavailable
from .ids import is_document_id
from .schema import TRASHED_AT, is_user_id, object_key

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
"""The principal of a stream record that DynamoDB's TTL made (AWS: "Service" type)."""


@dataclass(frozen=True)
class PurgedDocument:
    """A document the trash purged: whose it was and its id (from the item's keys)."""

    user_id: str
    document_id: str

    @property
    def body_key(self) -> str:
        return object_key(self.user_id, self.document_id)


def purged_from_trash(record: Any) -> PurgedDocument | None:
    """The document whose item DynamoDB's TTL removed while it was in the trash, or None for
    any other stream record (an insert or change, a delete someone made, the expiry of a test
    record that was not in the trash, keys that cannot be a document's)."""
    if not isinstance(record, dict) or record.get("eventName") != "REMOVE":
        return None
    identity = record.get("userIdentity")
    if not isinstance(identity, dict) or (
        identity.get("type") != "Service" or identity.get("principalId") != TTL_PRINCIPAL
    ):
        return None
    change = record.get("dynamodb")
    if not isinstance(change, dict):
        return None
    old = change.get("OldImage")
    if not isinstance(old, dict) or TRASHED_AT not in old:
        return None
    keys = change.get("Keys")
    user_id = _string(keys, "userId")
    document_id = _string(keys, "documentId")
    if user_id is None or document_id is None:
        return None
    if not is_user_id(user_id) or not is_document_id(document_id):
        return None
    return PurgedDocument(user_id, document_id)


def _string(keys: Any, name: str) -> str | None:
    value = keys.get(name) if isinstance(keys, dict) else None
    text = value.get("S") if isinstance(value, dict) else None
    return text if isinstance(text, str) else None


def delete_body_for_good(s3: Any, bucket: str, user_id: str, document_id: str) -> int:
    """Delete the body of ``document_id`` of ``user_id``: every version of it and every delete
    marker (core.body_deletion, as every delete for good). Returns how many versions were
    deleted (0: there was nothing; deleting again is harmless). Domain errors (Unavailable,
    AuthError, ...) on failure."""
    # The function's role may list versions: a refusal is an error to retry and see, not a
    # reason to leave the old versions behind (as a user's old stack does).
    outcome = delete_bodies_for_good(
        s3, bucket, [object_key(user_id, document_id)], current_only_if_listing_refused=False
    )
    if outcome.failed:
        reason = next(iter(outcome.failed.values()))
        count = outcome.versions_left
        text = (
            f"{count} version(s) of a purged document's file were not deleted: {reason}"
            if count
            else f"The versions of a purged document's file could not be listed: {reason}"
        )
        denied = reason.startswith(("AccessDenied", "AuthError"))
        raise AuthError(text) if denied else Unavailable(text)
    return outcome.versions
