"""View > Theme and Help > About, driven as a user does: the menus opened with clicks, the
entries triggered, the dialog's buttons clicked."""

from __future__ import annotations

import platform
import re
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QPushButton
from pytestqt.qtbot import QtBot

from dms_desktop import __version__
from dms_desktop.core.paths import AppPaths
from dms_desktop.gui.about_dialog import AboutDialog
from dms_desktop.gui.app import DesktopApp
from dms_desktop.gui.appearance import SETTINGS_FILE, Theme, dark_palette, light_palette
from dms_desktop.gui.icons import ACTION_NAMES, FILE_TYPE_ICONS, icon_resource

WAIT_MS = 5_000


@pytest.fixture(autouse=True)
def platform_palette_afterwards() -> Iterator[None]:
    """The application's palette and colour scheme as the platform has them, after each test."""
    yield
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "unsetColorScheme"):
        hints.unsetColorScheme()
    QApplication.setPalette(QPalette())


def start(qtbot: QtBot, home: Path) -> DesktopApp:
    """The app's window as it shows before connecting (no backend needed for these menus)."""
    desktop = DesktopApp(AppPaths.resolve(home))
    qtbot.addWidget(desktop.window)
    desktop.window.show()
    qtbot.waitExposed(desktop.window)
    return desktop


@pytest.fixture
def desktop(qtbot: QtBot, tmp_path: Path) -> Iterator[DesktopApp]:
    app = start(qtbot, tmp_path / "home")
    yield app
    app.shutdown()


def window_is_dark(desktop: DesktopApp) -> bool:
    palette = desktop.window.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def open_menu(qtbot: QtBot, desktop: DesktopApp, menu: QMenu) -> None:
    """Click the menu's title in the menu bar; wait for it to drop down."""
    bar = desktop.window.menuBar()
    qtbot.mouseClick(
        bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(menu.menuAction()).center()
    )
    qtbot.waitUntil(menu.isVisible, timeout=WAIT_MS)


def click_entry(qtbot: QtBot, menu: QMenu, action: QAction) -> None:
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def choose_theme(qtbot: QtBot, desktop: DesktopApp, theme: Theme) -> None:
    """View > Theme > (theme): the View menu clicked open, the Theme submenu opened from it,
    then its entry clicked."""
    view = desktop.window.findChild(QMenu, "viewMenu")
    themes = desktop.window.findChild(QMenu, "themeMenu")
    open_menu(qtbot, desktop, view)
    click_entry(qtbot, view, themes.menuAction())
    qtbot.waitUntil(themes.isVisible, timeout=WAIT_MS)
    click_entry(qtbot, themes, desktop.menus.theme_actions[theme])
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=WAIT_MS)


def test_view_theme_dark_darkens_the_window_and_is_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    home = tmp_path / "home"
    desktop = start(qtbot, home)
    assert desktop.menus.theme_actions[Theme.SYSTEM].isChecked()  # the default
    assert not window_is_dark(desktop)  # the offscreen platform is light

    choose_theme(qtbot, desktop, Theme.DARK)

    qtbot.waitUntil(lambda: window_is_dark(desktop), timeout=WAIT_MS)
    assert desktop.menus.theme_actions[Theme.DARK].isChecked()
    assert not desktop.menus.theme_actions[Theme.SYSTEM].isChecked()
    settings = (AppPaths.resolve(home).config_dir / SETTINGS_FILE).read_text()
    assert re.search(r"^theme=dark$", settings, re.MULTILINE), settings
    desktop.shutdown()
    desktop.window.close()
    QApplication.setPalette(QPalette())  # as a new process starts

    again = start(qtbot, home)  # the next start
    qtbot.waitUntil(lambda: window_is_dark(again), timeout=WAIT_MS)
    assert again.menus.theme_actions[Theme.DARK].isChecked()
    choose_theme(qtbot, again, Theme.LIGHT)
    qtbot.waitUntil(lambda: not window_is_dark(again), timeout=WAIT_MS)
    again.shutdown()


