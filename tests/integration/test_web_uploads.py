"""A web app (Amplify Storage) uploads with a bare boto3 client under a user's folder on the
sandbox: the file is that user's document in `dms list`, and the admin's check finds no orphan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig

from dms_desktop.connect import open_backend, sign_in
from dms_desktop.core.aws import make_client
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server

USER = ("web-uploader", "web-uploader-password")


def _as(monkeypatch: pytest.MonkeyPatch, user: tuple[str, str]) -> None:
    monkeypatch.setenv("DMS_USERNAME", user[0])
    monkeypatch.setenv("DMS_PASSWORD", user[1])


def test_a_web_upload_under_the_users_folder_is_listed_with_its_name(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMS_PASSWORD", USER[1])
    assert shared_sandbox.dms("local", "add-user", USER[0]).code == 0
    _as(monkeypatch, USER)
    user_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    web = sign_in(open_backend(shared_sandbox.paths), *USER)  # as the web app signs in
    s3 = web.session.client("s3", endpoint_url=shared_sandbox.info.endpoint_url)
    body = b"minutes of the meeting\n" * 100

    s3.put_object(  # what Amplify's uploadData does: the user's name, no metadata item
        Bucket=shared_sandbox.info.bucket,
        Key=f"private/{user_id}/meetings/Minutes 2024-05.txt",
        Body=body,
        ContentType="text/plain",
    )

    listed = shared_sandbox.dms("list", "--json")
    assert listed.code == 0, listed.err
    (document,) = json.loads(listed.out)["documents"]
    assert document["filename"] == "Minutes 2024-05.txt"
    assert document["folder"] == "meetings"
    assert document["size"] == len(body)
    assert "Minutes 2024-05.txt" in shared_sandbox.dms("list").out
    target = tmp_path / "downloads"
    target.mkdir()
    downloaded = shared_sandbox.dms("download", str(document["documentId"]), "-o", str(target))
    assert downloaded.code == 0, downloaded.err
    assert (target / "Minutes 2024-05.txt").read_bytes() == body
    stored = s3.head_object(Bucket=shared_sandbox.info.bucket, Key=document["s3Key"])
    assert "Minutes%202024-05.txt" in stored["ContentDisposition"]

    monkeypatch.setenv("DMS_USERNAME", "admin")
    monkeypatch.setenv("DMS_PASSWORD", "admin-password")
    check = shared_sandbox.dms("admin", "check", "--json", "--orphan-grace-minutes", "0")
    assert check.code == 0, check.err
    assert [
        finding
        for finding in json.loads(check.out)["check"]["findings"]
        if finding["userId"] == user_id
    ] == []


def test_an_upload_into_another_users_folder_is_never_yours(
    shared_sandbox: SandboxHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner is the folder the key lies in (which IAM lets only its user write on AWS),
    never what the object's metadata says."""
    owner = ("folder-owner", "folder-owner-password")
    monkeypatch.setenv("DMS_PASSWORD", owner[1])
    assert shared_sandbox.dms("local", "add-user", owner[0]).code == 0
    _as(monkeypatch, owner)
    owner_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    admin = sign_in(open_backend(shared_sandbox.paths), "admin", "admin-password")
    s3 = make_client(admin.session, "s3", shared_sandbox.info.endpoint_url)

    s3.put_object(
        Bucket=shared_sandbox.info.bucket,
        Key=f"private/{owner_id}/letter.txt",
        Body=b"dear owner",
        Metadata={"userid": "us-east-1:someone-else", "owner": "admin"},
    )

    listed = shared_sandbox.dms("list", "--json")
    assert [doc["filename"] for doc in json.loads(listed.out)["documents"]] == ["letter.txt"]
    assert [doc["userId"] for doc in json.loads(listed.out)["documents"]] == [owner_id]


def test_a_multipart_web_upload_is_listed_once_completed(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Amplify sends files above 5 MB in parts: the document appears when the upload completes."""
    user = ("web-parts", "web-parts-password")
    monkeypatch.setenv("DMS_PASSWORD", user[1])
    assert shared_sandbox.dms("local", "add-user", user[0]).code == 0
    _as(monkeypatch, user)
    user_id = json.loads(shared_sandbox.dms("whoami", "--json").out)["userId"]
    web = sign_in(open_backend(shared_sandbox.paths), *user)
    s3 = web.session.client("s3", endpoint_url=shared_sandbox.info.endpoint_url)
    source = tmp_path / "scan.pdf"
    source.write_bytes(b"%PDF" + b"\0" * (11 * 1024 * 1024))

    s3.upload_file(
        str(source),
        shared_sandbox.info.bucket,
        f"private/{user_id}/scan.pdf",
        Config=TransferConfig(
            multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
        ),
    )

    listed = json.loads(shared_sandbox.dms("list", "--json").out)["documents"]
    assert [(doc["filename"], doc["size"], doc["fileType"]) for doc in listed] == [
        ("scan.pdf", source.stat().st_size, "application/pdf")
    ]
