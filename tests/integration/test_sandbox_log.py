"""The sandbox's write-ahead log against a real server: each kind of change the app (or an SDK)
makes is there after a restart that found only the log, not a checkpoint, to read it from.

The server runs on a thread here, so it cannot be killed: it is stopped with its checkpoints
switched off instead, which leaves the folder as a ``kill -9`` would (the state file of the first
start, and the log). tests/integration/test_sandbox_crashes.py kills a real one.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dms_desktop.core.paths import AppPaths
from dms_desktop.sandbox import SandboxInfo, add_user
from dms_desktop.sandbox import server as server_module
from dms_desktop.sandbox.control import health
from tests.integration.test_sandbox_server import client, paths, running, seeded, sign_in

__all__ = ["paths", "seeded"]  # fixtures shared with test_sandbox_server

pytestmark = pytest.mark.server

PASSWORD = "log-password"


def _switch_checkpoints_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on checkpoints save nothing (neither the debounced ones nor the last one)."""

    def skipped(self: server_module.Checkpointer) -> bool:
        return True

    monkeypatch.setattr(server_module.Checkpointer, "checkpoint_now", skipped)


def _visible_state(info: SandboxInfo) -> dict[str, Any]:
    """Everything the changes below touch, as the APIs show it."""
    with client(info, "dynamodb") as dynamodb, client(info, "s3") as s3:
        items = sorted(
            (
                item
                for page in dynamodb.get_paginator("scan").paginate(TableName=info.table)
                for item in page["Items"]
            ),
            key=lambda item: (item["userId"]["S"], item["documentId"]["S"]),
        )
        versions = s3.list_object_versions(Bucket=info.bucket, Prefix="private/log/")
        objects = sorted(
            (v["Key"], v["VersionId"], v["ETag"], v["Size"], v["IsLatest"])
            for v in versions.get("Versions", [])
        )
        markers = sorted(
            (m["Key"], m["VersionId"], m["IsLatest"]) for m in versions.get("DeleteMarkers", [])
        )
        bodies = {
            key: s3.get_object(Bucket=info.bucket, Key=key)["Body"].read()
            for key in sorted({o[0] for o in objects if o[4]})
        }
        tags = {key: s3.get_object_tagging(Bucket=info.bucket, Key=key)["TagSet"] for key in bodies}
        uploads = sorted(
            (
                u["Key"],
                u["UploadId"],
                tuple(
                    (part["PartNumber"], part["Size"], part["ETag"])
                    for part in s3.list_parts(
                        Bucket=info.bucket, Key=u["Key"], UploadId=u["UploadId"]
                    ).get("Parts", [])
                ),
            )
            for u in s3.list_multipart_uploads(Bucket=info.bucket).get("Uploads", [])
        )
    with client(info, "cognito-idp") as cognito:
        users = sorted(
            (
                u["Username"],
                u["UserStatus"],
                tuple(sorted((a["Name"], a["Value"]) for a in u["Attributes"])),
            )
            for u in cognito.list_users(UserPoolId=info.user_pool_id)["Users"]
        )
    return {
        "items": items,
        "objects": objects,
        "markers": markers,
        "bodies": bodies,
        "tags": tags,
        "uploads": uploads,
        "users": users,
    }


def _item(user: str, document: str, **extra: Any) -> dict[str, Any]:
    return {"userId": {"S": user}, "documentId": {"S": document}, **extra}


