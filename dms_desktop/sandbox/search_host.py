"""Search in the sandbox: the stream indexer, polling the Documents table's stream in-process.

The sandbox serves the table with moto, which keeps the table's stream (one shard) on the table
itself. A thread reads the records that are durable (see :class:`StreamGate`), hands them to the
same :class:`~dms_desktop.core.search.indexer.StreamIndexer` the AWS indexer Lambda runs, and
writes an embedded tantivy index in ``<sandbox>/search/index``; the CLI and the window open that
index read-only and search it for their signed-in user.

What keeps the index right across restarts and crashes:

- **Position.** After each batch is committed to the index, the last sequence number is saved
  (``search/position.json``): a restart goes on from there. A crash between the two replays
  that batch, which changes nothing (the index is idempotent).
- **Durable records only.** A record is read once the request that made it has been answered,
  that is, once its change is in the write-ahead log; a change a crash undid is never indexed.
- **Replayed changes.** moto's stream is part of the checkpoint, not of the write-ahead log: a
  start after a crash has the records up to the last checkpoint, and replays later changes
  without records. The indexer first finishes the records it has, then brings the items the
  log replayed to their present state (``StreamIndexer.reconcile``).
- **Trimming.** moto keeps every record forever, and they would be pickled with every
  checkpoint. Each checkpoint first drops the records the indexer has consumed (while it holds
  the state exclusively), so the saved state does not grow with every write.
- **Not a mutation.** Polling is a read of the process's own memory: it neither goes through
  the request path nor makes the state dirty, so it never forces a checkpoint.

If the index is missing, unreadable or from another version, it is rebuilt from the table.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.s3.exceptions import MissingKey
from moto.s3.models import FakeKey, s3_backends

from dms_desktop.core.errors import DmsError, IntegrityError, NotFound
from dms_desktop.core.models import Document
from dms_desktop.core.repository import from_item
from dms_desktop.core.schema import STREAM_VIEW_TYPE, object_key
from dms_desktop.core.search.embedded import EmbeddedIndex
from dms_desktop.core.search.extract import TextCache
from dms_desktop.core.search.indexer import Progress, StreamIndexer

log = logging.getLogger(__name__)

REINDEX_PATH = "/dms-sandbox/search/reindex"  # POST {"user": id or null}: NDJSON progress
SEARCH_DIR = "search"
INDEX_DIR = "index"
TEXTS_DIR = "texts"
POSITION_FILE = "position.json"
POLL_SECONDS = 0.25
BATCH_RECORDS = 500
RETRY_SECONDS = 5.0


def search_index_dir(sandbox_dir: Path) -> Path:
    """Where the sandbox keeps its search index (the CLI and the window read it there)."""
    return sandbox_dir / SEARCH_DIR / INDEX_DIR


class StreamGate:
    """Which of the table's stream records are durable.

    Each request that may change something holds a ticket from before it runs until its change
    is on disk (``enter``/``leave`` around it in the server). Records are numbered in the order
    moto made them; a record numbered below the stream's end as it was when every open ticket
    was taken belongs to a request that has been answered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, int] = {}  # ticket -> the stream's end when it was taken
        self._tickets = 0
        self._end: Callable[[], int] | None = None
        self.changed = threading.Event()  # set when a request leaves: records may be ready

    def watch(self, end: Callable[[], int] | None) -> None:
        """Follow a stream whose next sequence number ``end()`` gives (None: none)."""
        with self._lock:
            self._end = end

    def enter(self) -> int:
        with self._lock:
            self._tickets += 1
            self._open[self._tickets] = self._end() if self._end is not None else 0
            return self._tickets

    def leave(self, ticket: int) -> None:
        with self._lock:
            self._open.pop(ticket, None)
        self.changed.set()

    def durable_end(self) -> int:
        """Records numbered below this are durable."""
        with self._lock:
            end = self._end() if self._end is not None else 0
            return min([end, *self._open.values()])


gate = StreamGate()
"""The sandbox's one gate (moto's backends, and so the stream, are process-wide)."""


@dataclass(frozen=True)
class _Where:
    account: str
    region: str
    table: str
    bucket: str


