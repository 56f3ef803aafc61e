"""The query language: what a user types, what it means, and how a mistake is pointed at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dms_desktop.core.search.query import (
    AllOf,
    AnyOf,
    DateField,
    DateRange,
    InFolder,
    Not,
    QuerySyntaxError,
    SizeRange,
    TagIs,
    TextField,
    TypeIs,
    Words,
    parse_query,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def root(text: str) -> object:
    return parse_query(text, now=NOW).root


def test_words_and_phrases_are_all_required() -> None:
    assert root("quarterly report") == AllOf((Words("quarterly"), Words("report")))
    assert root('"quarterly report"') == Words("quarterly report", phrase=True)
    assert root('name:"annual plan"') == Words("annual plan", TextField.NAME, phrase=True)
    assert root("name:report") == Words("report", TextField.NAME)


def test_fields_are_read_case_insensitively() -> None:
    assert root("tag:Invoices") == TagIs("invoices")
    assert root('TAG:"To Do"') == TagIs("to do")
    assert root("-tag:draft") == Not(TagIs("draft"))
    assert root("type:PDF") == TypeIs("pdf")
    assert root("type:image/*") == TypeIs("image/*")
    assert root("folder:/Invoices/2024/") == InFolder("invoices/2024")


def test_sizes() -> None:
    assert root("size:>1M") == SizeRange(1024**2 + 1, None)
    assert root("size:>=1M") == SizeRange(1024**2, None)
    assert root("size:<500K") == SizeRange(None, 500 * 1024 - 1)
    assert root("size:<=2kb") == SizeRange(None, 2048)
    assert root("size:1.5MiB") == SizeRange(int(1.5 * 1024**2), int(1.5 * 1024**2))
    assert root("size:1M..10M") == SizeRange(1024**2, 10 * 1024**2)
    assert root("size:..10") == SizeRange(None, 10)


def test_dates_name_days_months_years_and_ages() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    assert root("created:>=2026-01-01") == DateRange(DateField.CREATED, day, None)
    assert root("created:2026-01") == DateRange(
        DateField.CREATED, day, datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert root("created:2025") == DateRange(
        DateField.CREATED, datetime(2025, 1, 1, tzinfo=UTC), day
    )
    assert root("created:>2025-12-31") == DateRange(DateField.CREATED, day, None)
    assert root("created:<=2025-12") == DateRange(DateField.CREATED, None, day)
    # an age: less than 7 days old is newer than 7 days ago
    assert root("updated:<7d") == DateRange(DateField.UPDATED, NOW - timedelta(days=7), None)
    assert root("updated:>2w") == DateRange(DateField.UPDATED, None, NOW - timedelta(weeks=2))
    assert root("updated:today") == DateRange(
        DateField.UPDATED, datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC)
    )


def test_days_are_the_callers_local_days() -> None:
    zone = timezone(timedelta(hours=2))
    query = parse_query("created:2026-03-01", now=NOW.astimezone(zone))
    assert query.root == DateRange(
        DateField.CREATED,
        datetime(2026, 3, 1, tzinfo=zone),
        datetime(2026, 3, 2, tzinfo=zone),
    )


def test_or_binds_tighter_than_the_implicit_and() -> None:
    assert root("invoice OR receipt tag:2024") == AllOf(
        (AnyOf((Words("invoice"), Words("receipt"))), TagIs("2024"))
    )
    assert root("(invoice OR receipt) -tag:paid") == AllOf(
        (AnyOf((Words("invoice"), Words("receipt"))), Not(TagIs("paid")))
    )
    assert root("a AND (b OR (c d))") == AllOf(
        (Words("a"), AnyOf((Words("b"), AllOf((Words("c"), Words("d"))))))
    )
    assert root("NOT draft") == Not(Words("draft"))
    # lower-case or is a word, a hyphen inside a word is part of it
    assert root("this or that") == AllOf((Words("this"), Words("or"), Words("that")))
    assert root("meeting-notes") == Words("meeting-notes")


def test_a_colon_after_something_that_is_not_a_field_name_is_text() -> None:
    assert root("10:30") == Words("10:30")
    assert root('"re: budget"') == Words("re: budget", phrase=True)


def test_words_lists_what_is_searched_for_not_what_is_left_out() -> None:
    query = parse_query('budget "next year" -draft tag:x', now=NOW)
    assert query.words() == ["budget", "next year"]


@pytest.mark.parametrize(
    ("text", "problem", "caret"),
    [
        ("tgs:work", "Unknown field tgs:.", "^^^"),
        ('budget "next year', "This quote is never closed.", "       ^"),
        ("size:>1Q", "'>1Q' is not a size.", "     ^^^"),
        (
            "report created:2026-13-01",
            "'2026-13-01' is not a date in the calendar.",
            " " * 15 + "^" * 10,
        ),
        ("created:yesterdayish", "'yesterdayish' is not a date.", " " * 8 + "^" * 12),
        ("(invoice OR receipt", "This ( is never closed.", "^"),
        ("invoice)", "This ) has no ( before it.", "       ^"),
        ("OR invoice", "OR needs a search before it.", "^^"),
        ("invoice OR", "OR needs a search after it.", "        ^^"),
        ("tag:", "tag: needs a value.", "^^^^^"),
        ("()", "These parentheses are empty.", "^^"),
        ("", "The query is empty.", "^"),
    ],
)
def test_a_bad_query_points_at_the_bad_part(text: str, problem: str, caret: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query(text, now=NOW)
    lines = str(raised.value).splitlines()
    assert lines[0] == problem
    assert lines[1] == f"  {text}"
    assert lines[2] == f"  {caret}"


def test_an_unknown_field_suggests_the_near_one_and_quoting() -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query("tgs:work", now=NOW)
    assert "Did you mean tag:?" in str(raised.value)
    assert '"tgs:work"' in str(raised.value)


def test_a_query_error_is_a_validation_error_with_exit_code_3() -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query("size:big", now=NOW)
    assert raised.value.exit_code == 3
    assert (raised.value.start, raised.value.end) == (5, 8)


def test_overlong_queries_are_refused() -> None:
    with pytest.raises(QuerySyntaxError, match="limit is"):
        parse_query("word " * 300, now=NOW)
    with pytest.raises(QuerySyntaxError, match="at most 64 searches"):
        parse_query(" ".join(f"w{number}" for number in range(65)), now=NOW)
