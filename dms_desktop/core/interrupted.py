"""Transfers that stopped before they were done and are kept to be resumed or discarded.

An upload or a download that was paused, lost the network, or whose app quit or crashed stays
in the journal (core.journal) with what it had done: the parts sent, the bytes written. They are
listed here for `dms transfers` and the window's transfers panel, each under the id of its
journal entry (the first eight characters are enough to name one); the service resumes or
discards them (``DocumentService.resume_transfer``, ``discard_transfer``). A transfer another
running instance of the app is doing right now is listed as running, and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .downloading import written_so_far
from .errors import AmbiguousName, NotFound, ValidationError
from .job_journal import job_bytes_done, job_files_done
from .journal import (
    DownloadEntry,
    DownloadJobEntry,
    Journal,
    JournalEntry,
    TransferEntry,
    UploadEntry,
    UploadJobEntry,
)
from .uploading import sent_so_far

SHORT_ID = 8


@dataclass(frozen=True)
class InterruptedTransfer:
    """One kept transfer as `dms transfers` and the panel show it."""

    transfer_id: str
    kind: str  # upload, download
    name: str
    local_path: str  # the file uploaded, or where the download goes
    done: int  # bytes
    total: int
    started_at: str
    running: bool  # another running instance of the app is doing it now
    files_done: int | None = None  # a job of many files (core.transfer_jobs): how many done
    files_total: int | None = None
    new_version_of: str | None = None  # an upload of a new version of this document (its id)
    based_on: int | None = None  # ... of its version then newest (it becomes based_on + 1)

    @property
    def is_job(self) -> bool:
        return self.files_total is not None

    @property
    def short_id(self) -> str:
        return self.transfer_id[:SHORT_ID]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.transfer_id,
            "kind": self.kind,
            "name": self.name,
            "localPath": self.local_path,
            "bytesDone": self.done,
            "bytesTotal": self.total,
            "startedAt": self.started_at,
            "state": "running" if self.running else "interrupted",
            **(
                {"filesDone": self.files_done, "filesTotal": self.files_total}
                if self.is_job
                else {}
            ),
            **(
                {"newVersionOf": self.new_version_of, "basedOnVersion": self.based_on}
                if self.new_version_of is not None
                else {}
            ),
        }


def is_transfer_of(entry: JournalEntry, user_id: str) -> bool:
    """Whether ``entry`` is a transfer (upload, download, a job of many) of ``user_id``; a
    file of a job is part of its job, not a transfer of its own."""
    if isinstance(entry, UploadEntry | DownloadEntry):
        return entry.user_id == user_id and entry.job is None
    return isinstance(entry, UploadJobEntry | DownloadJobEntry) and entry.user_id == user_id


def describe(
    transfer_id: str, entry: TransferEntry, records: list[dict[str, Any]], running: bool
) -> InterruptedTransfer:
    if isinstance(entry, UploadJobEntry | DownloadJobEntry):
        where = ", ".join(entry.roots) if isinstance(entry, UploadJobEntry) else entry.folder
        return InterruptedTransfer(
            transfer_id=transfer_id,
            kind="upload" if isinstance(entry, UploadJobEntry) else "download",
            name=entry.name,
            local_path=where,
            done=job_bytes_done(entry, records),
            total=sum(item.size for item in entry.items),
            started_at=entry.started_at,
            running=running,
            files_done=job_files_done(entry, records),
            files_total=len(entry.items),
        )
    base = entry.new_version_of if isinstance(entry, UploadEntry) else None
    if isinstance(entry, UploadEntry):
        done, name, where = sent_so_far(entry, records), entry.filename, entry.source
    else:
        done, name, where = written_so_far(entry), entry.filename, entry.target
    return InterruptedTransfer(
        transfer_id=transfer_id,
        kind=entry.kind,
        name=name,
        local_path=where,
        done=done,
        total=entry.size,
        started_at=entry.started_at,
        running=running,
        new_version_of=entry.document_id if base is not None else None,
        based_on=base.number if base is not None else None,
    )


def interrupted_transfers(journal: Journal, user_id: str) -> list[InterruptedTransfer]:
    """``user_id``'s kept transfers, oldest first."""
    found = [
        describe(name, entry, journal.records_of(name), held)  # type: ignore[arg-type]
        for name, entry, held in journal.survey()
        if is_transfer_of(entry, user_id)
    ]
    return sorted(found, key=lambda transfer: (transfer.started_at, transfer.transfer_id))


def resolve_id(journal: Journal, user_id: str, reference: str) -> str:
    """The full id of the kept transfer ``reference`` names (its id, or the start of it)."""
    text = reference.strip().lower()
    if len(text) < 4 or not text.isalnum():
        raise ValidationError(
            f"{reference!r} is not a transfer id (`dms transfers` lists them; the first "
            f"{SHORT_ID} characters are enough)."
        )
    matches = [
        transfer.transfer_id
        for transfer in interrupted_transfers(journal, user_id)
        if transfer.transfer_id.startswith(text)
    ]
    if not matches:
        raise NotFound(
            f"There is no interrupted transfer {reference} (`dms transfers` lists them)."
        )
    if len(matches) > 1:
        raise AmbiguousName(
            f"{reference} is the start of {len(matches)} transfer ids: give more of it.",
            tuple(matches),
        )
    return matches[0]


def find_upload_of(
    journal: Journal, user_id: str, source: Path, new_version_of: str | None = None
) -> str | None:
    """The kept, idle upload of ``source`` (the same file, by its path) as a new document, or
    as a new version of the document ``new_version_of``, if any."""
    wanted = str(source.absolute())
    for name, entry, held in journal.survey():
        if (
            not held
            and isinstance(entry, UploadEntry)
            and is_transfer_of(entry, user_id)
            and entry.source == wanted
            and not entry.failed
            and (entry.document_id if entry.new_version_of is not None else None) == new_version_of
        ):
            return name
    return None


def find_upload_job_of(journal: Journal, user_id: str, roots: list[Path]) -> str | None:
    """The kept, idle upload job of the paths ``roots`` (the same folder or files), if any."""
    wanted = sorted(str(root.absolute()) for root in roots)
    for name, entry, held in journal.survey():
        if (
            not held
            and isinstance(entry, UploadJobEntry)
            and entry.user_id == user_id
            and sorted(entry.roots) == wanted
        ):
            return name
    return None


def find_download_job_of(
    journal: Journal, user_id: str, document_ids: list[str], folder: Path
) -> str | None:
    """The kept, idle download job of ``document_ids`` into ``folder``, if any."""
    wanted = sorted(set(document_ids))
    for name, entry, held in journal.survey():
        if (
            not held
            and isinstance(entry, DownloadJobEntry)
            and entry.user_id == user_id
            and entry.folder == str(folder.absolute())
            and sorted({item.document_id for item in entry.items}) == wanted
        ):
            return name
    return None


def find_download_of(journal: Journal, user_id: str, document_id: str, target: Path) -> str | None:
    """The kept, idle download of ``document_id`` to ``target`` (a file, or the folder it is
    in), if any."""
    for name, entry, held in journal.survey():
        if (
            not held
            and isinstance(entry, DownloadEntry)
            and is_transfer_of(entry, user_id)
            and entry.document_id == document_id
            and (entry.target == str(target) or Path(entry.target).parent == target)
        ):
            return name
    return None
