"""The embedded search index: tantivy, in a folder (the sandbox keeps it in its data folder).

One process writes (the sandbox's indexer, holding tantivy's writer lock); any number read,
each seeing the last commit (a reader reloads before each search). See ``index`` for the rules
every index follows (ranks, tombstones, one user per query).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from dms_desktop.core.errors import SandboxError
from dms_desktop.core.models import Document, tag_key
from dms_desktop.core.search.index import (
    DEFAULT_LIMIT,
    SNIPPET_CHARS,
    ApplyResult,
    Change,
    Drop,
    Highlighted,
    IndexedState,
    Put,
    SearchHit,
    check_limit,
    check_user,
    folder_terms,
    opening,
    positive_words,
    removed_rank,
    type_terms,
)
from dms_desktop.core.search.terms import (
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
from dms_desktop.core.search.text import ExtractedText

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TOKENIZER = "dms_words"
LIVE, GONE = "live", "gone"
NAME_BOOST = 3.0
MAX_WORD_CHARS = 40


def _analyzer() -> tantivy.TextAnalyzer:
    """Words split at anything not a letter or digit, lower-cased, accents folded: 'Café' and
    'cafe' match, 'meeting-notes.txt' is meeting, notes, txt."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_WORD_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Exact terms: user id + "/" + document id (one entry each), the user, live or gone (a
    # tombstone), the casefolded tags, and the type and folder terms (index.type_terms and
    # index.folder_terms).
    for name in ("key", "user", "state", "type", "folder"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("tags", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("name", stored=True, tokenizer_name=TOKENIZER)
    builder.add_text_field("content", stored=True, tokenizer_name=TOKENIZER)
    builder.add_unsigned_field("rank", stored=True, indexed=True)
    builder.add_unsigned_field("size", indexed=True, fast=True)
    builder.add_date_field("created", indexed=True, fast=True)
    builder.add_date_field("updated", indexed=True, fast=True)
    builder.add_bytes_field("meta", stored=True)  # the document's fields, JSON
    return builder.build()


class EmbeddedIndex:
    """A tantivy index in ``directory``; ``writable`` takes tantivy's writer lock (one writer
    per folder, across processes)."""

    def __init__(self, directory: Path, writable: bool = False) -> None:
        self.directory = directory
        self._analyzer = _analyzer()
        self._lock = threading.RLock()
        self._writer: Any = None
        try:
            if writable:
                directory.mkdir(parents=True, exist_ok=True)
                self._check_version(create=True)
                self._index = tantivy.Index(_schema(), path=str(directory), reuse=True)
            else:
                if not tantivy.Index.exists(str(directory)):
                    self._index = tantivy.Index(_schema())  # nothing indexed yet: empty
                else:
                    self._index = tantivy.Index.open(str(directory))
            self._index.register_tokenizer(TOKENIZER, self._analyzer)
            self._schema = self._index.schema
            if writable:
                self._writer = self._index.writer(heap_size=32_000_000, num_threads=1)
        except ValueError as exc:
            raise SandboxError(
                f"The search index in {directory} cannot be opened ({exc}); "
                "`dms admin reindex` rebuilds it"
            ) from exc

    def _check_version(self, create: bool) -> None:
        marker = self.directory / "dms-index.json"
        if marker.exists():
            try:
                version = json.loads(marker.read_text(encoding="utf-8")).get("schema")
            except (OSError, ValueError):
                version = None
            if version != SCHEMA_VERSION:
                raise ValueError(f"index schema {version}, this version needs {SCHEMA_VERSION}")
        elif create:
            if any(self.directory.iterdir()):
                raise ValueError("the folder holds something that is not a search index")
            marker.write_text(json.dumps({"schema": SCHEMA_VERSION}), encoding="utf-8")

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.wait_merging_threads()

    # --- reading ------------------------------------------------------------------------

    def _searcher(self) -> Any:
        self._index.reload()
        return self._index.searcher()

    def _term(self, field: str, value: Any) -> Any:
        return tantivy.Query.term_query(self._schema, field, value)

    def _entry(self, searcher: Any, user_id: str, document_id: str) -> Any | None:
        hits = searcher.search(self._term("key", f"{user_id}/{document_id}"), 1, count=False).hits
        return searcher.doc(hits[0][1]) if hits else None

    def state(self, user_id: str, document_id: str) -> IndexedState | None:
        entry = self._entry(self._searcher(), user_id, document_id)
        return None if entry is None else _state_of(entry)

    def stored_text(self, user_id: str, document_id: str, checksum: str) -> ExtractedText | None:
        entry = self._entry(self._searcher(), user_id, document_id)
        if entry is None:
            return None
        meta = _meta(entry)
        if meta.get("state") != LIVE or meta.get("checksum") != checksum:
            return None
        return ExtractedText(str(entry.get_first("content") or ""), str(meta.get("note", "")))

    def document_ids(self, user_id: str | None) -> set[tuple[str, str]]:
        searcher = self._searcher()
        clauses = [(tantivy.Occur.Must, self._term("state", LIVE))]
        if user_id is not None:
            clauses.append((tantivy.Occur.Must, self._term("user", user_id)))
        query = tantivy.Query.boolean_query(clauses)
        total = searcher.search(query, 1, count=True).count
        found: set[tuple[str, str]] = set()
        if total:
            for _score, address in searcher.search(query, total, count=False).hits:
                meta = _meta(searcher.doc(address))
                found.add((str(meta["userId"]), str(meta["documentId"])))
        return found

    def tag_keys(self, user_id: str, prefix: str = "", limit: int = 50) -> list[str]:
        check_user(user_id)
        searcher = self._searcher()
        mine = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, self._term("user", user_id)),
                (tantivy.Occur.Must, self._term("state", LIVE)),
            ]
        )
        terms = searcher.terms_with_prefix("tags", tag_key(prefix), filter_query=mine, limit=limit)
        return [term for term, _count in terms]

    # --- writing ------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        if not changes:
            return ApplyResult()
        with self._lock:
            if self._writer is None:
                raise RuntimeError("this index was opened for reading")
            searcher = self._searcher()
            pending: dict[tuple[str, str], IndexedState | None] = {}
            applied = skipped = 0
            for change in changes:
                key = change.key
                if key in pending:
                    current = pending[key]
                else:
                    entry = self._entry(searcher, *key)
                    current = None if entry is None else _state_of(entry)
                if isinstance(change, Put):
                    rank = change.rank
                elif change.version is not None:
                    rank = removed_rank(change.version)
                else:
                    rank = (current.rank + 1) if current is not None and current.live else -1
                    if rank < 0:  # nothing live to drop
                        skipped += 1
                        continue
                if current is not None and rank < current.rank:
                    skipped += 1
                    continue
                term_key = f"{key[0]}/{key[1]}"
                self._writer.delete_documents_by_term("key", term_key)
                if isinstance(change, Put):
                    self._writer.add_document(self._live_document(change))
                    pending[key] = IndexedState(rank, True, change.document.checksum)
                else:
                    self._writer.add_document(self._tombstone(change, rank))
                    pending[key] = IndexedState(rank, False)
                applied += 1
            if applied:
                self._writer.commit()
            return ApplyResult(applied, skipped)

    def remove_all(self) -> None:
        """Empty the index (a full reindex starts here)."""
        with self._lock:
            if self._writer is None:
                raise RuntimeError("this index was opened for reading")
            self._writer.delete_all_documents()
            self._writer.commit()

    def _live_document(self, put: Put) -> Any:
        document = put.document
        meta = {
            **document.to_json_dict(),
            "state": LIVE,
            "rank": put.rank,
            "note": put.text.note,
        }
        return tantivy.Document.from_dict(
            {
                "key": f"{document.user_id}/{document.document_id}",
                "user": document.user_id,
                "state": LIVE,
                "tags": [tag_key(tag) for tag in document.tags],
                "type": type_terms(document.filename, document.file_type),
                "folder": folder_terms(document.folder),
                "name": document.filename,
                "content": put.text.text,
                "rank": put.rank,
                "size": document.size,
                "created": document.created_at,
                "updated": document.updated_at,
                "meta": json.dumps(meta).encode(),
            },
            self._schema,
        )

    def _tombstone(self, drop: Drop, rank: int) -> Any:
        meta = {"userId": drop.user_id, "documentId": drop.document_id, "state": GONE}
        return tantivy.Document.from_dict(
            {
                "key": f"{drop.user_id}/{drop.document_id}",
                "user": drop.user_id,
                "state": GONE,
                "rank": rank,
                "meta": json.dumps(meta).encode(),
            },
            self._schema,
        )

    # --- searching ----------------------------------------------------------------------

    def search(
        self, user_id: str, query: SearchQuery, limit: int = DEFAULT_LIMIT
    ) -> list[SearchHit]:
        check_user(user_id)
        check_limit(limit)
        compiled = self._compile(query.root)
        scoped = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, self._term("user", user_id)),
                (tantivy.Occur.Must, self._term("state", LIVE)),
                (tantivy.Occur.Must, compiled),
            ]
        )
        searcher = self._searcher()
        words = positive_words(query.root)
        if words:
            hits = searcher.search(scoped, limit, count=False).hits
        else:  # nothing to score: newest first
            hits = [
                (1.0, address)
                for _value, address in searcher.search(
                    scoped, limit, count=False, order_by_field="updated"
                ).hits
            ]
        snippets = tantivy.SnippetGenerator.create(searcher, scoped, self._schema, "content")
        snippets.set_max_num_chars(SNIPPET_CHARS)
        name_words = self._name_words(query.root)
        found: list[SearchHit] = []
        for score, address in hits:
            entry = searcher.doc(address)
            found.append(self._hit(entry, float(score), snippets if words else None, name_words))
        return found

    def _hit(
        self, entry: Any, score: float, snippets: Any | None, name_words: list[tuple[str, bool]]
    ) -> SearchHit:
        meta = _meta(entry)
        document = Document.model_validate(meta)
        content = str(entry.get_first("content") or "")
        if snippets is not None:
            snippet = snippets.snippet_from_doc(entry)
            fragment = str(snippet.fragment())
            ranges = _char_ranges(fragment, [(r.start, r.end) for r in snippet.highlighted()])
            highlighted = Highlighted(fragment, ranges).one_line()
        else:
            highlighted = Highlighted("")
        if not highlighted.text:
            highlighted = Highlighted(opening(content))
        return SearchHit(
            document=document,
            name=Highlighted(document.filename, self._name_ranges(document.filename, name_words)),
            score=score,
            snippet=highlighted,
            note=str(meta.get("note", "")),
        )

    def _name_words(self, node: Node) -> list[tuple[str, bool]]:
        """(token, is a prefix) for each word that may match in names."""
        found: list[tuple[str, bool]] = []
        for words in positive_words(node):
            tokens = self._analyzer.analyze(words.text)
            prefix = not words.phrase and len(tokens) == 1
            found += [(token, prefix) for token in tokens]
        return found

    def _name_ranges(self, name: str, words: list[tuple[str, bool]]) -> tuple[tuple[int, int], ...]:
        ranges = []
        for token in self._analyzer.pre_tokenize(name).tokens:
            text = token.text
            if any(text == word or (prefix and text.startswith(word)) for word, prefix in words):
                ranges.append((token.char_offset_from, token.char_offset_to))
        return tuple(_char_ranges(name, ranges))

    # --- the query language in tantivy's terms -------------------------------------------

    def _compile(self, node: Node) -> Any:
        q = tantivy.Query
        if isinstance(node, Words):
            return self._words(node)
        if isinstance(node, TagIs):
            return self._term("tags", node.key)
        if isinstance(node, TypeIs):
            return self._term("type", node.value)
        if isinstance(node, InFolder):
            return self._term("folder", node.path)
        if isinstance(node, SizeRange):
            return q.range_query(
                self._schema,
                "size",
                tantivy.FieldType.Unsigned,
                max(node.minimum or 0, 0),
                node.maximum if node.maximum is not None else 2**63,
            )
        if isinstance(node, DateRange):
            return q.range_query(
                self._schema,
                "created" if node.field is DateField.CREATED else "updated",
                tantivy.FieldType.Date,
                _clamp(node.start or tantivy.MIN_DATETIME),
                _clamp(node.end or tantivy.MAX_DATETIME),
                include_lower=True,
                include_upper=False,
            )
        if isinstance(node, Not):
            return q.boolean_query(
                [
                    (tantivy.Occur.Must, q.all_query()),
                    (tantivy.Occur.MustNot, self._compile(node.node)),
                ]
            )
        if isinstance(node, AllOf):
            return q.boolean_query([(tantivy.Occur.Must, self._compile(n)) for n in node.nodes])
        if isinstance(node, AnyOf):
            return q.boolean_query([(tantivy.Occur.Should, self._compile(n)) for n in node.nodes])
        raise TypeError(f"not a query node: {node!r}")

    def _words(self, words: Words) -> Any:
        q = tantivy.Query
        tokens = self._analyzer.analyze(words.text)
        if not tokens:
            return q.empty_query()
        fields = ["name"] if words.field is TextField.NAME else ["name", "content"]
        if len(tokens) > 1 and (words.phrase or len(words.text.split()) == 1):
            # a phrase, or one word that is several ('meeting-notes'): the words in sequence
            in_order: list[str | tuple[int, str]] = list(tokens)
            phrases = [
                q.boost_query(
                    q.phrase_query(self._schema, field, in_order),
                    _boost(field),
                )
                for field in fields
            ]
            return q.boolean_query([(tantivy.Occur.Should, phrase) for phrase in phrases])
        per_token = []
        for token in tokens:
            options = [q.boost_query(self._term(field, token), _boost(field)) for field in fields]
            if not words.phrase:  # a word also matches the start of a name's word
                options.append(
                    q.boost_query(
                        q.regex_query(self._schema, "name", re.escape(token) + ".*"),
                        NAME_BOOST / 2,
                    )
                )
            per_token.append(
                q.boolean_query([(tantivy.Occur.Should, option) for option in options])
            )
        return q.boolean_query([(tantivy.Occur.Must, part) for part in per_token])


def _clamp(moment: datetime) -> datetime:
    """A date within what tantivy can hold (years 1677 to 2262)."""
    return min(max(moment.astimezone(UTC), tantivy.MIN_DATETIME), tantivy.MAX_DATETIME)


def _boost(field: str) -> float:
    return NAME_BOOST if field == "name" else 1.0


def _meta(entry: Any) -> dict[str, Any]:
    raw = entry.get_first("meta")
    return dict(json.loads(bytes(raw))) if raw else {}


def _state_of(entry: Any) -> IndexedState:
    meta = _meta(entry)
    return IndexedState(
        rank=int(entry.get_first("rank") or 0),
        live=meta.get("state") == LIVE,
        checksum=str(meta.get("checksum", "")),
    )


def _char_ranges(text: str, byte_ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """tantivy's byte offsets (UTF-8) as character offsets into ``text``."""
    if text.isascii():
        return tuple(byte_ranges)
    encoded = text.encode()
    return tuple(
        (len(encoded[:start].decode(errors="ignore")), len(encoded[:end].decode(errors="ignore")))
        for start, end in byte_ranges
    )
