"""The sandbox's saved state: an SQLite database that checkpoints update in place.

``state.sqlite`` in the sandbox folder holds:

- ``entries``: one row per DynamoDB item, S3 key name (its versions and their tags), S3 key
  name's multipart uploads, and part of an upload in progress, keyed by its address (see
  ``changes``), with its after-image pickled as the write-ahead log recorded it;
- ``entry_bodies``: which body files (``bodies/``) each entry refers to;
- ``meta``: the sandbox's resources, whether its samples were added, the first log segment the
  database does not contain, and the *skeleton*: every backend without its items, objects and
  uploads (tables and their streams, buckets and their settings, user pools, identity pools).

A checkpoint (``checkpoints``) holds the requests off only to move the log to a new segment and
to pickle the skeleton (small); then, while requests go on, it copies the entries of the log
segments before that one into the database in one transaction, deletes the body files no entry
refers to any more, and deletes those segments. So a checkpoint costs what changed since the last
one, not the size of the state. A start loads the skeleton, then every entry, then replays the
log after the database.

A change that has no address in the log (creating a table, a bucket's settings) is in the
skeleton. One that moto makes without the hooks seeing which items or objects it touched
(PartiQL, restoring a backup, deleting a table) needs a *full* checkpoint: every entry pickled
anew while requests wait, as every checkpoint did before the database.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import pickle
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import moto
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard, Table
from moto.s3.models import FakeBucket, MultipartDict
from moto.s3.utils import _VersionedKeyStore

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox import change_log, persistence, state_rows
from dms_desktop.sandbox.body_files import BodyFolder
from dms_desktop.sandbox.change_log import FOLDED_KINDS, Entry
from dms_desktop.sandbox.changes import Address
from dms_desktop.sandbox.info import LEGACY_STATE_FILE, STATE_FILE, fsync_dir, open_private
from dms_desktop.sandbox.persistence import (
    LoadedState,
    SandboxResources,
    clear_backends,
    install_backends,
    load_legacy_state,
    narrow_file_modes,
    reset_command_hint,
)
from dms_desktop.sandbox.wal import WriteAheadLog

log = logging.getLogger(__name__)

DATABASE_FORMAT = 1


@dataclass
class Snapshot:
    """What a checkpoint took while it held the requests off."""

    skeleton: bytes
    resources: SandboxResources
    samples_seeded: bool
    wal_segment: int  # the first log segment the checkpoint does not contain
    skeleton_bodies: tuple[str, ...] = ()  # body files the skeleton refers to (none, normally)
    entries: list[Entry] | None = None  # every entry (a full checkpoint), else from the log
    # Per table stream: (its key, its first sequence number, the records not saved yet)
    streams: list[tuple[str, int, list[Any]]] = field(default_factory=list)


class _SkeletonPickler(persistence._StatePickler):
    """The state's pickler, but tables go without their items and buckets without their keys
    and uploads: those are entries of their own."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Table):
            state = dict(obj.__dict__)
            state["items"] = type(obj.items)(dict)  # a defaultdict(dict), empty
            return (
                persistence._new_object,
                (Table,),
                state,
                None,
                None,
                persistence._set_dict_state,
            )
        if isinstance(obj, StreamShard):  # its records are rows of their own
            state = dict(obj.__dict__)
            state["items"] = []
            return (
                persistence._new_object,
                (StreamShard,),
                state,
                None,
                None,
                persistence._set_dict_state,
            )
        if isinstance(obj, FakeBucket):
            state = dict(obj.__dict__)
            state["keys"] = _VersionedKeyStore()
            state["multiparts"] = MultipartDict()
            return (
                persistence._new_object,
                (type(obj),),
                state,
                None,
                None,
                persistence._set_dict_state,
            )
        return super().reducer_override(obj)


