"""One JSON object per log line on stdout, which Lambda sends to CloudWatch Logs.

Plain :mod:`logging` with a formatter (no extra dependency): a record's ``fields`` (passed as
``extra={"fields": {...}}``) become top-level keys next to time, level, logger and message.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from ..core.logs import quiet_botocore_logs

API_LOGGER = "dms_desktop.api"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StdoutHandler(logging.Handler):
    """Writes to the current ``sys.stdout`` (looked up per record, so captures see it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - logging must never break the request
            self.handleError(record)


def configure_api_logging(level: int = logging.INFO) -> logging.Logger:
    """The API's logger with the JSON handler (once), not propagating to the runtime's root
    handler (which would print each line a second time); botocore, which logs request headers
    and tokens at DEBUG, held at WARNING."""
    logger = logging.getLogger(API_LOGGER)
    if not any(isinstance(handler, StdoutHandler) for handler in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    quiet_botocore_logs()
    return logger
