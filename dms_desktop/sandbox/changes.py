"""What each request changed in moto's backends: the addresses ``change_log`` logs the
after-images of, and which requests need a checkpoint instead.

What a request touched is noted by hooks on moto's models while it runs (per request thread, see
:func:`recording`), as addresses:

- a DynamoDB item: ``("dynamodb", account, region, table, hash key, range key)``; its image is
  the item, or None once deleted;
- an S3 key name: ``("s3-object", account, region, bucket, key)``; its image is the list of its
  versions (each a ``FakeKey`` whose body is a reference to its body file, never its bytes) and
  their S3 tags;
- the multipart uploads of an S3 key name: ``("s3-uploads", ...)``, with their parts;
- one part of a multipart upload in progress: ``("s3-part", account, region, bucket, upload id,
  part number)``; its image is the part (a ``FakeKey`` whose body is a reference to its body
  file, written once), so that a client can continue the upload after the sandbox restarted;
- a Cognito user pool backend: ``("cognito-idp", account, region)``; its image is the backend
  without the pools' token tables, plus what changed in those since the last record (tokens
  pile up with every sign-in; a whole copy each time would grow without bound).

Requests whose changes have no address here (creating a table, a bucket policy, moto's own API)
are made durable by a checkpoint before they are answered (:func:`needs_checkpoint`): rare.

Cognito identity-pool sign-ins (``GetId``: the app derives stable ids from the user's ``sub``
instead) are deliberately not logged.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.s3.models import FakeKey, S3Backend, s3_backends

from dms_desktop.sandbox import body_files

log = logging.getLogger(__name__)

Address = tuple[Any, ...]
TOKEN_TABLES = ("refresh_tokens", "access_tokens", "id_tokens")

# Cognito user pool operations that change nothing (everything else is logged).
_COGNITO_IDP_READS = frozenset(
    {
        "AdminGetDevice",
        "AdminGetUser",
        "GetCSVHeader",
        "GetDevice",
        "GetGroup",
        "GetIdentityProviderByIdentifier",
        "GetLogDeliveryConfiguration",
        "GetSigningCertificate",
        "GetUICustomization",
        "GetUser",
        "GetUserAttributeVerificationCode",
        "GetUserAuthFactors",
        "GetUserPoolMfaConfig",
    }
)
# Identity pool operations whose changes are not kept (see the module's docstring).
_COGNITO_IDENTITY_UNLOGGED = frozenset(
    {"GetId", "GetCredentialsForIdentity", "GetOpenIdToken", "GetOpenIdTokenForDeveloperIdentity"}
)
_TARGET_SERVICES = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "AWSCognitoIdentityService": "cognito-identity",
}
# The services whose state the sandbox keeps (persistence.BACKENDS); moto's own API resets it.
KEPT_SERVICES = frozenset({"dynamodb", "s3", "cognito-idp", "cognito-identity", "moto-api"})


@dataclass
class ChangeSet:
    """What one request touched."""

    addresses: set[Address] = field(default_factory=set)
    volatile: bool = False  # it changed only what is deliberately not kept
    unknown: bool = False  # a hook could not tell what it touched: checkpoint to be safe


_current = threading.local()


@contextlib.contextmanager
def recording() -> Iterator[ChangeSet]:
    """Note what the hooks see on this thread until the block ends."""
    changes = ChangeSet()
    _current.changes = changes
    try:
        yield changes
    finally:
        _current.changes = None


def _note(address: Address) -> None:
    changes: ChangeSet | None = getattr(_current, "changes", None)
    if changes is not None:
        changes.addresses.add(address)


def _note_volatile() -> None:
    changes: ChangeSet | None = getattr(_current, "changes", None)
    if changes is not None:
        changes.volatile = True


# --- which request is it ----------------------------------------------------------------------


def service_of(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of a request, as far as the headers tell ("" if unknown)."""
    if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
        return "moto-api", ""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        prefix, _, operation = target.partition(".")
        return _TARGET_SERVICES.get(prefix, prefix), operation
    credential = ""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if "Credential=" in auth:
        credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
    elif "X-Amz-Credential=" in str(environ.get("QUERY_STRING", "")):
        query = str(environ["QUERY_STRING"])
        credential = query.split("X-Amz-Credential=", 1)[1].split("&", 1)[0].replace("%2F", "/")
    parts = credential.split("/")
    if len(parts) == 5:
        return parts[3], ""
    return "s3", ""  # moto's default for an unsigned request


