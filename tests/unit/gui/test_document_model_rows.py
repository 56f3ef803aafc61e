"""The document list keeps compact rows, yet shows and hands out the documents it loaded: every
field (tags, folder, expiry, version, an unusual S3 key) comes back equal in the detail pane,
downloads and edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from dms_desktop.core import schema
from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.core.models import Document
from dms_desktop.core.repository import from_item, to_item
from dms_desktop.core.schema import SortField
from dms_desktop.gui.document_model import DOCUMENT_ROLE, DocumentTableModel
from tests.support.aws import USER_ID
from tests.support.immediate_operations import ImmediateOperations

BASE = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _stored(number: int, **changes: object) -> Document:
    """Document ``number`` as read back from the table, updated ``number`` hours after BASE."""
    document_id = f"01900000-0000-7000-8000-{number:012d}"
    fields: dict[str, object] = {
        "user_id": USER_ID,
        "document_id": document_id,
        "filename": f"report {number}.pdf",
        "file_type": "application/pdf",
        "size": 1000 + number,
        "tags": ("Work", "2026"),
        "folder": "",
        "created_at": BASE,
        "updated_at": BASE + timedelta(hours=number),
        "s3_key": schema.object_key(USER_ID, document_id),
        "checksum": f"{number:064x}",
    }
    fields.update(changes)
    return from_item(to_item(Document.model_validate(fields)))


@dataclass
class _OnePage:
    documents: list[Document] = field(default_factory=list)

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        return Page(list(self.documents), None)


def _model(documents: list[Document]) -> DocumentTableModel:
    model = DocumentTableModel(ImmediateOperations(_OnePage(documents)))  # type: ignore[arg-type]
    model.set_query(ListQuery(sort=SortField.UPDATED, descending=True))
    return model


LOADED = [
    _stored(3, folder="scans/2026", expires_at=1_800_000_000, version=4, tags=("Tax",)),
    _stored(2, s3_key=f"private/{USER_ID}/imported/legacy-name"),
    _stored(1, tags=(), file_type="text/plain"),
]


def test_the_list_hands_out_the_documents_it_loaded(qtbot: QtBot) -> None:
    model = _model(LOADED)

    assert model.documents() == LOADED
    assert [model.document_at(row) for row in range(3)] == LOADED
    assert [model.index(row, 0).data(DOCUMENT_ROLE) for row in range(3)] == LOADED
    assert model.document_at(0).expires == datetime.fromtimestamp(1_800_000_000, UTC)
    # A stored s3Key is never used: the key follows from the owner and the id.
    assert model.document_at(1).s3_key == schema.object_key(USER_ID, LOADED[1].document_id)
    assert model.row_of(LOADED[2].document_id) == 2


def test_the_table_shows_each_rows_values(qtbot: QtBot, qtmodeltester: ModelTester) -> None:
    model = _model(LOADED)

    assert model.index(0, 0).data() == "report 3.pdf"
    assert model.index(0, 3).data() == "Tax"
    assert model.index(1, 3).data() == "Work, 2026"
    assert model.index(2, 3).data() == ""
    assert (
        model.index(0, 0)
        .data(Qt.ItemDataRole.ToolTipRole)
        .startswith("report 3.pdf in scans/2026\napplication/pdf")
    )
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    assert model.index(0, 2).data(Qt.ItemDataRole.TextAlignmentRole) == int(right)  # sizes
    assert model.index(0, 0).data(Qt.ItemDataRole.TextAlignmentRole) is None
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole) is None
    qtmodeltester.check(model)


def test_an_edited_document_shows_and_comes_back_with_its_new_values(qtbot: QtBot) -> None:
    model = _model(LOADED)
    edited = LOADED[1].model_copy(update={"tags": ("Work", "Urgent"), "version": 2})

    model.replace_document(edited)

    assert model.index(1, 3).data() == "Work, Urgent"
    assert model.document_at(1) == edited


def test_many_edited_documents_repaint_as_one_range_per_run_of_rows(qtbot: QtBot) -> None:
    """A tag added to many selected documents: their rows change in one pass, and the view is
    told once per run of adjacent rows, not once per row."""
    model = _model(LOADED)
    edited = [d.model_copy(update={"tags": ("Final",), "version": 2}) for d in LOADED]
    ranges: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: ranges.append((top.row(), bottom.row())))

    model.replace_documents(edited)

    assert ranges == [(0, len(LOADED) - 1)]
    assert [model.index(row, 3).data() for row in range(len(LOADED))] == ["Final"] * len(LOADED)


def test_an_uploaded_document_goes_where_the_sort_order_puts_it(qtbot: QtBot) -> None:
    model = _model(LOADED)  # updated, newest first: 3, 2, 1
    uploaded = _stored(4, updated_at=BASE + timedelta(hours=2, minutes=30))

    model.add_document(uploaded)

    assert [document.filename for document in model.documents()] == [
        "report 3.pdf",
        "report 4.pdf",
        "report 2.pdf",
        "report 1.pdf",
    ]
    assert model.document_at(1) == uploaded
