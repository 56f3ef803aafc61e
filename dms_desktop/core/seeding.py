"""Generated documents for trying the app at scale (`dms local seed`) and for the benchmarks.

Each document gets a body first (PutObject, several at once) and then its metadata (BatchWriteItem,
25 a request, what is left unprocessed retried with backoff), in the same order as an upload: a
document is never listed before its body exists. Names, types, tags and dates vary so that every
sort order and filter of the list has something to do; with ``text`` each body is a short
paragraph of words, for search.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .aws import aws_errors
from .batches import MAX_ATTEMPTS, WRITE_BATCH, backoff
from .cancellation import CancelToken
from .errors import Unavailable, ValidationError
from .ids import new_document_id
from .items import to_item
from .models import Document, normalize_tag, utc_now
from .schema import OWNER_NAME

MAX_SEED = 1_000_000
BODY_THREADS = 8
SPREAD = timedelta(days=365)  # creation dates fall in the year before the seed

_KINDS = (  # (name stem, extension, MIME type)
    ("report", "txt", "text/plain"),
    ("meeting-notes", "md", "text/markdown"),
    ("invoice", "csv", "text/csv"),
    ("settings", "json", "application/json"),
    ("script", "py", "text/x-python"),
)
_TOPICS = ("budget", "travel", "contracts", "research", "hiring", "archive", "design", "support")
WORDS = (
    "alpha",
    "bravo",
    "budget",
    "client",
    "contract",
    "delivery",
    "estimate",
    "forecast",
    "invoice",
    "ledger",
    "meeting",
    "milestone",
    "notes",
    "offer",
    "order",
    "payment",
    "planning",
    "project",
    "quarter",
    "receipt",
    "review",
    "roadmap",
    "schedule",
    "shipment",
    "signature",
    "summary",
    "supplier",
    "tender",
    "timeline",
    "travel",
    "update",
    "vendor",
)


@dataclass(frozen=True)
class SeedRequest:
    """What to generate: ``count`` documents of ``owner``, each tagged ``tag`` (and a topic)."""

    owner: str
    count: int
    tag: str = "seed"
    text: bool = False
    owner_name: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SEED:
            raise ValidationError(f"The count must be between 1 and {MAX_SEED:,}.")
        object.__setattr__(self, "tag", normalize_tag(self.tag))


def generated(request: SeedRequest, rng: random.Random) -> Iterator[tuple[Document, bytes]]:
    """The documents of ``request`` with their bodies, one by one."""
    now = utc_now()
    for number in range(1, request.count + 1):
        stem, extension, file_type = rng.choice(_KINDS)
        topic = rng.choice(_TOPICS)
        if request.text:
            words = " ".join(rng.choice(WORDS) for _ in range(60))
            body = f"{stem} {number} about {topic}\n{words}\n".encode()
        else:
            body = f"{stem} {number}\n".encode()
        created = now - SPREAD * rng.random()
        yield (
            Document(
                user_id=request.owner,
                document_id=new_document_id(),
                filename=f"{stem}-{topic}-{number:06d}.{extension}",
                file_type=file_type,
                size=len(body),
                tags=tuple(dict.fromkeys((request.tag, topic))),
                created_at=created,
                updated_at=created,
                checksum=hashlib.sha256(body).hexdigest(),
            ),
            body,
        )


class DocumentSeeder:
    """Writes generated documents with the given clients (the signed-in user's own)."""

    def __init__(
        self,
        dynamodb: Any,
        s3: Any,
        table: str,
        bucket: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._dynamodb = dynamodb
        self._s3 = s3
        self._table = table
        self._bucket = bucket
        self._sleep = sleep

    def seed(
        self,
        request: SeedRequest,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: CancelToken | None = None,
        rng: random.Random | None = None,
    ) -> int:
        """Store the documents of ``request``; how many were stored (fewer if cancelled, which
        is checked between batches of 25)."""
        stored = 0
        batch: list[tuple[Document, bytes]] = []
        with ThreadPoolExecutor(BODY_THREADS) as pool:
            for entry in generated(request, rng or random.Random()):  # noqa: S311 (not secret)
                batch.append(entry)
                if len(batch) < WRITE_BATCH and stored + len(batch) < request.count:
                    continue
                if cancel is not None and cancel.cancelled:
                    break
                with aws_errors("store generated documents"):
                    list(pool.map(self._put_body, batch))
                    self._put_items([document for document, _ in batch], request.owner_name)
                stored += len(batch)
                batch = []
                if progress is not None:
                    progress(stored)
        return stored

    def _put_body(self, entry: tuple[Document, bytes]) -> None:
        document, body = entry
        self._s3.put_object(
            Bucket=self._bucket,
            Key=document.s3_key,
            Body=body,
            ContentType=document.file_type,
            ChecksumAlgorithm="CRC32",  # as an upload: S3 refuses a body that does not match
        )

    def _put_items(self, documents: list[Document], owner_name: str | None) -> None:
        items = []
        for document in documents:
            item = to_item(document)
            if owner_name:
                item[OWNER_NAME] = {"S": owner_name}
            items.append({"PutRequest": {"Item": item}})
        request: dict[str, Any] = {self._table: items}
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request = self._dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")
            if not request:
                return
            self._sleep(backoff(attempt))
        raise Unavailable(
            f"The backend kept refusing to store {len(request[self._table])} generated "
            "documents (throttled); try again with a smaller count."
        )
