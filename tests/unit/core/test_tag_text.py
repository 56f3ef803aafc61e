"""Tags as one line of text: commas between tags, quotes around a tag that has a comma."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dms_desktop.core.errors import ValidationError
from dms_desktop.core.models import MAX_TAG_CHARS, normalize_tags
from dms_desktop.core.tag_text import join_tags, parse_tags, piece_at, split_tags


def test_a_tag_with_a_comma_is_quoted_and_reads_back_as_one_tag() -> None:
    tags = ("finance", "Smith, John", "2026")
    line = join_tags(tags)
    assert line == 'finance, "Smith, John", 2026'
    assert parse_tags(line) == tags


def test_quotes_inside_a_tag() -> None:
    assert split_tags('6" nails, x') == ['6" nails', "x"]  # an ordinary character mid-tag
    assert join_tags(['"quoted" word', 'say "hi", Sam']) == '"""quoted"" word", "say ""hi"", Sam"'
    assert split_tags('"""quoted"" word", "say ""hi"", Sam"') == ['"quoted" word', 'say "hi", Sam']


def test_empty_pieces_and_spaces_are_ignored() -> None:
    assert split_tags(" a, ,b ,") == ["a", "b"]
    assert split_tags("") == []


def test_an_unclosed_quote_runs_to_the_end_of_the_line() -> None:
    assert split_tags('work, "Smith, Jo') == ["work", "Smith, Jo"]
    piece = piece_at('work, "Smith, Jo', 16)
    assert (piece.text, piece.start) == ("Smith, Jo", 6)


def test_an_invalid_tag_is_reported() -> None:
    try:
        parse_tags("ok, " + "x" * (MAX_TAG_CHARS + 1))
    except ValidationError as error:
        assert f"the limit is {MAX_TAG_CHARS}" in error.message
    else:
        raise AssertionError("a tag over the limit was accepted")


tag_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda text: text.strip() != "")


@given(st.lists(tag_text, max_size=8))
def test_any_tags_read_back_as_themselves(raw: list[str]) -> None:
    tags = normalize_tags(raw)
    assert parse_tags(join_tags(tags)) == tags
