"""What a search index is: the changes it takes, the hits it gives, and the rules both
implementations (embedded tantivy, OpenSearch) follow.

**Ordering.** Every entry carries a *rank* derived from the item's ``version``: a document at
version v has rank 2v, its removal rank 2v+1. A change is applied only if its rank is at least the
entry's, so a replayed record changes nothing and a late one (an older version, or a version that
was since removed) never rolls a document back or brings a deleted one back: a removal leaves a
tombstone with its rank.

**Isolation.** Every search is for one user id, which the caller derives from the signed-in
session (never from what a user typed); an index never answers a query without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dms_desktop.core.models import Document, tag_key
from dms_desktop.core.search.terms import AllOf, AnyOf, Node, Not, SearchQuery, Words
from dms_desktop.core.search.text import ExtractedText

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
SNIPPET_CHARS = 160


def live_rank(version: int) -> int:
    return 2 * version


def removed_rank(version: int) -> int:
    return 2 * version + 1


@dataclass(frozen=True)
class Put:
    """Index ``document`` (at its version) with the text of its body."""

    document: Document
    text: ExtractedText

    @property
    def rank(self) -> int:
        return live_rank(self.document.version)

    @property
    def key(self) -> tuple[str, str]:
        return self.document.user_id, self.document.document_id


@dataclass(frozen=True)
class Drop:
    """Remove a document: at ``version`` (as the stream's old image says), or, with None,
    whatever version the index holds (a document found gone from the table)."""

    user_id: str
    document_id: str
    version: int | None

    @property
    def key(self) -> tuple[str, str]:
        return self.user_id, self.document_id


Change = Put | Drop


@dataclass(frozen=True)
class Highlighted:
    """A piece of text and the character ranges in it that matched the query."""

    text: str
    ranges: tuple[tuple[int, int], ...] = ()

    def one_line(self) -> Highlighted:
        """The same on one line: each run of white space (line breaks too) one space."""
        pieces: list[str] = []
        mapping: list[int] = []  # character offset in self.text -> offset in the result
        length = 0
        previous_space = False
        for char in self.text:
            mapping.append(length)
            if char.isspace():
                if previous_space:
                    continue
                pieces.append(" ")
                previous_space = True
            else:
                pieces.append(char)
                previous_space = False
            length += 1
        mapping.append(length)
        text = "".join(pieces)
        ranges = tuple((mapping[start], mapping[end]) for start, end in self.ranges)
        stripped = text.lstrip()
        shift = len(text) - len(stripped)
        return Highlighted(
            stripped.rstrip(),
            tuple((max(0, start - shift), max(0, end - shift)) for start, end in ranges),
        )

    def marked(self, before: str = "[", after: str = "]") -> str:
        """The text with each match between ``before`` and ``after``: 'the [budget] for'."""
        pieces: list[str] = []
        position = 0
        for start, end in self.ranges:
            pieces += [self.text[position:start], before, self.text[start:end], after]
            position = end
        pieces.append(self.text[position:])
        return "".join(pieces)


@dataclass(frozen=True)
class SearchHit:
    """One document found: the document (as the index has it), how well it matched, where."""

    document: Document
    name: Highlighted  # the filename, its matched words marked
    score: float
    snippet: Highlighted
    note: str = ""  # why (some of) its text is not searchable

    @property
    def document_id(self) -> str:
        return self.document.document_id

    @property
    def version(self) -> int:
        return self.document.version

    def to_json_dict(self) -> dict[str, object]:
        """The stable JSON form (the CLI's --json and the web API): the document's fields, then
        the score, the snippet and where the query matched (character offsets)."""
        return {
            **self.document.to_json_dict(),
            "score": round(self.score, 4),
            "snippet": self.snippet.text,
            "snippetMatches": [list(pair) for pair in self.snippet.ranges],
            "filenameMatches": [list(pair) for pair in self.name.ranges],
            "textNote": self.note,
        }


@dataclass(frozen=True)
class ApplyResult:
    applied: int = 0
    skipped: int = 0  # older than what the index has (or the same change again)


@dataclass
class IndexedState:
    """What the index holds for one document: its rank and the checksum its text came from."""

    rank: int
    live: bool
    checksum: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class SearchIndex(Protocol):
    """A search index of documents, kept in step by :class:`~.indexer.StreamIndexer`."""

    def state(self, user_id: str, document_id: str) -> IndexedState | None:
        """What the index holds for a document (a tombstone is ``live=False``)."""
        ...

    def stored_text(self, user_id: str, document_id: str, checksum: str) -> ExtractedText | None:
        """The text indexed for the document if it came from a body with ``checksum``."""
        ...

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        """Apply changes in order, each only if its rank allows; durable when it returns."""
        ...

    def search(
        self, user_id: str, query: SearchQuery, limit: int = DEFAULT_LIMIT
    ) -> list[SearchHit]:
        """The user's documents that match, best first."""
        ...

    def tag_keys(self, user_id: str, prefix: str = "", limit: int = 50) -> list[str]:
        """The user's tags (casefolded) starting with ``prefix``, for completion."""
        ...

    def document_ids(self, user_id: str | None) -> set[tuple[str, str]]:
        """(user id, document id) of every live entry, of one user or of all."""
        ...

    def close(self) -> None: ...


def type_terms(filename: str, file_type: str) -> list[str]:
    """The values ``type:`` matches for a document: the MIME type, its family ('image/*'), the
    family alone ('image'), the subtype ('pdf', 'png') and the filename's extension."""
    mime = file_type.casefold().split(";", 1)[0].strip()
    terms = {mime}
    family, _, subtype = mime.partition("/")
    if subtype:
        terms |= {f"{family}/*", family, subtype}
        if "+" in subtype:  # image/svg+xml: svg
            terms.add(subtype.split("+", 1)[0])
    if "." in filename:
        terms.add(filename.rsplit(".", 1)[1].casefold())
    return sorted(term for term in terms if term)


def folder_terms(folder: str) -> list[str]:
    """The values ``folder:`` matches: the folder and each folder above it (casefolded)."""
    parts = [part for part in tag_key(folder).split("/") if part]
    return ["/".join(parts[: count + 1]) for count in range(len(parts))]


def check_user(user_id: str) -> str:
    """Every query is for one user: refuse a missing id rather than search everyone's."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise ValueError("a search needs the caller's user id")
    return user_id


def check_limit(limit: int) -> int:
    from dms_desktop.core.errors import ValidationError

    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"The number of results must be between 1 and {MAX_LIMIT}.")
    return limit


def positive_words(node: Node, negated: bool = False) -> list[Words]:
    """The words a query looks for (not those it leaves out): what gets scored and marked."""
    if isinstance(node, Words):
        return [] if negated else [node]
    if isinstance(node, Not):
        return positive_words(node.node, not negated)
    if isinstance(node, AllOf | AnyOf):
        return [words for child in node.nodes for words in positive_words(child, negated)]
    return []


def opening(content: str) -> str:
    """The first words of a text: the snippet of a hit that matched no word in it."""
    flat = " ".join(content[: SNIPPET_CHARS * 2].split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    return flat[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def outside_the_trash(hits: list[SearchHit]) -> list[SearchHit]:
    """The hits whose document is not in the trash: the index keeps a trashed document (so that
    a restore, at the same version, comes back without reading its text again), searches leave
    it out (docs/lifecycle.md)."""
    return [hit for hit in hits if not hit.document.in_trash]
