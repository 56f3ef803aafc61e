"""What the admin tools work on: the table and the bucket through the data layer, the journal of
batch deletes in flight, the audit folder and the clock (replaceable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..blobs import BlobStore
from ..bucket_inventory import BucketInventory
from ..identity import SignedIn
from ..journal import Journal
from ..repository import DocumentRepository

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AdminStores:
    admin: SignedIn
    repository: DocumentRepository  # every user's items (Scan, BatchWriteItem)
    blobs: BlobStore  # deletes and lookups of bodies (DeleteObjects, HeadObject)
    inventory: BucketInventory  # listings of the whole bucket
    clock: Clock
    audit_dir: Path | None = None
    journal: Journal | None = None  # batch deletes in flight, for the next start after a crash
    scan_segments: int = 1
