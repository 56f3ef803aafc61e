"""The list kept for the next start: what comes back is what was kept, it is the user's own file,
and a damaged one is dropped, never shown."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from dms_desktop.core.list_snapshot import ListSnapshot, ListSnapshots
from tests.support.documents import numbered_document

TAKEN_AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def _snapshot() -> ListSnapshot:
    tagged = numbered_document(2).model_copy(
        update={"tags": ("invoices", "2026"), "expires_at": 1_900_000_000, "folder": "work"}
    )
    return ListSnapshot(TAKEN_AT, [numbered_document(1), tagged])


def test_what_is_kept_comes_back_whole(tmp_path: Path) -> None:
    snapshots = ListSnapshots(tmp_path / "list")
    kept = _snapshot()

    snapshots.save("local", kept)

    assert snapshots.load("local") == kept


def test_the_file_is_readable_by_the_user_only(tmp_path: Path) -> None:
    ListSnapshots(tmp_path).save("local", _snapshot())

    (kept,) = tmp_path.glob("*.json")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_each_profile_has_its_own(tmp_path: Path) -> None:
    snapshots = ListSnapshots(tmp_path)
    snapshots.save("local", _snapshot())

    assert snapshots.load("work") is None
    snapshots.forget("local")
    assert snapshots.load("local") is None


def test_a_profile_name_cannot_reach_outside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "list"
    ListSnapshots(folder).save("../../evil", _snapshot())

    assert [path.parent for path in tmp_path.rglob("*.json")] == [folder]


def test_a_damaged_snapshot_is_dropped_not_shown(tmp_path: Path) -> None:
    snapshots = ListSnapshots(tmp_path)
    snapshots.save("local", _snapshot())
    (kept,) = tmp_path.glob("*.json")
    kept.write_text(kept.read_text(encoding="utf-8")[:-40], encoding="utf-8")

    assert snapshots.load("local") is None
    assert not kept.exists()


def test_a_snapshot_with_an_invalid_document_is_dropped(tmp_path: Path) -> None:
    snapshots = ListSnapshots(tmp_path)
    snapshots.save("local", _snapshot())
    (kept,) = tmp_path.glob("*.json")
    kept.write_text(
        kept.read_text(encoding="utf-8").replace('"file 1.txt"', '"a/b"'), encoding="utf-8"
    )

    assert snapshots.load("local") is None


def test_a_folder_that_cannot_be_written_loses_only_the_snapshot(tmp_path: Path) -> None:
    blocker = tmp_path / "list"
    blocker.write_text("a file where the folder should be", encoding="utf-8")

    ListSnapshots(blocker).save("local", _snapshot())  # logged, not raised

    assert ListSnapshots(blocker).load("local") is None
