"""The pane beside the document list: every metadata field, name and tag editing, and a preview.

Edits are saved on the fast lane with the version the user saw (optimistic locking); if someone
changed the document meanwhile the pane explains it inline and offers to reload. Saved and
reloaded documents are published as "documents changed", which the pane follows too. Previews
run on the long lane; the preview of what the user no longer looks at is cancelled, and replies
that arrive after the user selected something else are dropped (a generation counter).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.changes import DocumentChanges
from ..core.errors import Cancelled, Conflict, DmsError, ValidationError
from ..core.formatting import human_size, human_time
from ..core.models import Document, normalize_filename
from ..core.previews import PreviewKind, plan_preview
from ..core.tag_text import join_tags, parse_tags
from .detail_edits import EditConflict, reload_operation, save_edits_operation
from .detail_widgets import ElidedLabel, TagListEdit
from .document_events import DocumentEvents
from .icons import file_type_icon
from .operations import Operations
from .preview_panel import PreviewPanel
from .previews import preview_operation
from .translations import QT_TRANSLATE_NOOP
from .versions_tab import VersionsTab

log = logging.getLogger(__name__)

EMPTY_TEXT = QT_TRANSLATE_NOOP("DetailPane", "Select a document to see its details")
ErrorReporter = Callable[[DmsError], None]


class DetailPane(QWidget):
    """Metadata, name/tag editing and a preview of the selected document."""

    open_requested = Signal(object)
    """The user asked to open the Document with the default application."""
    share_requested = Signal(object)
    """The user asked for a share link of the Document ("Copy share link…")."""
    preview_shown = Signal(object)
    """The PreviewKind now on screen (NONE for the no-preview page)."""

    def __init__(
        self,
        operations: Operations,
        events: DocumentEvents,
        report_error: ErrorReporter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self._operations = operations
        self._events = events
        self._report_error = report_error
        self._document: Document | None = None
        self._saving = False
        self._conflicted = False
        self._preview_key: tuple[str, str, PreviewKind] | None = None
        self.preview = PreviewPanel(operations, report_error)
        self.preview.area.setMinimumHeight(160)
        self.preview.shown.connect(self.preview_shown)
        self.preview.open_requested.connect(self._request_open)

        self._pages = QStackedWidget(self)
        self._pages.setObjectName("detailPages")
        self._message_label = QLabel(self.tr(EMPTY_TEXT))
        self._message_label.setObjectName("detailMessageLabel")
        self._message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message_label.setWordWrap(True)
        self._message_label.setEnabled(False)  # the palette's muted text
        self._details = QWidget()
        self._details.setObjectName("detailContent")
        self.versions_tab = VersionsTab(operations, report_error)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("detailTabs")
        self.tabs.addTab(self._details, self.tr("Details"))
        self.tabs.addTab(self.versions_tab, self.tr("Versions"))
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._pages.addWidget(self._message_label)
        self._pages.addWidget(self.tabs)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._pages)

        self._build_details()
        self._show_message(self.tr(EMPTY_TEXT))
        events.changed.connect(self.apply_changes)

    # --- building ---------------------------------------------------------------------------

    def _build_details(self) -> None:
        self._type_icon = QLabel()
        self._type_icon.setObjectName("detailTypeIcon")
        self._title = QLabel()
        self._title.setObjectName("detailTitleLabel")
        self._title.setWordWrap(True)
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        title_font = self._title.font()
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        self._title.setFont(title_font)
        header = QHBoxLayout()
        header.addWidget(self._type_icon)
        header.addWidget(self._title, 1)

        self._name_edit = QLineEdit()
        self._name_edit.setObjectName("detailNameEdit")
        self._name_edit.setPlaceholderText(self.tr("File name"))
        self._tags_edit = TagListEdit()
        self._tags_edit.setObjectName("detailTagsEdit")
        self._tags_edit.setPlaceholderText(self.tr("Tags, separated by commas"))
        self._name_edit.textChanged.connect(self._revalidate)
        self._tags_edit.textChanged.connect(self._revalidate)
        self._name_edit.returnPressed.connect(self._save)
        self._tags_edit.returnPressed.connect(self._save)

        self._problem_label = QLabel()
        self._problem_label.setObjectName("detailProblemLabel")
        self._problem_label.setWordWrap(True)
        self._problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self._problem_label.setStyleSheet("color: #d9434d;")
        self._problem_label.hide()

        self._conflict_box = QFrame()
        self._conflict_box.setObjectName("detailConflictBox")
        self._conflict_box.setFrameShape(QFrame.Shape.StyledPanel)
        self._conflict_label = QLabel()
        self._conflict_label.setObjectName("detailConflictLabel")
        self._conflict_label.setWordWrap(True)
        self._conflict_label.setTextFormat(Qt.TextFormat.PlainText)
        self._reload_button = QPushButton(self.tr("Reload"))
        self._reload_button.setObjectName("detailReloadButton")
        self._reload_button.clicked.connect(self._reload)
        conflict_layout = QVBoxLayout(self._conflict_box)
        conflict_layout.addWidget(self._conflict_label)
        conflict_layout.addWidget(self._reload_button, 0, Qt.AlignmentFlag.AlignRight)
        self._conflict_box.hide()

        self._save_button = QPushButton(self.tr("Save"))
        self._save_button.setObjectName("detailSaveButton")
        self._save_button.setDefault(True)
        self._save_button.clicked.connect(self._save)
        self._revert_button = QPushButton(self.tr("Revert"))
        self._revert_button.setObjectName("detailRevertButton")
        self._revert_button.clicked.connect(self._revert)
        self._share_button = QPushButton(self.tr("Copy share link…"))
        self._share_button.setObjectName("detailShareButton")
        self._share_button.clicked.connect(self._request_share)
        buttons = QHBoxLayout()
        buttons.addWidget(self._share_button)
        buttons.addStretch(1)
        buttons.addWidget(self._revert_button)
        buttons.addWidget(self._save_button)

        edit_form = QFormLayout()
        edit_form.addRow(self.tr("Name"), self._name_edit)
        edit_form.addRow(self.tr("Tags"), self._tags_edit)

        self._type_label = self._value_label("detailTypeLabel")
        self._size_label = self._value_label("detailSizeLabel")
        self._folder_label = self._value_label("detailFolderLabel")
        self._created_label = self._value_label("detailCreatedLabel")
        self._updated_label = self._value_label("detailUpdatedLabel")
        self._version_label = self._value_label("detailVersionLabel")
        self._expires_label = self._value_label("detailExpiresLabel")
        self._checksum_label = ElidedLabel()
        self._checksum_label.setObjectName("detailChecksumLabel")
        self._copy_checksum_button = QToolButton()
        self._copy_checksum_button.setObjectName("detailCopyChecksumButton")
        self._copy_checksum_button.setText(self.tr("Copy"))
        self._copy_checksum_button.setToolTip(self.tr("Copy the full SHA-256 checksum"))
        self._copy_checksum_button.clicked.connect(self._copy_checksum)
        checksum_row = QHBoxLayout()
        checksum_row.setContentsMargins(0, 0, 0, 0)
        checksum_row.addWidget(self._checksum_label, 1)
        checksum_row.addWidget(self._copy_checksum_button)
        # One line, elided in the middle (a wrapped id was clipped); the tooltip has all of it.
        self._id_label = ElidedLabel()
        self._id_label.setObjectName("detailIdLabel")

        info_form = QFormLayout()
        info_form.addRow(self.tr("Type"), self._type_label)
        info_form.addRow(self.tr("Size"), self._size_label)
        info_form.addRow(self.tr("Folder"), self._folder_label)
        info_form.addRow(self.tr("Created"), self._created_label)
        info_form.addRow(self.tr("Updated"), self._updated_label)
        info_form.addRow(self.tr("Version"), self._version_label)
        info_form.addRow(self.tr("SHA-256"), checksum_row)
        info_form.addRow(self.tr("Document ID"), self._id_label)
        info_form.addRow(self.tr("Expires"), self._expires_label)
        self._info_form = info_form

        layout = QVBoxLayout(self._details)
        layout.addLayout(header)
        layout.addLayout(edit_form)
        layout.addWidget(self._problem_label)
        layout.addWidget(self._conflict_box)
        layout.addLayout(buttons)
        layout.addLayout(info_form)
        layout.addWidget(self.preview, 1)

    @staticmethod
    def _value_label(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        return label

    # --- public API ---------------------------------------------------------------------------

    def document(self) -> Document | None:
        """The document shown, or None (nothing or several selected)."""
        return self._document

    @Slot()
    def _request_share(self) -> None:
        if self._document is not None:
            self.share_requested.emit(self._document)

    def show_document(self, document: Document | None) -> None:
        """Show ``document`` (None: the empty state). Unsaved edits survive a refresh of the
        same document version; a newer version replaces them."""
        if document is None:
            self._show_message(self.tr(EMPTY_TEXT))
            return
        previous = self._document
        keep_edits = (
            previous is not None
            and previous.document_id == document.document_id
            and previous.version == document.version
            and self._has_unsaved_text()
        )
        self._display(document, reset_edits=not keep_edits)

    def show_selection_count(self, count: int) -> None:
        """Several (or no) documents are selected: no details, no preview."""
        if count <= 0:
            self._show_message(self.tr(EMPTY_TEXT))
        elif count > 1 or self._document is None:
            self._show_message(self.tr("%n document(s) selected", "", count))

    def set_known_tags(self, tags: list[str]) -> None:
        """Tags offered for completion in the tags field."""
        self._tags_edit.set_known_tags(tags)

    @Slot(object)
    def apply_changes(self, changes: DocumentChanges) -> None:
        """Follow "documents changed": the document shown was deleted (nothing to show) or
        changed elsewhere (show its newer version)."""
        shown = self._document
        if shown is None:
            return
        if shown.document_id in changes.removed_ids:
            self._show_message(self.tr(EMPTY_TEXT))
            return
        for update in changes.updated:
            after = update.after
            if after.document_id == shown.document_id and after.version > shown.version:
                self.show_document(after)

    # --- showing ------------------------------------------------------------------------------

    def _versions_on_screen(self) -> bool:
        return self.tabs.currentWidget() is self.versions_tab

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        if self._versions_on_screen():
            self.versions_tab.show_document(self._document, load=True)

    def _show_message(self, text: str) -> None:
        self._document = None
        self._conflicted = False
        self._conflict_box.hide()
        self.preview.clear()  # replies for what was shown are stale now
        self._preview_key = None
        self._message_label.setText(text)
        self._pages.setCurrentWidget(self._message_label)
        self.versions_tab.show_document(None, load=False)

    def _display(self, document: Document, *, reset_edits: bool) -> None:
        self._document = document
        self._pages.setCurrentWidget(self.tabs)
        self.versions_tab.show_document(document, load=self._versions_on_screen())
        self._type_icon.setPixmap(file_type_icon(document.file_type).pixmap(QSize(32, 32)))
        self._title.setText(document.filename)
        self._type_label.setText(document.file_type)
        self._size_label.setText(_size_text(document.size))
        self._folder_label.setText(document.folder or "—")
        self._created_label.setText(human_time(document.created_at))
        self._updated_label.setText(human_time(document.updated_at))
        self._version_label.setText(str(document.version))
        expires = document.expires
        self._expires_label.setText(f"{human_time(expires)} (test record)" if expires else "")
        self._info_form.setRowVisible(self._expires_label, expires is not None)
        self._checksum_label.set_full_text(document.checksum)
        self._id_label.set_full_text(document.document_id)
        if reset_edits:
            self._conflicted = False
            self._conflict_box.hide()
            self._name_edit.setText(document.filename)
            self._tags_edit.setText(join_tags(document.tags))
        self._revalidate()
        key = (document.document_id, document.checksum, plan_preview(document).kind)
        if key != self._preview_key:
            self._load_preview(document, key)

    def _load_preview(self, document: Document, key: tuple[str, str, PreviewKind]) -> None:
        self._preview_key = key
        plan = plan_preview(document)
        if plan.kind is PreviewKind.NONE:
            self.preview.show_none(document, plan.reason)
        else:
            self.preview.load(document, preview_operation(document))

    # --- editing ------------------------------------------------------------------------------

    def _has_unsaved_text(self) -> bool:
        document = self._document
        if document is None:
            return False
        return self._name_edit.text() != document.filename or self._tags_edit.text() != (
            join_tags(document.tags)
        )

    def _pending_edit(self) -> tuple[str | None, tuple[str, ...] | None]:
        """The new name and tags (None: unchanged); ValidationError if either is invalid."""
        document = self._document
        if document is None:
            return None, None
        name = normalize_filename(self._name_edit.text())
        tags = parse_tags(self._tags_edit.text())
        return (
            name if name != document.filename else None,
            tags if tags != document.tags else None,
        )

    @Slot()
    def _revalidate(self) -> None:
        problem = ""
        changed = False
        try:
            name, tags = self._pending_edit()
            changed = name is not None or tags is not None
        except ValidationError as invalid:
            problem = invalid.message
        self._problem_label.setText(problem)
        self._problem_label.setVisible(bool(problem))
        idle = not self._saving
        self._save_button.setEnabled(idle and changed and not problem and not self._conflicted)
        self._revert_button.setEnabled(idle and self._has_unsaved_text())
        self._name_edit.setReadOnly(self._saving)
        self._tags_edit.setReadOnly(self._saving)
        self._reload_button.setEnabled(idle)

    @Slot()
    def _revert(self) -> None:
        if self._document is not None and not self._saving:
            self._display(self._document, reset_edits=True)

    @Slot()
    def _save(self) -> None:
        document = self._document
        if document is None or not self._save_button.isEnabled():
            return
        try:
            name, tags = self._pending_edit()
        except ValidationError:
            return  # the problem label already says what is wrong
        if name is None and tags is None:
            return
        self._saving = True
        self._revalidate()
        self._operations.fast(
            save_edits_operation(document, name, tags),
            functools.partial(self._on_saved, document),
        ).failure(functools.partial(self._on_save_failed, document)).run()

    def _showing(self, document_id: str) -> bool:
        return self._document is not None and self._document.document_id == document_id

    def _on_saved(self, before: Document, updated: Document) -> None:
        self._saving = False
        if self._showing(before.document_id):
            self._display(updated, reset_edits=True)
        else:
            self._revalidate()
        self._events.publish(DocumentChanges.of_update(before, updated))

    def _on_save_failed(self, before: Document, error: DmsError) -> None:
        self._saving = False
        if isinstance(error, Cancelled):  # e.g. at sign-out: nothing to tell
            self._revalidate()
            return
        if not isinstance(error, Conflict) or not self._showing(before.document_id):
            self._revalidate()
            self._report_error(error)
            return
        latest = error.latest if isinstance(error, EditConflict) else None
        saved = error.saved if isinstance(error, EditConflict) else None
        if saved is not None:
            self._display(saved, reset_edits=False)  # keeps the tag edit that was not saved
            self._events.publish(DocumentChanges.of_update(before, saved))
        self._conflicted = True
        self._conflict_label.setText(_conflict_text(latest, saved))
        self._conflict_box.show()
        self._revalidate()

    @Slot()
    def _reload(self) -> None:
        document = self._document
        if document is None or self._saving:
            return
        self._reload_button.setEnabled(False)
        self._operations.fast(
            reload_operation(document.document_id),
            functools.partial(self._on_reloaded, document),
        ).failure(self._on_reload_failed).run()

    def _on_reloaded(self, before: Document, current: Document) -> None:
        if self._showing(before.document_id):
            self._display(current, reset_edits=True)
        self._events.publish(DocumentChanges.of_update(before, current))

    def _on_reload_failed(self, error: DmsError) -> None:
        self._revalidate()
        if not isinstance(error, Cancelled):
            self._report_error(error)

    @Slot()
    def _copy_checksum(self) -> None:
        if self._document is not None:
            QGuiApplication.clipboard().setText(self._document.checksum)

    @Slot()
    def _request_open(self) -> None:
        if self._document is not None:
            self.open_requested.emit(self._document)


def _size_text(size: int) -> str:
    exact = "1 byte" if size == 1 else f"{size:,} bytes"
    friendly = human_size(size)
    return exact if friendly == exact else f"{friendly} ({exact})"


def _conflict_text(latest: Document | None, saved: Document | None) -> str:
    if latest is not None:
        now = QCoreApplication.translate("DetailPane", " (now version {version})").format(
            version=latest.version
        )
    else:
        now = ""
    if saved is not None:
        text = QCoreApplication.translate(
            "DetailPane",
            "The new name was saved, but someone changed this document meanwhile{now}. "
            "Your tag edit was not saved. Reload to see their change, then edit again.",
        )
    else:
        text = QCoreApplication.translate(
            "DetailPane",
            "Someone changed this document meanwhile{now}. Your edit was not saved. "
            "Reload to see their change, then edit again.",
        )
    return text.format(now=now)
