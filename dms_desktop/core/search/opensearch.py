"""The search index on AWS: an OpenSearch index (a managed domain or a Serverless collection).

The indexer Lambda writes it, the search Lambda reads it; both build an :class:`OpenSearchIndex`
on an ``opensearchpy.OpenSearch`` client they configure (signed with the function's role). Ranks
(see ``index``) are OpenSearch's external versions (``version_type=external_gte``): OpenSearch
itself refuses a write older than what it holds, and keeps a deleted document's version as a
tombstone (for ``index.gc_deletes``, 60 s by default, longer than a stream batch is retried
out of order).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from dms_desktop.core.errors import Unavailable
from dms_desktop.core.models import Document, tag_key
from dms_desktop.core.search.index import (
    DEFAULT_LIMIT,
    SNIPPET_CHARS,
    ApplyResult,
    Change,
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

INDEX_NAME = "dms-documents"
NAME_BOOST = 3.0
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use marks around highlighted words
_WORD = re.compile(r"\w+", re.UNICODE)

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "userId": {"type": "keyword"},
        "documentId": {"type": "keyword"},
        "name": {"type": "text", "analyzer": "dms_words"},
        "content": {"type": "text", "analyzer": "dms_words"},
        "tagKeys": {"type": "keyword"},
        "typeTerms": {"type": "keyword"},
        "folderTerms": {"type": "keyword"},
        "size": {"type": "long"},
        "createdAt": {"type": "date"},
        "updatedAt": {"type": "date"},
        "checksum": {"type": "keyword", "index": False},
        "note": {"type": "keyword", "index": False},
        "document": {"type": "object", "enabled": False},  # the fields, as stored
    },
}
SETTINGS: dict[str, Any] = {
    "analysis": {
        "analyzer": {
            "dms_words": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding"],
            }
        }
    }
}


SEARCH_ENDPOINT_VARIABLE = "DMS_SEARCH_ENDPOINT"  # https://... of the domain or collection
SEARCH_SERVICE_VARIABLE = "DMS_SEARCH_SERVICE"  # "es" (a managed domain) or "aoss" (Serverless)


def signed_client(endpoint: str, region: str, service: str, session: Any) -> Any:
    """An OpenSearch client whose requests are signed (SigV4) with ``session``'s credentials,
    as the function's role: ``service`` is "es" for a domain, "aoss" for a Serverless
    collection. A plain-HTTP loopback endpoint (a local test server) is not signed."""
    from urllib.parse import urlsplit

    from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

    parts = urlsplit(endpoint)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not local:
        raise ValueError(f"the search endpoint must be https://, not {endpoint!r}")
    options: dict[str, Any] = {
        "hosts": [endpoint],
        "connection_class": Urllib3HttpConnection,
        "timeout": 10,
        "max_retries": 2,
        "retry_on_timeout": True,
    }
    if not local:
        credentials = session.get_credentials()
        options.update(
            http_auth=Urllib3AWSV4SignerAuth(credentials, region, service),
            use_ssl=True,
            verify_certs=True,
        )
    return OpenSearch(**options)


def fold(word: str) -> str:
    """A word as the index keeps it: lower-cased, accents removed."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class OpenSearchIndex:
    """Documents in one OpenSearch index, one entry per (user id, document id)."""

    def __init__(self, client: Any, index_name: str = INDEX_NAME, refresh: bool = False) -> None:
        self.client = client
        self.index_name = index_name
        self.refresh = refresh  # make each write searchable at once (tests; slower)

    def _errors(self) -> tuple[type[BaseException], ...]:
        from opensearchpy import exceptions

        return (exceptions.ConnectionError, exceptions.TransportError)

    def ensure_index(self) -> None:
        """Create the index with its mappings if it does not exist."""
        try:
            if not self.client.indices.exists(index=self.index_name):
                self.client.indices.create(
                    index=self.index_name, body={"settings": SETTINGS, "mappings": MAPPINGS}
                )
        except self._errors() as exc:
            raise Unavailable(f"The search index cannot be set up: {exc}") from exc

    @staticmethod
    def _id(user_id: str, document_id: str) -> str:
        return f"{user_id}/{document_id}"

    def _get(self, user_id: str, document_id: str, fields: list[str]) -> dict[str, Any] | None:
        from opensearchpy import exceptions

        try:
            found: dict[str, Any] = self.client.get(
                index=self.index_name,
                id=self._id(user_id, document_id),
                _source_includes=fields,
            )
        except exceptions.NotFoundError:
            return None
        except self._errors() as exc:
            raise Unavailable(f"The search index cannot be read: {exc}") from exc
        return found

    def state(self, user_id: str, document_id: str) -> IndexedState | None:
        found = self._get(user_id, document_id, ["checksum"])
        if found is None:
            return None  # never indexed, or removed (OpenSearch keeps the tombstone itself)
        return IndexedState(int(found["_version"]), True, str(found["_source"].get("checksum")))

    def stored_text(self, user_id: str, document_id: str, checksum: str) -> ExtractedText | None:
        found = self._get(user_id, document_id, ["checksum", "content", "note"])
        if found is None or found["_source"].get("checksum") != checksum:
            return None
        source = found["_source"]
        return ExtractedText(str(source.get("content", "")), str(source.get("note", "")))

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        from opensearchpy import helpers

        actions: list[dict[str, Any]] = []
        skipped = 0
        for change in changes:
            if isinstance(change, Put):
                actions.append(self._put_action(change))
                continue
            rank = removed_rank(change.version) if change.version is not None else None
            if rank is None:
                current = self.state(change.user_id, change.document_id)
                if current is None:
                    skipped += 1
                    continue
                rank = current.rank + 1
            actions.append(
                {
                    "_op_type": "delete",
                    "_index": self.index_name,
                    "_id": self._id(change.user_id, change.document_id),
                    "version": rank,
                    "version_type": "external_gte",
                }
            )
        if not actions:
            return ApplyResult(0, skipped)
        applied = 0
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                raise_on_error=False,
                raise_on_exception=True,
                refresh=self.refresh,
                chunk_size=200,
                max_chunk_bytes=8 * 1024 * 1024,
            ):
                result = next(iter(item.values()))
                status = int(result.get("status", 500))
                if ok or status == 404:  # a delete of something never indexed: done too
                    applied += ok
                    skipped += not ok
                elif status == 409:  # older than what the index has
                    skipped += 1
                else:
                    raise Unavailable(
                        f"The search index refused a change ({status}: "
                        f"{str(result.get('error'))[:200]})."
                    )
        except self._errors() as exc:
            raise Unavailable(f"The search index cannot be written: {exc}") from exc
        return ApplyResult(applied, skipped)

    def _put_action(self, put: Put) -> dict[str, Any]:
        document = put.document
        return {
            "_op_type": "index",
            "_index": self.index_name,
            "_id": self._id(document.user_id, document.document_id),
            "version": put.rank,
            "version_type": "external_gte",
            "_source": {
                "userId": document.user_id,
                "documentId": document.document_id,
                "name": document.filename,
                "content": put.text.text,
                "tagKeys": [tag_key(tag) for tag in document.tags],
                "typeTerms": type_terms(document.filename, document.file_type),
                "folderTerms": folder_terms(document.folder),
                "size": document.size,
                "createdAt": document.to_json_dict()["createdAt"],
                "updatedAt": document.to_json_dict()["updatedAt"],
                "checksum": document.checksum,
                "note": put.text.note,
                "document": document.to_json_dict(),
            },
        }

    # --- searching ----------------------------------------------------------------------

    def search(
        self, user_id: str, query: SearchQuery, limit: int = DEFAULT_LIMIT
    ) -> list[SearchHit]:
        check_user(user_id)
        check_limit(limit)
        has_words = bool(positive_words(query.root))
        body: dict[str, Any] = {
            "size": limit,
            "query": {
                "bool": {
                    # The caller's user id, always: no query reaches another user's documents.
                    "filter": [{"term": {"userId": user_id}}],
                    "must": [_compile(query.root)],
                }
            },
            "_source": ["document", "note", "content"] if not has_words else ["document", "note"],
            "highlight": {
                "pre_tags": [_OPEN],
                "post_tags": [_CLOSE],
                "fields": {
                    "content": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1},
                    "name": {"number_of_fragments": 0},
                },
            },
        }
        if not has_words:
            body["sort"] = [{"updatedAt": "desc"}]
        try:
            answer = self.client.search(index=self.index_name, body=body)
        except self._errors() as exc:
            raise Unavailable(f"The search index cannot be searched: {exc}") from exc
        hits = []
        for hit in answer["hits"]["hits"]:
            source = hit["_source"]
            document = Document.model_validate(source["document"])
            highlight = hit.get("highlight", {})
            name = (
                _unmark(highlight["name"][0])
                if highlight.get("name")
                else Highlighted(document.filename)
            )
            if highlight.get("content"):
                snippet = _unmark(highlight["content"][0]).one_line()
            else:
                snippet = Highlighted(opening(str(source.get("content", ""))))
            hits.append(
                SearchHit(
                    document=document,
                    name=name,
                    score=float(hit.get("_score") or 1.0),
                    snippet=snippet,
                    note=str(source.get("note", "")),
                )
            )
        return hits

    def tag_keys(self, user_id: str, prefix: str = "", limit: int = 50) -> list[str]:
        check_user(user_id)
        body = {
            "size": 0,
            "query": {"bool": {"filter": [{"term": {"userId": user_id}}]}},
            "aggs": {
                "tags": {
                    "terms": {
                        "field": "tagKeys",
                        "size": limit,
                        "include": re.escape(tag_key(prefix)) + ".*",
                        "order": {"_key": "asc"},
                    }
                }
            },
        }
        try:
            answer = self.client.search(index=self.index_name, body=body)
        except self._errors() as exc:
            raise Unavailable(f"The search index cannot be searched: {exc}") from exc
        return [bucket["key"] for bucket in answer["aggregations"]["tags"]["buckets"]]

    def document_ids(self, user_id: str | None) -> set[tuple[str, str]]:
        query: dict[str, Any] = (
            {"term": {"userId": user_id}} if user_id is not None else {"match_all": {}}
        )
        found: set[tuple[str, str]] = set()
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": 1000,
                "query": query,
                "_source": ["userId", "documentId"],
                "sort": [{"userId": "asc"}, {"documentId": "asc"}],
            }
            if after is not None:
                body["search_after"] = after
            try:
                hits = self.client.search(index=self.index_name, body=body)["hits"]["hits"]
            except self._errors() as exc:
                raise Unavailable(f"The search index cannot be read: {exc}") from exc
            if not hits:
                return found
            for hit in hits:
                found.add((hit["_source"]["userId"], hit["_source"]["documentId"]))
            after = hits[-1]["sort"]

    def close(self) -> None:
        self.client.close()


