"""The journal of work in flight: atomic entries, held by the running process, found after it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from dms_desktop.core.errors import LocalFileError
from dms_desktop.core.journal import DownloadEntry, Journal, UploadEntry


def _upload(name: str = "a.txt") -> UploadEntry:
    return UploadEntry(
        user_id="u",
        document_id="d",
        s3_key="private/u/d",
        source=f"/tmp/{name}",
        filename=name,
        file_type="text/plain",
        size=3,
    )


def test_work_in_progress_is_not_taken_by_another_start(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    tracked = journal.track(_upload())

    with Journal(tmp_path).unfinished() as entries:  # e.g. the window while `dms` uploads
        assert entries == []

    tracked.finish()
    assert list(tmp_path.iterdir()) == []


def test_work_left_behind_is_found_with_its_latest_state(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    started = _upload()
    tracked = journal.track(started)
    tracked.update(started.model_copy(update={"multipart_upload_id": "up-1"}))
    tracked.leave_for_next_start()  # as if the process had died: its lock is gone

    with journal.unfinished() as entries:
        assert [entry.entry for entry in entries] == [
            started.model_copy(update={"multipart_upload_id": "up-1"})
        ]
        entries[0].finish()

    with journal.unfinished() as entries:
        assert entries == []
    assert not list(tmp_path.glob("*.partial"))


def test_unfinished_work_not_dealt_with_stays_for_later(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.track(
        DownloadEntry(user_id="u", document_id="d", filename="f", target="/tmp/f")
    ).leave_for_next_start()

    with journal.unfinished() as entries:
        assert len(entries) == 1  # not finished by the caller
    with journal.unfinished() as entries:
        assert len(entries) == 1


def test_a_damaged_entry_is_left_alone_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "damaged.json").write_text(json.dumps({"kind": "teleport"}))
    with caplog.at_level(logging.WARNING), Journal(tmp_path).unfinished() as entries:
        assert entries == []
    assert "damaged.json" in caplog.text
    assert (tmp_path / "damaged.json").exists()


def test_no_journal_folder_means_nothing_to_do(tmp_path: Path) -> None:
    with Journal(tmp_path / "missing").unfinished() as entries:
        assert entries == []


def test_a_data_folder_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the journal folder should be")
    with pytest.raises(LocalFileError, match="check that the data folder is writable"):
        Journal(blocked / "journal").track(_upload())


def test_an_uploads_parts_are_appended_and_a_line_cut_by_a_crash_is_left_out(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path)
    tracked = journal.track(_upload())
    tracked.append({"upload": "u1", "part": 1, "size": 5})
    tracked.append({"upload": "u1", "part": 2, "size": 5})
    with (tmp_path / f"{tracked.name}.log").open("ab") as log_file:
        log_file.write(b'{"upload": "u1", "pa')  # the process died while writing this one
    tracked.keep_for_resume()

    assert [record["part"] for record in journal.records_of(tracked.name)] == [1, 2]
    (name, entry, held), *_ = journal.survey()
    assert (name, entry.kind, held) == (tracked.name, "upload", False)
    claimed = journal.claim(tracked.name)
    assert claimed is not None and claimed.held
    assert Journal(tmp_path).claim(tracked.name) is None  # held by this process now
    assert [name_held[2] for name_held in journal.survey()] == [True]
    claimed.finish()
    assert list(tmp_path.glob(f"{tracked.name}.*")) == []  # the entry and its record log


def test_a_claim_never_takes_a_path(tmp_path: Path) -> None:
    assert Journal(tmp_path).claim("../../etc/passwd") is None