def _make_every_kind_of_change(info: SandboxInfo) -> str:
    """Returns a refresh token issued on the way."""
    add_user(info, "logged", PASSWORD)
    refresh_token = sign_in(info, "logged", PASSWORD)["RefreshToken"]
    with client(info, "cognito-idp") as cognito:
        cognito.admin_update_user_attributes(
            UserPoolId=info.user_pool_id,
            Username="logged",
            UserAttributes=[{"Name": "email", "Value": "logged@example.com"}],
        )
    table = info.table
    with client(info, "dynamodb") as dynamodb:
        for number in range(5):
            dynamodb.put_item(
                TableName=table,
                Item=_item("log", f"doc-{number}", filename={"S": f"{number}.txt"}),
            )
        dynamodb.update_item(
            TableName=table,
            Key=_item("log", "doc-1"),
            UpdateExpression="SET tags = :tags ADD version :one",
            ExpressionAttributeValues={":tags": {"SS": ["a", "b"]}, ":one": {"N": "1"}},
        )
        dynamodb.delete_item(TableName=table, Key=_item("log", "doc-2"))
        dynamodb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": _item("log", "batch-1")}},
                    {"DeleteRequest": {"Key": _item("log", "doc-3")}},
                ]
            }
        )
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("log", "in-transaction")}},
                {"Delete": {"TableName": table, "Key": _item("log", "doc-4")}},
            ]
        )
        with pytest.raises(ClientError, match="TransactionCanceled"):  # changes nothing
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": _item("log", "cancelled")}},
                    {
                        "Update": {
                            "TableName": table,
                            "Key": _item("log", "doc-0"),
                            "UpdateExpression": "SET x = :x",
                            "ConditionExpression": "attribute_not_exists(documentId)",
                            "ExpressionAttributeValues": {":x": {"S": "x"}},
                        }
                    },
                ]
            )
    bucket = info.bucket
    with client(info, "s3") as s3:
        for name in ("kept", "overwritten", "deleted", "deleted-in-batch"):
            s3.put_object(
                Bucket=bucket, Key=f"private/log/{name}", Body=name.encode(), Tagging="k=v"
            )
        s3.put_object(Bucket=bucket, Key="private/log/overwritten", Body=b"second version")
        s3.put_object_tagging(
            Bucket=bucket, Key="private/log/kept", Tagging={"TagSet": [{"Key": "t", "Value": "2"}]}
        )
        s3.delete_object(Bucket=bucket, Key="private/log/deleted")
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": "private/log/deleted-in-batch"}]}
        )
        s3.copy_object(
            Bucket=bucket,
            Key="private/log/copied",
            CopySource={"Bucket": bucket, "Key": "private/log/kept"},
        )
        unfinished = s3.create_multipart_upload(Bucket=bucket, Key="private/log/unfinished")
        s3.upload_part(  # a part of an upload in progress is kept too (issue 22)
            Bucket=bucket,
            Key="private/log/unfinished",
            UploadId=unfinished["UploadId"],
            PartNumber=1,
            Body=b"a part sent before the crash",
        )
        aborted = s3.create_multipart_upload(Bucket=bucket, Key="private/log/aborted")
        s3.abort_multipart_upload(
            Bucket=bucket, Key="private/log/aborted", UploadId=aborted["UploadId"]
        )
        completed = s3.create_multipart_upload(Bucket=bucket, Key="private/log/completed")
        part = s3.upload_part(
            Bucket=bucket,
            Key="private/log/completed",
            UploadId=completed["UploadId"],
            PartNumber=1,
            Body=b"one small last part",
        )
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="private/log/completed",
            UploadId=completed["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
    return str(refresh_token)


def test_every_kind_of_change_is_replayed_from_the_log(
    paths: AppPaths, seeded: list[SandboxInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(paths) as info:
        _switch_checkpoints_off(monkeypatch)  # after the first start's own checkpoint
        refresh_token = _make_every_kind_of_change(info)
        before = _visible_state(info)
        status = health(info)
        assert status is not None and status["log_records"] > 0
    monkeypatch.undo()
    assert not (paths.sandbox_dir / "damaged").exists()

    with running(paths) as info:
        assert _visible_state(info) == before
        with client(info, "cognito-idp") as cognito:  # the sign-in's token was kept too
            cognito.initiate_auth(
                ClientId=info.app_client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        assert sign_in(info, "logged", PASSWORD)["AccessToken"]


def test_a_change_the_log_has_no_form_for_is_checkpointed_before_its_answer(
    paths: AppPaths, seeded: list[SandboxInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(paths) as info:
        before = health(info)
        assert before is not None
        with client(info, "s3") as s3:
            s3.put_bucket_tagging(
                Bucket=info.bucket, Tagging={"TagSet": [{"Key": "kept", "Value": "yes"}]}
            )
        after = health(info)
        assert after is not None
        assert after["checkpoints"] == before["checkpoints"] + 1  # before the answer came
        _switch_checkpoints_off(monkeypatch)
    monkeypatch.undo()

    with running(paths) as info, client(info, "s3") as s3:
        tags = s3.get_bucket_tagging(Bucket=info.bucket)["TagSet"]
        assert {"Key": "kept", "Value": "yes"} in tags


def test_reads_and_failed_writes_log_nothing(paths: AppPaths, seeded: list[SandboxInfo]) -> None:
    with running(paths) as info, client(info, "dynamodb") as dynamodb:
        start = health(info)
        assert start is not None
        dynamodb.query(
            TableName=info.table,
            KeyConditionExpression="userId = :u",
            ExpressionAttributeValues={":u": {"S": "nobody"}},
        )
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            dynamodb.delete_item(
                TableName=info.table,
                Key=_item("nobody", "nothing"),
                ConditionExpression="attribute_exists(documentId)",
            )
        end = health(info)
        assert end is not None
        assert end["log_records"] == start["log_records"]
        assert end["checkpoints"] == start["checkpoints"]
