"""The write-ahead log's records: after-images of what requests changed, replayed at a start.

A log of the *requests* could not be replayed: moto makes up ids (multipart upload ids, version
ids, user ``sub``s, tokens) and timestamps as it goes, so a replay would not give back what the
clients were told. The log holds the *results* instead: for each address a request touched (see
``changes``), its state once the request was done (its after-image), or that it is gone.
Replaying sets those states again, in the order they were logged; the result does not depend on
how requests interleaved.

Each address's image is pickled on its own in the record (an *entry*), so that a checkpoint
copies the entries since the last one into the state database as they are (``state_store``),
while requests go on appending to the log.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import logging
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.s3.models import FakeKey, s3_backends

from dms_desktop.sandbox import persistence
from dms_desktop.sandbox.body_files import BodyFolder
from dms_desktop.sandbox.changes import TOKEN_TABLES, Address
from dms_desktop.sandbox.info import fsync_dir
from dms_desktop.sandbox.wal import WriteAheadLog

log = logging.getLogger(__name__)


# --- after-images -----------------------------------------------------------------------------


_GONE = None


def _dynamodb_image(
    account: str, region: str, table_name: str, hash_key: Any, range_key: Any
) -> Any:
    table = dynamodb_backends[account][region].tables.get(table_name)
    if table is None:
        return _GONE
    if range_key is None:
        return table.items.get(hash_key)
    return table.items.get(hash_key, {}).get(range_key)


def _bucket(account: str, region: str, bucket_name: str) -> Any:
    return s3_backends[account][region].buckets.get(bucket_name)


def _object_image(account: str, region: str, bucket_name: str, key_name: str) -> Any:
    bucket = _bucket(account, region, bucket_name)
    if bucket is None:
        return _GONE
    versions = list(bucket.keys.getlist(key_name, []))
    tagger = s3_backends[account][region].tagger
    tags = {
        version.arn: tagger.list_tags_for_resource(version.arn)[tagger.tag_name]
        for version in versions
        if isinstance(version, FakeKey) and tagger.has_tags(version.arn)
    }
    return versions, tags


def _uploads_image(account: str, region: str, bucket_name: str, key_name: str) -> Any:
    bucket = _bucket(account, region, bucket_name)
    if bucket is None:
        return _GONE
    return {
        upload_id: upload
        for upload_id, upload in list(bucket.multiparts.items())
        if upload.key_name == key_name
    }


def _part_image(
    account: str, region: str, bucket_name: str, upload_id: str, part_number: Any
) -> Any:
    bucket = _bucket(account, region, bucket_name)
    upload = bucket.multiparts.get(upload_id) if bucket is not None else None
    if upload is None:
        return _GONE
    return upload.parts.get(int(part_number), _GONE)


# A log record: (RECORD_FORMAT, [entry, ...]). An entry holds one address's after-image pickled
# on its own, so that a checkpoint can store it as it is, without unpickling it.
RECORD_FORMAT = 2
# (address, pickled image or None once it is gone, body files it refers to, upload ids in it)
Entry = tuple[Address, bytes | None, tuple[str, ...], tuple[str, ...]]
# The kinds of address a checkpoint keeps one entry for; the rest are in the state's skeleton.
FOLDED_KINDS = ("dynamodb", "s3-object", "s3-uploads", "s3-part")
_IMAGES: dict[str, Callable[..., Any]] = {
    "dynamodb": _dynamodb_image,
    "s3-object": _object_image,
    "s3-uploads": _uploads_image,
    "s3-part": _part_image,
}
_GONE_IMAGES: dict[str, Any] = {"s3-object": ([], {}), "s3-uploads": {}}


def _is_gone(kind: str, image: Any) -> bool:
    if image is _GONE:
        return True
    if kind == "s3-object":
        return not image[0]
    return kind == "s3-uploads" and not image


def entry_of(address: Address, image: Any, bodies: Any) -> Entry:
    """One address's after-image as an entry (its bodies written first if they are not)."""
    kind = address[0]
    if _is_gone(kind, image):
        return (address, None, (), ())
    buffer = io.BytesIO()
    pickler = persistence._StatePickler(buffer, bodies)
    pickler.dump(image)
    members = tuple(sorted(image)) if kind == "s3-uploads" else ()
    return (address, buffer.getvalue(), tuple(sorted(set(pickler.body_ids))), members)


