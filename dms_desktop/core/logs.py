"""Logging to a rotating file in the log folder. Secrets never reach it: botocore, which logs
request headers (Authorization, security tokens) at DEBUG, is held at WARNING whatever -v says.
Every message is one line: names and paths in it are escaped as everywhere else (a newline or a
right-to-left override in a file name cannot forge or disguise a log line)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from .formatting import printable

LOG_FILE_NAME = "dms.log"


class EscapingFormatter(logging.Formatter):
    """A formatter whose messages show control, formatting and undecodable characters escaped
    (core.formatting.printable); tracebacks are left as they are."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)


def quiet_botocore_logs() -> None:
    """botocore and urllib3 log headers (Authorization, security tokens) at DEBUG: keep them out."""
    for name in ("botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(log_dir: Path, verbosity: int = 0, *, console: bool = True) -> Path:
    """File log (INFO, DEBUG with -v) and, with -v, INFO/DEBUG on stderr. Returns the file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dms_handler", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(
        EscapingFormatter(
            "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"
        )
    )
    file_handler.setLevel(logging.DEBUG if verbosity else logging.INFO)
    handlers: list[logging.Handler] = [file_handler]
    if console and verbosity:
        stream = logging.StreamHandler()
        stream.setFormatter(EscapingFormatter("%(levelname)s %(name)s: %(message)s"))
        stream.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
        handlers.append(stream)
    for handler in handlers:
        handler._dms_handler = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity else logging.INFO)
    quiet_botocore_logs()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    return log_file
