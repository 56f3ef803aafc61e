"""The indexer: DynamoDB stream records (NEW_AND_OLD_IMAGES) in, a search index kept in step.

The same code runs in the sandbox (a poller reading the table's stream) and in the indexer
Lambda function (its event's ``Records``): both hand it records as DynamoDB Streams gives them
(``eventName``, ``dynamodb.Keys/NewImage/OldImage/SequenceNumber``, ``userIdentity`` for TTL
expiries).

- INSERT and MODIFY index the new image: name, tags, type, folder, size, dates and the text of
  its body (see ``extract``); REMOVE, including a TTL expiry, drops the entry.
- Idempotent and ordered by the item's ``version`` (see ``index``): a replayed or late record
  never rolls a document back.
- A body is read only when its text is not known yet: the index's own text is reused while the
  checksum is the same (a rename, a retag), then the text cache; a record that a later record of
  the same batch supersedes is not read at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from dms_desktop.core.errors import DmsError, IntegrityError, NotFound
from dms_desktop.core.models import Document
from dms_desktop.core.repository import from_item
from dms_desktop.core.search.extract import (
    BodyReader,
    Limits,
    TextCache,
    extract_text,
    plan_extraction,
)
from dms_desktop.core.search.index import Change, Drop, Put, SearchIndex, live_rank, removed_rank
from dms_desktop.core.search.text import ExtractedText

log = logging.getLogger(__name__)

_deserializer = TypeDeserializer()
TTL_PRINCIPAL = "dynamodb.amazonaws.com"
REINDEX_CHUNK = 200

Progress = Callable[[int, int | None], None]
"""(documents done, documents in all or None if not known yet)."""


@dataclass(frozen=True)
class StreamChange:
    """One stream record, read: what happened to which document at which version."""

    sequence: str
    event: str  # INSERT, MODIFY, REMOVE
    user_id: str
    document_id: str
    document: Document | None  # the new image (None for REMOVE, or a damaged item)
    version: int | None  # the new image's version, or the old image's for REMOVE
    expired: bool = False  # a REMOVE by DynamoDB's TTL

    @property
    def key(self) -> tuple[str, str]:
        return self.user_id, self.document_id

    @property
    def rank(self) -> int:
        if self.document is not None:
            return live_rank(self.document.version)
        return removed_rank(self.version or 0)


def _plain_image(image: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if not image else dict(image)


def _version_of(image: Mapping[str, Any]) -> int | None:
    raw = image.get("version")
    if not isinstance(raw, Mapping):
        return None
    try:
        value: Any = raw
        return int(_deserializer.deserialize(value))
    except (TypeError, ValueError, ArithmeticError):
        return None


def parse_record(record: Mapping[str, Any]) -> StreamChange:
    """The change a stream record describes (ValueError for a record that is not one of ours)."""
    stream = record.get("dynamodb")
    if not isinstance(stream, Mapping):
        raise ValueError("not a DynamoDB stream record (no 'dynamodb' field)")
    event = str(record.get("eventName", ""))
    keys: Any = stream.get("Keys") or {}
    try:
        user_id = str(_deserializer.deserialize(keys["userId"]))
        document_id = str(_deserializer.deserialize(keys["documentId"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("a stream record without the table's keys") from exc
    sequence = str(stream.get("SequenceNumber", ""))
    new_image = _plain_image(stream.get("NewImage"))
    old_image = _plain_image(stream.get("OldImage"))
    if event == "REMOVE":
        identity = record.get("userIdentity") or {}
        expired = (
            isinstance(identity, Mapping)
            and identity.get("type") == "Service"
            and identity.get("principalId") == TTL_PRINCIPAL
        )
        return StreamChange(
            sequence, event, user_id, document_id, None, _version_of(old_image), expired
        )
    if event not in ("INSERT", "MODIFY"):
        raise ValueError(f"unknown stream event {event!r}")
    if not new_image:
        raise ValueError("the stream does not carry new images (NEW_AND_OLD_IMAGES is needed)")
    try:
        document = from_item(new_image)
    except IntegrityError as exc:
        # A damaged item is left out of lists; it is left out of search results too.
        log.warning("Stream record %s: %s", sequence, exc)
        return StreamChange(sequence, event, user_id, document_id, None, _version_of(new_image))
    if (document.user_id, document.document_id) != (user_id, document_id):
        raise ValueError("a stream record whose image does not match its keys")
    return StreamChange(sequence, event, user_id, document_id, document, document.version)


@dataclass
class BatchOutcome:
    """What a batch of records did. ``failed_sequence`` is the first record not processed (and
    every record after it): a Lambda reports it as its batch item failure, the sandbox's poller
    tries again from there."""

    applied: int = 0
    skipped: int = 0
    unreadable: int = 0  # records that are not document changes (logged and passed over)
    last_sequence: str | None = None  # the last record processed
    failed_sequence: str | None = None
    error: str = ""
    text_reads: int = 0  # bodies read for their text


@dataclass
class StreamIndexer:
    """Keeps ``index`` in step with stream records; ``read_body`` fetches the first bytes of a
    document's body (NotFound if it has none)."""

    index: SearchIndex
    read_body: BodyReader
    cache: TextCache | None = None
    limits: Limits = field(default_factory=Limits)

    def process(self, records: Sequence[Mapping[str, Any]]) -> BatchOutcome:
        """Apply a batch of records in stream order."""
        outcome = BatchOutcome()
        parsed: list[tuple[str, StreamChange | None]] = []
        for record in records:
            sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
            try:
                parsed.append((sequence, parse_record(record)))
            except ValueError as exc:
                log.warning("Stream record %s passed over: %s", sequence or "?", exc)
                parsed.append((sequence, None))
        # The highest rank each document reaches in this batch: earlier changes it supersedes
        # are not read (their text would be thrown away).
        final_rank: dict[tuple[str, str], int] = {}
        for _sequence, change in parsed:
            if change is not None:
                final_rank[change.key] = max(final_rank.get(change.key, -1), change.rank)
        changes: list[Change] = []
        texts: dict[str, ExtractedText] = {}
        for sequence, change in parsed:
            if change is None:
                outcome.unreadable += 1
                outcome.last_sequence = sequence
                continue
            try:
                built = self._change_for(change, final_rank[change.key], texts, outcome)
            except DmsError as exc:
                outcome.failed_sequence = sequence
                outcome.error = str(exc)
                log.warning("Stream record %s not indexed yet: %s", sequence, exc)
                break
            if built is not None:
                changes.append(built)
            else:
                outcome.skipped += 1
            outcome.last_sequence = sequence
        result = self.index.apply(changes)
        outcome.applied += result.applied
        outcome.skipped += result.skipped
        return outcome

    def _change_for(
        self,
        change: StreamChange,
        final_rank: int,
        texts: dict[str, ExtractedText],
        outcome: BatchOutcome,
    ) -> Change | None:
        if change.document is None:
            return Drop(change.user_id, change.document_id, change.version)
        if change.rank < final_rank:
            return None  # superseded within this batch
        current = self.index.state(change.user_id, change.document_id)
        if current is not None and change.rank < current.rank:
            return None  # the index already has something newer
        return Put(change.document, self.text_of(change.document, texts, outcome))

    def text_of(
        self,
        document: Document,
        known: dict[str, ExtractedText] | None = None,
        outcome: BatchOutcome | None = None,
    ) -> ExtractedText:
        """The searchable text of a document's body: reused if its checksum was seen, else read
        (Unavailable and other DmsErrors propagate: the record is tried again later)."""
        checksum = document.checksum
        if known is not None and checksum in known:
            return known[checksum]
        text = self.index.stored_text(document.user_id, document.document_id, checksum)
        if text is None and self.cache is not None:
            text = self.cache.get(checksum)
        if text is None:
            text = self._extract(document)
            if outcome is not None:
                outcome.text_reads += 1
        if known is not None:
            known[checksum] = text
        return text

    def _extract(self, document: Document) -> ExtractedText:
        plan = plan_extraction(document.filename, document.file_type, document.size, self.limits)
        if not plan.kind:
            return ExtractedText("", plan.note)
        started = time.monotonic()
        try:
            body, more = self.read_body(document.user_id, document.document_id, plan.read_bytes)
        except NotFound:
            # Deleted since (its REMOVE follows) or lost: the name is still searchable.
            return ExtractedText("", "no stored file to read")
        text = extract_text(plan, body, self.limits, truncated=more)
        if self.cache is not None:
            self.cache.put(document.checksum, text)
        log.debug(
            "Extracted %d characters from a %s body in %.3f s",
            len(text.text),
            plan.kind,
            time.monotonic() - started,
        )
        return text

    # --- outside the stream: rebuilding and repairing ------------------------------------

    def index_documents(
        self,
        documents: Iterable[Document],
        *,
        user_id: str | None,
        progress: Progress | None = None,
        total: int | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> int:
        """Rebuild from the table: index every document given (the table's, of ``user_id`` or
        of everyone) and drop the index's entries the table no longer has; returns how many
        documents were indexed."""
        before = self.index.document_ids(user_id)
        seen: set[tuple[str, str]] = set()
        chunk: list[Change] = []
        done = 0
        for document in documents:
            if cancelled():
                break
            key = (document.user_id, document.document_id)
            seen.add(key)
            chunk.append(Put(document, self.text_of(document)))
            if len(chunk) >= REINDEX_CHUNK:
                self.index.apply(chunk)
                done += len(chunk)
                chunk = []
                if progress is not None:
                    progress(done, total)
        if chunk:
            self.index.apply(chunk)
            done += len(chunk)
        if not cancelled():
            gone = [Drop(user, document, None) for user, document in sorted(before - seen)]
            self.index.apply(gone)
        if progress is not None:
            progress(done, total)
        return done

    def reconcile(
        self,
        keys: Iterable[tuple[str, str]],
        current: Callable[[str, str], Document | None],
    ) -> int:
        """Bring the entries of ``keys`` to the table's present state (``current`` gives the
        stored document, or None if gone); for changes whose stream records were lost."""
        changes: list[Change] = []
        for user_id, document_id in keys:
            document = current(user_id, document_id)
            if document is None:
                changes.append(Drop(user_id, document_id, None))
            else:
                changes.append(Put(document, self.text_of(document)))
        return self.index.apply(changes).applied
