"""The Nothing lost report writes what the run did: passes, failures, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nothing_lost_report import (
    DOC,
    TABLE_BEGIN,
    TABLE_END,
    main,
    replace_between_markers,
)

REPO = Path(__file__).resolve().parents[2]

CASES = """
import pytest

@pytest.mark.nothing_lost("bad input", "a name with a | bar", "a clear message")
def test_passes():
    pass

@pytest.mark.nothing_lost("fault", "the backend breaks", "try again")
def test_fails():
    assert False

@pytest.mark.nothing_lost("integrity", "several sizes", "verified")
@pytest.mark.parametrize("size", [0, 1, 2])
def test_parametrized(size):
    pass

@pytest.mark.nothing_lost("fault", "the backend breaks", "try again")
@pytest.mark.nothing_lost("bad input", "a name with a | bar", "a clear message")
def test_two_cases():
    pass

def test_unmarked():
    pass
"""


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.nothing_lost_report", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_table_has_each_case_with_its_real_result(tmp_path: Path) -> None:
    (tmp_path / "test_cases.py").write_text(CASES)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    nothing_lost: a case\n")
    run = run_pytest(tmp_path, "-q", "-p", "no:cacheprovider", "--nothing-lost-report=out.md")
    assert run.returncode == 1, run.stdout  # one test fails, and the report says so

    table = (tmp_path / "out.md").read_text().splitlines()
    assert table[0] == "| area | case tried | what the user sees | result | test |"
    rows = [line for line in table[2:] if line.startswith("|")]
    assert rows == [
        "| fault | the backend breaks | try again | **failed** 1 of 2, **passed** 1 of 2 "
        "| `test_cases.py::test_fails`<br>`test_cases.py::test_two_cases` |",
        "| integrity | several sizes | verified | passed (3 tests) "
        "| `test_cases.py::test_parametrized` |",
        "| bad input | a name with a \\| bar | a clear message | passed (2 tests) "
        "| `test_cases.py::test_passes`<br>`test_cases.py::test_two_cases` |",
    ]
    assert "3 cases, 2 passed." in table


def test_the_table_on_the_page_is_replaced_between_its_markers(tmp_path: Path) -> None:
    (tmp_path / "test_cases.py").write_text(CASES)
    page = tmp_path / "nothing-lost.md"
    page.write_text(f"# Title\n\nBefore.\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nAfter.\n")
    run_pytest(
        tmp_path,
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "passes",
        "--nothing-lost-doc=nothing-lost.md",
    )

    text = page.read_text()
    assert "old table" not in text
    assert text.startswith("# Title\n\nBefore.\n\n" + TABLE_BEGIN + "\n| area |")
    assert "| bad input | a name with a \\| bar | a clear message | passed |" in text
    assert text.endswith(f"1 case, 1 passed.\n{TABLE_END}\n\nAfter.\n")


def test_a_page_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing-lost:begin"):
        replace_between_markers("# no markers\n", "| table |\n")


def test_the_generator_writes_into_the_docs_page_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands: list[list[str]] = []

    def call(command: list[str]) -> int:
        commands.append(command)
        return 0

    monkeypatch.setattr("tests.support.nothing_lost_report.subprocess.call", call)
    assert main([]) == 0
    assert f"--nothing-lost-doc={REPO / 'docs' / 'nothing-lost.md'}" in commands[0]
    # The page has the markers the table is written between, once each and in order.
    text = DOC.read_text(encoding="utf-8")
    assert text.count(TABLE_BEGIN) == 1
    assert text.count(TABLE_END) == 1
    assert text.index(TABLE_BEGIN) < text.index(TABLE_END)
    assert "| area | case tried | what the user sees | result | test |" in text


def test_a_marker_with_an_unknown_area_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.nothing_lost('weather', 'rain', 'wet')\n"
        "def test_x():\n    pass\n"
    )
    run = run_pytest(tmp_path, "-q", "-p", "no:cacheprovider")
    assert run.returncode != 0
    assert "'weather' is not one of" in run.stdout + run.stderr


def test_a_parallel_run_is_refused_instead_of_writing_part_of_the_table(tmp_path: Path) -> None:
    (tmp_path / "test_cases.py").write_text(CASES)
    page = tmp_path / "nothing-lost.md"
    page.write_text(f"{TABLE_BEGIN}\nold table\n{TABLE_END}\n")
    run = run_pytest(
        tmp_path, "-q", "-p", "no:cacheprovider", "-n", "2", "--nothing-lost-doc=nothing-lost.md"
    )
    assert run.returncode != 0
    assert "add -n 0" in run.stdout + run.stderr
    assert "old table" in page.read_text()  # no worker wrote its part of the results
