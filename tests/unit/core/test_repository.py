"""Document metadata in DynamoDB (moto in-process): CRUD, version lock, paging, filters, sorts."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.errors import Conflict, NotFound, ValidationError
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.models import Document, tag_key
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.schema import SortField
from tests.support.aws import OTHER_USER_ID, USER_ID

from .conftest import (
    BASE_TIME,
    ids,
    make_document,
    newest_first,
    put_documents,
    varied_documents,
    walk,
)


class DynamoDBShapedClient:
    """Delegates to a real (moto) client, but at an exact page boundary answers like DynamoDB:
    a LastEvaluatedKey, and then an empty last page (moto omits the key there; the sandbox's
    sorted lists, installed in this process by any sandbox server a test ran here, do not)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.injected = 0  # pages that ended at the end of the partition with a key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def query(self, **request: Any) -> dict[str, Any]:
        response = self._client.query(**request)
        at_limit = response["ScannedCount"] == request["Limit"]
        if "LastEvaluatedKey" not in response and at_limit:
            response["LastEvaluatedKey"] = self._last_evaluated_key(request)
            self.injected += 1
        elif at_limit and self._nothing_follows(request, response["LastEvaluatedKey"]):
            self.injected += 1  # the shape as DynamoDB gives it
        return response

    def _nothing_follows(self, request: dict[str, Any], key: dict[str, Any]) -> bool:
        following = {**request, "ExclusiveStartKey": key}
        return self._client.query(**following)["ScannedCount"] == 0

    def _last_evaluated_key(self, request: dict[str, Any]) -> dict[str, Any]:
        """The key of the last item the request read, whether or not its filter kept it."""
        unfiltered = {name: value for name, value in request.items() if name != "FilterExpression"}
        unfiltered["ExpressionAttributeValues"] = {
            ":user": request["ExpressionAttributeValues"][":user"]
        }
        last = self._client.query(**unfiltered)["Items"][-1]
        names = ["userId", "documentId"]
        for index_name, range_key, _ in schema.SORT_INDEXES.values():
            if index_name is not None and index_name == request.get("IndexName"):
                names.append(range_key)
        return {name: last[name] for name in names}


# --- create / get / delete ----------------------------------------------------------------------


def test_create_then_get_returns_the_same_document(repository: DocumentRepository) -> None:
    document = make_document(filename="Ünïcode 😀.pdf", tags=["A", "b"], folder="x/y", size=0)
    assert repository.create(document) == document
    assert repository.get(USER_ID, document.document_id) == document


def test_create_with_an_existing_id_is_a_conflict(repository: DocumentRepository) -> None:
    document = repository.create(make_document(filename="first.pdf"))
    with pytest.raises(Conflict, match="already exists"):
        repository.create(make_document(document_id=document.document_id, filename="second.pdf"))
    assert repository.get(USER_ID, document.document_id).filename == "first.pdf"


def test_get_missing_is_not_found(repository: DocumentRepository) -> None:
    missing = make_document().document_id
    with pytest.raises(NotFound, match=missing):
        repository.get(USER_ID, missing)


def test_documents_of_another_user_are_not_found(repository: DocumentRepository) -> None:
    other = repository.create(make_document(OTHER_USER_ID))
    with pytest.raises(NotFound):
        repository.get(USER_ID, other.document_id)


def test_delete_returns_the_document_and_removes_it(repository: DocumentRepository) -> None:
    document = repository.create(make_document())
    assert repository.delete(USER_ID, document.document_id) == document
    with pytest.raises(NotFound):
        repository.get(USER_ID, document.document_id)


def test_delete_missing_is_not_found(repository: DocumentRepository) -> None:
    with pytest.raises(NotFound, match="no document"):
        repository.delete(USER_ID, make_document().document_id)


def test_a_missing_table_is_a_configuration_error(dynamodb: Any) -> None:
    from dms_desktop.core.errors import ConfigError

    repository = DocumentRepository(dynamodb, "NoSuchTable")
    with pytest.raises(ConfigError, match="table and bucket names"):
        repository.get(USER_ID, make_document().document_id)


# --- update -------------------------------------------------------------------------------------


def test_update_bumps_version_and_updated_at(repository: DocumentRepository) -> None:
    document = repository.create(make_document(filename="old.pdf", tags=["x"]))
    renamed = repository.update(USER_ID, document.document_id, 1, filename="new.pdf")
    assert renamed.filename == "new.pdf"
    assert renamed.tags == ("x",)
    assert renamed.version == 2
    assert renamed.updated_at > document.updated_at
    assert renamed.created_at == document.created_at
    retagged = repository.update(USER_ID, document.document_id, 2, tags=["y", "Y", " z "])
    assert retagged.tags == ("y", "z")
    assert retagged.version == 3
    assert retagged.updated_at >= renamed.updated_at
    assert repository.get(USER_ID, document.document_id) == retagged


