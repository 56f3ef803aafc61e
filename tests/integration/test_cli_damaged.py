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
        f"({broken_id}); an administrator can repair it with the consistency check."
    )
    assert as_json.code == 9
    result = json.loads(as_json.out)
    assert [doc["documentId"] for doc in result["documents"]] == [kept_id]
    assert result["damaged"] == [broken_id]
