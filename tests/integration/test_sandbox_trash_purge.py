"""The sandbox honours the trash's retention as DynamoDB's TTL (and the stream consumer) do on
AWS: a document whose time in the trash is over loses its item and its body; others stay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dms_desktop.core.document_batches import DocumentBatches
from dms_desktop.core.schema import object_key
from dms_desktop.core.trash import move_to_trash
from dms_desktop.sandbox import stop
from dms_desktop.sandbox.lifecycle import purge_expired_trash
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome, start_sandbox

pytestmark = pytest.mark.server


def _upload(sandbox: SandboxHome, path: Path) -> dict[str, str]:
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep")
    assert result.code == 0, result.err
    document: dict[str, str] = json.loads(result.out)[0]
    return document


def _has_body(sandbox: SandboxHome, user_id: str, document_id: str) -> bool:
    s3 = sandbox_client(sandbox.info.endpoint_url, "s3", None)
    try:
        listed = s3.list_objects_v2(
            Bucket=sandbox.info.bucket, Prefix=object_key(user_id, document_id)
        )
        return bool(listed.get("KeyCount"))
    finally:
        s3.close()


def test_a_document_whose_time_in_the_trash_is_over_is_purged_item_and_body(
    fresh_sandbox: SandboxHome, tmp_path: Path
) -> None:
    path = tmp_path / "t.txt"
    path.write_text("trash me")
    old, recent, restored = (_upload(fresh_sandbox, path) for _ in range(3))
    user_id = old["userId"]
    dynamodb = sandbox_client(fresh_sandbox.info.endpoint_url, "dynamodb", None)
    batches = DocumentBatches(dynamodb, fresh_sandbox.info.table)
    long_ago = datetime.now(UTC) - timedelta(days=31)
    move_to_trash(batches, user_id, [old["documentId"]], days=30, now=long_ago)
    move_to_trash(batches, user_id, [restored["documentId"]], days=30, now=long_ago)
    dynamodb.close()
    assert fresh_sandbox.dms("delete", recent["documentId"]).code == 0
    assert fresh_sandbox.dms("restore", restored["documentId"]).code == 0

    assert stop(fresh_sandbox.paths)
    again = start_sandbox(fresh_sandbox.home)  # purges what expired while it was stopped

    trash = json.loads(again.dms("trash", "--json").out)["documents"]
    assert [document["documentId"] for document in trash] == [recent["documentId"]]
    assert again.dms("info", old["documentId"]).code == 4
    assert not _has_body(again, user_id, old["documentId"])
    assert _has_body(again, user_id, recent["documentId"])
    assert again.dms("info", restored["documentId"]).code == 0
    assert _has_body(again, user_id, restored["documentId"])

    dynamodb = sandbox_client(again.info.endpoint_url, "dynamodb", None)
    s3 = sandbox_client(again.info.endpoint_url, "s3", None)
    try:  # the next round finds nothing more
        assert purge_expired_trash(dynamodb, s3, again.info.table, again.info.bucket) == 0
    finally:
        dynamodb.close()
        s3.close()
