"""What changed in a user's documents, and the tag counts kept up to date from such changes.

A front end that stored, edited or deleted documents says so with one :class:`DocumentChanges`;
whatever shows the documents follows it instead of reading everything again (the window's list,
tag panel and detail pane do). :class:`TagCounts` applies such changes to counts read once from
the backend: reading them again costs a Query over the user's whole partition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .models import Document, tag_key


class TaggedDocument(Protocol):
    """A document's id and tags: all that the tag counts need to know of it as it was (a
    ``Document``, or a list's row of one, which costs nothing to hand over)."""

    @property
    def document_id(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Update:
    """A document as it was known before a change, and as the change left it."""

    before: TaggedDocument
    after: Document


@dataclass(frozen=True)
class DocumentChanges:
    """Documents added (uploaded), updated (renamed, retagged) and removed (deleted)."""

    added: tuple[Document, ...] = ()
    updated: tuple[Update, ...] = ()
    removed: tuple[TaggedDocument, ...] = ()

    @classmethod
    def of_added(cls, documents: Iterable[Document]) -> DocumentChanges:
        return cls(added=tuple(documents))

    @classmethod
    def of_update(cls, before: TaggedDocument, after: Document) -> DocumentChanges:
        return cls(updated=(Update(before, after),))

    @classmethod
    def of_removed(cls, documents: Iterable[TaggedDocument]) -> DocumentChanges:
        return cls(removed=tuple(documents))

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def removed_ids(self) -> list[str]:
        return [document.document_id for document in self.removed]


class TagCounts:
    """Each tag of the user's documents (matched case-insensitively, first spelling kept) with
    the number of documents carrying it, as the backend's tag count gives them."""

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        self._entries: dict[str, tuple[str, int]] = {}  # tag key -> (spelling, count)
        for tag, count in (counts or {}).items():
            self._add(tag, count)

    def as_dict(self) -> dict[str, int]:
        return {spelling: count for spelling, count in self._entries.values()}

    def tags(self) -> list[str]:
        """The tags, sorted case-insensitively."""
        return sorted((spelling for spelling, _ in self._entries.values()), key=str.casefold)

    def apply(self, changes: DocumentChanges) -> None:
        """Count the tags of added documents, uncount those of removed ones, and move the counts
        of an updated document from its old tags to its new ones."""
        # Many documents carry the same tags (a tag added to 1,000 selected documents moves them
        # from a few sets of tags to a few others): each set is counted once, by how many
        # documents it gained or lost, and each tag's count then changes once, by the net step.
        carriers: Counter[tuple[str, ...]] = Counter()
        for document in changes.added:
            carriers[document.tags] += 1
        for update in changes.updated:
            carriers[update.before.tags] -= 1
            carriers[update.after.tags] += 1
        for gone in changes.removed:
            carriers[gone.tags] -= 1
        steps: dict[str, int] = {}  # tag key -> net step
        spellings: dict[str, str] = {}  # a tag new to the counts: its first spelling gained
        for tags, step in carriers.items():  # in the order the documents came
            # A document carries each tag once (normalize_tags drops case-insensitive repeats).
            for key, tag in {tag_key(tag): tag for tag in tags}.items():
                steps[key] = steps.get(key, 0) + step
                if step > 0:
                    spellings.setdefault(key, tag)
        for key, step in steps.items():
            if step:
                self._add(spellings.get(key, key), step)

    def _add(self, tag: str, step: int) -> None:
        key = tag_key(tag)
        spelling, count = self._entries.get(key, (tag, 0))
        if count + step > 0:
            self._entries[key] = (spelling, count + step)
        else:
            self._entries.pop(key, None)
