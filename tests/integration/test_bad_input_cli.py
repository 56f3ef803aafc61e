"""Bad input and integrity through the `dms` CLI on a real sandbox (issue 6, "Nothing lost").

Each case ends with exit code 0 or one line on stderr with its exit code; nothing half-stored,
nothing written outside the chosen folder, no existing file replaced unasked.
"""

from __future__ import annotations

import json
import os
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import CliResult, SandboxHome
from tests.support.nothing_lost_cases import (
    CASE_DUPLICATE_TAGS,
    CHANGED_BEHIND_BACK,
    CONTROL_NAME,
    DOTDOT_NAME,
    EMOJI_NAME,
    EMPTY_FILE,
    EMPTY_TAG,
    ESCAPING_NAME,
    EXISTING_TARGET,
    LEADING_DOT,
    LONG_NAME,
    LONG_TAG,
    MANY_TAGS,
    NFD_NAME,
    NUL_NAME,
    RESERVED_NAME,
    RTL_NAME,
    SYMLINK_LOOPS,
    TRAILING_DOTS,
    UNREADABLE_FILE,
    case,
)
from tests.support.unreadable import unreadable_file

pytestmark = pytest.mark.server


def one_line(result: CliResult, code: int, message: str) -> None:
    assert result.code == code, (result.code, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert any(message in line for line in lines), result.err
    assert "Traceback" not in result.err


def upload(sandbox: SandboxHome, *args: str) -> dict[str, Any]:
    result = sandbox.dms("upload", *args, "--json", "--duplicates", "keep")
    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    return dict(document)


def listed(sandbox: SandboxHome, search: str) -> list[dict[str, Any]]:
    result = sandbox.dms("list", "--search", search, "--json", "--all")
    assert result.code == 0, result.err
    documents: list[dict[str, Any]] = json.loads(result.out)["documents"]
    return documents


def raw_client(sandbox: SandboxHome, service: str) -> Any:
    """A client beside the app (no scope guard): someone changing things behind its back."""
    return sandbox_client(sandbox.info.endpoint_url, service, None)


def everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize(
    ("name", "downloaded"),
    [
        pytest.param(
            unicodedata.normalize("NFD", "Résumé.pdf"), "Résumé.pdf", marks=case(NFD_NAME)
        ),
        pytest.param("🎉 party 👩‍👩‍👧.txt", "🎉 party 👩‍👩‍👧.txt", marks=case(EMOJI_NAME)),
        pytest.param("تقرير מסמך.pdf", "تقرير מסמך.pdf", marks=case(RTL_NAME)),
        pytest.param(".env", "env", marks=case(LEADING_DOT)),
        pytest.param("CON", "_CON", marks=case(RESERVED_NAME)),
        pytest.param("aux.txt", "_aux.txt", marks=case(RESERVED_NAME)),
        pytest.param("report. . ", "report", marks=case(TRAILING_DOTS)),
    ],
)
def test_unusual_names_upload_and_download_inside_the_folder(
    shared_sandbox: SandboxHome, tmp_path: Path, name: str, downloaded: str
) -> None:
    unique = uuid.uuid4().hex[:8]
    source = tmp_path / unique / name
    source.parent.mkdir()
    data = os.urandom(500)
    source.write_bytes(data)

    document = upload(shared_sandbox, str(source))
    assert document["filename"] == unicodedata.normalize("NFC", name)

    folder = tmp_path / "downloads"
    folder.mkdir()
    result = shared_sandbox.dms("download", str(document["documentId"]), "-o", str(folder))
    assert result.code == 0, result.err
    assert everything_under(folder) == [downloaded]
    assert (folder / downloaded).read_bytes() == data


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("bell\x07.txt", "U+0007", marks=case(CONTROL_NAME)),
        pytest.param("nul\x00.txt", "U+0000", marks=case(NUL_NAME)),
        pytest.param("é" * 128, "the limit is 255", marks=case(LONG_NAME)),
        pytest.param("..", "is not a filename", marks=case(DOTDOT_NAME)),
        pytest.param("../etc/passwd", "path separator", marks=case(DOTDOT_NAME)),
    ],
)
def test_a_rename_to_a_name_that_cannot_be_stored_is_one_line(
    shared_sandbox: SandboxHome, tmp_path: Path, name: str, message: str
) -> None:
    source = tmp_path / f"keep-{uuid.uuid4().hex[:8]}.txt"
    source.write_text("keep my name")
    document_id = str(upload(shared_sandbox, str(source))["documentId"])

    one_line(shared_sandbox.dms("rename", document_id, name), 3, message)

    info = json.loads(shared_sandbox.dms("info", document_id, "--json").out)
    assert info["filename"] == source.name