def test_update_keeps_the_derived_index_keys_consistent(
    repository: DocumentRepository, dynamodb: Any
) -> None:
    document = repository.create(make_document(filename="Old.pdf", tags=["Alpha"]))
    repository.update(
        USER_ID, document.document_id, 1, filename="Ñew NAME.pdf", tags=["Beta", "GAMMA"]
    )
    item = dynamodb.get_item(
        TableName=schema.TABLE_NAME,
        Key={"userId": {"S": USER_ID}, "documentId": {"S": document.document_id}},
    )["Item"]
    assert item[schema.NAME_KEY] == {"S": "ñew name.pdf"}
    assert item[schema.TYPE_KEY] == {"S": "application/pdf\x00ñew name.pdf"}
    assert item[schema.TAG_KEYS] == {"L": [{"S": "beta"}, {"S": "gamma"}]}


def test_rename_is_reflected_in_name_order(repository: DocumentRepository) -> None:
    put_documents(
        repository._client,
        [make_document(filename=name) for name in ["b.pdf", "c.pdf", "d.pdf"]],
    )
    target = repository.create(make_document(filename="a.pdf"))
    query = ListQuery(sort=SortField.NAME, descending=False, page_size=2)
    assert [doc.filename for doc in walk(repository, query)[0]] == [
        "a.pdf",
        "b.pdf",
        "c.pdf",
        "d.pdf",
    ]
    repository.update(USER_ID, target.document_id, 1, filename="Zed.pdf")
    assert [doc.filename for doc in walk(repository, query)[0]] == [
        "b.pdf",
        "c.pdf",
        "d.pdf",
        "Zed.pdf",
    ]


def test_retag_is_found_by_tag_filter_in_another_case(repository: DocumentRepository) -> None:
    target = repository.create(make_document(tags=["old"]))
    repository.create(make_document(tags=["other"]))
    repository.update(USER_ID, target.document_id, 1, tags=["Steuer 2024"])
    found, _ = walk(repository, ListQuery(tag="sTEUER 2024"))
    assert ids(found) == [target.document_id]
    assert walk(repository, ListQuery(tag="old"))[0] == []


def test_update_with_a_stale_version_is_a_conflict(repository: DocumentRepository) -> None:
    document = repository.create(make_document(filename="shared.pdf"))
    repository.update(USER_ID, document.document_id, 1, tags=["mine"])
    with pytest.raises(Conflict, match="changed elsewhere") as caught:
        repository.update(USER_ID, document.document_id, 1, filename="theirs.pdf")
    assert "shared.pdf" in str(caught.value)
    with pytest.raises(Conflict, match="changed elsewhere"):
        repository.update(USER_ID, document.document_id, 1, tags=["theirs"])
    current = repository.get(USER_ID, document.document_id)
    assert (current.filename, current.tags, current.version) == ("shared.pdf", ("mine",), 2)


@pytest.mark.parametrize("change", [{"filename": "x.pdf"}, {"tags": ["x"]}])
def test_update_of_a_deleted_document_is_not_found(
    repository: DocumentRepository, change: dict[str, Any]
) -> None:
    document = repository.create(make_document())
    repository.delete(USER_ID, document.document_id)
    with pytest.raises(NotFound):
        repository.update(USER_ID, document.document_id, 1, **change)
    with pytest.raises(NotFound):  # the update did not create a half item
        repository.get(USER_ID, document.document_id)


def test_update_with_nothing_to_change_is_rejected(repository: DocumentRepository) -> None:
    document = repository.create(make_document())
    with pytest.raises(ValidationError, match="Nothing to change"):
        repository.update(USER_ID, document.document_id, 1)


def test_update_validates_the_new_values(repository: DocumentRepository) -> None:
    document = repository.create(make_document())
    with pytest.raises(ValidationError, match="path separator"):
        repository.update(USER_ID, document.document_id, 1, filename="a/b")
    with pytest.raises(ValidationError, match="empty"):
        repository.update(USER_ID, document.document_id, 1, tags=[" "])
    assert repository.get(USER_ID, document.document_id).version == 1


