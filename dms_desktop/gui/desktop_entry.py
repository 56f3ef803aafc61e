"""`dms-desktop --install-desktop-entry`: the app in the user's desktop menu (launcher, dock),
with its icon, as the freedesktop.org specifications say (no root, nothing outside the user's
data folder).

The entry goes to ``$XDG_DATA_HOME/applications/dms-desktop.desktop`` and the icon to
``$XDG_DATA_HOME/icons/hicolor/scalable/apps/dms-desktop.svg`` (``XDG_DATA_HOME`` defaults to
``~/.local/share``). The entry starts the very ``dms-desktop`` that installed it (a pipx or uv
tool, a virtualenv, the bundle), by its full path: a desktop session's PATH often lacks
``~/.local/bin``. Qt-free: it runs before any window.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..core.errors import LocalFileError

APP_ID = "dms-desktop"  # the .desktop file's name, the icon's name and the app's desktop file name
DESKTOP_FILE = f"{APP_ID}.desktop"
ICON_FILE = f"{APP_ID}.svg"
# Characters for which the Desktop Entry Specification wants an Exec argument in double quotes.
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


@dataclass(frozen=True)
class DesktopEntryFiles:
    """Where the entry and its icon are, under one data folder."""

    desktop_file: Path
    icon_file: Path

    @classmethod
    def under(cls, data_home: Path) -> DesktopEntryFiles:
        return cls(
            data_home / "applications" / DESKTOP_FILE,
            data_home / "icons" / "hicolor" / "scalable" / "apps" / ICON_FILE,
        )


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` where it is unset, empty or not absolute (the
    XDG Base Directory Specification says to ignore a relative one)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("XDG_DATA_HOME", "")
    if chosen and Path(chosen).is_absolute():
        return Path(chosen)
    return Path.home() / ".local" / "share"


def this_program() -> list[str]:
    """The command that starts the running ``dms-desktop`` again: the bundle's executable, the
    installed script by its full path, else this Python with ``-m dms_desktop``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == APP_ID and script.is_file():
        return [str(script.absolute())]
    return [sys.executable, "-m", "dms_desktop"]


def exec_line(command: Sequence[str]) -> str:
    """``command`` as the value of an Exec key: arguments quoted where the specification asks,
    ``%`` doubled, and the backslashes of the quoting escaped again as a string value's are."""
    quoted = []
    for argument in command:
        if any(char in _RESERVED for char in argument):
            inner = "".join(f"\\{char}" if char in '"`$\\' else char for char in argument)
            argument = f'"{inner}"'
        quoted.append(argument.replace("%", "%%"))
    return " ".join(quoted).replace("\\", "\\\\")


def desktop_entry_text(command: Sequence[str]) -> str:
    """The packaged ``dms-desktop.desktop``, starting ``command``."""
    template = (files("dms_desktop.resources") / DESKTOP_FILE).read_text(encoding="utf-8")
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line(command)}"
        elif line.startswith("TryExec="):
            continue
        lines.append(line)
        if line.startswith("Exec="):
            lines.append(f"TryExec={exec_line(command[:1])}")
    return "\n".join(lines) + "\n"


def install_desktop_entry(
    data_folder: Path | None = None, command: Sequence[str] | None = None
) -> DesktopEntryFiles:
    """Write the entry (starting ``command``, by default this program) and the icon under
    ``data_folder`` (by default the user's, ``data_home()``); replaces an earlier install."""
    target = DesktopEntryFiles.under(data_folder or data_home())
    text = desktop_entry_text(command or this_program())
    icon = (files("dms_desktop.resources") / "icons" / ICON_FILE).read_bytes()
    try:
        for path, content in ((target.icon_file, icon), (target.desktop_file, text.encode())):
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_bytes(content)
            partial.replace(path)  # a desktop watching the folder never reads half a file
    except OSError as error:
        raise LocalFileError(
            f"Could not install the desktop entry in {error.filename or target.desktop_file}: "
            f"{error.strerror or error}"
        ) from error
    return target


def remove_desktop_entry(data_folder: Path | None = None) -> list[Path]:
    """Remove what ``install_desktop_entry`` wrote; the paths that were there."""
    target = DesktopEntryFiles.under(data_folder or data_home())
    removed = []
    for path in (target.desktop_file, target.icon_file):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise LocalFileError(f"Could not remove {path}: {error.strerror or error}") from error
        removed.append(path)
    return removed


def run(*, remove: bool) -> int:
    """The command-line option: install (or remove) and say what was done; 0, or the error's
    exit code with one line on stderr."""
    try:
        if remove:
            removed = remove_desktop_entry()
            print(
                "Removed " + " and ".join(map(str, removed))
                if removed
                else "No desktop entry was installed."
            )
        else:
            installed = install_desktop_entry()
            print(f"Installed {installed.desktop_file}")
            print(f"      and {installed.icon_file}")
            print(f"The entry starts: {' '.join(this_program())}")
    except LocalFileError as error:
        print(f"dms-desktop: {error}", file=sys.stderr)
        return error.exit_code
    return 0
