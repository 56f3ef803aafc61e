"""`dms tag ID... --add T --remove T` on many documents through the real entry point; another
user retags none of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


def _upload(sandbox: SandboxHome, path: Path, *tags: str) -> str:
    args = [arg for tag in tags for arg in ("--tag", tag)]
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep", *args)
    assert result.code == 0, result.err
    return str(json.loads(result.out)[0]["documentId"])


def _tags(sandbox: SandboxHome, document_id: str) -> list[str]:
    result = sandbox.dms("info", document_id, "--json")
    assert result.code == 0, result.err
    tags: list[str] = json.loads(result.out)["tags"]
    return tags


def test_tags_are_added_and_removed_on_every_document_named(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bulk-tag.txt"
    path.write_text("tag me")
    ids = [
        _upload(shared_sandbox, path, "Draft", "2024"),
        _upload(shared_sandbox, path, "draft"),
        _upload(shared_sandbox, path),
    ]

    result = shared_sandbox.dms("tag", *ids, "--add", "Final", "--remove", "DRAFT")

    assert result.code == 0, result.err
    assert result.out.count("bulk-tag.txt: tags") == 3
    assert [_tags(shared_sandbox, i) for i in ids] == [["2024", "Final"], ["Final"], ["Final"]]

    shared_sandbox.sign_in_as_new_user(monkeypatch, "trudy")
    refused = shared_sandbox.dms("tag", ids[0], "--add", "stolen")
    assert refused.code == 4 and "no document" in refused.err
    monkeypatch.delenv("DMS_USERNAME")
    monkeypatch.delenv("DMS_PASSWORD")
    assert _tags(shared_sandbox, ids[0]) == ["2024", "Final"]

    trashed = shared_sandbox.dms("delete", ids[2])
    assert trashed.code == 0
    in_trash = shared_sandbox.dms("tag", ids[1], ids[2], "--add", "more")
    assert in_trash.code == 4 and "in the trash" in in_trash.err
    assert _tags(shared_sandbox, ids[1]) == ["Final", "more"]