def needs_checkpoint(service: str, operation: str, status: int, changes: ChangeSet) -> bool:
    """Whether a request changed kept state that has no address here (see the docstring)."""
    if not 200 <= status < 300:
        return False
    if changes.unknown:
        return True
    if changes.addresses or changes.volatile:
        return False
    if service in ("dynamodb", "s3", "moto-api"):
        return True  # e.g. CreateTable, UpdateTimeToLive, a bucket's policy
    if service == "cognito-identity":
        return operation not in _COGNITO_IDENTITY_UNLOGGED and not _is_read(operation)
    return False  # cognito-idp is noted by note_cognito; other services' state is not kept


# DynamoDB operations whose changes are all in the state's skeleton (a table's settings, not its
# items): a checkpoint saves them without pickling every item again.
_DYNAMODB_SETTINGS = frozenset(
    {
        "CreateTable",
        "TagResource",
        "UntagResource",
        "UpdateContinuousBackups",
        "UpdateTable",
        "UpdateTimeToLive",
    }
)


def needs_full_checkpoint(service: str, operation: str, changes: ChangeSet) -> bool:
    """For a request that :func:`needs_checkpoint`: whether it may have changed items or objects
    without the hooks seeing which (PartiQL, a restored backup, a deleted table, moto's reset,
    an S3 request), so that every entry must be saved anew."""
    if changes.unknown:
        return True
    if service == "dynamodb":
        return operation not in _DYNAMODB_SETTINGS
    return service != "cognito-identity"


def _is_read(operation: str) -> bool:
    return operation.startswith(("Describe", "List", "AdminList", "Lookup"))


def note_cognito(service: str, operation: str) -> None:
    """Note the user pool backends for a Cognito user pool request that may change them."""
    if service != "cognito-idp" or _is_read(operation) or operation in _COGNITO_IDP_READS:
        return
    for account, region, _backend in cognitoidp_backends.iter_backends():
        _note(("cognito-idp", account, region))


# --- hooks on moto's models -------------------------------------------------------------------