@case(CONTROL_NAME)
def test_a_local_file_with_a_control_character_uploads_nothing(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    good = tmp_path / f"good-{unique}.txt"
    good.write_text("fine")
    bad = tmp_path / f"bad-{unique}\x07.txt"
    bad.write_text("bell")

    result = shared_sandbox.dms("upload", str(good), str(bad))

    one_line(result, 3, "Nothing was uploaded")
    assert "U+0007" in result.err
    assert listed(shared_sandbox, unique) == []  # not even the good one: all or nothing


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        pytest.param(["ok", ""], "A tag is empty", marks=case(EMPTY_TAG)),
        pytest.param(["x" * 65], "the limit is 64", marks=case(LONG_TAG)),
        pytest.param([f"t{number}" for number in range(51)], "at most 50", marks=case(MANY_TAGS)),
    ],
)
def test_bad_tags_upload_nothing(
    shared_sandbox: SandboxHome, tmp_path: Path, tags: list[str], message: str
) -> None:
    unique = uuid.uuid4().hex[:8]
    source = tmp_path / f"tagged-{unique}.txt"
    source.write_text("tags")
    arguments = [argument for tag in tags for argument in ("--tag", tag)]

    one_line(shared_sandbox.dms("upload", str(source), *arguments), 3, message)
    assert listed(shared_sandbox, unique) == []


@case(CASE_DUPLICATE_TAGS)
def test_tags_differing_in_case_are_kept_once(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    unique = uuid.uuid4().hex[:8]
    source = tmp_path / f"taxes-{unique}.pdf"
    source.write_text("numbers")
    document = upload(shared_sandbox, str(source), "--tag", "Tax", "--tag", "TAX", "--tag", " tax ")
    assert document["tags"] == ["Tax"]
    result = shared_sandbox.dms("tag", str(document["documentId"]), "--add", "tAX")
    assert result.code == 0, result.err
    assert [doc["tags"] for doc in listed(shared_sandbox, unique)] == [["Tax"]]


@case(EMPTY_FILE)
def test_an_empty_file_round_trips(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    source = tmp_path / f"empty-{uuid.uuid4().hex[:8]}.txt"
    source.write_bytes(b"")
    document = upload(shared_sandbox, str(source))
    assert document["size"] == 0
    target = tmp_path / "copy.txt"
    assert shared_sandbox.dms("download", str(document["documentId"]), "-o", str(target)).code == 0
    assert target.read_bytes() == b""


@case(UNREADABLE_FILE)
def test_an_unreadable_file_is_one_line_with_exit_code_12(shared_sandbox: SandboxHome) -> None:
    with unreadable_file(f"secret-{uuid.uuid4().hex[:8]}.pdf") as source:
        # A home of its own beside the file: the effective user may be 'nobody' here.
        result = SandboxHome(source.parent / "home", shared_sandbox.info).dms("upload", str(source))
    one_line(result, 12, "cannot be read (permission denied)")
    assert listed(shared_sandbox, source.stem) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda path: os.mkfifo(path), "not a regular file", id="fifo"),
        pytest.param(lambda path: path.symlink_to(path), "symbolic link to nothing", id="loop"),
    ],
)
@case(
    "bad input",
    "upload of a FIFO or of a symlink to itself",
    "one line naming the path: not a regular file / symbolic link to nothing (exit 12)",
)
def test_special_files_are_one_line_with_exit_code_12(
    shared_sandbox: SandboxHome, tmp_path: Path, make: Any, message: str
) -> None:
    path = tmp_path / "special"
    make(path)
    one_line(shared_sandbox.dms("upload", str(path)), 12, message)