# --- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 20, 21])
def test_paging_yields_every_document_once_newest_first(
    repository: DocumentRepository, count: int
) -> None:
    documents = [make_document() for _ in range(count)]
    put_documents(repository._client, documents)
    other = [make_document(OTHER_USER_ID) for _ in range(3)]
    put_documents(repository._client, other)
    listed, pages = walk(repository, ListQuery(page_size=10))
    assert ids(listed) == newest_first(documents)
    assert pages[-1].cursor is None
    assert all(page.cursor is not None for page in pages[:-1])
    # moto omits LastEvaluatedKey at an exact boundary: no empty trailing page then.
    assert len(pages) == max(1, -(-count // 10))
    assert all(page.documents for page in pages[1:])


def test_iter_all_yields_everything(repository: DocumentRepository) -> None:
    documents = [make_document() for _ in range(23)]
    put_documents(repository._client, documents)
    assert ids(list(repository.iter_all(USER_ID, ListQuery(page_size=5)))) == newest_first(
        documents
    )


@pytest.mark.parametrize("count", [0, 1, 10, 11, 20, 21, 25])
@pytest.mark.parametrize("sort", [SortField.CREATED, SortField.NAME])
def test_paging_with_dynamodb_end_of_partition_shape(
    repository: DocumentRepository, dynamodb: Any, count: int, sort: SortField
) -> None:
    """DynamoDB answers a read that ends exactly at the end of the partition with a
    LastEvaluatedKey: the page still offers a cursor only when another document follows."""
    documents = varied_documents(count)
    put_documents(dynamodb, documents)
    shaped = DynamoDBShapedClient(dynamodb)
    listed, pages = walk(
        DocumentRepository(shaped, schema.TABLE_NAME), ListQuery(sort=sort, page_size=10)
    )
    assert sorted(ids(listed)) == sorted(ids(documents))
    assert len(set(ids(listed))) == count
    assert pages[-1].cursor is None
    assert len(pages) == max(1, -(-count // 10))  # no empty page after the last
    assert all(page.documents for page in pages[1:])
    if count > 1 and count % 10 == 1:
        assert shaped.injected  # a page's look-ahead read ended at the boundary: the shape ran


def test_paging_with_dynamodb_shape_and_filters(dynamodb: Any) -> None:
    documents = [make_document(tags=["even" if n % 2 == 0 else "odd"]) for n in range(40)]
    put_documents(dynamodb, documents)
    expected = newest_first([doc for doc in documents if doc.tags == ("even",)])
    shaped = DynamoDBShapedClient(dynamodb)
    repository = DocumentRepository(shaped, schema.TABLE_NAME)
    for page_size in range(1, 12):
        listed, pages = walk(repository, ListQuery(tag="EVEN", page_size=page_size))
        assert ids(listed) == expected, page_size
        assert pages[-1].cursor is None
    assert shaped.injected  # the DynamoDB shape was really exercised


def test_a_cursor_resumes_after_the_last_returned_row(repository: DocumentRepository) -> None:
    documents = [make_document() for _ in range(7)]
    put_documents(repository._client, documents)
    first = repository.list_page(USER_ID, ListQuery(page_size=3))
    # a document created meanwhile (newer than everything) does not shift the next page
    repository.create(make_document())
    second = repository.list_page(USER_ID, ListQuery(page_size=3), first.cursor)
    expected = newest_first(documents)
    assert ids(first.documents) == expected[:3]
    assert ids(second.documents) == expected[3:6]


# --- malformed input ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -1, 1001])
def test_page_size_outside_1_to_1000_is_rejected(size: int) -> None:
    with pytest.raises(ValidationError, match="between 1 and 1000"):
        ListQuery(page_size=size)


def test_page_sizes_1_and_1000_are_allowed() -> None:
    assert ListQuery(page_size=1).page_size == 1
    assert ListQuery(page_size=1000).page_size == 1000


def _b64(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "not base64 at all \u00e9",
        "e30",  # '{}'
        _b64([1, 2, 3]),
        _b64({"v": 2, "k": {}}),
        _b64({"v": 1, "k": []}),
        _b64({"v": 1, "k": {"userId": {"S": USER_ID}}}),
        _b64({"v": 1, "k": {"userId": {"S": USER_ID}, "documentId": "plain"}}),
        _b64({"v": 1, "k": {"userId": {"S": USER_ID}, "documentId": {"BOOL": True}}}),
        _b64({"v": 1, "k": {"userId": {"S": USER_ID}, "documentId": {"S": 5}}}),
        base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(),
    ],
)
def test_malformed_cursors_are_rejected(session: Any, cursor: str) -> None:
    # Rejected before any request: no table needed.
    repository = DocumentRepository(session.client("dynamodb"), schema.TABLE_NAME)
    with pytest.raises(ValidationError, match="cursor"):
        repository.list_page(USER_ID, ListQuery(page_size=5), cursor)


def _cursor_of(repository: DocumentRepository, user_id: str, query: ListQuery) -> str:
    cursor = repository.list_page(user_id, query).cursor
    assert cursor is not None
    return cursor


def test_a_cursor_of_another_user_is_rejected(repository: DocumentRepository) -> None:
    put_documents(repository._client, [make_document(OTHER_USER_ID) for _ in range(3)])
    put_documents(repository._client, [make_document() for _ in range(3)])
    foreign = _cursor_of(repository, OTHER_USER_ID, ListQuery(page_size=1))
    with pytest.raises(ValidationError, match="another listing"):
        repository.list_page(USER_ID, ListQuery(page_size=1), foreign)


@pytest.mark.parametrize(
    ("made_for", "used_for"),
    [
        (SortField.CREATED, SortField.NAME),
        (SortField.NAME, SortField.CREATED),
        (SortField.NAME, SortField.SIZE),
        (SortField.SIZE, SortField.UPDATED),
        (SortField.TYPE, SortField.NAME),
    ],
)
def test_a_cursor_of_another_sort_order_is_rejected(
    repository: DocumentRepository, made_for: SortField, used_for: SortField
) -> None:
    put_documents(repository._client, varied_documents(4))
    cursor = _cursor_of(repository, USER_ID, ListQuery(sort=made_for, page_size=1))
    with pytest.raises(ValidationError, match="cursor"):
        repository.list_page(USER_ID, ListQuery(sort=used_for, page_size=1), cursor)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        (SortField.CREATED, {"documentId": {"N": "5"}}),
        (SortField.SIZE, {"documentId": {"S": "x"}, "size": {"S": "big"}}),
        (SortField.SIZE, {"documentId": {"S": "x"}, "size": {"N": "not a number"}}),
        (SortField.SIZE, {"documentId": {"S": "x"}, "size": {"N": "NaN"}}),
        (SortField.NAME, {"documentId": {"S": "x"}, "nameKey": {"N": "1"}}),
    ],
)
def test_a_cursor_with_a_wrongly_typed_key_is_rejected(
    repository: DocumentRepository, sort: SortField, key: dict[str, Any]
) -> None:
    put_documents(repository._client, varied_documents(3))
    cursor = _b64({"v": 1, "k": {"userId": {"S": USER_ID}, **key}})
    with pytest.raises(ValidationError, match="cursor"):
        repository.list_page(USER_ID, ListQuery(sort=sort, page_size=1), cursor)


# --- filters ------------------------------------------------------------------------------------


def test_type_filter_exact_and_family(repository: DocumentRepository) -> None:
    documents = varied_documents(30)
    put_documents(repository._client, documents)
    pdfs, _ = walk(repository, ListQuery(file_type="application/pdf", page_size=4))
    assert ids(pdfs) == newest_first([d for d in documents if d.file_type == "application/pdf"])
    images, _ = walk(repository, ListQuery(file_type="Image/*", page_size=4))
    assert ids(images) == newest_first([d for d in documents if d.file_type.startswith("image/")])
    assert {d.file_type for d in images} == {"image/png", "image/jpeg"}
    assert walk(repository, ListQuery(file_type="image", page_size=4))[0] == []


def test_text_search_is_a_case_insensitive_substring_beyond_the_first_page(
    repository: DocumentRepository,
) -> None:
    documents = [make_document(filename=f"filler {n}.txt") for n in range(40)]
    documents[3] = make_document(filename="Quarterly REPORT.pdf")
    documents[37] = make_document(filename="old report (draft).docx")
    documents[20] = make_document(filename="Straße Report.md")
    put_documents(repository._client, documents)
    found, pages = walk(repository, ListQuery(text="rEpOrT", page_size=2))
    expected = [documents[3], documents[20], documents[37]]
    assert ids(found) == newest_first(expected)
    assert pages[-1].cursor is None
    found, _ = walk(repository, ListQuery(text="STRASSE", page_size=2))  # casefold: ß == ss
    assert ids(found) == [documents[20].document_id]


def test_filters_combine_with_and(repository: DocumentRepository) -> None:
    documents = [
        make_document(filename="invoice jan.pdf", tags=["Tax"]),
        make_document(filename="invoice feb.png", file_type="image/png", tags=["tax"]),
        make_document(filename="invoice mar.pdf", tags=["home"]),
        make_document(filename="receipt.pdf", tags=["TAX"]),
        make_document(filename="invoice apr.pdf", tags=["tax", "home"]),
    ]
    put_documents(repository._client, documents)
    query = ListQuery(tag="tax", text="INVOICE", file_type="application/pdf", page_size=1)
    found, _ = walk(repository, query)
    assert ids(found) == newest_first([documents[0], documents[4]])


# --- sort orders --------------------------------------------------------------------------------

SORT_VALUES: dict[SortField, Callable[[Document], Any]] = {
    SortField.CREATED: lambda doc: doc.document_id,
    SortField.NAME: lambda doc: tag_key(doc.filename),
    SortField.SIZE: lambda doc: doc.size,
    SortField.TYPE: lambda doc: doc.file_type,
    SortField.UPDATED: lambda doc: doc.updated_at,
}


@pytest.fixture
def sort_catalog(repository: DocumentRepository, dynamodb: Any) -> list[Document]:
    """Documents whose every sort order differs from the creation order, with ties."""
    documents = varied_documents(41)
    put_documents(dynamodb, documents)
    put_documents(dynamodb, varied_documents(5, OTHER_USER_ID))
    return documents


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("sort", list(SortField))
def test_each_sort_order_matches_python_across_pages(
    repository: DocumentRepository,
    sort_catalog: list[Document],
    sort: SortField,
    descending: bool,
) -> None:
    documents = sort_catalog
    listed, pages = walk(repository, ListQuery(sort=sort, descending=descending, page_size=6))
    assert len(pages) >= 7
    assert sorted(ids(listed)) == sorted(ids(documents))  # each exactly once
    key = SORT_VALUES[sort]
    assert [key(doc) for doc in listed] == sorted(
        (key(doc) for doc in documents), reverse=descending
    )


def test_type_order_is_by_name_inside_a_type(
    repository: DocumentRepository, sort_catalog: list[Document]
) -> None:
    listed, _ = walk(repository, ListQuery(sort=SortField.TYPE, descending=False, page_size=20))
    pairs = [(doc.file_type, tag_key(doc.filename)) for doc in listed]
    assert pairs == sorted(pairs)
    assert len(pairs) == len(sort_catalog)


def test_sort_and_filter_combined(
    repository: DocumentRepository, sort_catalog: list[Document]
) -> None:
    query = ListQuery(
        sort=SortField.SIZE, descending=True, file_type="image/*", tag="T1", page_size=3
    )
    listed, _ = walk(repository, query)
    expected = [
        doc for doc in sort_catalog if doc.file_type.startswith("image/") and doc.has_tag("t1")
    ]
    assert expected
    assert sorted(ids(listed)) == sorted(ids(expected))
    assert [doc.size for doc in listed] == sorted((doc.size for doc in expected), reverse=True)


# --- duplicates ---------------------------------------------------------------------------------


def test_find_by_checksum_finds_only_the_users_documents(repository: DocumentRepository) -> None:
    same = "a" * 64
    mine = [make_document(checksum=same), make_document(checksum=same)]
    put_documents(
        repository._client,
        [
            *mine,
            make_document(checksum="b" * 64),
            make_document(OTHER_USER_ID, checksum=same),
        ],
    )
    assert sorted(repository.find_by_checksum(USER_ID, same)) == sorted(ids(mine))
    assert repository.find_by_checksum(USER_ID, "c" * 64) == []


def test_timestamps_survive_the_table(repository: DocumentRepository) -> None:
    document = make_document(created_at=BASE_TIME, updated_at=BASE_TIME + timedelta(days=1))
    repository.create(document)
    stored = repository.get(USER_ID, document.document_id)
    assert stored.created_at == BASE_TIME
    assert stored.updated_at == BASE_TIME + timedelta(days=1)


def test_a_damaged_stored_item_is_an_integrity_error_not_a_crash() -> None:
    from dms_desktop.core.errors import IntegrityError
    from dms_desktop.core.repository import from_item

    item = {
        "userId": {"S": "u"},
        "documentId": {"S": "d"},
        "filename": {"S": "bad/name"},
        "size": {"N": "1"},
        "createdAt": {"S": "2026-01-01T00:00:00.000000Z"},
        "updatedAt": {"S": "2026-01-01T00:00:00.000000Z"},
        "s3Key": {"S": "k"},
        "checksum": {"S": "c"},
    }

    with pytest.raises(IntegrityError, match="document d is damaged"):
        from_item(item)
