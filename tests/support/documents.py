"""Made-up documents for tests that need many rows without a backend."""

from __future__ import annotations

from datetime import UTC, datetime

from dms_desktop.core.models import Document
from tests.support.aws import USER_ID


def numbered_document(number: int, user_id: str = USER_ID) -> Document:
    """Document number ``number`` ("file 7.txt", 7 bytes), with an id that sorts by number."""
    document_id = f"01900000-0000-7000-8000-{number:012d}"
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return Document(
        user_id=user_id,
        document_id=document_id,
        filename=f"file {number}.txt",
        size=number,
        created_at=moment,
        updated_at=moment,
        checksum="0" * 64,
    )
