"""The rows of the state database (see ``state_store``): its schema, the entries a checkpoint
writes, the table streams' records, and which body files the rows still refer to."""

from __future__ import annotations

import json
import logging
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard

from dms_desktop.sandbox import change_log
from dms_desktop.sandbox.change_log import FOLDED_KINDS, Entry
from dms_desktop.sandbox.changes import Address
from dms_desktop.sandbox.wal import WriteAheadLog

log = logging.getLogger(__name__)

SKELETON = '["skeleton"]'  # the entry_bodies address of the skeleton's body files

SCHEMA = """
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


def write_entries(
    connection: sqlite3.Connection,
    entries: Iterable[Entry],
    seen: dict[str, set[str]],
    full: bool,
) -> tuple[set[str], int]:
    """Replace the entries' rows; returns the body files the replaced rows referred to, and
    how many entries there were."""
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
    count = 0
    for address, image, body_ids, members in entries:
        count += 1
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
                "SELECT body FROM entry_bodies WHERE address IN (SELECT address FROM temp.changed)"
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
    return unused, count


def logged_entries(
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


def write_streams(
    connection: sqlite3.Connection, streams: list[tuple[str, int, list[Any]]]
) -> dict[str, int]:
    """Save the streams' new records, drop those the indexer consumed (trimmed); returns
    each stream's first sequence number not saved now."""
    saved: dict[str, int] = {}
    for key, start, records in streams:
        connection.execute(
            "DELETE FROM stream_records WHERE stream = ? AND sequence < ?",
            (key, sequence_text(start)),
        )
        end = start
        if records:
            first = int(records[0].record["dynamodb"]["SequenceNumber"])
            connection.executemany(
                "INSERT OR REPLACE INTO stream_records VALUES (?, ?, ?)",
                [
                    (
                        key,
                        sequence_text(first + offset),
                        pickle.dumps(record, pickle.HIGHEST_PROTOCOL),
                    )
                    for offset, record in enumerate(records)
                ],
            )
            end = first + len(records)
        saved[key] = max(end, start)
    return saved


def load_streams(connection: sqlite3.Connection) -> dict[str, int]:
    """Put the saved records back into the tables' streams; returns each stream's first
    sequence number not saved."""
    saved: dict[str, int] = {}
    for key, shard in stream_shards():
        start = int(shard.starting_sequence_number)
        records: list[Any] = []
        for sequence, record in connection.execute(
            "SELECT sequence, record FROM stream_records"
            " WHERE stream = ? AND sequence >= ? ORDER BY sequence",
            (key, sequence_text(start)),
        ):
            if int(sequence) != start + len(records):
                log.warning("Stream %s: records before %s are missing", key, sequence)
                break
            records.append(pickle.loads(record))  # noqa: S301 (our own file)
        shard.items = records
        saved[key] = start + len(records)
    return saved


def still_used(connection: sqlite3.Connection, bodies: set[str]) -> set[str]:
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


def sequence_text(sequence: int) -> str:
    return f"{sequence:040d}"


def stream_shards() -> Iterator[tuple[str, StreamShard]]:
    """The tables' streams (moto keeps each one's records on its table), with their keys."""
    for account, region, backend in dynamodb_backends.iter_backends():
        for table in list(backend.tables.values()):  # type: ignore[attr-defined]
            if table.stream_shard is not None:
                yield json.dumps([account, region, table.name]), table.stream_shard
