"""How names, sizes and counts are shown: escaped where they could break or disguise a line."""

from __future__ import annotations

import pytest

from dms_desktop.core.formatting import describe_type, exact_size, plural, printable


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("report.pdf", "report.pdf"),
        ("Ångström 報告 تقرير.pdf", "Ångström 報告 تقرير.pdf"),  # any script is left alone
        ("👩\u200d💻 notes.txt", "👩\u200d💻 notes.txt"),  # emoji joiner: harmless
        ("two\nlines.txt", "two\\nlines.txt"),
        ("carriage\rreturn", "carriage\\rreturn"),
        ("bell\x07.txt", "bell\\x07.txt"),
        ("\x1b[31mred", "\\x1b[31mred"),  # a terminal escape sequence is shown, not obeyed
        ("invoice\u202efdp.exe", "invoice\\u202efdp.exe"),  # right-to-left override
        ("isolate\u2067x\u2069", "isolate\\u2067x\\u2069"),
        ("line\u2028separator", "line\\u2028separator"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("not-utf8-\udcff\udcfe.txt", "not-utf8-\\xff\\xfe.txt"),  # the bytes it really has
    ],
)
def test_printable_escapes_what_could_break_hide_or_reverse_a_line(name: str, shown: str) -> None:
    assert printable(name) == shown
    assert printable(name).isprintable() or " " in shown  # nothing invisible is left
    printable(name).encode("utf-8")  # and it can always be written out


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [(0, "document", "0 documents"), (1, "document", "1 document"), (2, "file", "2 files")],
)
def test_plural(count: int, word: str, expected: str) -> None:
    assert plural(count, word) == expected


def test_plural_with_an_irregular_form() -> None:
    assert plural(3, "copy", "copies") == "3 copies"
    assert plural(1, "copy", "copies") == "1 copy"


def test_exact_size_says_the_bytes_once() -> None:
    assert exact_size(328) == "328 bytes"  # not "328 bytes (328 bytes)"
    assert exact_size(1) == "1 byte"
    assert exact_size(1536) == "1.5 KB (1,536 bytes)"


def test_office_files_have_names_people_know() -> None:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert describe_type(sheet) == "Excel spreadsheet"  # was "SHEET file"
    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert describe_type(word) == "Word document"
    assert describe_type("image/jpeg") == "JPEG image"