# --- the query language in OpenSearch's terms --------------------------------------------


def _compile(node: Node) -> dict[str, Any]:
    if isinstance(node, Words):
        return _words(node)
    if isinstance(node, TagIs):
        return {"term": {"tagKeys": node.key}}
    if isinstance(node, TypeIs):
        return {"term": {"typeTerms": node.value}}
    if isinstance(node, InFolder):
        return {"term": {"folderTerms": node.path}}
    if isinstance(node, SizeRange):
        bounds: dict[str, Any] = {}
        if node.minimum is not None:
            bounds["gte"] = node.minimum
        if node.maximum is not None:
            bounds["lte"] = node.maximum
        return {"range": {"size": bounds}}
    if isinstance(node, DateRange):
        field = "createdAt" if node.field is DateField.CREATED else "updatedAt"
        dates: dict[str, Any] = {}
        if node.start is not None:
            dates["gte"] = node.start.isoformat()
        if node.end is not None:
            dates["lt"] = node.end.isoformat()
        return {"range": {field: dates}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [_compile(node.node)]}}
    if isinstance(node, AllOf):
        return {"bool": {"must": [_compile(child) for child in node.nodes]}}
    if isinstance(node, AnyOf):
        return {
            "bool": {
                "should": [_compile(child) for child in node.nodes],
                "minimum_should_match": 1,
            }
        }
    raise TypeError(f"not a query node: {node!r}")


