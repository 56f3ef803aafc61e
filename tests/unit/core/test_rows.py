"""A listed document kept as a compact row gives back the document it was made of: the window's
detail pane, downloads and edits work on the rebuilt document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dms_desktop.core import schema
from dms_desktop.core.listing import sort_value
from dms_desktop.core.models import Document
from dms_desktop.core.repository import from_item, to_item
from dms_desktop.core.rows import DocumentRow
from dms_desktop.core.schema import SortField
from tests.support.aws import USER_ID

DOCUMENT_ID = "01900000-0000-7000-8000-000000000042"


def _stored(**changes: object) -> Document:
    """A document as read back from the table (``from_item``), with ``changes``."""
    fields: dict[str, object] = {
        "user_id": USER_ID,
        "document_id": DOCUMENT_ID,
        "filename": "Résumé 2026.pdf",
        "file_type": "application/pdf",
        "size": 123_456_789,
        "tags": ("Work", "cv", "2026"),
        "folder": "jobs/applications",
        "created_at": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 2, 10, 0, 0, 654321, tzinfo=UTC),
        "s3_key": schema.object_key(USER_ID, DOCUMENT_ID),
        "checksum": "ab" * 32,
        "version": 7,
        "expires_at": 1_800_000_000,
    }
    fields.update(changes)
    return from_item(to_item(Document.model_validate(fields)))


@pytest.mark.parametrize(
    "document",
    [
        _stored(),
        _stored(tags=(), folder="", expires_at=None, version=1),  # no optional values
        _stored(s3_key=f"private/{USER_ID}/imported/old-key"),  # ignored: keys are derived
        _stored(file_type="application/octet-stream", size=0),
    ],
    ids=["every-field", "no-optional-fields", "other-s3-key", "defaults"],
)
def test_the_document_rebuilt_from_a_row_equals_the_one_loaded(document: Document) -> None:
    rebuilt = DocumentRow.of(document).document()

    assert rebuilt == document
    assert rebuilt.to_json_dict() == document.to_json_dict()
    assert to_item(rebuilt) == to_item(document)  # an edit writes back the same item
    assert rebuilt.model_fields_set == document.model_fields_set
    assert rebuilt.expires == document.expires
    assert rebuilt.has_tag("WORK") == document.has_tag("work")


def test_a_row_gives_the_derived_s3_key_whatever_the_item_stored() -> None:
    usual = DocumentRow.of(_stored())
    other = DocumentRow.of(_stored(s3_key=f"private/{USER_ID}/imported/old-key"))

    assert usual.s3_key == other.s3_key == schema.object_key(USER_ID, DOCUMENT_ID)
    assert other.document().s3_key == schema.object_key(USER_ID, DOCUMENT_ID)


def test_a_row_can_share_an_equal_tuple_of_tags() -> None:
    shared = ("Work", "cv", "2026")
    row = DocumentRow.of(_stored(), tags=shared)

    assert row.tags is shared
    assert row.document().tags == ("Work", "cv", "2026")


@pytest.mark.parametrize("sort", list(SortField))
def test_a_row_sorts_where_its_document_does(sort: SortField) -> None:
    document = _stored()

    assert sort_value(DocumentRow.of(document), sort) == sort_value(document, sort)
