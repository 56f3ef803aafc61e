"""Every text the window shows goes through ``tr()`` (docs/translating.md): no string literal is
passed straight to a Qt setter or constructor that puts it on screen.

The check reads the source (AST) of each module of dms_desktop/gui. ``NOT_CONVERTED_YET`` lists
the modules whose texts are not converted yet; once one is converted, take it off the list (the
last test fails while a listed module has nothing left to convert).

``python -m tests.unit.gui.test_translatable_texts`` prints every finding, in the listed modules
too: the work left.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

GUI = Path(__file__).resolve().parents[3] / "dms_desktop" / "gui"

# Modules whose texts do not go through tr() yet (converted later, then removed from here).
NOT_CONVERTED_YET: frozenset[str] = frozenset()

# Methods that show their text arguments (any argument that is a text literal is a finding).
SHOWING_METHODS = frozenset(
    {
        "setText",
        "setWindowTitle",
        "setToolTip",
        "setStatusTip",
        "setWhatsThis",
        "setPlaceholderText",
        "setTitle",
        "setLabelText",
        "setSuffix",
        "setPrefix",
        "setSpecialValueText",
        "setHeaderLabels",
        "setHorizontalHeaderLabels",
        "setVerticalHeaderLabels",
        "setTabText",
        "setTabToolTip",
        "addTab",
        "insertTab",
        "addAction",
        "addMenu",
        "addItem",
        "addItems",
        "insertItem",
        "addRow",
        "insertRow",
        "showMessage",
        "setInformativeText",
        "setDetailedText",
        "setAccessibleName",
        "setAccessibleDescription",
        # QMessageBox, QInputDialog, QFileDialog statics
        "question",
        "warning",
        "information",
        "critical",
        "about",
        "getText",
        "getItem",
        "getInt",
        "getDouble",
        "getOpenFileName",
        "getOpenFileNames",
        "getSaveFileName",
        "getExistingDirectory",
        # the app's own ways to show a text
        "show_notice",
        "set_action",
        "show_error",
        "_say",
        "_status",
        "_show_problem",
        "_show_progress",
    }
)
# Classes whose constructors show their text arguments.
SHOWING_CLASSES = frozenset(
    {
        "QLabel",
        "QPushButton",
        "QToolButton",
        "QCheckBox",
        "QRadioButton",
        "QGroupBox",
        "QAction",
        "QMenu",
        "QMessageBox",
        "QListWidgetItem",
        "QTreeWidgetItem",
        "QTableWidgetItem",
        "QStandardItem",
        "QCommandLinkButton",
    }
)


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    call: str
    text: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.call}({self.text!r}) is not translated"


def _literal_words(node: ast.expr) -> str | None:
    """The literal text of ``node`` if it shows words to a user: a string constant with a
    letter, an f-string or concatenation whose literal parts have one; lists and tuples of
    them. None for anything else (a name, a call such as ``self.tr(...)``, symbols only)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if any(char.isalpha() for char in node.value) else None
    if isinstance(node, ast.JoinedStr):
        literal = "".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
        return ast.unparse(node) if any(char.isalpha() for char in literal) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_words(node.left) or _literal_words(node.right)
    if isinstance(node, ast.List | ast.Tuple):
        for element in node.elts:
            found = _literal_words(element)
            if found is not None:
                return found
    return None


# Receivers whose methods of the same names do not show text: the log.
NOT_SHOWN_BY = frozenset({"log", "logger", "logging", "warnings"})
# Methods whose arguments after the text are data (QComboBox.addItem(text, userData)).
DATA_AFTER_TEXT = frozenset({"addItem", "insertItem"})
TRANSLATING = frozenset({"tr", "translate"})


def _is_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return True
    return isinstance(node, ast.Call) and _called_name(node) in TRANSLATING


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def untranslated_texts(path: Path) -> list[Finding]:
    """The text literals ``path`` passes straight to a call that shows them."""
    findings = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name not in SHOWING_METHODS and name not in SHOWING_CLASSES:
            continue
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if isinstance(receiver, ast.Name) and receiver.id in NOT_SHOWN_BY:
            continue
        arguments = list(node.args)
        if name in DATA_AFTER_TEXT:
            texts = [number for number, argument in enumerate(arguments) if _is_text(argument)]
            arguments = arguments[: texts[0] + 1] if texts else arguments
        for argument in [*arguments, *(keyword.value for keyword in node.keywords)]:
            text = _literal_words(argument)
            if text is not None:
                findings.append(Finding(path.name, node.lineno, name, text))
    return findings


def _modules() -> list[Path]:
    return sorted(path for path in GUI.glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize(
    "module",
    [path for path in _modules() if path.name not in NOT_CONVERTED_YET],
    ids=lambda path: path.name,
)
def test_the_module_passes_every_text_it_shows_through_tr(module: Path) -> None:
    findings = untranslated_texts(module)
    assert not findings, "\n".join(map(str, findings))


def test_the_modules_not_converted_yet_exist() -> None:
    """A module renamed or removed leaves the list, so that the list stays the work left."""
    existing = {path.name for path in _modules()}
    assert existing >= NOT_CONVERTED_YET, f"no such module: {sorted(NOT_CONVERTED_YET - existing)}"


def test_the_check_finds_the_ways_a_text_reaches_the_screen(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "label = QLabel('Hello')\n"
        "button.setText(f'Delete {count} files')\n"
        "box.setHeaderLabels(['Name', 'Size'])\n"
        "menu.addAction('&Quit' + suffix)\n"
        "QMessageBox.warning(self, 'Careful', question)\n"
        "self.setToolTip(text='Tip')\n"
        "box.addItem('Glob', 'glob')\n"
        # fine: translated, a variable, no words, an object name
        "label = QLabel(self.tr('Hello'))\n"
        "button.setText(QCoreApplication.translate('Box', 'Delete {count}').format(count=2))\n"
        "button.setText(name)\n"
        "close.setText('✕')\n"
        "item = QListWidgetItem(f'{tag}  ({count})')\n"
        "button.setObjectName('deleteButton')\n"
        "box.addItem(self.tr('Glob'), 'glob')\n"
        "log.warning('could not save %s', name)\n",
        encoding="utf-8",
    )

    found = [(finding.line, finding.call) for finding in untranslated_texts(source)]

    assert found == [
        (1, "QLabel"),
        (2, "setText"),
        (3, "setHeaderLabels"),
        (4, "addAction"),
        (5, "warning"),
        (6, "setToolTip"),
        (7, "addItem"),
    ]


if __name__ == "__main__":
    for path in _modules():
        for finding in untranslated_texts(path):
            print(finding)
    sys.exit(0)