def _words(words: Words) -> dict[str, Any]:
    tokens = [fold(token) for token in _WORD.findall(words.text)]
    if not tokens:
        return {"bool": {"must_not": [{"match_all": {}}]}}
    fields = ["name"] if words.field is TextField.NAME else ["name", "content"]
    if len(tokens) > 1:  # a phrase, or one word that is several ('meeting-notes')
        return {
            "bool": {
                "should": [
                    {"match_phrase": {field: {"query": " ".join(tokens), "boost": _boost(field)}}}
                    for field in fields
                ],
                "minimum_should_match": 1,
            }
        }
    token = tokens[0]
    options: list[dict[str, Any]] = [
        {"match": {field: {"query": token, "boost": _boost(field)}}} for field in fields
    ]
    if not words.phrase:
        options.append({"prefix": {"name": {"value": token, "boost": NAME_BOOST / 2}}})
    return {"bool": {"should": options, "minimum_should_match": 1}}


def _boost(field: str) -> float:
    return NAME_BOOST if field == "name" else 1.0


def _unmark(marked: str) -> Highlighted:
    text: list[str] = []
    ranges: list[tuple[int, int]] = []
    length = 0
    start = 0
    for piece in re.split(f"([{_OPEN}{_CLOSE}])", marked):
        if piece == _OPEN:
            start = length
        elif piece == _CLOSE:
            ranges.append((start, length))
        else:
            text.append(piece)
            length += len(piece)
    return Highlighted("".join(text), tuple(ranges))
