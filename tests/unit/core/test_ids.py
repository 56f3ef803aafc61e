"""Document ids: UUIDv7, time-ordered, so the table's own order is the upload order."""

from __future__ import annotations

import itertools
import time
import uuid

from dms_desktop.core.ids import is_document_id, new_document_id, uuid7


def test_uuid7_has_version_7_and_the_rfc_4122_variant() -> None:
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_ten_thousand_ids_are_unique_and_strictly_increasing() -> None:
    ids = [uuid7() for _ in range(10_000)]
    assert len(set(ids)) == 10_000
    assert all(earlier < later for earlier, later in itertools.pairwise(ids))
    # The string form sorts the same way (the table's sort key is the string).
    texts = [str(value) for value in ids]
    assert texts == sorted(texts)
    assert all(value.version == 7 and value.variant == uuid.RFC_4122 for value in ids)


def test_timestamp_field_is_now() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    stamp = value.int >> 80
    # A burst may borrow a millisecond or two from the future, never more.
    assert before <= stamp <= after + 5


def test_document_ids_are_canonical_uuid_strings() -> None:
    document_id = new_document_id()
    assert is_document_id(document_id)
    assert uuid.UUID(document_id).version == 7


def test_is_document_id_accepts_only_the_canonical_form() -> None:
    canonical = "01938f2c-7a4e-7b1a-9c3d-5e6f7a8b9c0d"
    assert is_document_id(canonical)
    assert not is_document_id(canonical.upper())
    assert not is_document_id("{" + canonical + "}")
    assert not is_document_id(canonical.replace("-", ""))
    assert not is_document_id("urn:uuid:" + canonical)
    assert not is_document_id("not-an-id")
    assert not is_document_id("")