class SearchHost:
    """Runs the indexer for one sandbox on a thread of its own."""

    def __init__(
        self,
        sandbox_dir: Path,
        table: str,
        bucket: str,
        shared_lock: Callable[[], contextlib.AbstractContextManager[None]],
        exclusive_lock: Callable[[], contextlib.AbstractContextManager[None]],
        replayed: set[tuple[Any, ...]] | None = None,
        mark_dirty: Callable[[], None] = lambda: None,
    ) -> None:
        self.folder = sandbox_dir / SEARCH_DIR
        self._table_name = table
        self._bucket_name = bucket
        self._shared = shared_lock
        self._exclusive = exclusive_lock
        self._mark_dirty = mark_dirty
        self._replayed = {
            (str(address[4].value), str(address[5].value))
            for address in replayed or ()
            if address[3] == table and address[5] is not None
        }
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._index: EmbeddedIndex | None = None
        self._indexer: StreamIndexer | None = None
        self._position = -1  # the last sequence number indexed (and saved)
        self._saved_position = -1
        self._stream_label = ""
        self._lock = threading.Lock()  # the index and the position: the poller or a reindex
        self.status: dict[str, Any] = {"indexed": 0, "state": "starting", "error": None}

    # --- the table and its stream, in moto's memory ----------------------------------------

    def _where(self) -> _Where | None:
        for account, region, backend in dynamodb_backends.iter_backends():
            if self._table_name in backend.tables:  # type: ignore[attr-defined]
                return _Where(account, region, self._table_name, self._bucket_name)
        return None

    def _table(self) -> Table | None:
        where = self._where()
        if where is None:
            return None
        return dynamodb_backends[where.account][where.region].tables.get(where.table)

    def _ensure_stream(self, table: Table) -> None:
        """Sandboxes made before the template had a stream get one (and a full index build)."""
        if table.stream_shard is not None:
            return
        log.info("Enabling the stream of table %s for search", table.name)
        with self._exclusive():
            table.set_stream_specification(
                {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE}
            )
        self._mark_dirty()

    @staticmethod
    def _end_of(table: Table) -> int:
        shard = table.stream_shard
        if shard is None:
            return 0
        return int(shard.starting_sequence_number) + len(shard.items)

    def _records(self, table: Table, after: int, limit: int) -> list[dict[str, Any]]:
        """Durable records numbered after ``after`` (at most ``limit``)."""
        shard = table.stream_shard
        if shard is None:
            return []
        with self._shared():
            durable_end = gate.durable_end()
            start = int(shard.starting_sequence_number)
            first = max(after + 1, start) - start
            last = min(durable_end - start, first + limit)
            return [record.to_json() for record in shard.items[first:last]]

    def trim_consumed(self) -> None:
        """Drop the records the index has (called by a checkpoint, holding the state alone)."""
        table = self._table()
        if table is None or table.stream_shard is None:
            return
        shard = table.stream_shard
        consumed = self._saved_position - int(shard.starting_sequence_number) + 1
        consumed = min(consumed, len(shard.items))
        if consumed > 0:
            del shard.items[:consumed]
            shard.starting_sequence_number += consumed

    def _document(self, user_id: str, document_id: str) -> Document | None:
        table = self._table()
        if table is None:
            return None
        with self._shared():
            partition = table.items.get(_string_key(user_id))
            item = partition.get(_string_key(document_id)) if partition is not None else None
            attributes = item.to_json()["Attributes"] if item is not None else None
        if attributes is None:
            return None
        try:
            return from_item(attributes)
        except IntegrityError:
            return None

    def _all_documents(self, user_id: str | None) -> Iterator[Document]:
        table = self._table()
        if table is None:
            return
        with self._shared():
            if user_id is None:
                partitions = list(table.items.values())
            else:
                partition = table.items.get(_string_key(user_id))
                partitions = [] if partition is None else [partition]
            items = [item for partition in partitions for item in list(partition.values())]
        for item in items:
            try:
                yield from_item(item.to_json()["Attributes"])
            except IntegrityError:
                continue  # damaged items are not searchable (nor listed)

    def _read_body(self, user_id: str, document_id: str, limit: int) -> tuple[bytes, bool]:
        with self._shared():
            key = None
            for _account, _region, backend in s3_backends.iter_backends():
                bucket = backend.buckets.get(self._bucket_name)  # type: ignore[attr-defined]
                if bucket is not None:
                    key = bucket.keys.get(object_key(user_id, document_id))
                    break
            if not isinstance(key, FakeKey):
                raise NotFound("no stored file")
            try:
                if key.contentsize <= limit:
                    return key.value, False
                with key.lock:
                    key._value_buffer.seek(0)
                    return key._value_buffer.read(limit), True
            except (OSError, DmsError) as exc:
                raise NotFound(f"the stored file cannot be read: {exc}") from exc
            except MissingKey as exc:  # its body file was lost
                raise NotFound(f"the stored file is lost: {exc}") from exc

    # --- running ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-search", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        gate.changed.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    def _open(self, stream_label: str) -> bool:
        """Open the index; True if it must be built from the table."""
        folder = self.folder / INDEX_DIR
        saved = self._load_position()
        rebuild = saved is None or saved.get("stream") != stream_label
        try:
            self._index = EmbeddedIndex(folder, writable=True)
        except DmsError as exc:
            log.warning("Search index unusable (%s): rebuilding it", exc)
            aside = self.folder / f"{INDEX_DIR}.unusable-{int(time.time())}"
            with contextlib.suppress(OSError):
                folder.rename(aside)
                shutil.rmtree(aside, ignore_errors=True)
            self._index = EmbeddedIndex(folder, writable=True)
            rebuild = True
        self._indexer = StreamIndexer(
            self._index, self._read_body, TextCache(self.folder / TEXTS_DIR)
        )
        if not rebuild and saved is not None:
            self._position = self._saved_position = int(saved["sequence"])
        return rebuild

    def _run(self) -> None:
        try:
            table = self._table()
            if table is None:
                self.status["state"] = "no table"
                return
            self._ensure_stream(table)
            self._stream_label = str(table.latest_stream_label)
            gate.watch(lambda: self._end_of(table))
            with self._lock:
                rebuild = self._open(self._stream_label)
            if rebuild:
                self._build(table)
            else:
                self._catch_up(table)
            self.status["state"] = "following"
            self._follow(table)
        except Exception as exc:  # the sandbox goes on serving without search
            log.exception("Search indexing stopped")
            self.status.update(state="stopped", error=f"{type(exc).__name__}: {exc}")

    def _build(self, table: Table) -> None:
        """A whole index from the table; then follow the stream from where the table was."""
        self.status["state"] = "building"
        end = self._end_of(table)
        started = time.monotonic()
        assert self._indexer is not None and self._index is not None
        with self._lock:
            self._index.remove_all()
            count = self._indexer.index_documents(self._all_documents(None), user_id=None)
            self._set_position(end - 1)
        self._replayed.clear()
        log.info("Search index built: %d documents in %.1f s", count, time.monotonic() - started)

    def _catch_up(self, table: Table) -> None:
        """After a start: the records the checkpoint kept, then the items the log replayed."""
        end = self._end_of(table)
        if self._position >= end:
            # Records consumed after the last checkpoint were lost with the crash; their
            # changes are among the replayed items. New records number on from `end`.
            self._set_position(end - 1)
        # All of them before the replayed items: an item the log removed must not come back
        # from an older record indexed after it.
        while self._position < end - 1 and not self._stopping.is_set():
            if not self._records(table, self._position, 1):
                break
            self._poll_once(table)  # waits before trying a failed batch again
        if self._replayed:
            assert self._indexer is not None
            with self._lock:
                count = self._indexer.reconcile(sorted(self._replayed), self._document)
            log.info("Search index: %d replayed item(s) brought up to date", count)
            self._replayed.clear()

    def _follow(self, table: Table) -> None:
        while not self._stopping.is_set():
            gate.changed.wait(POLL_SECONDS)
            gate.changed.clear()
            while not self._stopping.is_set() and self._poll_once(table):
                pass

    def _poll_once(self, table: Table) -> bool:
        """Index the next batch of durable records; True if there was one and it went through."""
        records = self._records(table, self._position, BATCH_RECORDS)
        if not records:
            return False
        assert self._indexer is not None
        with self._lock:
            outcome = self._indexer.process(records)
            if outcome.last_sequence is not None:
                self._set_position(int(outcome.last_sequence))
        self.status["indexed"] = int(self.status["indexed"]) + outcome.applied
        if outcome.failed_sequence is not None:
            self.status["error"] = outcome.error
            self._stopping.wait(RETRY_SECONDS)
            return False
        self.status["error"] = None
        return True

    # --- the position file -------------------------------------------------------------------

    def _load_position(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder / POSITION_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("Unreadable search position (%s): rebuilding the index", exc)
            return None
        return data if isinstance(data, dict) and "sequence" in data else None

    def _set_position(self, sequence: int) -> None:
        self._position = sequence
        path = self.folder / POSITION_FILE
        temporary = path.with_name(f".{POSITION_FILE}.tmp")
        payload = json.dumps({"stream": self._stream_label, "sequence": sequence})
        with temporary.open("w", encoding="utf-8") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
        self._saved_position = sequence

    # --- asked for ---------------------------------------------------------------------------

    def reindex(self, user_id: str | None, progress: Progress | None = None) -> int:
        """Rebuild the entries of one user (or of everyone) from the table."""
        assert self._indexer is not None
        documents = list(self._all_documents(user_id))
        with self._lock:
            return self._indexer.index_documents(
                documents, user_id=user_id, progress=progress, total=len(documents)
            )


def _string_key(value: str) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType({"S": value})


def stream_reindex(
    host: SearchHost, user_id: str | None, start_response: Callable[..., Any]
) -> Iterator[bytes]:
    """Run ``host.reindex`` on a thread of its own and answer its progress as JSON lines:
    ``{"done", "total"}`` ..., then ``{"indexed"}`` or ``{"error"}``."""
    reports: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def work() -> None:
        try:
            count = host.reindex(
                user_id, progress=lambda done, total: reports.put({"done": done, "total": total})
            )
            reports.put({"indexed": count})
        except Exception as exc:  # told to the client, logged here
            log.exception("Reindex failed")
            reports.put({"error": f"{type(exc).__name__}: {exc}"})
        finally:
            reports.put(None)

    threading.Thread(target=work, name="sandbox-reindex", daemon=True).start()
    start_response("200 OK", [("Content-Type", "application/x-ndjson")])
    while (report := reports.get()) is not None:
        yield (json.dumps(report) + "\n").encode()
