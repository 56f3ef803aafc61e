"""A search query as the search engines read it: the tree that :mod:`.query` parses a query's
text into (words, fields, ranges, NOT / AND / OR), and :class:`SearchQuery`, the text with its tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TextField(StrEnum):
    ANY = "any"  # the name and the extracted text
    NAME = "name"


class DateField(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


# --- the parsed query ----------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Words (all of them, in any order) or, if ``phrase``, the exact sequence."""

    text: str
    field: TextField = TextField.ANY
    phrase: bool = False


@dataclass(frozen=True)
class TagIs:
    key: str  # casefolded, as models.tag_key


@dataclass(frozen=True)
class TypeIs:
    """A file type: 'application/pdf', a family 'image/*', or a short name 'pdf' / 'image'
    (matching the MIME subtype, the MIME family or the filename's extension)."""

    value: str


@dataclass(frozen=True)
class InFolder:
    path: str  # casefolded, without leading or trailing '/'


@dataclass(frozen=True)
class SizeRange:
    minimum: int | None  # bytes, inclusive
    maximum: int | None  # bytes, inclusive


@dataclass(frozen=True)
class DateRange:
    field: DateField
    start: datetime | None  # inclusive
    end: datetime | None  # exclusive


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class AllOf:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    nodes: tuple[Node, ...]


Node = Words | TagIs | TypeIs | InFolder | SizeRange | DateRange | Not | AllOf | AnyOf


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: what the user typed and its tree."""

    text: str
    root: Node

    def words(self) -> list[str]:
        """The words and phrases searched for (not negated), e.g. to highlight them."""
        found: list[str] = []

        def walk(node: Node, negated: bool) -> None:
            if isinstance(node, Words):
                if not negated:
                    found.append(node.text)
            elif isinstance(node, Not):
                walk(node.node, not negated)
            elif isinstance(node, AllOf | AnyOf):
                for child in node.nodes:
                    walk(child, negated)

        walk(self.root, False)
        return found
