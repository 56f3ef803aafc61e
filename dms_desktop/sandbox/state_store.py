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
from dms_desktop.sandbox import change_log, persistence
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
_SKELETON = '["skeleton"]'  # the entry_bodies address of the skeleton's body files

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    address TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    container TEXT NOT NULL,
    image BLOB NOT NULL,
    members TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entry_bodies (
    address TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (address, body)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entry_bodies_by_body ON entry_bodies (body);
CREATE TABLE IF NOT EXISTS stream_records (
    stream TEXT NOT NULL,
    sequence TEXT NOT NULL,  -- zero-padded: moto's numbers do not fit SQLite's integers
    record BLOB NOT NULL,
    PRIMARY KEY (stream, sequence)
) WITHOUT ROWID;
"""


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


def _key_text(value: Any) -> Any:
    """A DynamoDB key as JSON, equal where moto's key is equal (its type and cast value)."""
    if value is None:
        return None
    cast = value.cast_value
    if isinstance(cast, float) and cast.is_integer():
        cast = int(cast)
    if isinstance(cast, bytes):
        cast = cast.hex()
    if not isinstance(cast, str | int | float):
        cast = repr(cast)
    return [value.type, cast]


def address_text(address: Address) -> str:
    """The address as the database's key (JSON: unambiguous whatever the names hold)."""
    if address[0] == "dynamodb":
        return json.dumps([*address[:4], _key_text(address[4]), _key_text(address[5])])
    return json.dumps([*address[:5], *(str(part) for part in address[5:])])


def _parts_prefix(account: str, region: str, bucket: str, upload_id: str) -> tuple[str, str]:
    """The range of the addresses of one upload's parts: [low, high)."""
    low = json.dumps(["s3-part", account, region, bucket, upload_id])[:-1] + ", "
    return low, low[:-1] + "!"


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
            connection.executescript(_SCHEMA)
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
                    else:
                        table.items[value.hash_key][value.range_key] = value
                elif kind == "s3-object":
                    change_log._apply(tuple(json.loads(address_json)), value)
                else:  # uploads, then their parts
                    later.append((tuple(json.loads(address_json)), value))
            later.sort(key=lambda pair: FOLDED_KINDS.index(pair[0][0]))
            for address, value in later:
                change_log._apply(address, value)
        self._load_streams(connection)
        self.wal_segment = int(meta["wal_segment"])
        return LoadedState(resources, bool(int(meta["samples_seeded"])), self.wal_segment)

    def _load_streams(self, connection: sqlite3.Connection) -> None:
        self._streams_saved.clear()
        for key, shard in _stream_shards():
            start = int(shard.starting_sequence_number)
            records: list[Any] = []
            for sequence, record in connection.execute(
                "SELECT sequence, record FROM stream_records"
                " WHERE stream = ? AND sequence >= ? ORDER BY sequence",
                (key, _sequence_text(start)),
            ):
                if int(sequence) != start + len(records):
                    log.warning("Stream %s: records before %s are missing", key, sequence)
                    break
                records.append(pickle.loads(record))  # noqa: S301 (our own file)
            shard.items = records
            self._streams_saved[key] = start + len(records)

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
        for key, shard in _stream_shards():
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
                entries = self._logged_entries(wal, self.wal_segment, snapshot.wal_segment, seen)
            connection.execute("BEGIN IMMEDIATE")
            try:
                unused = self._write_entries(
                    connection, entries, seen, full=snapshot.entries is not None
                )
                unused.update(
                    body
                    for (body,) in connection.execute(
                        "SELECT body FROM entry_bodies WHERE address = ?", (_SKELETON,)
                    )
                )
                connection.execute("DELETE FROM entry_bodies WHERE address = ?", (_SKELETON,))
                connection.executemany(
                    "INSERT INTO entry_bodies VALUES (?, ?)",
                    [(_SKELETON, body) for body in snapshot.skeleton_bodies],
                )
                saved_streams = self._write_streams(connection, snapshot.streams)
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
            still_used = _still_used(connection, unused)
        legacy = self.sandbox_dir / LEGACY_STATE_FILE
        if legacy.exists():  # migrated: everything it held is in the database now
            legacy.unlink()
            fsync_dir(self.sandbox_dir)
        return self.bodies.remove_unused(unused - still_used)

    @staticmethod
    def _write_streams(
        connection: sqlite3.Connection, streams: list[tuple[str, int, list[Any]]]
    ) -> dict[str, int]:
        """Save the streams' new records, drop those the indexer consumed (trimmed); returns
        each stream's first sequence number not saved now."""
        saved: dict[str, int] = {}
        for key, start, records in streams:
            connection.execute(
                "DELETE FROM stream_records WHERE stream = ? AND sequence < ?",
                (key, _sequence_text(start)),
            )
            end = start
            if records:
                first = int(records[0].record["dynamodb"]["SequenceNumber"])
                connection.executemany(
                    "INSERT OR REPLACE INTO stream_records VALUES (?, ?, ?)",
                    [
                        (
                            key,
                            _sequence_text(first + offset),
                            pickle.dumps(record, pickle.HIGHEST_PROTOCOL),
                        )
                        for offset, record in enumerate(records)
                    ],
                )
                end = first + len(records)
            saved[key] = max(end, start)
        return saved

    @staticmethod
    def _logged_entries(
        wal: WriteAheadLog, first: int, before: int, seen: dict[str, set[str]]
    ) -> Iterator[Entry]:
        """The log's entries from segment ``first`` up to ``before``, the last one of each
        address only (in the order of their last change); ``seen`` gets the ids of every
        upload each key name's entries held on the way."""
        latest: dict[str, Entry] = {}
        for payload in wal.read(first, before):
            for entry in change_log.entries_of(payload):
                if entry[0][0] in FOLDED_KINDS:
                    text = address_text(entry[0])
                    latest.pop(text, None)
                    latest[text] = entry
                    if entry[0][0] == "s3-uploads":
                        seen.setdefault(text, set()).update(entry[3])
        return iter(latest.values())

    def _write_entries(
        self,
        connection: sqlite3.Connection,
        entries: Iterable[Entry],
        seen: dict[str, set[str]],
        full: bool,
    ) -> set[str]:
        """Replace the entries' rows; returns the body files the replaced rows referred to."""
        if full:
            unused = {body for (body,) in connection.execute("SELECT body FROM entry_bodies")}
            connection.execute("DELETE FROM entries")
            connection.execute("DELETE FROM entry_bodies")
        else:
            unused = set()
        connection.execute("CREATE TEMP TABLE IF NOT EXISTS changed (address TEXT PRIMARY KEY)")
        connection.execute("DELETE FROM temp.changed")
        rows: list[tuple[str, str, str, str, str, bytes, str]] = []
        body_rows: list[tuple[str, str]] = []
        uploads: dict[tuple[str, str, str], set[str]] = {}  # (account, region, bucket): ids
        self.last_entries = 0
        for address, image, body_ids, members in entries:
            self.last_entries += 1
            text = address_text(address)
            kind, account, region, container = (str(part) for part in address[:4])
            connection.execute("INSERT OR IGNORE INTO temp.changed VALUES (?)", (text,))
            if kind == "s3-uploads":
                before = connection.execute(
                    "SELECT members FROM entries WHERE address = ?", (text,)
                ).fetchone()
                gone = set(before[0].split()) if before else set()
                gone.update(seen.get(text, ()))
                uploads.setdefault((account, region, container), set()).update(gone - set(members))
            if image is not None:
                rows.append((text, kind, account, region, container, image, " ".join(members)))
                body_rows.extend((text, body) for body in body_ids)
        if not full:
            unused.update(
                body
                for (body,) in connection.execute(
                    "SELECT body FROM entry_bodies"
                    " WHERE address IN (SELECT address FROM temp.changed)"
                )
            )
            connection.execute(
                "DELETE FROM entry_bodies WHERE address IN (SELECT address FROM temp.changed)"
            )
            connection.execute(
                "DELETE FROM entries WHERE address IN (SELECT address FROM temp.changed)"
            )
        connection.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        connection.executemany("INSERT OR IGNORE INTO entry_bodies VALUES (?, ?)", body_rows)
        # The parts of uploads completed or aborted: their rows go, and with them their bodies.
        for (account, region, bucket), upload_ids in uploads.items():
            for upload_id in upload_ids:
                low, high = _parts_prefix(account, region, bucket, upload_id)
                unused.update(
                    body
                    for (body,) in connection.execute(
                        "SELECT body FROM entry_bodies WHERE address >= ? AND address < ?",
                        (low, high),
                    )
                )
                connection.execute(
                    "DELETE FROM entry_bodies WHERE address >= ? AND address < ?", (low, high)
                )
                connection.execute(
                    "DELETE FROM entries WHERE address >= ? AND address < ?", (low, high)
                )
        connection.execute("DELETE FROM temp.changed")
        return unused


def _still_used(connection: sqlite3.Connection, bodies: set[str]) -> set[str]:
    used: set[str] = set()
    ordered = sorted(bodies)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        used.update(
            body
            for (body,) in connection.execute(
                f"SELECT DISTINCT body FROM entry_bodies WHERE body IN ({marks})",  # noqa: S608 (only marks)
                chunk,
            )
        )
    return used


def _sequence_text(sequence: int) -> str:
    return f"{sequence:040d}"


def _stream_shards() -> Iterator[tuple[str, StreamShard]]:
    """The tables' streams (moto keeps each one's records on its table), with their keys."""
    for account, region, backend in dynamodb_backends.iter_backends():
        for table in list(backend.tables.values()):  # type: ignore[attr-defined]
            if table.stream_shard is not None:
                yield json.dumps([account, region, table.name]), table.stream_shard


@contextlib.contextmanager
def _without_garbage_collection() -> Iterator[None]:
    """Python's cyclic collector runs again and again over the objects of a growing heap while
    a large state is loaded (most of the time of a start at 100,000 items); nothing it makes is
    garbage, so it is off until the load is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _table(account: str, region: str, table_name: str) -> Table | None:
    table: Table | None = dynamodb_backends[account][region].tables.get(table_name)
    if table is None:
        log.warning("The saved state has items of table %s, which no longer exists", table_name)
    return table