def _key_of(table: Table, attributes: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_attr = table.range_key_attr
    range_key = DynamoType(attributes[range_attr]) if range_attr in attributes else None
    return hash_key, range_key


def _note_item(table: Table, attributes: dict[str, Any]) -> None:
    address = ("dynamodb", table.account_id, table.region_name, table.name)
    _note((*address, *_key_of(table, attributes)))


def _note_item_by_name(backend: DynamoDBBackend, table_name: str, key: dict[str, Any]) -> None:
    table = backend.tables.get(table_name)
    if table is not None:
        _note_item(table, key)


def _before(original: Callable[..., Any], note: Callable[..., None]) -> Callable[..., Any]:
    """``original`` that first calls ``note`` with the same arguments."""

    @functools.wraps(original)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        try:
            note(*args, **kwargs)
        except Exception:  # noqa: BLE001 (moto's own checks answer a malformed request)
            changes: ChangeSet | None = getattr(_current, "changes", None)
            if changes is not None:
                changes.unknown = True
        return original(*args, **kwargs)

    hooked._dms_hooked = True  # type: ignore[attr-defined]
    return hooked


def _table_put(table: Table, item_attrs: dict[str, Any], *_: Any, **__: Any) -> None:
    _note_item(table, item_attrs)


def _table_delete(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
    _note(("dynamodb", table.account_id, table.region_name, table.name, hash_key, range_key))


def _update_item(
    backend: DynamoDBBackend, table_name: str, key: dict[str, Any], *_: Any, **__: Any
) -> None:
    _note_item_by_name(backend, table_name, key)


def _transact_write(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    # Every item a transaction names (its writes, and the put-backs of one that fails half-way).
    for entry in transact_items:
        for operation, request in entry.items():
            key = request.get("Item") if operation == "Put" else request.get("Key")
            if isinstance(key, dict) and request.get("TableName") in backend.tables:
                _note_item_by_name(backend, request["TableName"], key)


def _s3(backend: S3Backend, kind: str, bucket: str, key: str) -> None:
    _note((kind, backend.account_id, backend.region_name, bucket, key))


def _upload_key(backend: S3Backend, bucket_name: str, upload_id: str) -> str | None:
    bucket = backend.buckets.get(bucket_name)
    upload = bucket.multiparts.get(upload_id) if bucket is not None else None
    return None if upload is None else str(upload.key_name)


def _s3_object(backend: S3Backend, bucket_name: str, key_name: str, *_: Any, **__: Any) -> None:
    _s3(backend, "s3-object", bucket_name, key_name)


def _s3_tagging(backend: S3Backend, key: FakeKey, *_: Any, **__: Any) -> None:
    _s3(backend, "s3-object", str(key.bucket_name), key.name)


def _s3_copy(
    backend: S3Backend,
    src_key: FakeKey,
    dest_bucket_name: str,
    dest_key_name: str,
    *_: Any,
    **__: Any,
) -> None:
    _s3(backend, "s3-object", dest_bucket_name, dest_key_name)


def _s3_delete_many(
    backend: S3Backend, bucket_name: str, objects: list[dict[str, Any]], *_: Any, **__: Any
) -> None:
    for entry in objects:
        _s3(backend, "s3-object", bucket_name, str(entry["Key"]))


def _s3_upload_started(
    backend: S3Backend, bucket_name: str, key_name: str, *_: Any, **__: Any
) -> None:
    _s3(backend, "s3-uploads", bucket_name, key_name)


def _s3_upload_ended(
    backend: S3Backend, bucket_name: str, multipart_id: str, *_: Any, **__: Any
) -> None:
    key_name = _upload_key(backend, bucket_name, multipart_id)
    if key_name is not None:
        _s3(backend, "s3-uploads", bucket_name, key_name)
        _s3(backend, "s3-object", bucket_name, key_name)


def _s3_part(
    backend: S3Backend, bucket_name: str, multipart_id: str, part_id: int, *_: Any, **__: Any
) -> None:
    _note(("s3-part", backend.account_id, backend.region_name, bucket_name, multipart_id, part_id))


_HOOKS: list[tuple[type, str, Callable[..., None]]] = [
    (Table, "put_item", _table_put),
    (Table, "delete_item", _table_delete),
    (DynamoDBBackend, "update_item", _update_item),
    (DynamoDBBackend, "transact_write_items", _transact_write),
    (S3Backend, "put_object", _s3_object),
    (S3Backend, "delete_object", _s3_object),
    (S3Backend, "delete_objects", _s3_delete_many),
    (S3Backend, "put_object_acl", _s3_object),
    (S3Backend, "put_object_legal_hold", _s3_object),
    (S3Backend, "put_object_retention", _s3_object),
    (S3Backend, "put_object_tagging", _s3_tagging),
    (S3Backend, "delete_object_tagging", _s3_object),
    (S3Backend, "restore_object", _s3_object),
    (S3Backend, "copy_object", _s3_copy),
    (S3Backend, "create_multipart_upload", _s3_upload_started),
    (S3Backend, "complete_multipart_upload", _s3_upload_ended),
    (S3Backend, "abort_multipart_upload", _s3_upload_ended),
    (S3Backend, "upload_part", _s3_part),
    (S3Backend, "upload_part_copy", _s3_part),
]


def install() -> None:
    """Hook moto's models (process-wide, idempotent); notes are taken only inside
    :func:`recording`."""
    for cls, name, note in _HOOKS:
        original = getattr(cls, name)
        if not getattr(original, "_dms_hooked", False):
            setattr(cls, name, _before(original, note))
    body_files.install()
    body_files.on_object_removed = lambda key: _s3_for_key(key)


def _s3_for_key(key: FakeKey) -> None:
    for account, region, backend in s3_backends.iter_backends():
        if str(key.bucket_name) in backend.buckets:  # type: ignore[attr-defined]
            _note(("s3-object", account, region, key.bucket_name, key.name))
