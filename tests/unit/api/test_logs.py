"""Each call logs one JSON line: request ids, an input summary, the outcome and the duration;
never the caller's token, a presigned URL, a filename or tags."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dms_desktop.api import handlers
from tests.unit.api.conftest import (
    ALICE,
    ID_TOKEN,
    PENDING_UPLOADS,
    SECURITY_TOKEN,
    create,
    invoke,
    proxy_event,
    store,
)

pytestmark = pytest.mark.usefixtures("api")


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_create_logs_one_line_with_ids_summary_outcome_and_duration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    event = proxy_event(
        "POST",
        "/documents",
        body={
            "filename": "salary-2024-confidential.pdf",
            "size": 5,
            "checksum": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "tags": ["private-tag"],
            "clientToken": "retry-key-123",
        },
    )
    answer = invoke(handlers.create_document, event)
    [line] = log_lines(capsys)

    assert line["level"] == "INFO"
    assert line["logger"] == "dms_desktop.api"
    assert line["operation"] == "CreateDocument"
    assert line["requestId"] == answer.request_id
    assert line["apiRequestId"] == event["requestContext"]["requestId"]
    assert line["userId"] == ALICE
    assert line["status"] == 201
    assert line["outcome"] == "created"
    assert isinstance(line["durationMs"], float)
    assert line["input"] == {
        "size": 5,
        "fileType": "application/pdf",
        "tagCount": 1,
        "clientToken": True,
        "documentId": answer.body["document"]["documentId"],
    }
    text = json.dumps(line)
    for secret in (
        ID_TOKEN,
        SECURITY_TOKEN,
        answer.body["upload"]["url"],
        "X-Amz-Signature",
        "salary-2024",
        "private-tag",
        "retry-key-123",
    ):
        assert secret not in text


def test_an_invalid_request_logs_the_field_names_but_not_their_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    create(filename="secret/name.pdf", size=-1)
    [line] = log_lines(capsys)

    assert (line["status"], line["outcome"]) == (400, "invalid")
    assert line["invalidFields"] == ["filename", "size"]
    assert "secret/name" not in json.dumps(line)


def test_a_get_logs_no_download_url(capsys: pytest.CaptureFixture[str]) -> None:
    document_id = store()["documentId"]
    capsys.readouterr()
    event = proxy_event("GET", "/documents/{documentId}", document_id=document_id)
    answer = invoke(handlers.get_document_by_id, event)
    [line] = log_lines(capsys)

    assert line["operation"] == "GetDocumentById"
    assert line["input"] == {"documentId": document_id}
    assert answer.body["download"]["url"] not in json.dumps(line)
    assert "X-Amz-" not in json.dumps(line)


def test_a_listing_logs_its_parameters_not_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):
        store()
    first = invoke(handlers.get_documents, proxy_event("GET", "/documents", query={"limit": "1"}))
    capsys.readouterr()
    token = first.body["nextToken"]
    query = {"limit": "1", "nextToken": token, "tag": "x"}
    invoke(handlers.get_documents, proxy_event("GET", "/documents", query=query))
    [line] = log_lines(capsys)

    assert line["input"] == {"limit": 1, "tagFilter": True, "nextToken": True, "returned": 0}
    assert token not in json.dumps(line)


def test_an_unexpected_failure_logs_the_exception_with_the_request_id(
    capsys: pytest.CaptureFixture[str], dynamodb: Any
) -> None:
    dynamodb.delete_table(TableName=PENDING_UPLOADS)
    capsys.readouterr()
    answer = create()
    failure, summary = log_lines(capsys)

    assert failure["level"] == "ERROR"
    assert failure["requestId"] == answer.request_id
    assert "ResourceNotFoundException" in failure["exception"]
    assert (summary["status"], summary["outcome"]) == (500, "error")
    assert ID_TOKEN not in json.dumps([failure, summary])
