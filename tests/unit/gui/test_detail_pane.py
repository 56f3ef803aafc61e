"""The detail pane: fields, validation, saving with optimistic locking, conflicts, previews."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QWidget,
)
from pytestqt.qtbot import QtBot, SignalBlocker

from dms_desktop.core.changes import DocumentChanges
from dms_desktop.core.errors import DmsError
from dms_desktop.core.formatting import human_time
from dms_desktop.core.models import Document
from dms_desktop.core.previews import PreviewKind
from dms_desktop.core.service import DocumentService
from dms_desktop.gui.detail_pane import EMPTY_TEXT, DetailPane
from dms_desktop.gui.detail_widgets import TagListEdit
from dms_desktop.gui.document_events import DocumentEvents
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.preview_panel import LOADING_TEXT

from .conftest import Cloud

T = TypeVar("T", bound=QWidget)

SAMPLES = Path(str(files("dms_desktop.resources") / "samples"))
WAIT = 10_000


def upload(
    service: DocumentService, tmp_path: Path, name: str, data: bytes, tags: tuple[str, ...] = ()
) -> Document:
    path = tmp_path / "upload" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return service.upload(path, tags=tags)


@pytest.fixture
def pane(
    qtbot: QtBot,
    operations: Operations,
    events: DocumentEvents,
    reported_errors: list[DmsError],
) -> DetailPane:
    widget = DetailPane(operations, events, reported_errors.append)
    qtbot.addWidget(widget)
    widget.resize(420, 900)
    widget.show()
    return widget


def published(blocker: SignalBlocker) -> Document:
    """The document a "documents changed" signal says was updated."""
    changes = blocker.args[0] if blocker.args else None
    assert isinstance(changes, DocumentChanges) and len(changes.updated) == 1
    return changes.updated[0].after


def child(pane: DetailPane, kind: type[T], name: str) -> T:
    found = pane.findChild(kind, name)
    assert found is not None, name
    return found


def current_page(stack: QStackedWidget) -> str:
    page = stack.currentWidget()
    return page.objectName() if page is not None else ""


def text_of(pane: DetailPane, name: str) -> str:
    return child(pane, QLabel, name).text()


def show_and_wait(qtbot: QtBot, pane: DetailPane, document: Document) -> None:
    with qtbot.waitSignal(pane.preview_shown, timeout=WAIT):
        pane.show_document(document)


def test_empty_state_and_selection_count(pane: DetailPane) -> None:
    pages = child(pane, QStackedWidget, "detailPages")
    message = child(pane, QLabel, "detailMessageLabel")
    assert pages.currentWidget() is message
    assert message.text() == EMPTY_TEXT
    pane.show_selection_count(3)
    assert message.text() == "3 documents selected"
    assert pane.document() is None
    pane.show_document(None)
    assert message.text() == EMPTY_TEXT


def test_shows_every_field_and_save_is_disabled_until_a_change(
    qtbot: QtBot, pane: DetailPane, cloud: Cloud, tmp_path: Path
) -> None:
    data = (SAMPLES / "meeting-notes.txt").read_bytes() * 10
    document = upload(cloud.service, tmp_path, "meeting-notes.txt", data, ("Work", "notes"))
    show_and_wait(qtbot, pane, document)

    assert current_page(child(pane, QStackedWidget, "detailPages")) == "detailTabs"
    tabs = child(pane, QTabWidget, "detailTabs")
    assert tabs.currentWidget().objectName() == "detailContent"  # Details, then Versions
    assert [tabs.tabText(index) for index in range(tabs.count())] == ["Details", "Versions"]
    assert child(pane, QLineEdit, "detailNameEdit").text() == "meeting-notes.txt"
    assert child(pane, QLineEdit, "detailTagsEdit").text() == "Work, notes"
    assert text_of(pane, "detailTypeLabel") == "text/plain"
    assert text_of(pane, "detailSizeLabel") == f"3.2 KB ({len(data):,} bytes)"
    assert text_of(pane, "detailFolderLabel") == "—"
    assert text_of(pane, "detailCreatedLabel") == human_time(document.created_at)
    assert text_of(pane, "detailUpdatedLabel") == human_time(document.updated_at)
    assert text_of(pane, "detailVersionLabel") == "1"
    checksum = child(pane, QLabel, "detailChecksumLabel")
    assert checksum.toolTip() == document.checksum
    assert checksum.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    id_label = child(pane, QLabel, "detailIdLabel")
    assert id_label.toolTip() == document.document_id  # shown elided in the middle if narrow

    save = child(pane, QPushButton, "detailSaveButton")
    revert = child(pane, QPushButton, "detailRevertButton")
    assert not save.isEnabled()
    assert not revert.isEnabled()
    name_edit = child(pane, QLineEdit, "detailNameEdit")
    name_edit.setText("minutes.txt")
    assert save.isEnabled()
    assert revert.isEnabled()
    revert.click()
    assert name_edit.text() == "meeting-notes.txt"
    assert not save.isEnabled()

    # Only re-spelling the tag list with the same tags is not a change.
    child(pane, QLineEdit, "detailTagsEdit").setText(" Work ,notes, ")
    assert not save.isEnabled()

    view = child(pane, QPlainTextEdit, "previewTextView")
    assert child(pane, QStackedWidget, "previewArea").currentWidget() is view
    assert view.toPlainText() == data.decode()


def test_invalid_name_shows_the_problem_and_keeps_save_disabled(
    qtbot: QtBot, pane: DetailPane, cloud: Cloud, tmp_path: Path
) -> None:
    document = upload(cloud.service, tmp_path, "a.txt", b"a")
    show_and_wait(qtbot, pane, document)
    save = child(pane, QPushButton, "detailSaveButton")
    problem = child(pane, QLabel, "detailProblemLabel")
    assert problem.isHidden()

    child(pane, QLineEdit, "detailNameEdit").setText("folder/b.txt")
    assert not save.isEnabled()
    assert not problem.isHidden()
    assert "path separator" in problem.text()

    child(pane, QLineEdit, "detailNameEdit").setText("b.txt")
    child(pane, QLineEdit, "detailTagsEdit").setText("ok, " + "x" * 100)
    assert not save.isEnabled()
    assert "the limit is 64" in problem.text()

    child(pane, QLineEdit, "detailTagsEdit").setText("ok")
    assert save.isEnabled()
    assert problem.isHidden()


def test_rename_and_retag_round_trip(
    qtbot: QtBot,
    pane: DetailPane,
    events: DocumentEvents,
    cloud: Cloud,
    tmp_path: Path,
    reported_errors: list[DmsError],
) -> None:
    document = upload(cloud.service, tmp_path, "draft.txt", b"text", ("old",))
    show_and_wait(qtbot, pane, document)
    child(pane, QLineEdit, "detailNameEdit").setText("final.txt")
    child(pane, QLineEdit, "detailTagsEdit").setText("Finance, 2026")

    with qtbot.waitSignal(events.changed, timeout=WAIT) as blocker:
        child(pane, QPushButton, "detailSaveButton").click()
        assert not child(pane, QPushButton, "detailSaveButton").isEnabled(), "no double save"

    updated = published(blocker)
    assert updated.version == document.version + 2
    assert updated.filename == "final.txt"
    assert updated.tags == ("Finance", "2026")
    assert cloud.service.get(document.document_id) == updated
    assert text_of(pane, "detailVersionLabel") == "3"
    assert child(pane, QLineEdit, "detailNameEdit").text() == "final.txt"
    assert not child(pane, QPushButton, "detailSaveButton").isEnabled()
    assert reported_errors == []


def test_tags_only_edit_is_one_update(
    qtbot: QtBot, pane: DetailPane, events: DocumentEvents, cloud: Cloud, tmp_path: Path
) -> None:
    document = upload(cloud.service, tmp_path, "a.txt", b"a")
    show_and_wait(qtbot, pane, document)
    child(pane, QLineEdit, "detailTagsEdit").setText("one")
    with qtbot.waitSignal(events.changed, timeout=WAIT) as blocker:
        child(pane, QLineEdit, "detailTagsEdit").returnPressed.emit()
    assert published(blocker).version == 2
    assert published(blocker).tags == ("one",)


@pytest.mark.nothing_lost(
    "fault",
    "the same document edited from two app instances",
    "the second save reports the conflict (the window offers Reload; CLI exit 5); "
    "after a reload both edits are kept",
)
def test_conflict_is_explained_and_reload_fixes_it(
    qtbot: QtBot,
    pane: DetailPane,
    events: DocumentEvents,
    cloud: Cloud,
    tmp_path: Path,
    reported_errors: list[DmsError],
) -> None:
    document = upload(cloud.service, tmp_path, "shared.txt", b"text")
    show_and_wait(qtbot, pane, document)
    # Someone else changes the document after the pane showed version 1.
    cloud.service.retag(document.document_id, add=["theirs"])

    child(pane, QLineEdit, "detailNameEdit").setText("mine.txt")
    child(pane, QPushButton, "detailSaveButton").click()
    box = child(pane, QFrame, "detailConflictBox")
    qtbot.waitUntil(lambda: not box.isHidden(), timeout=WAIT)

    assert text_of(pane, "detailConflictLabel") == (
        "Someone changed this document meanwhile (now version 2). Your edit was not saved. "
        "Reload to see their change, then edit again."
    )
    assert not child(pane, QPushButton, "detailSaveButton").isEnabled()
    assert child(pane, QLineEdit, "detailNameEdit").text() == "mine.txt", "the edit is kept"
    assert cloud.service.get(document.document_id).filename == "shared.txt"
    assert reported_errors == [], "a conflict is explained inline, not reported"

    with qtbot.waitSignal(events.changed, timeout=WAIT) as blocker:
        child(pane, QPushButton, "detailReloadButton").click()
    assert published(blocker).version == 2
    assert box.isHidden()
    assert text_of(pane, "detailVersionLabel") == "2"
    assert child(pane, QLineEdit, "detailNameEdit").text() == "shared.txt"
    assert child(pane, QLineEdit, "detailTagsEdit").text() == "theirs"

    child(pane, QLineEdit, "detailNameEdit").setText("mine.txt")
    with qtbot.waitSignal(events.changed, timeout=WAIT) as blocker:
        child(pane, QPushButton, "detailSaveButton").click()
    assert published(blocker).version == 3
    assert published(blocker).filename == "mine.txt"
    assert published(blocker).tags == ("theirs",)


def test_other_save_failures_go_to_the_reporter(
    qtbot: QtBot,
    pane: DetailPane,
    cloud: Cloud,
    tmp_path: Path,
    reported_errors: list[DmsError],
) -> None:
    document = upload(cloud.service, tmp_path, "gone.txt", b"text")
    show_and_wait(qtbot, pane, document)
    cloud.service.delete(document.document_id)
    child(pane, QLineEdit, "detailNameEdit").setText("renamed.txt")
    child(pane, QPushButton, "detailSaveButton").click()
    qtbot.waitUntil(lambda: bool(reported_errors), timeout=WAIT)
    assert child(pane, QFrame, "detailConflictBox").isHidden()
    assert child(pane, QPushButton, "detailSaveButton").isEnabled(), "the user may try again"


def test_stale_preview_replies_are_ignored(
    qtbot: QtBot, pane: DetailPane, cloud: Cloud, tmp_path: Path
) -> None:
    text_doc = upload(cloud.service, tmp_path, "first.txt", b"first document text")
    image_doc = upload(
        cloud.service, tmp_path, "sunrise.png", (SAMPLES / "sunrise.png").read_bytes()
    )
    shown: list[PreviewKind] = []
    pane.preview_shown.connect(shown.append)
    area = child(pane, QStackedWidget, "previewArea")
    image_label = child(pane, QLabel, "previewImageLabel")

    pane.show_document(text_doc)
    assert child(pane, QLabel, "previewLoadingLabel").text() == LOADING_TEXT
    assert current_page(area) == "previewLoadingLabel"
    # The user moves on before the text preview arrives; the worker answers in order.
    pane.show_document(image_doc)
    qtbot.waitUntil(lambda: shown == [PreviewKind.IMAGE], timeout=WAIT)
    assert area.currentWidget() is image_label
    assert child(pane, QPlainTextEdit, "previewTextView").toPlainText() == ""

    # A reply for a selection that was cleared is dropped too.
    pane.show_document(text_doc)
    pane.show_selection_count(2)
    pane.show_document(image_doc)
    qtbot.waitUntil(lambda: shown == [PreviewKind.IMAGE] * 2, timeout=WAIT)
    assert area.currentWidget() is image_label
    pixmap = image_label.pixmap()
    assert not pixmap.isNull()
    assert pixmap.width() / pixmap.devicePixelRatio() <= image_label.width()


def test_markdown_pdf_and_no_preview_pages(
    qtbot: QtBot, pane: DetailPane, cloud: Cloud, tmp_path: Path
) -> None:
    area = child(pane, QStackedWidget, "previewArea")
    markdown = upload(cloud.service, tmp_path, "welcome.md", (SAMPLES / "welcome.md").read_bytes())
    show_and_wait(qtbot, pane, markdown)
    view = child(pane, QTextBrowser, "previewMarkdownView")
    assert area.currentWidget() is view
    assert view.toPlainText().strip()
    assert "#" not in view.toPlainText().splitlines()[0], "rendered, not the source"

    pdf = upload(
        cloud.service, tmp_path, "report.pdf", (SAMPLES / "quarterly-report.pdf").read_bytes()
    )
    show_and_wait(qtbot, pane, pdf)
    assert area.currentWidget() is child(pane, QLabel, "previewImageLabel")
    assert text_of(pane, "previewCaptionLabel") == "First page"

    archive = upload(cloud.service, tmp_path, "bundle.zip", b"PK\x03\x04 not much")
    show_and_wait(qtbot, pane, archive)
    assert current_page(area) == "previewNonePage"
    assert text_of(pane, "previewNoteLabel") == "No preview for this type of file."
    assert not child(pane, QLabel, "previewFileIcon").pixmap().isNull()
    with qtbot.waitSignal(pane.open_requested, timeout=WAIT) as blocker:
        child(pane, QPushButton, "openExternallyButton").click()
    assert blocker.args == [archive]


def test_a_corrupt_pdf_shows_the_no_preview_page(
    qtbot: QtBot, pane: DetailPane, cloud: Cloud, tmp_path: Path
) -> None:
    broken = upload(cloud.service, tmp_path, "broken.pdf", b"%PDF-1.4 nonsense")
    show_and_wait(qtbot, pane, broken)
    assert current_page(child(pane, QStackedWidget, "previewArea")) == ("previewNonePage")
    assert "Cannot preview this PDF" in text_of(pane, "previewNoteLabel")


def test_refreshing_the_same_version_keeps_unsaved_edits(
    qtbot: QtBot, pane: DetailPane, cloud: Cloud, tmp_path: Path
) -> None:
    document = upload(cloud.service, tmp_path, "a.txt", b"a")
    show_and_wait(qtbot, pane, document)
    child(pane, QLineEdit, "detailNameEdit").setText("b.txt")
    pane.show_document(document)
    assert child(pane, QLineEdit, "detailNameEdit").text() == "b.txt"
    newer = cloud.service.rename(document.document_id, "c.txt")
    pane.show_document(newer)
    assert child(pane, QLineEdit, "detailNameEdit").text() == "c.txt"


def test_tag_completion_is_case_insensitive_and_completes_the_last_tag(qtbot: QtBot) -> None:
    edit = TagListEdit()
    qtbot.addWidget(edit)
    edit.set_known_tags(["Finance", "family", "work", "FINANCE"])
    completer = edit.completer_for_tags()
    model = completer.model()
    assert model is not None
    assert model.rowCount() == 3, "duplicates (case-insensitively) are offered once"

    edit.setText("work, F")
    edit.setCursorPosition(len(edit.text()))
    assert edit.current_fragment() == "F"
    completer.setCompletionPrefix(edit.current_fragment())
    assert completer.completionCount() == 2  # Finance and family
    completer.setCompletionPrefix("fIN")
    assert completer.completionCount() == 1
    assert completer.currentCompletion() == "Finance"

    edit.setText("work, fi")
    edit.setCursorPosition(len(edit.text()))

    edit.insert_completion("Finance")
    assert edit.text() == "work, Finance, "
    assert edit.cursorPosition() == len(edit.text())


def test_typing_a_tag_prefix_and_choosing_from_the_popup(qtbot: QtBot) -> None:
    edit = TagListEdit()
    qtbot.addWidget(edit)
    edit.set_known_tags(["Finance", "family", "work"])
    edit.show()
    edit.setFocus()
    qtbot.keyClicks(edit, "work, fin")
    popup = edit.completer_for_tags().popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=WAIT)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert edit.text() == "work, Finance, "


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen: no keyboard grab
def test_enter_in_the_completion_popup_chooses_the_tag_and_saves_nothing_yet(
    qtbot: QtBot,
    pane: DetailPane,
    operations: Operations,
    events: DocumentEvents,
    cloud: Cloud,
    tmp_path: Path,
) -> None:
    """Issue 19 item 3: Enter on a completion used to save the half-typed tag ("fin")."""
    document = upload(cloud.service, tmp_path, "bill.txt", b"bill")
    show_and_wait(qtbot, pane, document)
    pane.set_known_tags(["family", "finance", "work"])
    tags = child(pane, TagListEdit, "detailTagsEdit")
    tags.setFocus()
    qtbot.keyClicks(tags, "fin")
    popup = tags.completer_for_tags().popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=WAIT)

    qtbot.keyClick(popup, Qt.Key.Key_Return)  # where the key goes while the popup is open

    assert tags.text() == "finance, "
    assert not popup.isVisible()
    assert not operations.busy, "Enter on the popup sent a save"
    assert cloud.service.get(document.document_id).tags == ()
    save = child(pane, QPushButton, "detailSaveButton")
    assert save.isEnabled()

    with qtbot.waitSignal(events.changed, timeout=WAIT) as saved:
        qtbot.keyClick(tags, Qt.Key.Key_Return)  # the next Enter saves
    assert published(saved).tags == ("finance",)


def test_a_tag_with_a_comma_survives_a_save_and_save_waits_for_an_edit(
    qtbot: QtBot, pane: DetailPane, events: DocumentEvents, cloud: Cloud, tmp_path: Path
) -> None:
    """Issue 21 item 6: "Smith, John" became two tags on any save, and Save was enabled before
    any edit."""
    document = upload(cloud.service, tmp_path, "letter.txt", b"dear", ("Smith, John", "work"))
    show_and_wait(qtbot, pane, document)
    tags = child(pane, QLineEdit, "detailTagsEdit")
    save = child(pane, QPushButton, "detailSaveButton")
    assert tags.text() == '"Smith, John", work'
    assert not save.isEnabled(), "Save offered before anything was edited"

    name = child(pane, QLineEdit, "detailNameEdit")
    name.setFocus()
    name.selectAll()
    qtbot.keyClicks(name, "reply.txt")
    assert save.isEnabled()
    with qtbot.waitSignal(events.changed, timeout=WAIT) as saved:
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)

    assert published(saved).filename == "reply.txt"
    assert published(saved).tags == ("Smith, John", "work")
    assert cloud.service.get(document.document_id).tags == ("Smith, John", "work")
    assert not save.isEnabled()

    tags.setFocus()
    tags.end(False)
    qtbot.keyClicks(tags, ', "Doe, Jane"')
    with qtbot.waitSignal(events.changed, timeout=WAIT) as saved:
        qtbot.keyClick(tags, Qt.Key.Key_Return)
    assert published(saved).tags == ("Smith, John", "work", "Doe, Jane")