def test_with_system_the_window_follows_the_systems_scheme_as_it_changes(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    hints = QGuiApplication.styleHints()

    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the user switched the desktop to dark
    qtbot.waitUntil(lambda: window_is_dark(desktop), timeout=WAIT_MS)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: not window_is_dark(desktop), timeout=WAIT_MS)

    choose_theme(qtbot, desktop, Theme.DARK)  # a choice of the user's wins over the system's
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    QApplication.processEvents()
    assert window_is_dark(desktop)


def test_a_message_shown_when_the_theme_changes_keeps_readable_colours(
    qtbot: QtBot, desktop: DesktopApp
) -> None:
    bar = desktop.message_bar
    bar.show_notice("Signed in.")
    light_tint = bar.styleSheet()

    choose_theme(qtbot, desktop, Theme.DARK)

    qtbot.waitUntil(lambda: bar.styleSheet() != light_tint, timeout=WAIT_MS)
    assert "#1f4e5a" in bar.styleSheet()  # the dark notice tint, under light text


def _contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _colours(icon: str) -> set[str]:
    svg = icon_resource(icon).read_text(encoding="utf-8")
    return {c.lower() for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{6})"', svg)}


BACKGROUNDS = {
    f"{name} {role.name}": palette.color(role).name()
    for name, palette in (("dark", dark_palette()), ("light", light_palette()))
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base)
}


@pytest.mark.parametrize("icon", ACTION_NAMES)
def test_action_icons_stand_out_on_dark_and_light_windows(icon: str) -> None:
    """Every colour an action icon is drawn in has a contrast of at least 3:1 (WCAG's for
    graphics) with the toolbar's and the list's background, dark or light."""
    for colour in _colours(icon):
        for where, background in BACKGROUNDS.items():
            assert _contrast(colour, background) >= 3.0, f"{icon} {colour} on {where}"


@pytest.mark.parametrize("icon", FILE_TYPE_ICONS)
def test_file_type_icons_stand_out_on_dark_and_light_lists(icon: str) -> None:
    """A file-type icon (a sheet of paper with a mark) has some colour that stands out."""
    for where, background in BACKGROUNDS.items():
        best = max(_contrast(colour, background) for colour in _colours(icon))
        assert best >= 3.0, f"{icon} on {where}"


def test_help_about_shows_the_versions_and_opens_the_log_folder(
    qtbot: QtBot, desktop: DesktopApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    help_menu = desktop.window.findChild(QMenu, "helpMenu")

    open_menu(qtbot, desktop, help_menu)
    click_entry(qtbot, help_menu, desktop.menus.about_action)

    dialog = desktop.window.findChild(AboutDialog, "aboutDialog")
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    for version in (__version__, qVersion(), metadata.version("PySide6-Essentials")):
        assert version in shown
    assert metadata.version("boto3") in shown
    assert platform.python_version() in shown
    log_dir = AppPaths.resolve(tmp_path / "home").log_dir
    assert dialog.findChild(QLabel, "logFolderLabel").text() == str(log_dir)

    button = dialog.findChild(QPushButton, "openLogFolderButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(log_dir))]

    qtbot.mouseClick(dialog.findChild(QPushButton, "copyVersionsButton"), Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert f"DMS Desktop: {__version__}" in copied
    assert f"Log folder: {log_dir}" in copied

    desktop.menus.about_action.trigger()  # again: the same dialog, not a second one
    assert desktop.window.findChildren(AboutDialog) == [dialog]
    dialog.close()


def test_about_says_where_the_logs_are_when_no_file_manager_opens_them(
    qtbot: QtBot, desktop: DesktopApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda _url: False)
    desktop.menus.about_action.trigger()
    dialog = desktop.menus.about_dialog
    assert dialog is not None

    qtbot.mouseClick(
        dialog.findChild(QPushButton, "openLogFolderButton"), Qt.MouseButton.LeftButton
    )

    note = dialog.findChild(QLabel, "aboutNote")
    assert note.isVisible()
    assert str(dialog.log_folder) in note.text()
    dialog.close()
