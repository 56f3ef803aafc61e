"""`dms upload`: files and folders, planned first (core.upload_plan), then sent.

Every file is checked before anything is sent; if one cannot be stored, nothing is uploaded and
each refused file gets one line saying why. Then each file is hashed once for the duplicate
check (not with ``--duplicates keep``), the policy decides, and the upload reuses that checksum.

One file is one upload. A folder or several files are one job (core.transfer_jobs): several
files at once, one progress line (files, bytes, speed, time left), a line for each file that
failed while the others went on, and a summary.

A file (or a folder) whose earlier upload was interrupted (core.interrupted) is resumed, not
started again: only what the server does not have yet is sent (``--restart`` discards it and
starts over). A file whose whole body had been sent before the interruption is finished by the
start of the command (core.recovery) and not uploaded a second time.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..core.errors import Cancelled, DmsError, LocalFileError, ValidationError
from ..core.formatting import human_size, plural, printable
from ..core.job_progress import JobOutcome
from ..core.journal import JobUpload
from ..core.localfiles import UploadSource, collect_upload_sources
from ..core.models import Document, normalize_tags, utc_now
from ..core.service import DocumentService
from ..core.upload_plan import (
    CheckedSource,
    Decision,
    DuplicatePolicy,
    check_sources,
    claim_content,
    decide,
    duplicate_names,
)
from .arguments import duration_argument
from .context import EXIT_OK, Context, add_command
from .terminal import JobProgressLine, ProgressLine, confirm
from .versions import upload_new_version, version_number

log = logging.getLogger(__name__)


@dataclass
class _Tally:
    """What happened to the files of one `dms upload`."""

    total: int
    uploaded: list[Document] = field(default_factory=list)
    skipped: int = 0
    failures: list[DmsError] = field(default_factory=list)

    def summary(self) -> str:
        stored = sum(document.size for document in self.uploaded)
        parts = [
            f"Uploaded {len(self.uploaded)} of {plural(self.total, 'file')} ({human_size(stored)})"
        ]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (already stored)")
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        return ", ".join(parts) + "."


def cmd_upload(context: Context) -> int:
    args = context.args
    if args.new_version:
        return upload_new_version(context)
    tags = normalize_tags(args.tag or [])
    sources = collect_upload_sources([Path(path) for path in args.paths])
    if not sources:
        raise LocalFileError("There is no file to upload in the given folders.")
    checked, refused = check_sources(sources)
    if refused:
        for source, error in refused:
            context.note(f"dms: Nothing was uploaded: {_refusal(source, error)}")
            log.info("upload refused: %s", _refusal(source, error))
        return refused[0][1].exit_code
    service = context.service
    policy = DuplicatePolicy(args.duplicates)
    expires = utc_now() + args.expires_in if args.expires_in else None
    roots = [Path(path) for path in args.paths]
    if len(checked) > 1 or any(root.is_dir() for root in roots):
        return _upload_job(context, service, checked, roots, tags, expires, policy)
    tally = _Tally(total=len(checked))
    for number, item in enumerate(checked, start=1):
        shown = printable(str(item.source.path))
        position = f"file {number} of {tally.total}" if tally.total > 1 else ""
        try:
            document = _upload_one(context, service, item, tags, expires, policy, position)
        except Cancelled:
            raise
        except DmsError as error:
            tally.failures.append(error)
            context.note(f"dms: {shown}: {printable(str(error))}")
            continue
        if document is None:
            tally.skipped += 1
            continue
        tally.uploaded.append(document)
        if not args.json:
            context.print(
                f"Uploaded {shown} as {document.document_id}"
                + (f" ({position})" if position else "")
            )
    if args.json:
        context.print_json([document.to_json_dict() for document in tally.uploaded])
    if tally.total > 1 or tally.failures:
        context.note(tally.summary())
    return tally.failures[0].exit_code if tally.failures else EXIT_OK


def _upload_job(
    context: Context,
    service: DocumentService,
    checked: list[CheckedSource],
    roots: list[Path],
    tags: tuple[str, ...],
    expires: datetime | None,
    policy: DuplicatePolicy,
) -> int:
    """A folder or several files: one job (core.transfer_jobs), resumed if it was kept."""
    args = context.args
    name = _job_name(roots, len(checked))
    kept = service.find_interrupted_upload_job(roots)
    if kept is not None and args.restart:
        service.discard_transfer(kept)
        context.note(f"Discarded the interrupted upload of {printable(name)}; it starts over.")
        kept = None
    progress = JobProgressLine(context.err, printable(name))
    asking = _Asker(context, progress) if context.interactive else None
    try:
        if kept is not None:
            context.note(f"Resuming the interrupted upload of {printable(name)}.")
            resumed = service.resume_transfer(
                kept,
                job_progress=progress.update,
                notice=context.note,
                locks_dir=context.paths.locks_dir,
                ask=asking,
            )
            assert isinstance(resumed, JobOutcome)
            outcome = resumed
        else:
            outcome = service.upload_job(
                [item.source for item in checked],
                name=name,
                roots=roots,
                tags=tags,
                expires=expires,
                policy=policy,
                locks_dir=context.paths.locks_dir,
                progress=progress.update,
                notice=context.note,
                ask=asking,
            )
    finally:
        progress.finish()
    for document in outcome.documents:
        if not args.json:
            where = f"{document.folder}/" if document.folder else ""
            context.print(
                f"Uploaded {printable(where + document.filename)} as {document.document_id}"
            )
    for failure in outcome.failures:
        context.note(f"dms: {failure}")
    if args.json:
        context.print_json([document.to_json_dict() for document in outcome.documents])
    stored = sum(document.size for document in outcome.documents)
    parts = [
        f"Uploaded {len(outcome.documents)} of {plural(outcome.files_total, 'file')} "
        f"({human_size(stored)})"
    ]
    if outcome.done_before:
        parts.append(f"{outcome.done_before} uploaded before the interruption")
    if outcome.skipped:
        parts.append(f"{outcome.skipped} skipped (already stored)")
    if outcome.failures:
        parts.append(f"{len(outcome.failures)} failed")
    context.note(", ".join(parts) + ".")
    return outcome.failures[0].exit_code if outcome.failures else EXIT_OK


def _job_name(roots: list[Path], files: int) -> str:
    """What a job is called: the folder's name, or "N files"."""
    if len(roots) == 1 and roots[0].is_dir():
        return roots[0].absolute().name or str(roots[0])
    return plural(files, "file")


