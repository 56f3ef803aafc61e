"""The list kept from the last start: shown as it was and said to be old, replaced by the live
page when it comes, and kept on screen if the live page cannot be had."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pytestqt.qtbot import QtBot

from dms_desktop.core.errors import DmsError, Unavailable
from dms_desktop.core.formatting import human_time
from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.core.models import Document
from dms_desktop.gui.document_model import DocumentTableModel
from tests.support.documents import numbered_document
from tests.support.immediate_operations import ImmediateOperations

TAKEN_AT = datetime(2026, 11, 25, 17, 5, tzinfo=UTC)
KEPT = [numbered_document(2), numbered_document(1)]


@dataclass
class _Backend:
    live: list[Document] = field(default_factory=list)
    down: bool = False

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        if self.down:
            raise Unavailable("Could not list documents: the backend cannot be reached.")
        return Page(list(self.live), None)


def _names(model: DocumentTableModel) -> list[str]:
    return [document.filename for document in model.documents()]


def test_the_kept_list_shows_as_it_was_and_says_how_old_it_is(qtbot: QtBot) -> None:
    model = DocumentTableModel(ImmediateOperations(_Backend()))  # type: ignore[arg-type]

    model.show_snapshot(KEPT, TAKEN_AT)

    assert model.documents() == KEPT
    assert model.showing_snapshot
    assert model.status_text() == f"2 documents as of {human_time(TAKEN_AT)}, not yet updated"


def test_the_live_page_replaces_it(qtbot: QtBot) -> None:
    live = [numbered_document(3), numbered_document(1)]
    model = DocumentTableModel(ImmediateOperations(_Backend(live)))  # type: ignore[arg-type]
    model.show_snapshot(KEPT, TAKEN_AT)

    model.refresh()

    assert _names(model) == ["file 3.txt", "file 1.txt"]
    assert not model.showing_snapshot
    assert model.status_text() == "2 documents"


def test_without_the_live_page_the_kept_list_stays_and_still_says_it_is_old(
    qtbot: QtBot,
) -> None:
    model = DocumentTableModel(ImmediateOperations(_Backend(down=True)))  # type: ignore[arg-type]
    failures: list[DmsError] = []
    model.load_failed.connect(failures.append)
    model.show_snapshot(KEPT, TAKEN_AT)

    model.refresh()

    assert len(failures) == 1
    assert model.documents() == KEPT
    assert "not yet updated" in model.status_text()


def test_signing_out_clears_it(qtbot: QtBot) -> None:
    model = DocumentTableModel(ImmediateOperations(_Backend()))  # type: ignore[arg-type]
    model.show_snapshot(KEPT, TAKEN_AT)

    model.clear()

    assert model.rowCount() == 0
    assert not model.showing_snapshot