def every_entry(bodies: Any) -> Iterator[Entry]:
    """An entry for every item, object and upload in the backends (hold them alone)."""
    for account, region, backend in dynamodb_backends.iter_backends():
        for table in list(backend.tables.values()):  # type: ignore[attr-defined]
            for item in _items_of(table):
                address: Address = (
                    *("dynamodb", account, region, table.name),
                    *(item.hash_key, item.range_key),
                )
                yield entry_of(address, item, bodies)
    for account, region, backend in s3_backends.iter_backends():
        for bucket in list(backend.buckets.values()):  # type: ignore[attr-defined]
            for key_name in list(bucket.keys.keys()):
                address = ("s3-object", account, region, bucket.name, key_name)
                yield entry_of(
                    address, _object_image(account, region, bucket.name, key_name), bodies
                )
            key_names = {upload.key_name for upload in list(bucket.multiparts.values())}
            for key_name in sorted(key_names):
                address = ("s3-uploads", account, region, bucket.name, key_name)
                yield entry_of(
                    address, _uploads_image(account, region, bucket.name, key_name), bodies
                )


def _items_of(table: Table) -> Iterator[Any]:
    for value in list(table.items.values()):
        if isinstance(value, dict):
            yield from list(value.values())
        else:
            yield value


class _ImagePickler(persistence._StatePickler):
    """The state's pickler, but user pools go without their token tables (logged as changes)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, CognitoIdpUserPool):
            state = {
                name: value for name, value in obj.__dict__.items() if name not in TOKEN_TABLES
            }
            return (
                persistence._new_object,
                (CognitoIdpUserPool,),
                state,
                None,
                None,
                persistence._set_dict_state,
            )
        return super().reducer_override(obj)


class ChangeLog:
    """Writes the after-images of requests' changes to the write-ahead log, and replays them."""

    def __init__(self, wal: WriteAheadLog, body_folder: BodyFolder) -> None:
        self.wal = wal
        self.body_folder = body_folder
        # The token tables as last logged, per (account, region, pool, table).
        self._tokens: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        # The DynamoDB items the last replay set: their stream records were not replayed (the
        # search index catches up with them, see search_host).
        self.replayed_items: set[Address] = set()
        # The body files the replayed records refer to, if every record said (see replay).
        self.replayed_bodies: set[str] = set()
        self.replayed_all_bodies = True

    def remember_tokens(self) -> None:
        """Take the live token tables as the base of the next record's token changes."""
        self._tokens.clear()
        for account, region, backend in cognitoidp_backends.iter_backends():
            for pool_id, pool in list(backend.user_pools.items()):  # type: ignore[attr-defined]
                for table in TOKEN_TABLES:
                    self._tokens[(account, region, pool_id, table)] = dict(getattr(pool, table))

    def commit(self, addresses: Iterable[Address]) -> int:
        """Log the current state of ``addresses``; returns the ticket to wait for
        (:meth:`WriteAheadLog.wait_durable`)."""
        addresses = sorted(set(addresses), key=repr)
        bodies = self.body_folder.body_files()
        # Body files first, outside the log's lock: a large one takes seconds to copy.
        for address in addresses:
            if address[0] == "s3-object":
                image = _object_image(*address[1:])
                for version in image[0] if image is not _GONE else ():
                    if isinstance(version, FakeKey):
                        with contextlib.suppress(ValueError):  # deleted meanwhile: closed
                            bodies.ensure_saved(version)
            elif address[0] == "s3-part":
                part = _part_image(*address[1:])
                if isinstance(part, FakeKey):
                    with contextlib.suppress(ValueError):  # replaced or completed meanwhile
                        bodies.ensure_saved(part)
        with self.wal.lock:
            payload = self._payload(addresses, bodies)
            if bodies.written:
                fsync_dir(bodies.directory)  # the files exist once the record does
            return self.wal.append_locked(payload)

    def _payload(self, addresses: list[Address], bodies: Any) -> bytes:
        entries: list[Entry] = []
        for address in addresses:
            kind, rest = address[0], address[1:]
            if kind == "cognito-idp":
                image = self._cognito_image(*rest)
                buffer = io.BytesIO()
                _ImagePickler(buffer, bodies).dump(image)
                entries.append((address, buffer.getvalue(), (), ()))
            elif kind in FOLDED_KINDS:
                entries.append(entry_of(address, _IMAGES[kind](*rest), bodies))
        return pickle.dumps((RECORD_FORMAT, entries), protocol=pickle.HIGHEST_PROTOCOL)

    def _cognito_image(self, account: str, region: str) -> Any:
        backend = cognitoidp_backends[account][region]
        changed: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
        for pool_id, pool in list(backend.user_pools.items()):
            for table in TOKEN_TABLES:
                now = dict(getattr(pool, table))
                before = self._tokens.get((account, region, pool_id, table), {})
                added = {
                    token: value
                    for token, value in now.items()
                    if before.get(token, _MISSING) != value
                }
                removed = [token for token in before if token not in now]
                if added or removed:
                    changed[(pool_id, table)] = (added, removed)
                self._tokens[(account, region, pool_id, table)] = now
        return backend, changed

    # --- replay --------------------------------------------------------------------------

    def replay(self, first_segment: int) -> int:
        """Apply the logged records from ``first_segment`` on to the loaded state; returns how
        many there were."""
        count = 0
        with self.body_folder.reading_bodies():
            for payload in self.wal.read(first_segment):
                record = pickle.loads(payload)  # noqa: S301 (our own log)
                for address, image in _images_of_record(record):
                    _apply(address, image)
                    if address[0] == "dynamodb":
                        self.replayed_items.add(address)
                if _is_entries(record):
                    for entry in record[1]:
                        self.replayed_bodies.update(entry[2])
                else:
                    self.replayed_all_bodies = False
                count += 1
        return count


