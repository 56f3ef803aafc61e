"""The window's one "documents changed" signal.

Whatever stores, edits or deletes documents from the window (the transfer queue's uploads, the
Delete action, the detail pane's edits) publishes one :class:`DocumentChanges`; the list model,
the tag panel and the detail pane follow it, so none of them reads everything again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.changes import DocumentChanges


class DocumentEvents(QObject):
    """Carries each :class:`DocumentChanges` to whatever shows the documents (GUI thread)."""

    changed = Signal(object)  # DocumentChanges

    def publish(self, changes: DocumentChanges) -> None:
        if changes:
            self.changed.emit(changes)