class _Asker:
    """Asks on the terminal whether to upload another copy of a file already stored (one
    question at a time: the job's threads wait their turn)."""

    def __init__(self, context: Context, progress: JobProgressLine) -> None:
        self._context = context
        self._progress = progress

    def __call__(self, item: JobUpload, duplicates: Sequence[Document]) -> bool:
        self._progress.finish()
        names = duplicate_names(duplicates, with_ids=True)
        return confirm(
            self._context,
            f"{printable(item.source)} is already stored as {names}. Upload another copy?",
        )


def _refusal(source: UploadSource, error: ValidationError) -> str:
    """One line: which file, and why it cannot be stored."""
    if isinstance(error, LocalFileError):  # its message names the file already
        return printable(str(error))
    return f"{printable(str(source.path))}: {printable(str(error))}"


def _upload_one(
    context: Context,
    service: DocumentService,
    item: CheckedSource,
    tags: tuple[str, ...],
    expires: datetime | None,
    policy: DuplicatePolicy,
    position: str,
) -> Document | None:
    """Upload one file, or None if the duplicate policy (or the person asked) skips it."""
    path = item.source.path
    shown = printable(str(path))
    finished = service.finished_at_start(path)
    if finished is not None:
        # Its interrupted upload had sent the whole file, and this start stored it.
        return finished
    kept = service.find_interrupted_upload(path)
    if kept is not None and context.args.restart:
        service.discard_transfer(kept)
        context.note(f"Discarded the interrupted upload of {shown}; it starts over.")
        kept = None
    progress = ProgressLine(context.err, printable(item.filename), position)
    try:
        if kept is not None:
            context.note(f"Resuming the interrupted upload of {shown}.")
            resumed = service.resume_transfer(kept, progress=progress.update, notice=context.note)
            assert isinstance(resumed, Document)
            return resumed
        if policy is DuplicatePolicy.KEEP:
            return service.upload(
                path, tags=tags, folder=item.folder, expires=expires, progress=progress.update
            )
        progress.status("checking for duplicates")
        with claim_content(
            context.paths.locks_dir, service, service.user_id, item.source
        ) as check:  # held until the upload is stored: a concurrent one then sees it
            decision = decide(check.duplicates, policy, context.interactive)
            if check.duplicates:
                names = duplicate_names(check.duplicates, with_ids=True)
                if decision is Decision.ASK:
                    progress.finish()
                    keep = confirm(
                        context,
                        (f"{position.capitalize()}: " if position else "")
                        + f"{shown} is already stored as {names}. Upload another copy?",
                    )
                else:
                    keep = decision is Decision.UPLOAD
                if not keep:
                    progress.finish()
                    context.note(f"Skipped {shown}: already stored as {names}.")
                    return None
                if decision is Decision.UPLOAD and policy is DuplicatePolicy.ASK:
                    progress.finish()  # nobody to ask: both are kept, and the person is told
                    context.note(f"Note: {shown} is already stored as {names}; keeping both.")
            return service.upload(
                path,
                tags=tags,
                folder=item.folder,
                expires=expires,
                progress=progress.update,
                content=check.content,
            )
    finally:
        progress.finish()


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms upload`."""
    upload = add_command(commands, "upload", cmd_upload, "upload files (folders recursively)")
    upload.add_argument("paths", nargs="+", metavar="PATH")
    upload.add_argument("--tag", action="append", metavar="TAG", help="tag every file (repeatable)")
    upload.add_argument(
        "--duplicates",
        choices=[policy.value for policy in DuplicatePolicy],
        default=DuplicatePolicy.ASK.value,
        help="when the same content is already stored: ask (keep both if there is no terminal), "
        "skip, or keep both",
    )
    upload.add_argument(
        "--expires-in",
        type=duration_argument,
        metavar="DURATION",
        help="store as test records that expire after DURATION (e.g. 90m, 12h, 7d, 2w): "
        "DynamoDB's TTL removes them in AWS, and `dms admin cleanup --expired` at once",
    )
    upload.add_argument(
        "--restart",
        action="store_true",
        help="start an interrupted upload of the same file over instead of resuming it",
    )
    upload.add_argument(
        "--new-version",
        metavar="DOCUMENT",
        help="store the one file as a new version of DOCUMENT (same id, name and tags)",
    )
    upload.add_argument(
        "--expected-version",
        type=version_number,
        metavar="N",
        help="with --new-version: only if the newest version is still N (else a conflict)",
    )
    upload.add_argument("--json", action="store_true")
