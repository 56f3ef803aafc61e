"""The window speaks the language a translation is installed for (gui.translations,
docs/translating.md): a German catalogue compiled here with Qt's own tools turns the menus, a
dialog, a count ("%n document(s)") and Qt's standard buttons German; a language without a
catalogue leaves the window English. The English plural forms shipped with the app are complete
and compiled from their source."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMainWindow
from pytestqt.qtbot import QtBot

from dms_desktop.core.paths import AppPaths
from dms_desktop.gui import translations
from dms_desktop.gui.appearance import Appearance, desktop_settings
from dms_desktop.gui.document_events import DocumentEvents
from dms_desktop.gui.operations import Operations
from dms_desktop.gui.translations import chosen_locale, install_translations
from dms_desktop.gui.trash_view import TrashView
from dms_desktop.gui.window_menus import WindowMenus

from .conftest import Cloud

REPOSITORY = Path(__file__).resolve().parents[3]
SHIPPED = REPOSITORY / "resources" / "translations"
GUI = REPOSITORY / "dms_desktop" / "gui"
WAIT_MS = 10_000


def qt_tool(name: str) -> Path:
    """pyside6-lupdate / pyside6-lrelease, installed with PySide6 next to this Python."""
    found = Path(sys.executable).parent / name
    if found.exists():
        return found
    on_path = shutil.which(name)
    if on_path is None:
        pytest.skip(f"{name} (Qt's translation tools, from PySide6) is not installed")
    return Path(on_path)


GERMAN = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>WindowMenus</name>
    <message><source>&amp;Help</source><translation>&amp;Hilfe</translation></message>
    <message><source>&amp;Theme</source><translation>&amp;Farbschema</translation></message>
    <message><source>&amp;Dark</source><translation>&amp;Dunkel</translation></message>
    <message>
        <source>&amp;About DMS Desktop</source>
        <translation>&amp;Über DMS Desktop</translation>
    </message>
</context>
<context>
    <name>AboutDialog</name>
    <message><source>About DMS Desktop</source><translation>Über DMS Desktop</translation></message>
    <message><source>Log folder:</source><translation>Protokollordner:</translation></message>
</context>
<context>
    <name>TrashView</name>
    <message numerus="yes">
        <source>Trash: %n document(s)</source>
        <translation>
            <numerusform>Papierkorb: %n Dokument</numerusform>
            <numerusform>Papierkorb: %n Dokumente</numerusform>
        </translation>
    </message>
</context>
</TS>
"""


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's translations folder with the shipped English plural forms and a German
    catalogue compiled now from GERMAN."""
    folder = tmp_path / "translations"
    folder.mkdir()
    shutil.copy(SHIPPED / "dms_desktop_en.qm", folder)
    source = tmp_path / "dms_desktop_de.ts"
    source.write_text(GERMAN, encoding="utf-8")
    subprocess.run(
        [qt_tool("pyside6-lrelease"), "-silent", source, "-qm", folder / "dms_desktop_de.qm"],
        check=True,
        timeout=60,
    )
    monkeypatch.setattr(translations, "translations_folder", lambda: folder)
    return folder


@pytest.fixture
def installed(qapp: QApplication) -> Iterator[list[QTranslator]]:
    """The translators a test installs, taken out again after it (the English stay)."""
    added: list[QTranslator] = []
    yield added
    for translator in added:
        qapp.removeTranslator(translator)


def test_a_german_system_gets_german_menus_dialogs_and_qt_buttons(
    qtbot: QtBot,
    qapp: QApplication,
    catalogues: Path,
    installed: list[QTranslator],
    tmp_path: Path,
) -> None:
    installed += install_translations(qapp, QLocale("de_DE"))

    files = [Path(translator.filePath()).name for translator in installed]
    assert files == ["dms_desktop_en.qm", "dms_desktop_de.qm", "qtbase_de.qm"]
    window = QMainWindow()
    qtbot.addWidget(window)
    paths = AppPaths.resolve(tmp_path / "home")
    menus = WindowMenus(window, Appearance(desktop_settings(paths), window), paths.log_dir)
    assert menus.help_menu.title() == "&Hilfe"
    assert menus.theme_menu.title() == "&Farbschema"
    assert menus.about_action.text() == "&Über DMS Desktop"
    assert [action.text() for action in menus.theme_menu.actions()] == [
        "&System",  # not in the catalogue: stays English
        "&Light",
        "&Dunkel",
    ]

    menus.about_action.trigger()
    dialog = menus.about_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Über DMS Desktop"
    close = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    assert close.text() == "Schließen"  # Qt's own catalogue (qtbase_de)


def _open_trash(qtbot: QtBot, operations: Operations) -> TrashView:
    trash = TrashView(operations, DocumentEvents(), operations.report_error)
    qtbot.addWidget(trash)
    with qtbot.waitSignal(trash.loaded, timeout=WAIT_MS):
        trash.reload()
    return trash


def test_counts_take_the_plural_forms_of_the_language(
    qtbot: QtBot,
    qapp: QApplication,
    catalogues: Path,
    installed: list[QTranslator],
    cloud: Cloud,
    operations: Operations,
    make_file: Callable[..., Path],
) -> None:
    one = cloud.service.upload(make_file("one.pdf"))
    cloud.service.trash_many([one.document_id])
    assert _open_trash(qtbot, operations).title.text() == "Trash: 1 document"

    installed += install_translations(qapp, QLocale("de_DE"))

    assert _open_trash(qtbot, operations).title.text() == "Papierkorb: 1 Dokument"
    more = [cloud.service.upload(make_file(f"{name}.pdf")) for name in ("two", "three")]
    cloud.service.trash_many([document.document_id for document in more])
    assert _open_trash(qtbot, operations).title.text() == "Papierkorb: 3 Dokumente"
    # A count the German catalogue lacks: the English plural forms.
    assert TrashView.tr("…and %n more", "", 2) == "…and 2 more"  # type: ignore[call-arg]


def test_a_language_without_a_catalogue_keeps_the_window_english(
    qtbot: QtBot,
    qapp: QApplication,
    catalogues: Path,
    installed: list[QTranslator],
    tmp_path: Path,
) -> None:
    installed += install_translations(qapp, QLocale("fr_FR"))

    files = [Path(translator.filePath()).name for translator in installed]
    assert "dms_desktop_fr.qm" not in files and "dms_desktop_de.qm" not in files
    window = QMainWindow()
    qtbot.addWidget(window)
    paths = AppPaths.resolve(tmp_path / "home")
    menus = WindowMenus(window, Appearance(desktop_settings(paths), window), paths.log_dir)
    assert menus.help_menu.title() == "&Help"


def test_dms_lang_chooses_the_language_over_the_system() -> None:
    assert chosen_locale({"DMS_LANG": "de"}).language() is QLocale.Language.German
    assert chosen_locale({"DMS_LANG": "pt_BR"}).name() == "pt_BR"
    assert chosen_locale({}).name() == QLocale.system().name()


def _messages(ts: Path) -> dict[tuple[str, str], list[str]]:
    """(context, source) -> the plural forms, of the numerus messages of a .ts file."""
    found = {}
    # The repository's own file and one lupdate just wrote: trusted.
    for context in ET.parse(ts).getroot().iter("context"):  # noqa: S314
        name = context.findtext("name", "")
        for message in context.iter("message"):
            if message.get("numerus") != "yes":
                continue
            translation = message.find("translation")
            assert translation is not None
            kind = translation.get("type")
            forms = [form.text or "" for form in translation.iter("numerusform")]
            found[(name, message.findtext("source", ""))] = [*forms, kind or "done"]
    return found


def test_the_english_plural_forms_cover_every_count_in_the_window(tmp_path: Path) -> None:
    """Each text with ``%n`` has its English singular and plural in dms_desktop_en.ts (else
    the window shows "1 document(s)"): lupdate, run on the code now, finds nothing new."""
    updated = tmp_path / "dms_desktop_en.ts"
    shutil.copy(SHIPPED / "dms_desktop_en.ts", updated)
    subprocess.run(
        [
            qt_tool("pyside6-lupdate"),
            *sorted(GUI.glob("*.py")),
            "-pluralonly",
            "-locations",
            "none",
            "-no-obsolete",
            "-silent",
            "-ts",
            updated,
        ],
        check=True,
        timeout=120,
    )

    shipped, wanted = _messages(SHIPPED / "dms_desktop_en.ts"), _messages(updated)
    assert sorted(wanted) == sorted(shipped), "update resources/translations (docs/translating.md)"
    unfinished = [key for key, forms in wanted.items() if forms[-1] != "done" or not all(forms)]
    assert not unfinished, f"English plural forms missing for {unfinished}"


def test_the_shipped_english_catalogue_is_compiled_from_its_source(tmp_path: Path) -> None:
    compiled = tmp_path / "dms_desktop_en.qm"
    subprocess.run(
        [qt_tool("pyside6-lrelease"), "-silent", SHIPPED / "dms_desktop_en.ts", "-qm", compiled],
        check=True,
        timeout=60,
    )
    assert compiled.read_bytes() == (SHIPPED / "dms_desktop_en.qm").read_bytes(), (
        "run pyside6-lrelease on resources/translations/dms_desktop_en.ts (docs/translating.md)"
    )
