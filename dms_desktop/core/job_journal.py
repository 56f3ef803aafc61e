"""A job's state in the journal (core.transfer_jobs): its entry lists every file, written once;
each file's outcome is appended to the entry's record log (done, skipped, failed). A job's large
files have journal entries of their own, marked with the job's name."""

from __future__ import annotations

import threading
from typing import Any

from .journal import DownloadJobEntry, Journal, Tracked, UploadJobEntry


def noted_outcomes(records: list[dict[str, Any]]) -> tuple[dict[int, str], set[int]]:
    """The files noted done (index -> document id, or "" for a download) and skipped."""
    done: dict[int, str] = {}
    skipped: set[int] = set()
    for record in records:
        if "done" in record:
            done[int(record["done"])] = str(record.get("id", ""))
        elif "skipped" in record:
            skipped.add(int(record["skipped"]))
    return done, skipped


def job_files_done(entry: UploadJobEntry | DownloadJobEntry, records: list[dict[str, Any]]) -> int:
    """How many files of a kept job are done (stored or skipped)."""
    done, skipped = noted_outcomes(records)
    return len(done) + len(skipped)


def job_bytes_done(entry: UploadJobEntry | DownloadJobEntry, records: list[dict[str, Any]]) -> int:
    done, skipped = noted_outcomes(records)
    sizes = [item.size for item in entry.items]
    return sum(size for index, size in enumerate(sizes) if index in done or index in skipped)


def track_job(journal: Journal | None, entry: UploadJobEntry | DownloadJobEntry) -> Tracked:
    """Note a new job in ``journal`` (without one, nowhere)."""
    return journal.track(entry) if journal is not None else UntrackedJob(entry)


def entries_of_job(journal: Journal | None, job: str, kind: Any) -> dict[str, str]:
    """The journal entries (of ``kind``) of ``job``'s large files: document id -> entry name."""
    if journal is None:
        return {}
    return {
        entry.document_id: name
        for name, entry, held in journal.survey()
        if isinstance(entry, kind) and getattr(entry, "job", None) == job and not held
    }


class UntrackedJob(Tracked):
    """A job without a journal (tests, no data folder): noted nowhere."""

    def __init__(self, entry: UploadJobEntry | DownloadJobEntry) -> None:
        self.entry = entry
        self._records: list[dict[str, Any]] = []
        self._lock_records = threading.Lock()

    @property
    def name(self) -> str:
        return "untracked"

    @property
    def held(self) -> bool:
        return False

    def update(self, entry: Any) -> None:
        self.entry = entry

    def append(self, record: dict[str, Any]) -> None:
        with self._lock_records:
            self._records.append(record)

    def records(self) -> list[dict[str, Any]]:
        with self._lock_records:
            return list(self._records)

    def clear_records(self) -> None:
        self._records = []

    def finish(self) -> None:
        pass

    def leave_for_next_start(self) -> None:
        pass

    def keep_for_resume(self) -> None:
        pass
