"""Dates and durations as people type them: one parser for the CLI and the admin dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dms_desktop.core.errors import ValidationError
from dms_desktop.core.time_input import parse_duration, parse_moment


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        (" 2024-05-01T12:00Z ", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01 12:00+02:00", datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_an_iso_date_or_time_without_a_zone_is_utc(text: str, moment: datetime) -> None:
    assert parse_moment(text) == moment
    assert parse_moment(text).tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "", "01/05/2024"])
def test_a_date_that_is_not_iso_says_what_to_type(text: str) -> None:
    with pytest.raises(ValidationError, match=r"is not an ISO date or time \(e\.g\. 2024-05-01"):
        parse_moment(text)


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2W", timedelta(weeks=2)),
        (" 3 d ", timedelta(days=3)),
    ],
)
def test_durations(text: str, duration: timedelta) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["0d", "7", "d", "1.5h", "-3d", "7 days"])
def test_a_duration_that_is_not_one_says_what_to_type(text: str) -> None:
    with pytest.raises(ValidationError, match=r"is not a duration; .* e\.g\. 7d"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["99999999999999d", "1000000000d", "6000w"])
def test_a_huge_duration_is_refused_with_a_message_not_an_overflow(text: str) -> None:
    with pytest.raises(ValidationError, match="too long a duration"):
        parse_duration(text)
