"""argparse ``type`` functions: each turns a bad value into a usage error that says what to give."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

NumberT = TypeVar("NumberT", int, float)

_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration_argument(text: str) -> timedelta:
    """An argparse ``type`` for a duration such as 90m, 12h, 7d or 2w."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in _DURATION_UNITS or not number.isdigit() or int(number) == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration; use a whole number and m, h, d or w, e.g. 7d"
        )
    return timedelta(**{_DURATION_UNITS[unit]: int(number)})


def timestamp_argument(text: str) -> datetime:
    """ISO-8601 date or time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or time (e.g. 2024-05-01 or 2024-05-01T12:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def number_argument(
    convert: Callable[[str], NumberT], minimum: NumberT, what: str
) -> Callable[[str], NumberT]:
    """An argparse ``type`` for a number of at least ``minimum`` ("a whole number", ...)."""

    def parse(text: str) -> NumberT:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}")
        return value

    return parse
