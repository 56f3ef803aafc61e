"""Time-ordered document ids (UUID version 7, RFC 9562).

The sort key of the Documents table is the document id, so uuid7 makes the table's own order the
upload order and "newest first" a plain Query with ``ScanIndexForward=False``. Python 3.11 has no
``uuid.uuid7``; this follows RFC 9562 method 1 (a 12-bit counter in ``rand_a``) so that ids made in
the same millisecond by one process still sort in creation order.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterable

from .errors import ValidationError

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> uuid.UUID:
    """A new UUIDv7, monotonic within this process."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms = now_ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms += 1
                _counter = 0
        ms, counter = _last_ms, _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def new_document_id() -> str:
    return str(uuid7())


def is_document_id(text: str) -> bool:
    """True for the canonical form of a UUID (any version), as document ids are."""
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def checked_document_id(document_id: str) -> str:
    """``document_id`` without surrounding spaces, or ValidationError if it is not an id."""
    text = document_id.strip()
    if not is_document_id(text):
        raise ValidationError(
            f"{document_id!r} is not a document id (ids look like "
            "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d; `dms list` shows them)."
        )
    return text


def checked_document_ids(document_ids: Iterable[str]) -> list[str]:
    """The ids, each checked (``checked_document_id``), once each in their order."""
    return list(dict.fromkeys(checked_document_id(document_id) for document_id in document_ids))
