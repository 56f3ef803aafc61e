"""Documents read from the table: each keeps its own values and set fields, though documents
given the same fields share pydantic's record of them (it was half of a document's memory)."""

from __future__ import annotations

from dms_desktop.core.repository import from_item, to_item

from .conftest import make_document


def test_documents_read_from_items_keep_their_own_values_and_fields() -> None:
    item = to_item(make_document(filename="a.pdf", tags=("x",), folder="Invoices"))
    without_folder = dict(to_item(make_document(filename="b.pdf")))
    del without_folder["folder"]  # an item written before folders existed

    first, second, third = from_item(item), from_item(without_folder), from_item(without_folder)
    moved = second.model_copy(update={"folder": "Moved"})

    assert (first.filename, second.filename, moved.filename) == ("a.pdf", "b.pdf", "b.pdf")
    assert (first.folder, second.folder, moved.folder) == ("Invoices", "", "Moved")
    assert first.tags == ("x",) and second.tags == ()
    assert "folder" in first.model_fields_set
    assert "folder" in moved.model_fields_set
    assert "folder" not in second.model_fields_set  # the copy's change stays in the copy
    assert "folder" not in third.model_fields_set
    assert to_item(from_item(item)) == item  # a document read back is stored unchanged


def test_documents_of_one_user_share_their_repeated_strings() -> None:
    items = [to_item(make_document(filename=f"{n}.pdf")) for n in range(2)]
    for item in items:  # as parsed from a response: separate copies of equal strings
        item["userId"] = {"S": "".join(item["userId"]["S"])}
        item["fileType"] = {"S": "".join(item["fileType"]["S"])}
    first, second = (from_item(item) for item in items)
    assert first.user_id is second.user_id  # one copy in memory for a list of 100,000 rows
    assert first.file_type is second.file_type
