"""The log file: one line per message, whatever the names in it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from dms_desktop.core.logs import configure_logging


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = configure_logging(tmp_path / "logs", console=False)
    yield path
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_a_name_cannot_forge_or_disguise_a_log_line(log_file: Path) -> None:
    forged = "x.txt\n2026-01-01 00:00:00,000 1 MainThread INFO dms: admin signed in"
    logging.getLogger("dms_desktop.test").warning("refused %s and %s", forged, "a\u202etxt.exe")

    lines = log_file.read_text(encoding="utf-8").splitlines()

    assert len(lines) == 1
    assert "refused x.txt\\n2026-01-01" in lines[0]
    assert "a\\u202etxt.exe" in lines[0]


def test_a_file_name_that_is_not_utf8_is_logged_as_its_bytes(log_file: Path) -> None:
    # Straight to the file's handler: pytest's own log capture (on the root logger) cannot pass
    # such a record between its worker processes.
    logger = logging.getLogger("dms_desktop.test.not_utf8")
    logger.propagate = False
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "_dms_handler", False)]
    logger.addHandler(handler)
    try:
        logger.info("upload refused: %s", Path("bad\udcffname.txt"))
    finally:
        logger.removeHandler(handler)

    assert "upload refused: bad\\xffname.txt" in log_file.read_text(encoding="utf-8")


def test_a_traceback_keeps_its_lines(log_file: Path) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("dms_desktop.test").exception("failed")

    text = log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last):\n" in text
    assert "RuntimeError: boom" in text
