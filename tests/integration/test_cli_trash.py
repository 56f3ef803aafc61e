"""The trash through `dms`: delete moves documents there, `dms restore` brings them back exactly
as they were, `dms trash empty` and `dms delete --permanently` delete for good; nobody reaches
another user's documents."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import SandboxHome
from tests.support.search import wait_for

pytestmark = pytest.mark.server


def _json(sandbox: SandboxHome, *argv: str) -> dict[str, object]:
    result = sandbox.dms(*argv, "--json")
    assert result.code == 0, result.err
    value: dict[str, object] = json.loads(result.out)
    return value


def _listed_ids(sandbox: SandboxHome, *args: str) -> list[str]:
    documents = _json(sandbox, "list", "--all", *args)["documents"]
    assert isinstance(documents, list)
    return [str(document["documentId"]) for document in documents]


def _trashed(sandbox: SandboxHome) -> dict[str, dict[str, object]]:
    documents = _json(sandbox, "trash")["documents"]
    assert isinstance(documents, list)
    return {str(document["documentId"]): document for document in documents}


def _upload(sandbox: SandboxHome, path: Path, *args: str) -> str:
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep", *args)
    assert result.code == 0, result.err
    return str(json.loads(result.out)[0]["documentId"])


def test_delete_restore_gives_back_the_same_bytes_and_metadata(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    first, second = tmp_path / "Quartalsbericht Q3.pdf", tmp_path / "notes.bin"
    first.write_bytes(os.urandom(250_000))
    second.write_bytes(os.urandom(1_000))
    ids = [
        _upload(shared_sandbox, first, "--tag", "Finance", "--tag", "2024"),
        _upload(shared_sandbox, second, "--tag", "Finance"),
    ]
    assert shared_sandbox.dms("rename", ids[1], "renamed notes.bin").code == 0
    before = [_json(shared_sandbox, "info", document_id) for document_id in ids]

    deleted = shared_sandbox.dms("delete", *ids)

    assert deleted.code == 0, deleted.err
    assert deleted.out.count("Moved to the trash") == 2
    assert not set(ids) & set(_listed_ids(shared_sandbox))
    assert not set(ids) & set(_listed_ids(shared_sandbox, "--tag", "finance"))
    assert _listed_ids(shared_sandbox, "--search", "Quartalsbericht") == []
    trash = _trashed(shared_sandbox)
    for document_id in ids:
        entry = trash[document_id]
        trashed_at = datetime.fromisoformat(str(entry["trashedAt"]))
        purge_at = int(str(entry["purgeAt"]))
        assert abs(purge_at - (trashed_at + timedelta(days=30)).timestamp()) < 2
    assert "In trash" in shared_sandbox.dms("info", ids[0]).out
    refused = shared_sandbox.dms("download", ids[0], "-o", str(tmp_path / "x.pdf"))
    assert refused.code == 4 and "in the trash" in refused.err

    restored = shared_sandbox.dms("restore", ids[0], "renamed notes.bin")

    assert restored.code == 0, restored.err
    assert restored.out.count("Restored") == 2
    assert [_json(shared_sandbox, "info", document_id) for document_id in ids] == before
    assert set(ids) <= set(_listed_ids(shared_sandbox, "--tag", "finance"))
    assert not set(ids) & set(_trashed(shared_sandbox))
    back = tmp_path / "back"
    back.mkdir()
    for document_id, source in zip(ids, (first, second), strict=True):
        result = shared_sandbox.dms("download", document_id, "-o", str(back / source.name))
        assert result.code == 0, result.err
        assert (back / source.name).read_bytes() == source.read_bytes()
    again = shared_sandbox.dms("restore", ids[0])
    assert again.code == 4 and "not in the trash" in again.err


def test_another_user_can_neither_trash_nor_restore_my_documents(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("only mine")
    kept, trashed = _upload(shared_sandbox, path), _upload(shared_sandbox, path)
    assert shared_sandbox.dms("delete", trashed).code == 0
    shared_sandbox.sign_in_as_new_user(monkeypatch, "mallory")

    assert shared_sandbox.dms("delete", kept).code == 4
    assert shared_sandbox.dms("restore", trashed).code == 4
    assert shared_sandbox.dms("delete", "--permanently", "--yes", trashed).code == 4
    assert _trashed(shared_sandbox) == {}

    monkeypatch.delenv("DMS_USERNAME")
    monkeypatch.delenv("DMS_PASSWORD")
    assert kept in _listed_ids(shared_sandbox)
    assert trashed in _trashed(shared_sandbox)


def test_emptying_the_trash_and_deleting_permanently_are_for_good(
    fresh_sandbox: SandboxHome, tmp_path: Path
) -> None:
    path = tmp_path / "old.txt"
    path.write_text("old")
    trashed, permanent = _upload(fresh_sandbox, path), _upload(fresh_sandbox, path)
    assert fresh_sandbox.dms("delete", trashed).code == 0

    asked = fresh_sandbox.dms("trash", "empty")
    assert asked.code == 3 and "--yes" in asked.err
    recent = fresh_sandbox.dms("trash", "empty", "--older-than", "7d", "--yes")
    assert recent.code == 0, recent.err
    assert "Deleted 0 documents" in recent.out
    assert trashed in _trashed(fresh_sandbox)

    emptied = fresh_sandbox.dms("trash", "empty", "--yes")

    assert emptied.code == 0, emptied.err
    assert "Deleted 1 document " in emptied.out
    assert fresh_sandbox.dms("info", trashed).code == 4
    assert fresh_sandbox.dms("restore", trashed).code == 4
    assert "The trash is empty." in fresh_sandbox.dms("trash").out

    gone = fresh_sandbox.dms("delete", "--permanently", "--yes", permanent)
    assert gone.code == 0, gone.err
    assert permanent not in _trashed(fresh_sandbox)
    assert fresh_sandbox.dms("info", permanent).code == 4


def test_a_document_in_the_trash_leaves_searches_and_comes_back_with_a_restore(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    word = f"zyx{os.urandom(4).hex()}"
    path = tmp_path / "searchable.txt"
    path.write_text(f"minutes mentioning {word} once\n")
    document_id = _upload(shared_sandbox, path)

    def found() -> list[str]:
        result = shared_sandbox.dms("search", word, "--json")
        assert result.code == 0, result.err
        return [str(hit["documentId"]) for hit in json.loads(result.out)]

    assert wait_for(found) == [document_id]
    assert shared_sandbox.dms("delete", document_id).code == 0
    assert wait_for(lambda: not found()) is True
    assert shared_sandbox.dms("restore", document_id).code == 0
    assert wait_for(found) == [document_id]
