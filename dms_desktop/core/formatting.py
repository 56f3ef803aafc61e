"""How numbers and times are shown to people (CLI and window alike)."""

from __future__ import annotations

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
