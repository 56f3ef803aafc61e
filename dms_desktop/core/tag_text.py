"""Tags typed as one line of text: ``finance, "Smith, John", 2026``.

A comma separates tags. A tag that contains a comma is written in double quotes, and so is one
that starts with a quote, a quote inside the quotes doubled (``"say ""hi"", Sam"``); a quote
anywhere else is an ordinary character (``6" nails``). Every list of tags reads back as the same
list. The window's tag fields and the upload dialog share this form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .models import normalize_tags

_QUOTE = '"'


def quote_tag(tag: str) -> str:
    """``tag`` as written in a tag line: quoted if it contains a comma or starts with a quote."""
    if "," in tag or tag.startswith(_QUOTE):
        return _QUOTE + tag.replace(_QUOTE, _QUOTE * 2) + _QUOTE
    return tag


def join_tags(tags: Iterable[str]) -> str:
    """The tag line of ``tags`` (``split_tags`` reads it back as the same tags)."""
    return ", ".join(quote_tag(tag) for tag in tags)


@dataclass(frozen=True)
class TagPiece:
    """One tag of a line as typed: its text (quotes removed) and where it sits in the line."""

    text: str
    start: int  # index of its first character (after the separating comma and spaces)
    end: int  # index just after it (the separating comma, or the end of the line)


def tag_pieces(line: str) -> list[TagPiece]:
    """The pieces of ``line`` between the commas outside quotes, empty ones included.

    An unclosed quote runs to the end of the line (the user is still typing the tag)."""
    pieces: list[TagPiece] = []
    index, length = 0, len(line)
    while True:
        while index < length and line[index] == " ":
            index += 1
        start = index
        parts: list[str] = []
        quoted = index < length and line[index] == _QUOTE
        if quoted:
            index += 1
        while index < length:
            char = line[index]
            if quoted and char == _QUOTE:
                if line[index + 1 : index + 2] == _QUOTE:
                    parts.append(_QUOTE)
                    index += 2
                    continue
                quoted = False
            elif char == "," and not quoted:
                break
            else:
                parts.append(char)
            index += 1
        pieces.append(TagPiece("".join(parts).strip(), start, index))
        if index >= length:
            return pieces
        index += 1  # past the comma


def split_tags(line: str) -> list[str]:
    """The tags typed in ``line``; empty pieces (a trailing comma) are ignored."""
    return [piece.text for piece in tag_pieces(line) if piece.text]


def parse_tags(line: str) -> tuple[str, ...]:
    """The normalised tags of ``line``; ValidationError if one of them is not a valid tag."""
    return normalize_tags(split_tags(line))


def piece_at(line: str, cursor: int) -> TagPiece:
    """The piece of ``line`` the cursor is in (or at the end of)."""
    pieces = tag_pieces(line)
    for piece in pieces:
        if cursor <= piece.end:
            return piece
    return pieces[-1]
