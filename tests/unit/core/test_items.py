"""Items read back: a stored s3Key is never trusted, and damaged items are read all the same."""

from __future__ import annotations

import pytest

from dms_desktop.core import schema
from dms_desktop.core.errors import IntegrityError
from dms_desktop.core.items import from_item, stored_item, to_item
from tests.support.aws import OTHER_USER_ID, USER_ID

from .conftest import make_document


def test_a_stored_s3_key_is_ignored_the_key_follows_from_owner_and_id() -> None:
    document = make_document()
    victim_key = schema.object_key(OTHER_USER_ID, make_document(OTHER_USER_ID).document_id)
    item = to_item(document)
    item["s3Key"] = {"S": victim_key}

    read = from_item(item)

    assert read.s3_key == schema.object_key(USER_ID, document.document_id)
    assert to_item(read)["s3Key"] == {"S": read.s3_key}  # an edit writes the derived key back


def test_the_lenient_reading_reports_a_foreign_s3_key_as_damage() -> None:
    document = make_document(tags=["Test"])
    victim_key = schema.object_key(OTHER_USER_ID, make_document(OTHER_USER_ID).document_id)
    item = to_item(document)
    item["s3Key"] = {"S": victim_key}

    read = stored_item(item)

    assert read.body_key == schema.object_key(USER_ID, document.document_id)
    assert read.stored_key == victim_key
    assert read.damage is not None and victim_key in read.damage
    assert stored_item(to_item(document)).damage is None


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("filename", {"S": "../../etc/passwd"}, "filename"),
        ("size", {"S": "big"}, "size"),
        ("documentId", {"S": "../../other/doc"}, "documentId"),
        ("userId", {"S": "a/b"}, "userId"),
    ],
)
def test_a_damaged_item_is_refused_by_the_app_and_read_by_the_admin_tools(
    field: str, value: dict[str, str], where: str
) -> None:
    item = to_item(make_document(filename="fine.txt", size=12))
    item[field] = value

    with pytest.raises(IntegrityError, match=where):
        from_item(item)
    read = stored_item(item)
    assert read.damage is not None and where in read.damage
    if field in {"documentId", "userId"}:
        assert read.body_key is None  # no key can be made of ids that could leave the folder


def test_object_keys_are_made_only_of_ids_that_stay_in_the_owners_folder() -> None:
    document_id = make_document().document_id
    assert schema.object_key(USER_ID, document_id) == f"private/{USER_ID}/{document_id}"
    for user_id, bad_id in ((USER_ID, "../x"), (USER_ID, "a/b"), ("a/b", document_id)):
        with pytest.raises(ValueError, match="no object key"):
            schema.object_key(user_id, bad_id)
