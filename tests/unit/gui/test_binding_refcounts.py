"""A long session must not wear out None, True or False: the Qt binding may not drop references
to them (on Python 3.11 they are ordinary objects, freed when their count reaches zero).

PySide6 6.12 on Python < 3.12 drops one reference to None on every call of a void Qt method and
one to True on every signal emission (PYSIDE-3474); loading 100,000 rows into the document list
then aborted the interpreter with "Fatal Python error: bool_dealloc". pyproject.toml keeps
PySide6 below 6.12 on Python < 3.12; this test says so at once if the installed binding leaks.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import PySide6
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from dms_desktop.core.listing import ListQuery, Page
from dms_desktop.gui.document_model import DocumentTableModel
from tests.support.documents import numbered_document
from tests.support.immediate_operations import ImmediateOperations

PAGES = 300
PAGE_SIZE = 10
# References taken or released by something else meanwhile; the leak loses several per page.
MARGIN = 100


@dataclass
class _Pages:
    """``list_page`` over ``PAGES`` pages of ``PAGE_SIZE`` documents, made up on request."""

    def list_page(self, query: ListQuery, cursor: str | None = None) -> Page:
        start = int(cursor or 0)
        documents = [numbered_document(number) for number in range(start, start + PAGE_SIZE)]
        end = start + PAGE_SIZE
        return Page(documents, str(end) if end < PAGES * PAGE_SIZE else None)


def _singleton_counts() -> dict[str, int]:
    return {
        "None": sys.getrefcount(None),
        "True": sys.getrefcount(True),
        "False": sys.getrefcount(False),
    }


def test_scrolling_through_a_long_list_keeps_none_true_and_false_alive(qtbot: QtBot) -> None:
    model = DocumentTableModel(ImmediateOperations(_Pages()), page_size=PAGE_SIZE)  # type: ignore[arg-type]
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    before = _singleton_counts()

    model.reload()
    while model.canFetchMore():
        model.fetchMore()  # signals, row insertions and the view's repaint, as when scrolling
        view.scrollToBottom()
        view.viewport().repaint()
    assert model.rowCount() == PAGES * PAGE_SIZE
    model.clear()  # the documents' own references to None go with them

    after = _singleton_counts()
    lost = {name: before[name] - after[name] for name in before if before[name] - after[name]}
    assert all(count < MARGIN for count in lost.values()), (
        f"PySide6 {PySide6.__version__} dropped references {lost} over {PAGES} pages: on "
        f"Python {sys.version_info[0]}.{sys.version_info[1]} a long session would abort "
        "(none_dealloc / bool_dealloc; PYSIDE-3474). pyproject.toml needs PySide6 < 6.12 here."
    )
