"""How names, numbers and times are shown to people (CLI, window and log alike)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB")


def human_size(size: int) -> str:
    """'0 bytes', '999 bytes', '1.5 KB', '12 MB' (powers of 1024, as file managers show)."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in _UNITS[1:]:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def exact_size(size: int) -> str:
    """'328 bytes', or '1.5 KB (1,536 bytes)' where the rounded size hides the exact one."""
    rounded = human_size(size)
    return rounded if size < 1024 else f"{rounded} ({size:,} bytes)"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 document', '0 documents', '2 copies' (with ``plural_form``)."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


# Zero-width joiner and non-joiner: part of emoji sequences and of Persian and Indic spellings.
_HARMLESS_FORMAT_CHARS = frozenset("\u200c\u200d")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str) -> str:
    """``text`` with every character that could break, hide or reverse a line of a terminal, a
    label or a log escaped: control characters and newlines (``\\n``, ``\\x1b``), invisible
    formatting and bidirectional overrides (``\\u202e``), line and paragraph separators.

    Bytes of a file name that is not UTF-8 (which Python carries as lone surrogates) are shown
    as the bytes they are (``\\xff``). Everything else, in any script, is left as it is.
    """
    if text.isprintable():  # the common case, at C speed: nothing to escape (spaces are fine)
        return text
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if char in _HARMLESS_FORMAT_CHARS or unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, carried by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def human_time(moment: datetime) -> str:
    """Local time, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def human_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


_OOXML = "application/vnd.openxmlformats-officedocument"
_TYPE_NAMES = {
    "application/pdf": "PDF document",
    "application/json": "JSON",
    "application/zip": "ZIP archive",
    "application/x-yaml": "YAML",
    "application/toml": "TOML",
    "application/octet-stream": "Binary file",
    "text/plain": "Text",
    "text/markdown": "Markdown",
    "text/csv": "CSV spreadsheet",
    "text/html": "HTML page",
    "text/x-python": "Python source",
    "image/svg+xml": "SVG image",
    # Office files, whose MIME types read badly ("SHEET file" for a spreadsheet).
    "application/msword": "Word document",
    f"{_OOXML}.wordprocessingml.document": "Word document",
    "application/vnd.ms-excel": "Excel spreadsheet",
    f"{_OOXML}.spreadsheetml.sheet": "Excel spreadsheet",
    "application/vnd.ms-powerpoint": "PowerPoint slides",
    f"{_OOXML}.presentationml.presentation": "PowerPoint slides",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument slides",
}


def describe_type(mime: str) -> str:
    """A short name for a MIME type, as a file manager shows it ('PNG image', 'PDF document')."""
    if mime in _TYPE_NAMES:
        return _TYPE_NAMES[mime]
    family, _, subtype = mime.partition("/")
    subtype = subtype.removeprefix("x-").removeprefix("vnd.").split("+")[0].split(".")[-1]
    if family in {"image", "audio", "video"} and subtype:
        return f"{subtype.upper()} {family}"
    if family == "text" and subtype:
        return f"{subtype.upper()} text"
    return f"{subtype.upper()} file" if subtype else "File"
