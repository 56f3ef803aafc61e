"""Naming a document by its name instead of its id (`dms download report.pdf`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core.errors import AmbiguousName, NotFound, ValidationError
from dms_desktop.core.service import DocumentService


def _store(service: DocumentService, tmp_path: Path, name: str, folder: str = "") -> str:
    source = tmp_path / f"source-{len(list(tmp_path.iterdir()))}"
    source.write_bytes(name.encode())
    return service.upload(source, filename=name, folder=folder).document_id


def test_a_document_is_found_by_its_id_or_its_name(
    service: DocumentService, tmp_path: Path
) -> None:
    report = _store(service, tmp_path, "Report 2024.pdf")
    _store(service, tmp_path, "Report 2023.pdf")

    assert service.find(report).filename == "Report 2024.pdf"
    assert service.find("Report 2024.pdf").document_id == report
    assert service.find("report 2024.PDF").document_id == report  # case does not matter
    assert service.find(" Report 2024.pdf ").document_id == report  # typed with spaces


def test_an_exact_name_wins_over_one_that_differs_in_case(
    service: DocumentService, tmp_path: Path
) -> None:
    upper = _store(service, tmp_path, "NOTES.txt")
    lower = _store(service, tmp_path, "notes.txt")

    assert service.find("NOTES.txt").document_id == upper
    assert service.find("notes.txt").document_id == lower
    with pytest.raises(AmbiguousName) as ambiguous:
        service.find("Notes.txt")
    assert set(ambiguous.value.document_ids) == {upper, lower}


def test_a_name_two_documents_share_lists_their_ids(
    service: DocumentService, tmp_path: Path
) -> None:
    first = _store(service, tmp_path, "scan.pdf", folder="2023")
    second = _store(service, tmp_path, "scan.pdf", folder="2024")

    with pytest.raises(AmbiguousName) as ambiguous:
        service.find("scan.pdf")

    message = str(ambiguous.value)
    assert message.startswith("2 documents are named 'scan.pdf': ")
    assert first in message and second in message and "in 2023" in message
    assert message.endswith("Name one by its id.")
    assert "\n" not in message
    assert isinstance(ambiguous.value, ValidationError)  # exit code 3


def test_a_name_nobody_has_is_not_found(service: DocumentService, tmp_path: Path) -> None:
    _store(service, tmp_path, "kept.txt")
    with pytest.raises(NotFound, match=r"There is no document named 'kep\.txt'"):
        service.find("kep.txt")  # a name is matched whole
    with pytest.raises(ValidationError, match="empty"):
        service.find("  ")


def test_a_name_is_looked_up_with_one_query_on_the_name_index(
    service: DocumentService, dynamodb: Any, tmp_path: Path
) -> None:
    for number in range(30):
        _store(service, tmp_path, f"other {number}.txt")
    wanted = _store(service, tmp_path, "wanted.txt")
    requests: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        requests.append(params)

    dynamodb.meta.events.register("provide-client-params.dynamodb.*", remember)
    try:
        assert service.find("wanted.txt").document_id == wanted
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.*", remember)

    (query,) = requests  # not a listing of every document
    assert query["IndexName"] == "byName"
    assert query["ExpressionAttributeValues"][":name"] == {"S": "wanted.txt"}
