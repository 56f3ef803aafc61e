"""The indexer on both indexes: stream records in, the right hits out, whatever the order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dms_desktop.core.errors import Unavailable
from dms_desktop.core.search.indexer import StreamIndexer
from dms_desktop.core.search.query import parse_query
from tests.support.search import Bodies, document, insert, modify, remove

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def find(index: Any, user_id: str, text: str, limit: int = 20) -> list[str]:
    return [hit.name.text for hit in index.search(user_id, parse_query(text, now=NOW), limit)]


def put(bodies: Bodies, number: int, body: bytes, **fields: Any) -> Any:
    return bodies.put(document(number, body=body, **fields), body)


def test_a_word_only_inside_a_document_finds_it_with_a_marked_snippet(
    indexer: StreamIndexer, bodies: Bodies
) -> None:
    notes = put(
        bodies,
        1,
        b"Agenda: the quarterly budget. Decision: we buy a zebra for the office.",
        filename="meeting-notes.txt",
    )
    other = put(bodies, 2, b"Nothing to see here.", filename="other.txt")
    outcome = indexer.process([insert(notes), insert(other)])
    assert outcome.applied == 2 and outcome.failed_sequence is None
    hits = indexer.index.search("user-a", parse_query("zebra", now=NOW))
    assert [hit.name.text for hit in hits] == ["meeting-notes.txt"]
    assert "[zebra]" in hits[0].snippet.marked()
    assert hits[0].document_id == notes.document_id
    assert hits[0].score > 0


def test_names_match_by_word_start_and_are_marked(indexer: StreamIndexer, bodies: Bodies) -> None:
    report = put(bodies, 1, b"numbers", filename="Quarterly-Report.pdf", file_type="text/plain")
    indexer.process([insert(report)])
    (hit,) = indexer.index.search("user-a", parse_query("quart", now=NOW))
    assert hit.name.marked() == "[Quarterly]-Report.pdf"
    assert find(indexer.index, "user-a", "name:report") == ["Quarterly-Report.pdf"]
    assert find(indexer.index, "user-a", "name:numbers") == []


def test_fields_filter_as_the_query_language_says(indexer: StreamIndexer, bodies: Bodies) -> None:
    docs = [
        put(
            bodies,
            1,
            b"a" * 10,
            filename="a.pdf",
            file_type="application/pdf",
            tags=("Invoices",),
            folder="Invoices/2024",
            created=datetime(2024, 5, 1, tzinfo=UTC),
        ),
        put(
            bodies,
            2,
            b"b" * 3000,
            filename="b.png",
            file_type="image/png",
            tags=("photos",),
            folder="Invoices/2025",
            created=datetime(2026, 1, 5, tzinfo=UTC),
        ),
        put(
            bodies,
            3,
            b"c" * 2_000_000,
            filename="c.json",
            file_type="application/json",
            tags=("Invoices", "paid"),
            created=datetime(2026, 3, 14, tzinfo=UTC),
            updated=datetime(2026, 3, 14, tzinfo=UTC),
        ),
    ]
    indexer.process([insert(doc) for doc in docs])
    index = indexer.index

    def names(query: str) -> set[str]:
        return set(find(index, "user-a", query))

    assert names("tag:invoices") == {"a.pdf", "c.json"}
    assert names("tag:invoices -tag:paid") == {"a.pdf"}
    assert names("type:pdf") == {"a.pdf"}
    assert names("type:image/*") == {"b.png"}
    assert names("type:image") == {"b.png"}
    assert names("type:application/json") == {"c.json"}
    assert names("folder:invoices") == {"a.pdf", "b.png"}
    assert names("folder:Invoices/2024") == {"a.pdf"}
    assert names("size:>1M") == {"c.json"}
    assert names("size:1K..1M") == {"b.png"}
    assert names("created:>=2026-01-01") == {"b.png", "c.json"}
    assert names("created:2024") == {"a.pdf"}
    assert names("updated:<7d") == {"c.json"}
    assert names("type:pdf OR type:png") == {"a.pdf", "b.png"}
    assert names("(type:pdf OR type:png) created:2026") == {"b.png"}
    assert names("-type:pdf") == {"b.png", "c.json"}


def test_another_users_documents_are_never_found(indexer: StreamIndexer, bodies: Bodies) -> None:
    mine = put(bodies, 1, b"secret plans", filename="plans.txt", tags=("x",))
    theirs = put(bodies, 2, b"secret plans", filename="plans.txt", tags=("x",), user_id="user-b")
    indexer.process([insert(mine), insert(theirs)])
    for query in ("secret", "plans", "tag:x", "-tag:nothing", "size:>0"):
        assert [h.document_id for h in indexer.index.search("user-b", parse_query(query))] == [
            theirs.document_id
        ]
    with pytest.raises(ValueError, match="user id"):
        indexer.index.search("", parse_query("secret"))


def test_remove_and_expiry_leave_no_hit(indexer: StreamIndexer, bodies: Bodies) -> None:
    deleted = put(bodies, 1, b"alpha words", filename="deleted.txt")
    expiring = put(bodies, 2, b"alpha words", filename="expiring.txt")
    indexer.process([insert(deleted), insert(expiring)])
    assert set(find(indexer.index, "user-a", "alpha")) == {"deleted.txt", "expiring.txt"}
    indexer.process([remove(deleted), remove(expiring, expired=True)])
    assert find(indexer.index, "user-a", "alpha") == []
    assert find(indexer.index, "user-a", "name:deleted OR name:expiring") == []


def test_replayed_and_late_records_never_roll_a_document_back(
    indexer: StreamIndexer, bodies: Bodies
) -> None:
    first = put(bodies, 1, b"body", filename="draft.txt", tags=("old",))
    second = first.model_copy(update={"filename": "final.txt", "tags": ("new",), "version": 2})
    indexer.process([insert(first), modify(first, second)])
    # the same batch again, then the first record alone, arriving late
    indexer.process([insert(first), modify(first, second)])
    indexer.process([insert(first)])
    assert find(indexer.index, "user-a", "tag:new") == ["final.txt"]
    assert find(indexer.index, "user-a", "tag:old") == []
    # removed, then an older record arrives: the document stays removed
    indexer.process([remove(second)])
    indexer.process([modify(first, second), insert(first)])
    assert find(indexer.index, "user-a", "body") == []


def test_a_rename_reuses_the_text_without_reading_the_body(
    indexer: StreamIndexer, bodies: Bodies
) -> None:
    first = put(bodies, 1, b"the zebra crossing", filename="a.txt")
    indexer.process([insert(first)])
    assert len(bodies.reads) == 1
    renamed = first.model_copy(update={"filename": "b.txt", "version": 2})
    outcome = indexer.process([modify(first, renamed)])
    assert outcome.text_reads == 0 and len(bodies.reads) == 1
    assert find(indexer.index, "user-a", "zebra") == ["b.txt"]


def test_records_superseded_in_their_batch_are_not_read(
    indexer: StreamIndexer, bodies: Bodies
) -> None:
    first = put(bodies, 1, b"one", filename="a.txt")
    changed = first.model_copy(update={"version": 2, "checksum": "1" * 64})
    bodies.bodies[(first.user_id, first.document_id)] = b"two"
    indexer.process([insert(first), modify(first, changed)])
    assert len(bodies.reads) == 1
    assert find(indexer.index, "user-a", "two") == ["a.txt"]


def test_a_body_that_cannot_be_read_stops_the_batch_at_that_record(
    search_index: Any, bodies: Bodies
) -> None:
    good = put(bodies, 1, b"good text", filename="good.txt")
    later = put(bodies, 2, b"later text", filename="later.txt")
    bad = document(3, body=b"bad text", filename="bad.txt")

    def read(user_id: str, document_id: str, limit: int) -> tuple[bytes, bool]:
        if document_id == bad.document_id:
            raise Unavailable("S3 is down")
        return bodies.read(user_id, document_id, limit)

    indexer = StreamIndexer(search_index, read)
    records = [insert(good), insert(bad), insert(later)]
    outcome = indexer.process(records)
    assert outcome.failed_sequence == records[1]["dynamodb"]["SequenceNumber"]
    assert outcome.last_sequence == records[0]["dynamodb"]["SequenceNumber"]
    assert find(search_index, "user-a", "text") == ["good.txt"]


def test_a_body_gone_before_it_was_read_still_indexes_the_name(
    indexer: StreamIndexer, bodies: Bodies
) -> None:
    lost = document(1, body=b"never stored", filename="lost-report.txt")
    indexer.process([insert(lost)])
    (hit,) = indexer.index.search("user-a", parse_query("report"))
    assert hit.note == "no stored file to read"


def test_unknown_records_are_passed_over(indexer: StreamIndexer, bodies: Bodies) -> None:
    doc = put(bodies, 1, b"fine", filename="fine.txt")
    outcome = indexer.process([{"eventName": "INSERT", "dynamodb": {}}, insert(doc)])
    assert outcome.unreadable == 1 and outcome.applied == 1


def test_tag_completion_offers_only_the_users_tags(indexer: StreamIndexer, bodies: Bodies) -> None:
    indexer.process(
        [
            insert(put(bodies, 1, b"x", tags=("Invoices", "inbox", "paid"))),
            insert(put(bodies, 2, b"x", tags=("internal",), user_id="user-b")),
        ]
    )
    assert indexer.index.tag_keys("user-a", "in") == ["inbox", "invoices"]
    assert indexer.index.tag_keys("user-b", "") == ["internal"]


def test_reindex_rebuilds_from_the_table_and_drops_what_it_no_longer_has(
    indexer: StreamIndexer, bodies: Bodies
) -> None:
    kept = put(bodies, 1, b"kept words", filename="kept.txt")
    gone = put(bodies, 2, b"gone words", filename="gone.txt")
    indexer.process([insert(kept), insert(gone)])
    reads = len(bodies.reads)
    seen: list[tuple[int, int | None]] = []
    done = indexer.index_documents(
        [kept], user_id="user-a", progress=lambda n, total: seen.append((n, total)), total=1
    )
    assert done == 1 and seen[-1] == (1, 1)
    assert find(indexer.index, "user-a", "words") == ["kept.txt"]
    assert len(bodies.reads) == reads  # the text came from the index, not the body


def test_a_pdf_is_found_by_a_word_in_its_text(indexer: StreamIndexer, bodies: Bodies) -> None:
    from tests.support.search import pdf

    body = pdf(["Annual ledger", "The aardvark budget line"])
    report = put(bodies, 1, body, filename="ledger.pdf", file_type="application/pdf")
    indexer.process([insert(report)])
    (hit,) = indexer.index.search("user-a", parse_query("aardvark"))
    assert hit.name.text == "ledger.pdf"
    assert "[aardvark]" in hit.snippet.marked()


def test_snippets_are_one_line_with_their_marks_in_place() -> None:
    from dms_desktop.core.search.index import Highlighted

    text = "  Storage\r\n used:  3 GB\n"
    marked = Highlighted(text, ((2, 9), (12, 16))).one_line()
    assert marked.text == "Storage used: 3 GB"
    assert marked.marked() == "[Storage] [used]: 3 GB"
