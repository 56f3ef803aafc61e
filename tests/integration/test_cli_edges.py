"""`dms` as a person uses it: headers, counts, names instead of ids, safe messages, pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


def _unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def _upload(sandbox: SandboxHome, path: Path, *args: str) -> dict[str, object]:
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep", *args)
    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    return dict(document)


def test_list_prints_a_header_above_its_rows(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    source = tmp_path / f"{_unique('listed')}.txt"
    source.write_text("listed")
    _upload(shared_sandbox, source)

    result = shared_sandbox.dms("list", "--search", source.name)

    assert result.code == 0, result.err
    header, row = result.out.splitlines()
    assert header.split() == ["ID", "NAME", "TYPE", "SIZE", "UPDATED", "TAGS"]
    assert source.name in row


def test_more_pages_are_announced_with_a_correct_plural(shared_sandbox: SandboxHome) -> None:
    result = shared_sandbox.dms("list", "--limit", "1")

    assert result.code == 0, result.err
    assert "1 document shown, more available" in result.err
    assert "(s)" not in result.err


def test_info_shows_a_small_size_once(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    source = tmp_path / f"{_unique('small')}.txt"
    source.write_bytes(b"x" * 328)
    document = _upload(shared_sandbox, source)

    result = shared_sandbox.dms("info", str(document["documentId"]))

    assert result.code == 0, result.err
    assert "Size:      328 bytes\n" in result.out  # not "328 bytes (328 bytes)"


def test_a_document_can_be_named_by_its_name(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    name = f"{_unique('Quarterly report')}.txt"
    source = tmp_path / name
    source.write_text("numbers\n")
    document_id = str(_upload(shared_sandbox, source)["documentId"])

    info = shared_sandbox.dms("info", name.upper(), "--json")  # any case
    assert info.code == 0, info.err
    assert json.loads(info.out)["documentId"] == document_id

    target = tmp_path / "downloads"
    target.mkdir()
    downloaded = shared_sandbox.dms("download", name, "-o", str(target))
    assert downloaded.code == 0, downloaded.err
    assert (target / name).read_text() == "numbers\n"

    assert shared_sandbox.dms("tag", name, "--add", "Named").code == 0
    renamed = shared_sandbox.dms("rename", name, f"renamed {name}")
    assert renamed.code == 0, renamed.err
    details = json.loads(shared_sandbox.dms("info", document_id, "--json").out)
    assert (details["filename"], details["tags"]) == (f"renamed {name}", ["Named"])

    deleted = shared_sandbox.dms("delete", f"renamed {name}", "--permanently", "--yes")
    assert deleted.code == 0, deleted.err
    assert deleted.out.strip() == f"Deleted renamed {name} ({document_id})"


def test_a_name_two_documents_share_is_refused_with_their_ids(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    name = f"{_unique('scan')}.pdf"
    ids = []
    for folder in ("2023", "2024"):
        (tmp_path / folder).mkdir()
        source = tmp_path / folder / name
        source.write_bytes(folder.encode())
        result = shared_sandbox.dms("upload", str(tmp_path / folder), "--json")
        assert result.code == 0, result.err
        ids.append(json.loads(result.out)[0]["documentId"])

    result = shared_sandbox.dms("download", name, "-o", str(tmp_path))

    assert result.code == 3
    (line,) = result.err.splitlines()
    assert line.startswith(f"dms: 2 documents are named '{name}': ")
    assert all(document_id in line for document_id in ids)
    assert "Name one by its id." in line
    assert not (tmp_path / name).exists()


def test_a_folder_upload_is_one_job_that_ends_with_a_summary(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    folder = tmp_path / _unique("Batch")
    folder.mkdir()
    stored = folder / "a-stored.txt"
    stored.write_bytes(os.urandom(100))
    _upload(shared_sandbox, stored)
    (folder / "b.txt").write_bytes(os.urandom(200))
    (folder / "c.txt").write_bytes(os.urandom(300))

    result = shared_sandbox.dms("upload", str(folder), "--duplicates", "skip")

    assert result.code == 0, result.err
    lines = sorted(result.out.splitlines())
    assert [line.split(" as ")[0] for line in lines] == [
        f"Uploaded {folder.name}/b.txt",
        f"Uploaded {folder.name}/c.txt",
    ]
    assert "Skipped" in result.err and "a-stored.txt: already stored as" in result.err
    assert result.err.splitlines()[-1] == (
        "Uploaded 2 of 3 files (500 bytes), 1 skipped (already stored)."
    )


@pytest.mark.parametrize(
    ("name", "shown", "code_point"),
    [
        ("invoice\u202efdp.exe", "invoice\\u202efdp.exe", "U+202E"),
        ("two\nlines.txt", "two\\nlines.txt", "U+000A"),
        ("bell\x07.txt", "bell\\x07.txt", "U+0007"),
    ],
)
def test_an_upload_refusal_is_one_line_with_the_name_escaped(
    shared_sandbox: SandboxHome, tmp_path: Path, name: str, shown: str, code_point: str
) -> None:
    source = tmp_path / name
    source.write_text("refused")

    result = shared_sandbox.dms("upload", str(source))

    assert result.code == 3
    (line,) = result.err.splitlines()  # one line, as the docs promise
    assert line.startswith("dms: Nothing was uploaded: ")
    assert shown in line and code_point in line
    assert name not in result.err  # the raw character never reaches the terminal


def test_a_file_name_that_is_not_utf8_gets_a_clear_message(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.txt"  # Latin-1, as an old archive may have it
    with open(raw, "wb") as file:
        file.write(b"latin-1 name")
    (source,) = tmp_path.iterdir()

    result = shared_sandbox.dms("upload", str(source))

    assert result.code == 3, result.err
    (line,) = result.err.splitlines()
    assert "caf\\xe9.txt" in line and "is not valid UTF-8" in line
    assert "unexpected error" not in line


def test_list_json_into_a_closed_pipe_exits_quietly(shared_sandbox: SandboxHome) -> None:
    command = [
        sys.executable,
        "-m",
        "dms_desktop.cli",
        "--home",
        str(shared_sandbox.home),
        "list",
        "--json",
    ]
    process = subprocess.Popen(  # as `dms list --json | head -c0`: the reader is gone at once
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)

    assert err.decode() == ""  # no "unexpected error", no "Exception ignored"
    assert process.returncode == 141  # 128 + SIGPIPE, as a shell reports for Unix tools
