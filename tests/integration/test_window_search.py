"""Search in the real window against a real sandbox: the query language in the search box,
results with snippets in place of the list, a hit in the detail pane, saved searches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop.gui import search_view
from dms_desktop.gui.app import DesktopApp
from dms_desktop.sandbox import add_user
from tests.integration.conftest import SandboxHome
from tests.support.window import WAIT_MS, start_signed_in

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def search_user(shared_sandbox: SandboxHome) -> tuple[str, str]:
    username, password = "searchuser", "search-password"
    add_user(shared_sandbox.info, username, password)
    from dms_desktop.connect import open_backend, open_service, sign_in

    backend = open_backend(shared_sandbox.paths)
    service = open_service(backend, sign_in(backend, username, password))
    folder = shared_sandbox.home / "search-user-files"
    folder.mkdir()
    texts = {
        "minutes-march.txt": "The committee agreed on the pelican budget for spring.",
        "minutes-april.txt": "Nothing about birds this time; only the roof repairs.",
        "invoice-0042.txt": "Invoice 42: pelican food, 12 crates.",
    }
    for name, text in texts.items():
        path = folder / name
        path.write_text(text)
        service.upload(path, tags=["minutes" if name.startswith("minutes") else "invoices"])
    return username, password


@pytest.fixture
def desktop(
    qtbot: QtBot, shared_sandbox: SandboxHome, search_user: tuple[str, str]
) -> Iterator[DesktopApp]:
    app = start_signed_in(qtbot, shared_sandbox.home, *search_user)
    yield app
    app.window.confirm_quit_without_asking()
    app.window.close()
    app.shutdown()


def _found(desktop: DesktopApp) -> list[str]:
    model = desktop.window.search_results.model
    return [model.hit_at(row).name.text for row in range(model.rowCount())]


def _search(qtbot: QtBot, desktop: DesktopApp, query: str, expected: list[str]) -> None:
    """Type a query as a user does (the search runs when the typing pauses)."""
    window = desktop.window
    window.search_edit.clear()
    qtbot.keyClicks(window.search_edit, query)
    qtbot.waitUntil(lambda: sorted(_found(desktop)) == sorted(expected), timeout=WAIT_MS)


def test_a_word_inside_documents_finds_them_with_the_word_marked(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    window = desktop.window
    _search(qtbot, desktop, "pelican", ["minutes-march.txt", "invoice-0042.txt"])
    assert window.search_area.searching
    model = window.search_results.model
    html = search_view.hit_html(model.hit_at(0))
    assert f"<span style='{search_view.MATCH_STYLE}'>pelican</span>" in html

    # A hit opens in the detail pane like a row of the list.
    view = window.search_results.list
    view.setCurrentIndex(model.index(0))
    qtbot.waitUntil(
        lambda: (
            window.detail_pane.document() is not None
            and window.detail_pane.document().filename == model.hit_at(0).name.text
        ),
        timeout=WAIT_MS,
    )
    assert window.download_action.isEnabled()

    # Fields and OR work as in the CLI; clearing the box brings the list back.
    _search(qtbot, desktop, "pelican -tag:invoices", ["minutes-march.txt"])
    _search(
        qtbot, desktop, "tag:minutes (roof OR budget)", ["minutes-march.txt", "minutes-april.txt"]
    )
    window.search_edit.clear()
    qtbot.waitUntil(lambda: not window.search_area.searching, timeout=WAIT_MS)


def test_a_query_that_cannot_be_read_is_shown_with_a_caret(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    window = desktop.window
    qtbot.keyClicks(window.search_edit, "size:>1Q")
    problem = window.search_results.problem
    qtbot.waitUntil(problem.isVisible, timeout=WAIT_MS)
    assert problem.text().splitlines()[0] == "'>1Q' is not a size."
    assert problem.text().splitlines()[2] == "       ^^^"


def test_saved_searches_are_kept_and_run_from_the_side_panel(
    qtbot: QtBot, desktop: DesktopApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = desktop.window
    panel = window.saved_searches
    monkeypatch.setattr(search_view, "ask_search_name", lambda _parent, _query: "Bird money")
    _search(qtbot, desktop, "pelican tag:invoices", ["invoice-0042.txt"])
    window.save_search_action.trigger()
    qtbot.waitUntil(lambda: panel.count() == 1, timeout=WAIT_MS)
    assert panel.item(0).text() == "Bird money"

    window.search_edit.clear()
    qtbot.waitUntil(lambda: not window.search_area.searching, timeout=WAIT_MS)
    rect = panel.visualItemRect(panel.item(0))
    qtbot.mouseClick(panel.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: _found(desktop) == ["invoice-0042.txt"], timeout=WAIT_MS)
    assert window.search_edit.text() == "pelican tag:invoices"

    panel.delete("Bird money")
    qtbot.waitUntil(lambda: panel.count() == 0, timeout=WAIT_MS)


def test_the_search_box_completes_field_names_and_the_users_tags(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    window = desktop.window
    qtbot.waitUntil(lambda: "minutes" in window.tag_browser.known_tags(), timeout=WAIT_MS)
    completer = window.query_completer
    assert completer.candidates("ty") == ["type:"]
    assert completer.candidates("-ta") == ["-tag:"]
    assert "tag:minutes" in completer.candidates("tag:m")
    qtbot.keyClicks(window.search_edit, "pelican ta")
    popup = completer.completer.popup()
    qtbot.waitUntil(lambda: popup is not None and popup.isVisible(), timeout=WAIT_MS)
    assert completer.completer.currentCompletion() == "tag:"
    # Choosing it puts it in place of the word typed; the search then says what is missing.
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.search_edit.text() == "pelican tag:", timeout=WAIT_MS)
    problem = window.search_results.problem
    qtbot.waitUntil(problem.isVisible, timeout=WAIT_MS)
    assert problem.text().startswith("tag: needs a value.")


def test_results_pass_the_model_tester(
    qtmodeltester: Any, qtbot: QtBot, desktop: DesktopApp
) -> None:
    _search(qtbot, desktop, "pelican", ["minutes-march.txt", "invoice-0042.txt"])
    qtmodeltester.check(desktop.window.search_results.model)


def test_a_change_to_the_list_behind_the_results_leaves_the_results_in_charge(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    """Rows selected in the list before a search are not what the actions act on while the
    results show: moving a hit to the trash and back (Undo) changes the list behind them, and
    the detail pane and the actions must keep following the results (nothing selected there)."""
    window = desktop.window
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=WAIT_MS)
    window.table.selectAll()
    _search(qtbot, desktop, "roof", ["minutes-april.txt"])
    model = window.search_results.model
    window.search_results.list.setCurrentIndex(model.index(0))
    qtbot.waitUntil(lambda: window.delete_action.isEnabled(), timeout=WAIT_MS)

    window.delete_action.trigger()
    bar = desktop.message_bar
    qtbot.waitUntil(lambda: "moved to the trash" in bar.text, timeout=WAIT_MS)
    assert window.search_results.summary.text().startswith("0 documents found in ")
    undo = bar.findChild(QPushButton, "messageActionButton")
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=WAIT_MS)

    assert window.search_area.searching and window.search.edit.text() == "roof"
    assert not window.delete_action.isEnabled() and not window.download_action.isEnabled()
    assert window.detail_pane.document() is None
    assert "selected" not in window.detail_pane.findChild(QLabel, "detailMessageLabel").text()
