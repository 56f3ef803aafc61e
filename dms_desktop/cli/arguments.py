"""argparse ``type`` functions: each turns a bad value into a usage error that says what to give."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from ..core.errors import ValidationError
from ..core.time_input import parse_duration, parse_moment

NumberT = TypeVar("NumberT", int, float)


def duration_argument(text: str) -> timedelta:
    """An argparse ``type`` for a duration such as 90m, 12h, 7d or 2w."""
    try:
        return parse_duration(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def timestamp_argument(text: str) -> datetime:
    """An argparse ``type`` for an ISO-8601 date or time; without a zone it is UTC."""
    try:
        return parse_moment(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
