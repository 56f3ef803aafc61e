"""What a batched request did to each of its keys, and how long to wait before retrying the rest.

DynamoDB's batch requests (BatchWriteItem: 25 items, BatchGetItem: 100 keys) answer with the part
they could not process when the table is throttled; S3's DeleteObjects (1,000 keys) answers with an
error per key. The repository and the blob store retry what is left with exponential backoff and
full jitter, a bounded number of times, and report every key as done, failed (with the reason) or
not attempted (the caller cancelled, or a fatal error stopped the run).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .errors import DmsError

WRITE_BATCH = 25  # BatchWriteItem's limit
READ_BATCH = 100  # BatchGetItem's limit
BODY_BATCH = 1000  # DeleteObjects' limit
MAX_ATTEMPTS = 8  # a batch's requests, the first included, before its leftovers fail
BACKOFF_BASE = 0.05  # seconds; full jitter, doubled per attempt
BACKOFF_CAP = 2.0

Sleep = Callable[[float], None]
Key = TypeVar("Key")


def backoff(attempt: int) -> float:
    """The pause before retry number ``attempt`` (1, 2, ...): full jitter, capped."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311


@dataclass
class BatchOutcome(Generic[Key]):
    """Every key of a batched run, once: done, failed (key -> reason) or not attempted."""

    done: list[Key] = field(default_factory=list)
    failed: dict[Key, str] = field(default_factory=dict)
    not_attempted: list[Key] = field(default_factory=list)
    requests: int = 0
    cancelled: bool = False
    stopped_by: DmsError | None = None  # an error that ends the run (access denied, bad setup)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted
