"""The search query language, parsed once for the CLI, the window and the web API.

    quarterly report                 both words, in the name or the text
    "quarterly report"               the phrase
    name:report  name:"annual plan"  in the name only (a word matches the start of a name word)
    tag:invoices  -tag:draft         with the tag / without it
    type:pdf  type:image/*  type:application/json
    folder:Invoices/2024             in that folder or below it
    size:>1M  size:<=500K  size:1M..10M
    created:>=2026-01-01  created:2026-03  updated:<7d  updated:today
    invoice OR receipt               either; OR binds tighter than the implicit AND
    (invoice OR receipt) -tag:paid   parentheses group

A query that cannot be read raises :class:`QuerySyntaxError`, whose message shows the query with
a caret under the part that is wrong. Matching is case-insensitive.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dms_desktop.core.errors import ValidationError
from dms_desktop.core.models import tag_key
from dms_desktop.core.search.terms import (  # re-exported: the parser's output
    AllOf,
    AnyOf,
    DateField,
    DateRange,
    InFolder,
    Node,
    Not,
    SearchQuery,
    SizeRange,
    TagIs,
    TextField,
    TypeIs,
    Words,
)

__all__ = [
    "FIELDS",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "AllOf",
    "AnyOf",
    "DateField",
    "DateRange",
    "InFolder",
    "Node",
    "Not",
    "QuerySyntaxError",
    "SearchQuery",
    "SizeRange",
    "TagIs",
    "TextField",
    "TypeIs",
    "Words",
    "parse_query",
]

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
FIELDS = ("tag", "type", "folder", "size", "created", "updated", "name")


class QuerySyntaxError(ValidationError):
    """A query that cannot be read; the message points at the bad part with a caret."""

    def __init__(self, problem: str, query: str, start: int, end: int, hint: str = "") -> None:
        self.problem = problem
        self.query = query
        self.start = max(0, min(start, len(query)))
        self.end = max(self.start + 1, min(end, len(query) + 1))
        caret = " " * self.start + "^" * (self.end - self.start)
        lines = [problem, f"  {query}", f"  {caret}"]
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))


# --- tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "phrase", "field", "(", ")", "-", "OR", "AND", "NOT"
    text: str  # a word, a phrase's inside, or a field's value
    start: int
    end: int
    field: str = ""  # for "field": the field name (as typed)
    field_end: int = 0  # where the field's name ends (its ':')
    quoted: bool = False  # a field whose value was in quotes


_FIELD_NAME = re.compile(r"[A-Za-z]+")


class _Lexer:
    def __init__(self, query: str) -> None:
        self.query = query
        self.pos = 0

    def error(self, problem: str, start: int, end: int, hint: str = "") -> QuerySyntaxError:
        return QuerySyntaxError(problem, self.query, start, end, hint)

    def tokens(self) -> list[_Token]:
        found: list[_Token] = []
        query = self.query
        while True:
            while self.pos < len(query) and query[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(query):
                return found
            char = query[self.pos]
            start = self.pos
            if char in "()":
                self.pos += 1
                found.append(_Token(char, char, start, self.pos))
            elif char == "-" and self._starts_term(self.pos + 1):
                self.pos += 1
                found.append(_Token("-", "-", start, self.pos))
            elif char == '"':
                text = self._quoted(start)
                found.append(_Token("phrase", text, start, self.pos))
            else:
                found.append(self._word_or_field(start))

    def _starts_term(self, pos: int) -> bool:
        return pos < len(self.query) and not self.query[pos].isspace() and self.query[pos] != ")"

    def _quoted(self, start: int) -> str:
        end = self.query.find('"', start + 1)
        if end < 0:
            raise self.error(
                "This quote is never closed.",
                start,
                start + 1,
                'Close the phrase with a second " or remove the quote.',
            )
        self.pos = end + 1
        return self.query[start + 1 : end]

    def _bare(self) -> str:
        start = self.pos
        while (
            self.pos < len(self.query)
            and not self.query[self.pos].isspace()
            and self.query[self.pos] not in '()"'
        ):
            self.pos += 1
        return self.query[start : self.pos]

    def _word_or_field(self, start: int) -> _Token:
        word = self._bare()
        name, colon, _ = word.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            if word in ("OR", "AND", "NOT"):
                return _Token(word, word, start, self.pos)
            return _Token("word", word, start, self.pos)
        field = name.casefold()
        field_end = start + len(name)
        if field not in FIELDS:
            close = difflib.get_close_matches(field, FIELDS, n=1)
            suggestion = f"Did you mean {close[0]}:? " if close else ""
            raise self.error(
                f"Unknown field {name}:.",
                start,
                field_end,
                f"{suggestion}Fields: {', '.join(f + ':' for f in FIELDS)}. "
                'To search for the text itself, put it in quotes ("' + word + '").',
            )
        value_start = field_end + 1
        self.pos = value_start
        if self.pos < len(self.query) and self.query[self.pos] == '"':
            value = self._quoted(self.pos)
            quoted = True
        else:
            value = self._bare()
            quoted = False
        if not value.strip():
            raise self.error(
                f"{name}: needs a value.",
                start,
                self.pos + 1,
                _VALUE_HINTS[field],
            )
        return _Token("field", value, start, self.pos, field, field_end, quoted)


_VALUE_HINTS = {
    "tag": 'For example tag:invoices, or tag:"to do" for a tag with a space.',
    "type": "For example type:pdf, type:image/* or type:application/json.",
    "folder": "For example folder:Invoices/2024.",
    "size": "For example size:>1M, size:<=500K or size:1M..10M.",
    "created": "For example created:>=2026-01-01, created:2026-03 or created:<7d.",
    "updated": "For example updated:<7d, updated:today or updated:>=2026-01-01.",
    "name": 'For example name:report or name:"annual report".',
}


# --- values --------------------------------------------------------------------------------

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_COMPARISON = re.compile(r"(>=|<=|>|<|=)?(.*)", re.DOTALL)
_AGE = re.compile(r"(\d+)\s*(h|d|w|y)", re.IGNORECASE)
_AGE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _parse_size(text: str) -> int | None:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        return None
    unit = match.group(2).casefold().replace("i", "")
    unit = unit[:-1] if len(unit) == 2 and unit.endswith("b") else unit
    if unit not in _SIZE_UNITS:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _next_period(start: date, month: bool, year: bool) -> date:
    if year:
        return date(start.year + 1, 1, 1)
    if month:
        return date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start + timedelta(days=1)


class _Parser:
    def __init__(self, query: str, now: datetime) -> None:
        self.query = query
        self.now = now
        self.tokens = _Lexer(query).tokens()
        self.index = 0
        self.terms = 0

    def error(self, problem: str, start: int, end: int, hint: str = "") -> QuerySyntaxError:
        return QuerySyntaxError(problem, self.query, start, end, hint)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise self.error("The query is empty.", 0, 1, "Type a word, a phrase or a field.")
        node = self.all_of()
        token = self.peek()
        if token is not None:  # only a ')' can stop all_of early
            raise self.error(
                "This ) has no ( before it.", token.start, token.end, "Remove it or add a (."
            )
        return node

    def all_of(self) -> Node:
        nodes: list[Node] = []
        while True:
            token = self.peek()
            if token is None or token.kind == ")":
                break
            if token.kind == "AND":
                self.take()
                following = self.peek()
                if not nodes or following is None or following.kind in (")", "OR", "AND"):
                    raise self.error("AND needs a search on both sides.", token.start, token.end)
                continue
            nodes.append(self.any_of())
        if not nodes:
            token = self.peek()
            where = token.start if token is not None else len(self.query)
            raise self.error("Nothing to search for here.", where, where + 1)
        return nodes[0] if len(nodes) == 1 else AllOf(tuple(nodes))

    def any_of(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "OR":
            raise self.error(
                "OR needs a search before it.",
                token.start,
                token.end,
                "For example: invoice OR receipt.",
            )
        nodes = [self.unary()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            following = self.peek()
            if following is None or following.kind in (")", "OR", "AND"):
                raise self.error(
                    "OR needs a search after it.",
                    token.start,
                    token.end,
                    "For example: invoice OR receipt.",
                )
            nodes.append(self.unary())
        return nodes[0] if len(nodes) == 1 else AnyOf(tuple(nodes))

    def unary(self) -> Node:
        token = self.take()
        if token.kind in ("-", "NOT"):
            following = self.peek()
            if following is None or following.kind in (")", "OR", "AND"):
                raise self.error(
                    f"{token.text} needs a search to leave out.", token.start, token.end
                )
            return Not(self.unary())
        if token.kind == "(":
            inner = self.peek()
            if inner is None:
                raise self.error("This ( is never closed.", token.start, token.end)
            if inner.kind == ")":
                raise self.error("These parentheses are empty.", token.start, inner.end)
            node = self.all_of()
            closing = self.peek()
            if closing is None:
                raise self.error(
                    "This ( is never closed.", token.start, token.end, "Add a ) after the group."
                )
            self.take()
            return node
        if token.kind == ")":
            raise self.error("This ) has no ( before it.", token.start, token.end)
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(
                f"A query may have at most {MAX_TERMS} searches.", token.start, len(self.query)
            )
        if token.kind == "phrase":
            if not token.text.strip():
                raise self.error("This phrase is empty.", token.start, token.end)
            return Words(token.text.strip(), TextField.ANY, phrase=True)
        if token.kind == "field":
            return self.field(token)
        return Words(token.text, TextField.ANY)

    def field(self, token: _Token) -> Node:
        value, field = token.text.strip(), token.field
        value_start = token.field_end + 1
        if field == "name":
            return Words(value, TextField.NAME, phrase=token.quoted)
        if field == "tag":
            return TagIs(tag_key(value))
        if field == "type":
            return TypeIs(value.casefold())
        if field == "folder":
            path = "/".join(part for part in value.replace("\\", "/").split("/") if part)
            if not path:
                raise self.error(
                    "folder: needs a folder name.", value_start, token.end, _VALUE_HINTS["folder"]
                )
            return InFolder(tag_key(path))
        if field == "size":
            return self.size(value, value_start, token.end)
        return self.date(DateField(field), value, value_start, token.end)

    def size(self, value: str, start: int, end: int) -> SizeRange:
        def bad() -> QuerySyntaxError:
            return self.error(
                f"{value!r} is not a size.",
                start,
                end,
                "Sizes are a number with an optional unit (K, M, G; 1K = 1024 bytes), after an "
                "optional >, >=, < or <=: size:>1M, size:<=500K, or a range: size:1M..10M.",
            )

        if ".." in value:
            low_text, _, high_text = value.partition("..")
            low = _parse_size(low_text) if low_text else None
            high = _parse_size(high_text) if high_text else None
            if (low_text and low is None) or (high_text and high is None) or (low is high is None):
                raise bad()
            return SizeRange(low, high)
        match = _COMPARISON.fullmatch(value)
        operator, amount_text = (match.group(1) or "=", match.group(2)) if match else ("=", value)
        amount = _parse_size(amount_text)
        if amount is None:
            raise bad()
        return {
            ">": SizeRange(amount + 1, None),
            ">=": SizeRange(amount, None),
            "<": SizeRange(None, amount - 1),
            "<=": SizeRange(None, amount),
            "=": SizeRange(amount, amount),
        }[operator]

    def date(self, field: DateField, value: str, start: int, end: int) -> DateRange:
        match = _COMPARISON.fullmatch(value)
        operator, moment = (match.group(1) or "", match.group(2).strip()) if match else ("", value)
        age = _AGE.fullmatch(moment)
        if age is not None:
            amount, unit = int(age.group(1)), age.group(2).casefold()
            try:
                span = timedelta(days=365 * amount) if unit == "y" else _AGE_UNITS[unit] * amount
                boundary = self.now - span
            except OverflowError:
                raise self.error(f"{moment!r} is too far back.", start, end) from None
            # An age: '<7d' is less than 7 days old, that is, newer than 7 days ago.
            if operator in ("", "<", "<="):
                return DateRange(field, boundary, None)
            return DateRange(field, None, boundary)
        period = self.period(moment, start, end)
        if period is None:
            raise self.error(
                f"{moment!r} is not a date.",
                start,
                end,
                "Dates are 2026-01-31, 2026-01 or 2026 (a day, a month, a year), today or "
                "yesterday, or an age such as 7d, 12h, 2w, 1y; with an optional >, >=, < or <=: "
                f"{field}:>=2026-01-01, {field}:<7d.",
            )
        first, after = period
        return {
            "": DateRange(field, first, after),
            "=": DateRange(field, first, after),
            ">=": DateRange(field, first, None),
            ">": DateRange(field, after, None),
            "<": DateRange(field, None, first),
            "<=": DateRange(field, None, after),
        }[operator]

    def period(self, text: str, start: int, end: int) -> tuple[datetime, datetime] | None:
        """The local-time span [first, after) that a date names."""
        zone = self.now.tzinfo
        lowered = text.casefold()
        if lowered in ("today", "yesterday"):
            day = self.now.date() - timedelta(days=lowered == "yesterday")
            first_day, after_day = day, day + timedelta(days=1)
        else:
            match = _DATE.fullmatch(text)
            if match is None:
                return None
            year, month, day_text = match.group(1), match.group(2), match.group(3)
            try:
                first_day = date(int(year), int(month or 1), int(day_text or 1))
            except ValueError:
                raise self.error(f"{text!r} is not a date in the calendar.", start, end) from None
            after_day = _next_period(first_day, month=day_text is None, year=month is None)
        first = datetime.combine(first_day, datetime.min.time(), zone)
        after = datetime.combine(after_day, datetime.min.time(), zone)
        return first, after


def parse_query(text: str, now: datetime | None = None) -> SearchQuery:
    """Parse a query (QuerySyntaxError if it cannot be read). ``now`` (time-zone aware) anchors
    ages such as ``updated:<7d`` and the days of dates; by default the local time now."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"The query is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}.",
            text[:60] + "…",
            60,
            61,
        )
    moment = (now or datetime.now().astimezone()).astimezone()
    if now is not None and now.tzinfo is not None:
        moment = now
    return SearchQuery(text, _Parser(text, moment).parse())
