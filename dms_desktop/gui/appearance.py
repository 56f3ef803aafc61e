"""Light or dark: the window follows the system's colour scheme, or the one chosen in View > Theme
(remembered in the window's settings).

Qt 6.8+ passes the choice to the platform (``QStyleHints.setColorScheme``), which applies it
where it can (Windows, macOS, GNOME and KDE through their platform themes). Where the platform
cannot (a bare X11 or Wayland session, older Qt), the application's palette is set to ours, so
the choice always shows. With "System", a change of the system's scheme while the app runs
(``QStyleHints.colorSchemeChanged``) is followed at once.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ..core.paths import AppPaths

log = logging.getLogger(__name__)

SETTINGS_FILE = "desktop.ini"
THEME_KEY = "appearance/theme"


class Theme(StrEnum):
    """What View > Theme offers."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


_REQUESTED = {
    Theme.SYSTEM: Qt.ColorScheme.Unknown,
    Theme.LIGHT: Qt.ColorScheme.Light,
    Theme.DARK: Qt.ColorScheme.Dark,
}

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

# The action icons (resources/icons) are drawn in mid tones that keep a contrast of at least 3:1
# (WCAG's for graphics) against the Window and Base colours of both palettes.
_DARK = {
    _Role.Window: "#2b2b2b",
    _Role.WindowText: "#e6e6e6",
    _Role.Base: "#232323",
    _Role.AlternateBase: "#2b2b2b",
    _Role.ToolTipBase: "#3a3a3a",
    _Role.ToolTipText: "#e6e6e6",
    _Role.PlaceholderText: "#8c8c8c",
    _Role.Text: "#e6e6e6",
    _Role.Button: "#353535",
    _Role.ButtonText: "#e6e6e6",
    _Role.BrightText: "#ff6b6b",
    _Role.Light: "#4a4a4a",
    _Role.Midlight: "#3e3e3e",
    _Role.Mid: "#262626",
    _Role.Dark: "#1c1c1c",
    _Role.Shadow: "#121212",
    _Role.Highlight: "#2f5fb3",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#7aacff",
    _Role.LinkVisited: "#b596ff",
}
_DARK_DISABLED = {
    _Role.WindowText: "#7c7c7c",
    _Role.Text: "#7c7c7c",
    _Role.ButtonText: "#7c7c7c",
    _Role.Highlight: "#4a4a4a",
    _Role.HighlightedText: "#b0b0b0",
}
# Qt's Fusion colours, for a light window on a system that is dark and cannot be asked otherwise.
_LIGHT = {
    _Role.Window: "#efefef",
    _Role.WindowText: "#000000",
    _Role.Base: "#ffffff",
    _Role.AlternateBase: "#f7f7f7",
    _Role.ToolTipBase: "#ffffdc",
    _Role.ToolTipText: "#000000",
    _Role.PlaceholderText: "#808080",
    _Role.Text: "#000000",
    _Role.Button: "#efefef",
    _Role.ButtonText: "#000000",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#ffffff",
    _Role.Midlight: "#cacaca",
    _Role.Mid: "#b8b8b8",
    _Role.Dark: "#9f9f9f",
    _Role.Shadow: "#767676",
    _Role.Highlight: "#308cc6",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#0000ff",
    _Role.LinkVisited: "#ff00ff",
}
_LIGHT_DISABLED = {
    _Role.WindowText: "#bebebe",
    _Role.Text: "#bebebe",
    _Role.ButtonText: "#bebebe",
    _Role.Highlight: "#919191",
}


def _palette(colours: dict[_Role, str], disabled: dict[_Role, str]) -> QPalette:
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role, colour in disabled.items():
        palette.setColor(_Group.Disabled, role, QColor(colour))
    return palette


def dark_palette() -> QPalette:
    return _palette(_DARK, _DARK_DISABLED)


def light_palette() -> QPalette:
    return _palette(_LIGHT, _LIGHT_DISABLED)


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` draws light text on a dark window."""
    return palette.color(_Role.Window).lightness() < palette.color(_Role.WindowText).lightness()


def desktop_settings(paths: AppPaths) -> QSettings:
    """The window's own settings (the theme, ...): an INI file in the app's config folder, so
    ``--home`` and the tests keep them apart from the user's."""
    return QSettings(str(paths.config_dir / SETTINGS_FILE), QSettings.Format.IniFormat)


class Appearance(QObject):
    """The application's theme: applies it, remembers the choice, follows the system."""

    changed = Signal()  # the palette in use changed (dark <-> light)

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        saved = str(settings.value(THEME_KEY, Theme.SYSTEM.value))
        self._theme = Theme(saved) if saved in Theme._value2member_map_ else Theme.SYSTEM
        hints = QGuiApplication.styleHints()
        self._system_scheme = hints.colorScheme()
        hints.colorSchemeChanged.connect(self._on_system_scheme_changed)
        self._apply()

    @property
    def theme(self) -> Theme:
        return self._theme

    @property
    def dark(self) -> bool:
        """Whether the window is dark now."""
        return is_dark(QGuiApplication.palette())

    def set_theme(self, theme: Theme) -> None:
        """Use ``theme`` from now on, and at the next start."""
        self._theme = theme
        self._settings.setValue(THEME_KEY, theme.value)
        self._settings.sync()
        if self._settings.status() != QSettings.Status.NoError:
            log.warning("could not save the theme in %s", self._settings.fileName())
        self._apply()

    @Slot(Qt.ColorScheme)
    def _on_system_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self._theme is Theme.SYSTEM:  # else the change answers our own request
            self._system_scheme = scheme
            self._apply_palette()

    def _apply(self) -> None:
        """Ask the platform for the chosen scheme, then make sure the palette shows it."""
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "setColorScheme"):  # Qt 6.8+
            hints.setColorScheme(_REQUESTED[self._theme])  # Unknown: the system's again
        if self._theme is Theme.SYSTEM:
            self._system_scheme = hints.colorScheme()
        self._apply_palette()

    def _apply_palette(self) -> None:
        was_dark = self.dark
        wanted = _REQUESTED[self._theme]
        if self._theme is Theme.SYSTEM:
            wanted = self._system_scheme
        QApplication.setPalette(QPalette())  # the platform's (none of our roles set)
        platform_dark = self.dark
        if wanted is Qt.ColorScheme.Dark and not platform_dark:
            QApplication.setPalette(dark_palette())
        elif wanted is Qt.ColorScheme.Light and platform_dark:
            QApplication.setPalette(light_palette())
        log.info("theme %s: a %s window", self._theme.value, "dark" if self.dark else "light")
        if self.dark != was_dark:
            self.changed.emit()
