"""The app's icons: our own flat SVGs, with the desktop theme's icons preferred for actions.

The SVGs live in ``dms_desktop.resources/icons`` (the repository's ``resources/icons``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QObject, QSize, Qt
from PySide6.QtGui import QAction, QIcon, QImageReader, QKeySequence, QPixmap

log = logging.getLogger(__name__)

APP_ICON = "dms-desktop"

# Our action name -> the freedesktop icon-naming-spec name a desktop theme may provide.
_THEME_NAMES: dict[str, str | None] = {
    "upload": "document-send",
    "download": "document-save",
    "open": "document-open",
    "delete": "edit-delete",
    "refresh": "view-refresh",
    "sign-out": "system-log-out",
    "search": "edit-find",
    "tag": None,
    "admin": None,
}
ACTION_NAMES = tuple(_THEME_NAMES)

FILE_TYPE_ICONS = (
    "file-generic",
    "file-image",
    "file-pdf",
    "file-text",
    "file-markdown",
    "file-spreadsheet",
    "file-code",
    "file-archive",
    "file-audio",
    "file-video",
)

_SPREADSHEET_TYPES = frozenset(
    {
        "text/csv",
        "text/tab-separated-values",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
_CODE_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "text/xml",
        "text/html",
        "text/css",
        "application/javascript",
        "text/javascript",
        "application/x-yaml",
        "application/yaml",
        "application/toml",
        "application/x-sh",
        "application/x-python-code",
        "application/sql",
    }
)
_ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/zstd",
        "application/java-archive",
    }
)


def file_type_icon_name(mime: str) -> str:
    """The name of our icon for a MIME type (``file-generic`` when nothing more specific fits)."""
    mime = mime.split(";", 1)[0].strip().lower()
    major = mime.partition("/")[0]
    if mime in {"text/markdown", "text/x-markdown"}:
        return "file-markdown"
    if mime == "application/pdf":
        return "file-pdf"
    if mime in _SPREADSHEET_TYPES:
        return "file-spreadsheet"
    if mime in _CODE_TYPES or mime.startswith("text/x-") or mime.endswith(("+json", "+xml")):
        return "file-code"
    if mime in _ARCHIVE_TYPES:
        return "file-archive"
    if major == "image":
        return "file-image"
    if major == "audio":
        return "file-audio"
    if major == "video":
        return "file-video"
    if major == "text":
        return "file-text"
    return "file-generic"


def icon_resource(name: str) -> Traversable:
    """The packaged SVG ``<name>.svg``."""
    return files("dms_desktop.resources") / "icons" / f"{name}.svg"


@functools.cache
def _bundled_icon(name: str) -> QIcon:
    resource = icon_resource(name)
    if isinstance(resource, Path):
        if not resource.is_file():
            log.warning("icon %s is missing from the package", name)
            return QIcon()
        return QIcon(str(resource))
    # Installed somewhere without real files (a zip): rasterise a few sizes from the bytes.
    data = QByteArray(resource.read_bytes())
    icon = QIcon()
    for side in (16, 24, 32, 48, 64, 128, 256):
        buffer = QBuffer(data)
        reader = QImageReader(buffer, QByteArray(b"svg"))
        reader.setScaledSize(QSize(side, side))
        image = reader.read()
        if not image.isNull():
            icon.addPixmap(QPixmap.fromImage(image))
    return icon


def app_icon() -> QIcon:
    """The application's icon (window icon, taskbar, about box)."""
    return _bundled_icon(APP_ICON)


def action_icon(name: str) -> QIcon:
    """A toolbar/menu icon by our name (see ``ACTION_NAMES``): the theme's, else ours."""
    if name not in _THEME_NAMES:
        raise KeyError(f"unknown action icon {name!r}; known: {', '.join(ACTION_NAMES)}")
    fallback = _bundled_icon(name)
    theme_name = _THEME_NAMES[name]
    if theme_name is None:
        return fallback
    return QIcon.fromTheme(theme_name, fallback)


@functools.cache
def file_type_icon(mime: str) -> QIcon:
    """The icon for a document of MIME type ``mime`` (cached per type)."""
    return _bundled_icon(file_type_icon_name(mime))


Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


def make_action(
    parent: QObject,
    name: str,
    text: str,
    icon: str,
    shortcut: Shortcut,
    slot: Callable[[], object],
) -> QAction:
    """An action with an icon, whose shortcut works anywhere in the window."""
    action = QAction(action_icon(icon), text, parent)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    return action
