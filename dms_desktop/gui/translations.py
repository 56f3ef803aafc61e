"""The window's language: the translations installed at start-up (docs/translating.md).

The window's texts are written in English and go through Qt's ``tr()``; a translation is a
``dms_desktop_<language>.qm`` file in ``dms_desktop.resources/translations`` (the repository's
``resources/translations``). At start-up the app installs, for the system's language (or the one
``DMS_LANG`` names):

1. ``dms_desktop_en.qm``, the English plural forms: a text with a count is written once with
   ``%n`` ("%n document(s) moved to the trash") and this file says "1 document ..." / "2 documents
   ...". It is the base every other language falls back to.
2. ``dms_desktop_<language>.qm`` if there is one (looked up by Qt from the locale's UI languages,
   so ``de_AT`` finds ``dms_desktop_de.qm``); none: the window stays in English.
3. Qt's own ``qtbase_<language>.qm`` (the standard buttons, the context menus of text fields), from
   the Qt installation, where it ships one.

Messages made by the Qt-free core (errors, reports) are English only for now.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

CATALOGUE = "dms_desktop"  # dms_desktop_<language>.qm
SOURCE_LANGUAGE = "en"
LANGUAGE_OVERRIDE = "DMS_LANG"  # e.g. DMS_LANG=de: the window in German whatever the system says


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name lupdate knows)
    """Mark ``text`` for translation in ``context`` without translating it now (a module-level
    constant): translate it where it is shown, ``QCoreApplication.translate(context, text)`` or
    ``self.tr(text)`` in that class. Qt's own returns ``object`` to type checkers."""
    return text


def translations_folder() -> Path | None:
    """The folder of the app's .qm files, or None where the package is not on a file system."""
    folder = files("dms_desktop.resources") / "translations"
    return folder if isinstance(folder, Path) and folder.is_dir() else None


def chosen_locale(environ: Mapping[str, str] | None = None) -> QLocale:
    """The language the window should speak: ``DMS_LANG`` if set (a locale name such as ``de``
    or ``pt_BR``), else the system's (which on Linux follows ``LANGUAGE``, ``LC_ALL``,
    ``LC_MESSAGES`` and ``LANG``)."""
    chosen = (os.environ if environ is None else environ).get(LANGUAGE_OVERRIDE, "").strip()
    return QLocale(chosen) if chosen else QLocale.system()


def install_translations(app: QCoreApplication, locale: QLocale | None = None) -> list[QTranslator]:
    """Install the translators for ``locale`` (default: :func:`chosen_locale`) on ``app``; the
    translators found, in the order installed (the last one installed is asked first). A language
    without a file installs nothing for it."""
    locale = chosen_locale() if locale is None else locale
    installed: list[QTranslator] = []

    def install(translator: QTranslator) -> None:
        app.installTranslator(translator)
        installed.append(translator)
        log.info("translation installed: %s", translator.filePath())

    folder = translations_folder()
    if folder is None:
        log.warning("no translations folder in the installed package")
    else:
        plurals = QTranslator(app)
        if plurals.load(f"{CATALOGUE}_{SOURCE_LANGUAGE}", str(folder)):
            install(plurals)
        own = QTranslator(app)
        if own.load(locale, CATALOGUE, "_", str(folder)) and own.filePath() != plurals.filePath():
            install(own)
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt_own = QTranslator(app)
    if qt_own.load(locale, "qtbase", "_", qt_folder):
        install(qt_own)
    return installed