class StateStore:
    """Reads and writes a sandbox folder's state database (and migrates an older state file)."""

    def __init__(self, sandbox_dir: Path) -> None:
        self.sandbox_dir = sandbox_dir
        self.path = sandbox_dir / STATE_FILE
        self.bodies = BodyFolder(sandbox_dir)
        self._lock = threading.Lock()  # one writer at a time
        self._connection: sqlite3.Connection | None = None
        self.wal_segment = 0  # the first log segment the database does not contain
        self.last_entries = 0  # how many entries the last checkpoint wrote (or deleted)
        self._streams_saved: dict[str, int] = {}  # stream -> first sequence number not saved

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            if not self.path.exists():
                with open_private(self.path):  # 0600 before SQLite writes to it (and its -wal)
                    pass
                fsync_dir(self.sandbox_dir)
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")  # a commit is on disk when it returns
            connection.executescript(state_rows.SCHEMA)
            self._connection = connection
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def exists(self) -> bool:
        return self.path.exists() or (self.sandbox_dir / LEGACY_STATE_FILE).exists()

    # --- loading --------------------------------------------------------------------------

    def load(self) -> LoadedState | None:
        """Install the saved backends into moto; None for a fresh folder.

        A folder of an earlier version (``state.pickle``) loads from that file; its
        ``migrated_from`` says so, and the caller saves it anew (a full checkpoint)."""
        clear_backends()
        if self.path.exists():
            narrow_file_modes(self.sandbox_dir)
            try:
                with self._lock, _without_garbage_collection():
                    loaded = self._load()
            except Exception as exc:  # noqa: BLE001 (any damage: one message, and a reset)
                self._unreadable(exc)
            if loaded is not None:
                return loaded
        # No database, or one whose first save did not finish: an earlier version's state file?
        loaded = load_legacy_state(self.sandbox_dir)
        if loaded is not None:
            log.info("Migrating the sandbox state %s to %s", loaded.migrated_from, self.path)
        return loaded

    def _unreadable(self, exc: Exception) -> NoReturn:
        log.error("Cannot read the sandbox state %s", self.path, exc_info=exc)
        raise SandboxError(
            f"The local sandbox's state database {self.path} is unreadable ({exc}); "
            f"{reset_command_hint()}"
        ) from exc

    def _load(self) -> LoadedState | None:
        connection = self._open()
        meta = dict(connection.execute("SELECT name, value FROM meta"))
        if not meta:
            return None  # created, never committed: a first start that did not finish
        if int(meta["format"]) != DATABASE_FORMAT:
            raise ValueError(f"unknown state database format {meta['format']!r}")
        if meta.get("moto") != moto.__version__:
            log.warning(
                "Sandbox state written by moto %s, running %s", meta["moto"], moto.__version__
            )
        resources = pickle.loads(meta["resources"])  # noqa: S301 (our own file)
        if not isinstance(resources, SandboxResources):
            raise TypeError("no sandbox resources in the state")
        with self.bodies.reading_bodies():
            install_backends(pickle.loads(meta["skeleton"]))  # noqa: S301 (our own file)
            later: list[tuple[Address, Any]] = []
            tables: dict[tuple[str, str, str], Table | None] = {}
            partitions: dict[tuple[int, str, Any], dict[Any, Any]] = {}
            rows = connection.execute(
                "SELECT address, kind, account, region, container, image FROM entries"
            )
            for address_json, kind, account, region, container, image in rows:
                value = pickle.loads(image)  # noqa: S301 (our own file)
                if kind == "dynamodb":
                    where = (account, region, container)
                    if where not in tables:
                        tables[where] = _table(*where)
                    table = tables[where]
                    if table is None:
                        continue
                    if value.range_key is None:
                        table.items[value.hash_key] = value
                        continue
                    # One lookup per partition: a DynamoType hashes and compares slowly.
                    hash_key = value.hash_key
                    known = (id(table), hash_key.type, hash_key.value)
                    partition = partitions.get(known)
                    if partition is None:
                        partition = partitions[known] = table.items[hash_key]
                    partition[value.range_key] = value
                elif kind == "s3-object":
                    change_log._apply(tuple(json.loads(address_json)), value)
                else:  # uploads, then their parts
                    later.append((tuple(json.loads(address_json)), value))
            later.sort(key=lambda pair: FOLDED_KINDS.index(pair[0][0]))
            for address, value in later:
                change_log._apply(address, value)
        self._streams_saved = state_rows.load_streams(connection)
        self.wal_segment = int(meta["wal_segment"])
        return LoadedState(resources, bool(int(meta["samples_seeded"])), self.wal_segment)

    def body_ids(self) -> set[str]:
        """Every body file an entry refers to."""
        with self._lock:
            connection = self._open()
            return {
                body for (body,) in connection.execute("SELECT DISTINCT body FROM entry_bodies")
            }

    # --- checkpoints ----------------------------------------------------------------------

    def capture(
        self, resources: SandboxResources, samples_seeded: bool, wal_segment: int, full: bool
    ) -> Snapshot:
        """Take what a checkpoint saves (the caller holds the backends alone): the skeleton,
        and for a ``full`` one every entry."""
        bodies = self.bodies.body_files()
        buffer = io.BytesIO()
        pickler = _SkeletonPickler(buffer, bodies)
        pickler.dump(persistence._live_backends())
        entries = list(change_log.every_entry(bodies)) if full else None
        streams = []
        for key, shard in state_rows.stream_shards():
            start = int(shard.starting_sequence_number)
            first_unsaved = max(start, self._streams_saved.get(key, start))
            streams.append((key, start, shard.items[first_unsaved - start :]))
        if bodies.written:
            fsync_dir(bodies.directory)
        return Snapshot(
            buffer.getvalue(),
            resources,
            samples_seeded,
            wal_segment,
            tuple(sorted(set(pickler.body_ids))),
            entries,
            streams,
        )

    def write(self, snapshot: Snapshot, wal: WriteAheadLog) -> int:
        """Save a snapshot, with the log's entries up to its segment (requests may go on);
        returns how many body files no entry refers to any more were deleted."""
        with self._lock:
            connection = self._open()
            seen: dict[str, set[str]] = {}
            if snapshot.entries is not None:
                entries: Iterable[Entry] = snapshot.entries
            else:
                entries = state_rows.logged_entries(
                    wal, self.wal_segment, snapshot.wal_segment, seen
                )
            connection.execute("BEGIN IMMEDIATE")
            try:
                unused, self.last_entries = state_rows.write_entries(
                    connection, entries, seen, full=snapshot.entries is not None
                )
                unused.update(
                    body
                    for (body,) in connection.execute(
                        "SELECT body FROM entry_bodies WHERE address = ?", (state_rows.SKELETON,)
                    )
                )
                connection.execute(
                    "DELETE FROM entry_bodies WHERE address = ?", (state_rows.SKELETON,)
                )
                connection.executemany(
                    "INSERT INTO entry_bodies VALUES (?, ?)",
                    [(state_rows.SKELETON, body) for body in snapshot.skeleton_bodies],
                )
                saved_streams = state_rows.write_streams(connection, snapshot.streams)
                connection.executemany(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                    [
                        ("format", str(DATABASE_FORMAT)),
                        ("moto", moto.__version__),
                        ("resources", pickle.dumps(snapshot.resources)),
                        ("samples_seeded", str(int(snapshot.samples_seeded))),
                        ("wal_segment", str(snapshot.wal_segment)),
                        ("skeleton", snapshot.skeleton),
                    ],
                )
                connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise
            self.wal_segment = snapshot.wal_segment
            self._streams_saved.update(saved_streams)
            still_used = state_rows.still_used(connection, unused)
        legacy = self.sandbox_dir / LEGACY_STATE_FILE
        if legacy.exists():  # migrated: everything it held is in the database now
            legacy.unlink()
            fsync_dir(self.sandbox_dir)
        return self.bodies.remove_unused(unused - still_used)


@contextlib.contextmanager
def _without_garbage_collection() -> Iterator[None]:
    """Python's cyclic collector ran again and again over the objects of the growing heap while a
    large state loaded, and afterwards every full collection walked the millions of objects of
    100,000 items (seconds of a start, and pauses of requests later). Nothing the load makes is
    garbage: the collector is off while it runs, and what it made is frozen (left out of every
    later collection; freed as usual when no longer referred to)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _table(account: str, region: str, table_name: str) -> Table | None:
    table: Table | None = dynamodb_backends[account][region].tables.get(table_name)
    if table is None:
        log.warning("The saved state has items of table %s, which no longer exists", table_name)
    return table
