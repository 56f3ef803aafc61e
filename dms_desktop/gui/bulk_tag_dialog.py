"""Editing the tags of several selected documents at once: the tags they all share, the ones
only some have, and what to add and remove on all of them (core.bulk_tags does the work)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from ..core.changes import TaggedDocument
from ..core.errors import ValidationError
from ..core.formatting import printable
from ..core.models import tag_key
from ..core.tag_text import join_tags, parse_tags


def shared_and_partial_tags(
    documents: Sequence[TaggedDocument],
) -> tuple[list[str], list[tuple[str, int]]]:
    """The tags every document has, and (tag, how many have it) for those only some have; both
    ignoring case, the first spelling seen, sorted."""
    spellings: dict[str, str] = {}
    counts: dict[str, int] = {}
    # Many documents carry the same tags: each set of tags is looked at once, with its count.
    for tags, carriers in Counter(document.tags for document in documents).items():
        for key, tag in {tag_key(tag): tag for tag in tags}.items():
            spellings.setdefault(key, tag)
            counts[key] = counts.get(key, 0) + carriers
    order = sorted(counts, key=lambda key: spellings[key].casefold())
    shared = [spellings[key] for key in order if counts[key] == len(documents)]
    partial = [(spellings[key], counts[key]) for key in order if counts[key] < len(documents)]
    return shared, partial


class BulkTagDialog(QDialog):
    """Asks which tags to add to and remove from ``documents``."""

    def __init__(self, documents: Sequence[TaggedDocument], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bulkTagDialog")
        self.setWindowTitle(self.tr("Edit tags of %n document(s)", "", len(documents)))
        self.documents = list(documents)
        shared, partial = shared_and_partial_tags(documents)
        self.shared_label = QLabel(printable(join_tags(shared)) or self.tr("(none)"))
        self.shared_label.setObjectName("bulkSharedTags")
        self.shared_label.setWordWrap(True)
        self.partial_label = QLabel(
            printable(", ".join(f"{tag} ({count})" for tag, count in partial)) or self.tr("(none)")
        )
        self.partial_label.setObjectName("bulkPartialTags")
        self.partial_label.setWordWrap(True)
        self.add_edit = QLineEdit()
        self.add_edit.setObjectName("bulkAddTags")
        self.add_edit.setPlaceholderText(self.tr("tags to add to all, separated by commas"))
        self.remove_edit = QLineEdit()
        self.remove_edit.setObjectName("bulkRemoveTags")
        self.remove_edit.setPlaceholderText(self.tr("tags to remove from all"))
        self.problem_label = QLabel()
        self.problem_label.setObjectName("bulkTagProblem")
        self.problem_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button.setText(self.tr("Apply to all"))
        self.apply_button.setObjectName("bulkApplyButton")
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QFormLayout(self)
        layout.addRow(self.tr("All have"), self.shared_label)
        layout.addRow(self.tr("Some have"), self.partial_label)
        layout.addRow(self.tr("Add"), self.add_edit)
        layout.addRow(self.tr("Remove"), self.remove_edit)
        layout.addRow(self.problem_label)
        layout.addRow(buttons)

    def tags_to_add(self) -> tuple[str, ...]:
        return parse_tags(self.add_edit.text())

    def tags_to_remove(self) -> tuple[str, ...]:
        return parse_tags(self.remove_edit.text())

    def _check_and_accept(self) -> None:
        try:
            add, remove = self.tags_to_add(), self.tags_to_remove()
        except ValidationError as error:
            self._show_problem(str(error))
            return
        if not add and not remove:
            self._show_problem(self.tr("Type the tags to add or to remove."))
            return
        self.accept()

    def _show_problem(self, text: str) -> None:
        self.problem_label.setText(text)
        self.problem_label.show()
