"""The CLI's one-line progress display."""

from __future__ import annotations

import io

import pytest

from dms_desktop.cli import terminal
from dms_desktop.cli.terminal import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(terminal.time, "monotonic", fake)
    return fake


def test_the_line_shows_the_files_place_and_no_guess_before_there_is_a_speed(
    clock: Clock,
) -> None:
    screen = Terminal()
    line = ProgressLine(screen, "report.pdf", "file 3 of 120")

    line.update(1024, 10 * 1024 * 1024)  # the first report: too early for a speed
    first = screen.getvalue().rsplit("\r", 1)[1]
    clock.now += 1.0
    line.update(5 * 1024 * 1024, 10 * 1024 * 1024)
    second = screen.getvalue().rsplit("\r", 1)[1]
    line.finish()

    assert first.startswith("file 3 of 120  report.pdf")
    assert "left" not in first and "/s" not in first
    assert " 50% " in second and "/s" in second and "left" in second
    assert screen.getvalue().endswith("\r")  # the line is cleared for what follows


def test_nothing_is_drawn_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream, "report.pdf")
    line.status("checking for duplicates")
    line.update(1, 2)
    line.finish()
    assert stream.getvalue() == ""


def test_speed_and_time_left_come_from_the_same_estimate_as_the_window(clock: Clock) -> None:
    """Issue 19 item 6: the first time left was wildly off; the line now uses core.transfer_rate
    (the speed of the last seconds, from the first byte, nothing before a second of data)."""
    screen = Terminal()
    line = ProgressLine(screen, "archive.zip")
    total = 100 * 1000 * 1000
    line.update(1_000_000, total)
    clock.now += 0.6
    line.update(7_000_000, total)  # 0.6 s of data: no guess yet
    early = screen.getvalue().rsplit("\r", 1)[1]
    clock.now += 0.4
    line.update(11_000_000, total)  # 10 MB in the first second: 8.9 s for the 89 MB left
    later = screen.getvalue().rsplit("\r", 1)[1]
    line.finish()

    assert "left" not in early and "/s" not in early
    assert "9.5 MB/s" in later and "8s left" in later
