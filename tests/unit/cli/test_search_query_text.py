"""How `dms search` puts the query back together from the words the shell gave it."""

from __future__ import annotations

from dms_desktop.cli.search import query_text


def test_one_word_is_the_whole_query_as_typed() -> None:
    assert query_text(["invoice OR receipt -tag:paid"]) == "invoice OR receipt -tag:paid"


def test_among_several_words_one_with_spaces_is_a_phrase_again() -> None:
    assert query_text(["tag:finance", "annual report"]) == 'tag:finance "annual report"'
    assert query_text(["tag:to do", "x"]) == 'tag:"to do" x'
    assert query_text(['"already quoted" x', "y"]) == '"already quoted" x y'