@case(SYMLINK_LOOPS)
def test_a_folder_with_symlink_loops_uploads_its_files(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    top = tmp_path / f"Loops-{unique}"
    (top / "sub").mkdir(parents=True)
    (top / f"a-{unique}.txt").write_text("a")
    (top / "sub" / f"b-{unique}.txt").write_text("b")
    (top / "sub" / "up").symlink_to(top)
    (top / "self").symlink_to(top / "self")

    result = shared_sandbox.dms("upload", str(top), "--json", "--duplicates", "keep")

    assert result.code == 0, result.err
    stored = {(doc["folder"], doc["filename"]) for doc in listed(shared_sandbox, unique)}
    assert stored == {(top.name, f"a-{unique}.txt"), (f"{top.name}/sub", f"b-{unique}.txt")}


@case(ESCAPING_NAME)
def test_a_stored_name_that_escapes_writes_nothing(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / f"innocent-{uuid.uuid4().hex[:8]}.txt"
    source.write_text("innocent")
    document = upload(shared_sandbox, str(source))
    dynamodb = raw_client(shared_sandbox, "dynamodb")
    key = {"userId": {"S": document["userId"]}, "documentId": {"S": document["documentId"]}}
    dynamodb.update_item(
        TableName=shared_sandbox.info.table,
        Key=key,
        UpdateExpression="SET filename = :name",
        ExpressionAttributeValues={":name": {"S": "../../escape.txt"}},
    )
    outside = tmp_path / "outside"
    folder = outside / "inside" / "downloads"
    folder.mkdir(parents=True)

    try:
        result = shared_sandbox.dms("download", str(document["documentId"]), "-o", str(folder))
    finally:  # the damaged item must not stay in the shared sandbox for the tests after this one
        dynamodb.delete_item(TableName=shared_sandbox.info.table, Key=key)
        raw_client(shared_sandbox, "s3").delete_object(
            Bucket=shared_sandbox.info.bucket, Key=document["s3Key"]
        )

    one_line(result, 9, "is damaged")
    assert everything_under(outside) == ["inside", "inside/downloads"]
    assert not (tmp_path / "escape.txt").exists()


@case(EXISTING_TARGET)
def test_download_to_an_existing_name_is_refused_unasked(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "plan.txt"
    source.write_text("stored version")
    document_id = str(upload(shared_sandbox, str(source))["documentId"])
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "plan.txt").write_text("my version")

    one_line(shared_sandbox.dms("download", document_id, "-o", str(folder)), 3, "already exists")
    assert (folder / "plan.txt").read_text() == "my version"
    assert everything_under(folder) == ["plan.txt"]


@case(CHANGED_BEHIND_BACK)
def test_a_body_changed_behind_the_apps_back_is_exit_code_9(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / f"ledger-{uuid.uuid4().hex[:8]}.csv"
    data = os.urandom(100_000)
    source.write_bytes(data)
    document = upload(shared_sandbox, str(source))
    raw_client(shared_sandbox, "s3").put_object(
        Bucket=shared_sandbox.info.bucket,
        Key=document["s3Key"],
        Body=bytes(byte ^ 0xFF for byte in data[:1]) + data[1:],
    )
    mine = tmp_path / "mine.csv"
    mine.write_text("the user's own copy")

    result = shared_sandbox.dms(
        "download", str(document["documentId"]), "-o", str(mine), "--overwrite"
    )

    one_line(result, 9, "does not match its checksum")
    assert mine.read_text() == "the user's own copy"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([source.name, "mine.csv"])
