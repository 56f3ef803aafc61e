"""The Tags dock: "All documents" and each tag with how many documents carry it.

The counts are read in full (one Query over the user's partition) when browsing starts and on
F5; after that they follow the window's "documents changed" signal (core.changes.TagCounts), so
an upload or a delete costs no read at all.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from ..core.changes import DocumentChanges, TagCounts
from ..core.errors import DmsError
from .document_events import DocumentEvents
from .icons import action_icon
from .operations import OperationContext, Operations

TAG_ROLE = Qt.ItemDataRole.UserRole + 10


def count_tags(ctx: OperationContext) -> dict[str, int]:
    return ctx.service.tag_counts()


class TagPanel(QListWidget):
    """The tag list; a click on a tag asks for the documents carrying it (``tag_chosen``)."""

    tag_chosen = Signal(object)  # the tag, or None for all documents
    known_tags_changed = Signal(list)  # the tags, sorted case-insensitively

    def __init__(
        self, operations: Operations, events: DocumentEvents, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tagBrowser")
        self._operations = operations
        self._counts = TagCounts()
        self._current: str | None = None
        self._generation = 0  # a reply to an earlier read is dropped
        self._reading = False
        self._changed_while_reading = False
        self.itemClicked.connect(self._on_item_clicked)
        events.changed.connect(self.apply_changes)
        self._render()

    def counts(self) -> dict[str, int]:
        return self._counts.as_dict()

    def known_tags(self) -> list[str]:
        return self._counts.tags()

    def reload(self) -> None:
        """Read every count again (fast lane): when browsing starts, and on F5."""
        self._generation += 1
        generation = self._generation
        self._reading = True
        self._changed_while_reading = False

        read = self._operations.fast(count_tags, functools.partial(self._on_read, generation))
        read.failure(functools.partial(self._on_read_failed, generation)).run()

    def _on_read(self, generation: int, counts: dict[str, int]) -> None:
        if generation != self._generation:
            return
        self._reading = False
        self._show(TagCounts(counts))
        if self._changed_while_reading:
            self.reload()  # the read may or may not have seen that change: read once more

    def _on_read_failed(self, generation: int, error: DmsError) -> None:
        if generation == self._generation:
            self._reading = False
        self._operations.report_error(error)

    def clear_counts(self) -> None:
        """No counts (sign-out); a read in flight is dropped."""
        self._generation += 1
        self._reading = False
        self._current = None
        self._show(TagCounts())

    @Slot(object)
    def apply_changes(self, changes: DocumentChanges) -> None:
        """Follow "documents changed": count the tags of added, edited and removed documents."""
        if self._reading:
            self._changed_while_reading = True
        counts = TagCounts(self._counts.as_dict())
        counts.apply(changes)
        self._show(counts)

    def _show(self, counts: TagCounts) -> None:
        known = self._counts.tags()
        self._counts = counts
        self._render()
        if counts.tags() != known:
            self.known_tags_changed.emit(counts.tags())

    def _render(self) -> None:
        current = self._current
        self.clear()
        everything = QListWidgetItem(self.tr("All documents"))
        everything.setData(TAG_ROLE, None)
        self.addItem(everything)
        if current is None:
            everything.setSelected(True)
        for tag, count in sorted(self._counts.as_dict().items(), key=lambda i: i[0].casefold()):
            item = QListWidgetItem(action_icon("tag"), f"{tag}  ({count})")
            item.setData(TAG_ROLE, tag)
            self.addItem(item)
            if current is not None and tag.casefold() == current.casefold():
                item.setSelected(True)

    @Slot(QListWidgetItem)
    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        tag = item.data(TAG_ROLE)
        self._current = tag
        self.tag_chosen.emit(tag)
