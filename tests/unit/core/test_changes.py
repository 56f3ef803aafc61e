"""Tag counts follow uploads, edits and deletes without reading the partition again."""

from __future__ import annotations

from dms_desktop.core.changes import DocumentChanges, TagCounts

from .conftest import make_document


def test_an_upload_counts_its_tags_under_the_spelling_already_shown() -> None:
    counts = TagCounts({"Finance": 2, "work": 1})

    counts.apply(DocumentChanges.of_added([make_document(tags=["finance", "Travel"])]))

    assert counts.as_dict() == {"Finance": 3, "work": 1, "Travel": 1}
    assert counts.tags() == ["Finance", "Travel", "work"]


def test_a_delete_uncounts_its_tags_and_a_tag_nobody_carries_any_more_disappears() -> None:
    invoice = make_document(tags=["finance", "invoice"])
    counts = TagCounts({"finance": 2, "invoice": 1})

    counts.apply(DocumentChanges.of_removed([invoice]))

    assert counts.as_dict() == {"finance": 1}


def test_a_retag_moves_the_count_from_the_old_tags_to_the_new_ones() -> None:
    before = make_document(tags=["draft", "work"])
    after = before.model_copy(update={"tags": ("final", "work"), "version": 2})
    counts = TagCounts({"draft": 1, "work": 3})

    counts.apply(DocumentChanges.of_update(before, after))

    assert counts.as_dict() == {"work": 3, "final": 1}


def test_a_rename_leaves_the_counts_as_they_are() -> None:
    before = make_document(tags=["work"])
    after = before.model_copy(update={"filename": "renamed.pdf", "version": 2})
    counts = TagCounts({"work": 1})

    counts.apply(DocumentChanges.of_update(before, after))

    assert counts.as_dict() == {"work": 1}


def test_counts_never_go_below_zero_when_the_shown_counts_were_behind() -> None:
    counts = TagCounts({})

    counts.apply(DocumentChanges.of_removed([make_document(tags=["old"])]))

    assert counts.as_dict() == {}


def test_an_empty_change_says_so() -> None:
    assert not DocumentChanges()
    assert DocumentChanges.of_added([make_document()])


def test_a_tag_changed_on_many_documents_at_once_is_counted_like_one_by_one() -> None:
    from dms_desktop.core.changes import Update

    befores = [make_document(tags=["Work"]) for _ in range(3)] + [make_document(tags=["draft"])]
    afters = [
        before.model_copy(update={"tags": ("work", "Final"), "version": 2}) for before in befores
    ]
    added = make_document(tags=["final"])
    changes = DocumentChanges(
        added=(added,),
        updated=tuple(Update(b, a) for b, a in zip(befores, afters, strict=True)),
    )
    one_by_one = TagCounts({"Work": 3, "draft": 1, "other": 2})
    one_by_one.apply(DocumentChanges(added=(added,)))
    for before, after in zip(befores, afters, strict=True):
        one_by_one.apply(DocumentChanges.of_update(before, after))
    at_once = TagCounts({"Work": 3, "draft": 1, "other": 2})

    at_once.apply(changes)

    assert at_once.as_dict() == one_by_one.as_dict() == {"Work": 4, "final": 5, "other": 2}
