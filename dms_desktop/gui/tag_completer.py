"""Completion of the tag being typed in a comma-separated tag field."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QCompleter, QLineEdit

from ..core.tag_text import piece_at, quote_tag


class TagCompleter(QCompleter):
    """Completes the tag being typed after the last comma, case-insensitively."""

    def __init__(self, tags: list[str], edit: QLineEdit) -> None:
        unique = sorted(dict.fromkeys(tags), key=str.casefold)
        super().__init__(unique, edit)
        self._edit = edit
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)

    def splitPath(self, path: str) -> list[str]:  # noqa: N802 (Qt's name)
        return [piece_at(path, len(path)).text]

    def pathFromIndex(self, index: QModelIndex | QPersistentModelIndex) -> str:  # noqa: N802
        completion = quote_tag(super().pathFromIndex(index))
        text = self._edit.text()
        head = text[: piece_at(text, len(text)).start].rstrip()
        return f"{head} {completion}" if head else completion
