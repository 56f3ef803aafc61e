"""`dms list` with one damaged metadata item: the others are listed, the damaged one is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dms_desktop.connect import open_backend, sign_in
from dms_desktop.core.aws import make_client
from dms_desktop.sandbox import ADMIN_USER
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server

USER = ("damaged-lister", "damaged-password")


def test_list_shows_the_rest_and_names_the_damaged_document(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", USER[1])
    assert shared_sandbox.dms("local", "add-user", USER[0]).code == 0
    monkeypatch.setenv("DMS_USERNAME", USER[0])
    ids = []
    for name in ("kept.txt", "broken.txt"):
        (tmp_path / name).write_text(name)
        uploaded = shared_sandbox.dms("upload", str(tmp_path / name), "--json")
        assert uploaded.code == 0, uploaded.err
        ids.append(json.loads(uploaded.out)[0]["documentId"])
    kept_id, broken_id = ids
    user_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    admin = sign_in(open_backend(shared_sandbox.paths), *ADMIN_USER)
    dynamodb = make_client(admin.session, "dynamodb", shared_sandbox.info.endpoint_url)
    dynamodb.update_item(  # damaged behind the app's back
        TableName=shared_sandbox.info.table,
        Key={"userId": {"S": user_id}, "documentId": {"S": broken_id}},
        UpdateExpression="SET filename = :bad",
        ExpressionAttributeValues={":bad": {"S": "../../etc/passwd"}},
    )

    listed = shared_sandbox.dms("list")
    as_json = shared_sandbox.dms("list", "--all", "--json")

    assert listed.code == 9
    assert "kept.txt" in listed.out
    assert listed.err.strip() == (
        f"dms: 1 document could not be listed because its stored details are damaged "
        f"({broken_id}); an administrator sees what is wrong in the consistency check, and you "
        "can still delete it by id (`dms delete ID`)."
    )
    assert as_json.code == 9
    result = json.loads(as_json.out)
    assert [doc["documentId"] for doc in result["documents"]] == [kept_id]
    assert result["damaged"] == [broken_id]


def test_the_admin_check_finds_a_damaged_document_and_its_owner_deletes_it(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = ("damaged-owner", "damaged-password")
    monkeypatch.setenv("DMS_PASSWORD", owner[1])
    assert shared_sandbox.dms("local", "add-user", owner[0]).code == 0
    monkeypatch.setenv("DMS_USERNAME", owner[0])
    ids = []
    for name in ("first.txt", "second.txt"):
        (tmp_path / name).write_text(name)
        uploaded = shared_sandbox.dms("upload", str(tmp_path / name), "--json")
        assert uploaded.code == 0, uploaded.err
        ids.append(json.loads(uploaded.out)[0]["documentId"])
    user_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    admin = sign_in(open_backend(shared_sandbox.paths), *ADMIN_USER)
    dynamodb = make_client(admin.session, "dynamodb", shared_sandbox.info.endpoint_url)
    for document_id in ids:  # damaged behind the app's back
        dynamodb.update_item(
            TableName=shared_sandbox.info.table,
            Key={"userId": {"S": user_id}, "documentId": {"S": document_id}},
            UpdateExpression="SET filename = :bad",
            ExpressionAttributeValues={":bad": {"S": "../../etc/passwd"}},
        )
    assert shared_sandbox.dms("info", ids[0]).code == 9

    monkeypatch.setenv("DMS_USERNAME", ADMIN_USER[0])
    monkeypatch.setenv("DMS_PASSWORD", ADMIN_USER[1])
    check = shared_sandbox.dms("admin", "check", "--json")
    assert check.code == 0, check.err
    found = [
        finding
        for finding in json.loads(check.out)["check"]["findings"]
        if finding["userId"] == user_id
    ]
    assert {(f["kind"], f["documentId"]) for f in found} == {
        ("damaged-metadata", document_id) for document_id in ids
    }
    assert all("filename" in finding["detail"] for finding in found)

    monkeypatch.setenv("DMS_USERNAME", owner[0])
    monkeypatch.setenv("DMS_PASSWORD", owner[1])
    one = shared_sandbox.dms("delete", ids[0], "--permanently", "--yes")
    rest = shared_sandbox.dms("delete", ids[1], ids[0], "--permanently", "--yes")

    assert one.code == 0, one.err
    assert f"Deleted a damaged document ({ids[0]})" in one.out
    assert rest.code == 4  # the first is deleted, the second one was already gone
    assert f"Deleted ../../etc/passwd ({ids[1]})" in rest.out
    listed = shared_sandbox.dms("list", "--all", "--json")
    assert listed.code == 0 and json.loads(listed.out)["documents"] == []
