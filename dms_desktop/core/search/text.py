"""What the index keeps of a document's body: its text, and a note when it could not all be read.

A module of its own so that the index and the web API's search function need nothing of the
extractors (which load PDFium)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractedText:
    """The text found in a body, and a note when some or all of it could not be read."""

    text: str
    note: str = ""
