"""`dms upload`: files and folders, with the duplicate policy and test records."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from ..core.errors import Cancelled, DmsError, LocalFileError, ValidationError
from ..core.localfiles import UploadSource, collect_upload_sources, file_checksum
from ..core.models import (
    Document,
    normalize_filename,
    normalize_folder,
    normalize_tags,
    utc_now,
)
from ..core.service import DocumentService
from .arguments import duration_argument
from .context import EXIT_OK, Context, add_command
from .terminal import ProgressLine, confirm


def cmd_upload(context: Context) -> int:
    args = context.args
    tags = normalize_tags(args.tag or [])
    sources = collect_upload_sources([Path(path) for path in args.paths])
    if not sources:
        raise LocalFileError("There is no file to upload in the given folders.")
    problems = _check_sources(sources)
    if problems:
        for problem in problems:
            context.note(f"dms: {problem}")
        raise ValidationError(f"Nothing was uploaded: {len(problems)} file(s) cannot be stored.")
    service = context.service
    expires = utc_now() + args.expires_in if args.expires_in else None
    uploaded: list[Document] = []
    failures: list[DmsError] = []
    for source in sources:
        try:
            document = _upload_one(context, service, source, tags, expires)
        except Cancelled:
            raise
        except DmsError as error:
            failures.append(error)
            context.note(f"dms: {source.path}: {error}")
            continue
        if document is not None:
            uploaded.append(document)
            if not args.json:
                context.print(f"Uploaded {source.path} as {document.document_id}")
    if args.json:
        context.print_json([document.to_json_dict() for document in uploaded])
    if failures:
        context.note(f"{len(uploaded)} uploaded, {len(failures)} failed.")
        return failures[0].exit_code
    return EXIT_OK


def _check_sources(sources: list[UploadSource]) -> list[str]:
    problems = []
    for source in sources:
        try:
            normalize_filename(source.path.name)
            normalize_folder(source.folder)
        except ValidationError as error:
            problems.append(f"{source.path}: {error}")
    return problems


def _upload_one(
    context: Context,
    service: DocumentService,
    source: UploadSource,
    tags: tuple[str, ...],
    expires: datetime | None,
) -> Document | None:
    policy = context.args.duplicates
    if policy != "keep":
        duplicates = service.find_duplicates(file_checksum(source.path))
        if duplicates:
            names = ", ".join(f"{doc.filename} ({doc.document_id})" for doc in duplicates[:3])
            if policy == "ask" and context.interactive:
                keep = confirm(
                    context, f"{source.path} is already stored as {names}. Upload again?"
                )
            else:
                keep = policy == "ask"  # no terminal to ask on: keep both, but say so
            if not keep:
                context.note(f"Skipped {source.path}: already stored as {names}.")
                return None
            context.note(f"Note: {source.path} is already stored as {names}; keeping both.")
    progress = ProgressLine(context.err, source.path.name)
    try:
        return service.upload(
            source.path,
            tags=tags,
            folder=source.folder,
            expires=expires,
            progress=progress.update,
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
        choices=["ask", "skip", "keep"],
        default="ask",
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
    upload.add_argument("--json", action="store_true")