def _is_entries(record: Any) -> bool:
    return isinstance(record, tuple) and len(record) == 2 and record[0] == RECORD_FORMAT


def _images_of_record(record: Any) -> Iterator[tuple[Address, Any]]:
    """The (address, after-image) pairs of one unpickled log record (unpickle inside
    ``reading_bodies``); records of both formats."""
    if _is_entries(record):
        for address, image, _bodies, _members in record[1]:
            if image is None:
                yield address, _GONE_IMAGES.get(address[0], _GONE)
            else:
                yield address, pickle.loads(image)  # noqa: S301 (our own log)
    else:  # a list of (address, image): written by versions before the state database
        yield from record


def entries_of(payload: bytes) -> list[Entry]:
    """The entries of one log record, images still pickled (no unpickling of the images)."""
    record = pickle.loads(payload)  # noqa: S301 (our own log)
    if not _is_entries(record):
        raise ValueError("a log record written by an earlier version")
    return list(record[1])


_MISSING = object()


def _apply(address: Address, image: Any) -> None:
    kind, account, region = address[0], address[1], address[2]
    if kind == "dynamodb":
        _apply_item(account, region, address[3], address[4], address[5], image)
    elif kind == "s3-object":
        _apply_object(account, region, address[3], address[4], image)
    elif kind == "s3-uploads":
        _apply_uploads(account, region, address[3], address[4], image)
    elif kind == "s3-part":
        _apply_part(account, region, address[3], address[4], int(address[5]), image)
    elif kind == "cognito-idp":
        _apply_cognito(account, region, image)


def _apply_item(
    account: str, region: str, table_name: str, hash_key: Any, range_key: Any, item: Any
) -> None:
    table = dynamodb_backends[account][region].tables.get(table_name)
    if table is None:
        log.warning("Replay: table %s no longer exists", table_name)
        return
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    partition = table.items[hash_key]
    if item is None:
        partition.pop(range_key, None)
        if not partition:
            del table.items[hash_key]
    else:
        partition[range_key] = item


def _apply_object(account: str, region: str, bucket_name: str, key_name: str, image: Any) -> None:
    bucket = _bucket(account, region, bucket_name)
    if bucket is None or image is _GONE:
        return
    versions, tags = image
    tagger = s3_backends[account][region].tagger
    for version in bucket.keys.getlist(key_name, []):
        if isinstance(version, FakeKey):
            tagger.delete_all_tags_for_resource(version.arn)
    if versions:
        bucket.keys.setlist(key_name, versions)
    elif key_name in bucket.keys:
        bucket.keys.pop(key_name)
    for arn, tag_list in tags.items():
        tagger.tag_resource(arn, tag_list)


def _apply_uploads(account: str, region: str, bucket_name: str, key_name: str, image: Any) -> None:
    bucket = _bucket(account, region, bucket_name)
    if bucket is None or image is _GONE:
        return
    for upload_id, upload in list(bucket.multiparts.items()):
        if upload.key_name == key_name and upload_id not in image:
            del bucket.multiparts[upload_id]
    bucket.multiparts.update(image)


def _apply_part(
    account: str, region: str, bucket_name: str, upload_id: str, number: int, part: Any
) -> None:
    bucket = _bucket(account, region, bucket_name)
    upload = bucket.multiparts.get(upload_id) if bucket is not None else None
    if upload is None:
        return  # completed or aborted later in the log
    if part is _GONE:
        upload.parts.pop(number, None)
        if number in upload.partlist:
            upload.partlist.remove(number)
        return
    upload.parts[number] = part
    if number not in upload.partlist:
        bisect.insort(upload.partlist, number)


def _apply_cognito(account: str, region: str, image: Any) -> None:
    backend, changed = image
    live = cognitoidp_backends[account][region]
    for pool_id, pool in backend.user_pools.items():
        before = live.user_pools.get(pool_id)
        for table in TOKEN_TABLES:
            tokens = dict(getattr(before, table, {})) if before is not None else {}
            added, removed = changed.get((pool_id, table), ({}, []))
            tokens.update(added)
            for token in removed:
                tokens.pop(token, None)
            setattr(pool, table, tokens)
    cognitoidp_backends[account][region] = backend
