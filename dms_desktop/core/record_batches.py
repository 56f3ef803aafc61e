"""The records of many new documents written together, as the files of a job finish (issue 22).

Each file of an upload job has its body stored by a thread of the job's pool; its record (core.
records) is then handed to :class:`RecordBatcher`. Whoever hands one in while no write is under
way writes everything waiting, up to 25 records, in one BatchWriteItem; the others wait for that
write and the next one takes what came meanwhile (a second write starts at once when a whole
batch is waiting, up to four at a time). So a job of many small files writes its
records many at a time (one request, one durable write on the backend, instead of one per file)
while a lone file is never held back waiting for others.

BatchWriteItem has no conditions (``DocumentRepository.create`` puts only if the id is free):
that is safe here because a job's document ids are new ones the app made for it, so the only item
such a write can meet is its own earlier attempt (a retry, a resumed job). A record written alone
(one waiting with no other) goes through ``store_document_record``, with its condition.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .batches import WRITE_BATCH
from .errors import DmsError
from .items import to_item
from .models import Document
from .records import store_document_record
from .repository import DocumentRepository
from .schema import OWNER_NAME

MAX_WRITERS = 4
"""Writes under way at once, when records come faster than one write at a time takes them."""


@dataclass
class _Pending:
    document: Document
    finished: bool = False
    stored: Document | None = None
    error: BaseException | None = None


class RecordBatcher:
    """Writes new documents' records in shared transactions (see the module docstring)."""

    def __init__(self, repository: DocumentRepository, owner_name: str | None) -> None:
        self._repository = repository
        self._owner_name = owner_name
        self._condition = threading.Condition()
        self._queue: list[_Pending] = []
        self._writers = 0  # writes under way

    def _may_write(self) -> bool:
        """Whether to write what waits now: when no write is under way, or when a whole batch
        waits (up to MAX_WRITERS at once), so records wait for at most one write."""
        if self._writers == 0:
            return True
        return self._writers < MAX_WRITERS and len(self._queue) >= WRITE_BATCH

    def store(self, document: Document) -> Document:
        """Write ``document``'s record (with the others waiting); returns the stored record."""
        pending = _Pending(document)
        with self._condition:
            self._queue.append(pending)
            while not pending.finished:
                if not self._queue or not self._may_write():
                    self._condition.wait()
                    continue
                self._writers += 1
                batch = self._queue[:WRITE_BATCH]
                del self._queue[: len(batch)]
                self._condition.release()
                try:
                    self._write(batch)
                finally:
                    self._condition.acquire()
                    self._writers -= 1
                    self._condition.notify_all()
        if pending.error is not None:
            raise pending.error
        assert pending.stored is not None
        return pending.stored

    def _write(self, batch: list[_Pending]) -> None:
        try:
            if len(batch) == 1:
                self._write_alone(batch[0])
                return
            self._repository.batches.put_new_items(
                [self._item(pending.document) for pending in batch]
            )
            for pending in batch:
                pending.stored = pending.document
        except DmsError as error:
            for pending in batch:
                if pending.stored is None and pending.error is None:
                    pending.error = error
        except BaseException as error:  # a bug: every waiter hears of it
            for pending in batch:
                pending.error = error
            raise
        finally:
            for pending in batch:
                pending.finished = True

    def _write_alone(self, pending: _Pending) -> None:
        try:
            pending.stored = store_document_record(
                self._repository, pending.document, owner_name=self._owner_name
            )
        except DmsError as error:
            pending.error = error

    def _item(self, document: Document) -> dict[str, Any]:
        item = to_item(document)
        if self._owner_name:
            item[OWNER_NAME] = {"S": self._owner_name}
        return item
