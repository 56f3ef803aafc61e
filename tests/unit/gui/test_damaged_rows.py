"""The document list shows what it can when a stored item is damaged, and says what it left out."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.errors import IntegrityError
from dms_desktop.core.repository import to_item
from dms_desktop.gui.document_model import DocumentTableModel
from dms_desktop.gui.operations import Operations
from tests.unit.gui.conftest import Cloud, write_file

WAIT = 10_000


def test_the_list_leaves_a_damaged_document_out_and_says_so(
    qtbot: QtBot, operations: Operations, cloud: Cloud, tmp_path: Path
) -> None:
    good = cloud.service.upload(write_file(tmp_path / "good.txt", 10))
    item = to_item(cloud.service.upload(write_file(tmp_path / "bad.txt", 10)))
    item["size"] = {"N": "-5"}  # written behind the app's back
    cloud.dynamodb.put_item(TableName=schema.TABLE_NAME, Item=item)
    model = DocumentTableModel(operations)

    with qtbot.waitSignal(model.rows_left_out, timeout=WAIT) as left_out:
        model.reload()

    qtbot.waitUntil(lambda: not model.is_loading, timeout=WAIT)
    assert [document.document_id for document in model.documents()] == [good.document_id]
    error = left_out.args[0]
    assert isinstance(error, IntegrityError)
    assert str(error).startswith("1 document could not be listed because its stored details")
    assert item["documentId"]["S"] in str(error)
