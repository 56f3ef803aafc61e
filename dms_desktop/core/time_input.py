"""Dates, times and durations as people type them (CLI options, the admin dialog's fields).

Both raise ValidationError with a message that shows what to type instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .errors import ValidationError

_DURATION = re.compile(r"(?P<number>[0-9]+)\s*(?P<unit>[mhdw])", re.IGNORECASE)
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_LONGEST_DURATION = timedelta(days=100 * 365)  # beyond this a typo is likelier than a wish


def parse_moment(text: str) -> datetime:
    """An ISO-8601 date or date and time ('2024-05-01', '2024-05-01T12:00Z',
    '2024-05-01 12:00+02:00'); without a time zone it is UTC."""
    cleaned = text.strip()
    try:
        moment = datetime.fromisoformat(cleaned.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{cleaned[:40]!r} is not an ISO date or time (e.g. 2024-05-01 or 2024-05-01T12:00Z)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta:
    """A duration such as 90m, 12h, 7d or 2w (minutes, hours, days, weeks), more than zero."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match["number"]) == 0:
        raise ValidationError(
            f"{text.strip()[:40]!r} is not a duration; use a whole number and m, h, d or w, "
            "e.g. 7d."
        )
    number = int(match["number"])
    unit = _DURATION_UNITS[match["unit"].lower()]
    if number > _LONGEST_DURATION / timedelta(**{unit: 1}):
        raise ValidationError(f"{text.strip()!r} is too long a duration; at most 100 years.")
    return timedelta(**{unit: number})
