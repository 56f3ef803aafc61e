"""The "Nothing lost" report: every case marked ``nothing_lost`` with its result from this run.

Each adversarial test (issue 6) carries ``@pytest.mark.nothing_lost(area, case, outcome)``:
``area`` is one of ``AREAS``, ``case`` says what was tried, ``outcome`` what the user sees. This
plugin (registered in tests/conftest.py) records how each marked test ended and, when asked,
writes the cases as a Markdown table:

    pytest -n 0 -m nothing_lost --nothing-lost-report=report.md               # the table alone
    pytest -n 0 -m nothing_lost --nothing-lost-doc=docs/nothing-lost.md       # between its markers
    python -m tests.support.nothing_lost_report                               # the line above

The run must be in one process (``-n 0``): pytest-xdist's workers each see only their own results.

Results are what happened in the run, never assumed: a case whose tests did not all pass says
so. Parametrized tests and tests sharing a case become one row that counts them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

AREAS = ("fault", "crash", "integrity", "bad input")
MARKER = "nothing_lost"
TABLE_BEGIN = "<!-- nothing-lost:begin -->"
TABLE_END = "<!-- nothing-lost:end -->"
# The page that shows the table (between the markers above).
DOC = Path(__file__).resolve().parents[2] / "docs" / "nothing-lost.md"


@dataclass
class Case:
    area: str
    case: str
    outcome: str
    tests: list[str] = field(default_factory=list)  # test functions (without parameters)
    results: dict[str, str] = field(default_factory=dict)  # node id -> passed/failed/...

    @property
    def result(self) -> str:
        if not self.results:
            return "not run"
        counts: dict[str, int] = {}
        for value in self.results.values():
            counts[value] = counts.get(value, 0) + 1
        total = len(self.results)
        if counts.get("passed") == total:
            return "passed" if total == 1 else f"passed ({total} tests)"
        return ", ".join(f"**{value}** {count} of {total}" for value, count in counts.items())


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_table(cases: list[Case]) -> str:
    """The Markdown table, by area in ``AREAS`` order, then in the order tests were collected."""
    ordered = sorted(cases, key=lambda case: AREAS.index(case.area))
    lines = [
        "| area | case tried | what the user sees | result | test |",
        "|---|---|---|---|---|",
    ]
    for case in ordered:
        tests = "<br>".join(f"`{name}`" for name in case.tests)
        lines.append(
            f"| {case.area} | {_cell(case.case)} | {_cell(case.outcome)} "
            f"| {case.result} | {tests} |"
        )
    passed = sum(case.result.startswith("passed") for case in cases)
    lines.append("")
    lines.append(f"{len(cases)} case{'s' if len(cases) != 1 else ''}, {passed} passed.")
    return "\n".join(lines) + "\n"


def replace_between_markers(text: str, table: str) -> str:
    """``text`` with everything between the begin and end markers replaced by ``table``."""
    start = text.find(TABLE_BEGIN)
    end = text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"the page has no {TABLE_BEGIN} ... {TABLE_END} section")
    return text[: start + len(TABLE_BEGIN)] + "\n" + table + text[end:]


class NothingLostReport:
    """Collects marked tests at collection time and their results as they finish."""

    def __init__(self, report_path: Path | None, doc_path: Path | None) -> None:
        self._report_path = report_path
        self._doc_path = doc_path
        self._cases: dict[tuple[str, str, str], Case] = {}
        self._cases_of_test: dict[str, list[Case]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            # A test may try several cases (one marker each); each case lists it.
            for marker in item.iter_markers(MARKER):
                area, case_text, outcome = _marker_arguments(item, marker)
                key = (area, case_text, outcome)
                case = self._cases.setdefault(key, Case(area, case_text, outcome))
                name = item.nodeid.split("[", 1)[0]
                if name not in case.tests:
                    case.tests.append(name)
                cases = self._cases_of_test.setdefault(item.nodeid, [])
                if case not in cases:
                    cases.append(case)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # The call decides; a failing setup or teardown (or a skip) overrides a pass.
        decides = report.when == "call" or report.failed or report.skipped
        for case in self._cases_of_test.get(report.nodeid, []):
            if decides and case.results.get(report.nodeid) in (None, "passed"):
                case.results[report.nodeid] = _result_of(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self._cases:
            return
        table = render_table(list(self._cases.values()))
        if self._report_path is not None:
            self._report_path.write_text(table, encoding="utf-8")
        if self._doc_path is not None:
            text = self._doc_path.read_text(encoding="utf-8")
            self._doc_path.write_text(replace_between_markers(text, table), encoding="utf-8")


def _marker_arguments(item: pytest.Item, marker: pytest.Mark) -> tuple[str, str, str]:
    arguments = list(marker.args) + [
        marker.kwargs[name] for name in ("area", "case", "outcome") if name in marker.kwargs
    ]
    if len(arguments) != 3 or not all(isinstance(value, str) for value in arguments):
        raise pytest.UsageError(
            f"{item.nodeid}: use @pytest.mark.{MARKER}(area, case, outcome) with three strings"
        )
    area, case_text, outcome = arguments
    if area not in AREAS:
        raise pytest.UsageError(f"{item.nodeid}: nothing_lost area {area!r} is not one of {AREAS}")
    return area, case_text, outcome


def _result_of(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.passed:
        return "passed"
    if report.skipped:
        return "skipped"
    return "failed" if report.when == "call" else "error"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nothing-lost", "the Nothing lost report (issue 6)")
    group.addoption(
        "--nothing-lost-report",
        metavar="PATH",
        type=Path,
        help="write the nothing_lost cases and their results as a Markdown table to PATH",
    )
    group.addoption(
        "--nothing-lost-doc",
        metavar="PATH",
        type=Path,
        help=f"replace the table between {TABLE_BEGIN} and {TABLE_END} in PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    report_path = config.getoption("--nothing-lost-report")
    doc_path = config.getoption("--nothing-lost-doc")
    distributed = config.getoption("dist", "no") != "no" or hasattr(config, "workerinput")
    if distributed and (report_path is not None or doc_path is not None):
        raise pytest.UsageError(
            "the nothing_lost report needs every result in one process: add -n 0"
        )
    config.pluginmanager.register(NothingLostReport(report_path, doc_path), "nothing-lost-report")


def main(argv: list[str] | None = None) -> int:
    """Run the marked tests and write their table into docs/nothing-lost.md."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.nothing_lost_report", description=main.__doc__
    )
    parser.add_argument(
        "--doc", type=Path, default=DOC, help="the page to write into (default: %(default)s)"
    )
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        MARKER,
        "-q",
        "-n",
        "0",
        f"--nothing-lost-doc={args.doc}",
        *args.pytest_args,
    ]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
