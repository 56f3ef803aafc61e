"""`dms versions` and the version options of `dms upload` and `dms download` (core.versions;
see docs/lifecycle.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import Conflict, ValidationError
from ..core.formatting import human_size, human_time, printable
from ..core.models import Document
from .context import EXIT_OK, Context, add_command
from .terminal import ProgressLine


def cmd_versions(context: Context) -> int:
    args = context.args
    service = context.service
    document = service.find(args.document)
    if args.restore is not None:
        restored = service.versions.restore_version(
            document.document_id, args.restore, expected_number=args.expected_version
        )
        history = service.versions.history(restored.document_id)
        context.print(
            f"Restored version {args.restore} of {printable(document.filename)} as version "
            f"{history.latest.number}."
        )
        return EXIT_OK
    history = service.versions.history(document.document_id)
    if args.json:
        context.print_json(
            {
                "documentId": document.document_id,
                "filename": document.filename,
                "versions": [version.to_json_dict() for version in reversed(history.versions)],
            }
        )
        return EXIT_OK
    context.print(f"{'VERSION':>7}  {'SIZE':>9}  {'CREATED':<16}  {'CHECKSUM':<12}  S3 VERSION ID")
    for version in reversed(history.versions):
        note = " (current)" if version is history.latest else ""
        if version.restored_from is not None:
            note += f" (restored from {version.restored_from})"
        context.print(
            f"{version.number:>7}  {human_size(version.size):>9}  "
            f"{human_time(version.created_at):<16}  {version.checksum[:12]:<12}  "
            f"{version.s3_version_id or '-'}{note}"
        )
    return EXIT_OK


def upload_new_version(context: Context) -> int:
    """`dms upload FILE --new-version DOCUMENT`."""
    args = context.args
    if len(args.paths) != 1 or not Path(args.paths[0]).is_file():
        raise ValidationError("--new-version takes exactly one file (not a folder).")
    if args.tag or args.expires_in:
        raise ValidationError(
            "A new version keeps the document's tags and expiry: leave out --tag and --expires-in."
        )
    service = context.service
    document = service.find(args.new_version)
    source = Path(args.paths[0])
    shown = printable(str(source))
    stored = service.finished_at_start(source, document.document_id)  # sent before a crash
    kept = service.find_interrupted_version_upload(source, document.document_id)
    if kept is not None and args.restart:
        service.discard_transfer(kept)
        context.note(f"Discarded the interrupted new version from {shown}; it starts over.")
        kept = None
    progress = ProgressLine(context.err, printable(document.filename), "new version")
    try:
        if stored is not None:
            pass
        elif kept is not None:
            if args.expected_version is not None:
                newest = service.versions.history(document.document_id).latest.number
                if newest != args.expected_version:
                    raise Conflict(
                        f"{printable(document.filename)} changed since you last saw it: its "
                        f"newest version is {newest} now. Nothing was stored."
                    )
            context.note(f"Resuming the interrupted new version from {shown}.")
            resumed = service.resume_transfer(kept, progress=progress.update, notice=context.note)
            assert isinstance(resumed, Document)
            stored = resumed
        else:
            stored = service.upload_new_version(
                document.document_id,
                source,
                expected_number=args.expected_version,
                progress=progress.update,
            )
    finally:
        progress.finish()
    if args.json:
        context.print_json([stored.to_json_dict()])
        return EXIT_OK
    number = service.versions.history(stored.document_id).latest.number
    context.print(
        f"Uploaded {printable(str(source))} as version {number} of "
        f"{printable(stored.filename)} ({stored.document_id})"
    )
    return EXIT_OK


def download_version(context: Context) -> int:
    """`dms download DOCUMENT --version N`."""
    args = context.args
    service = context.service
    document = service.find(args.document)
    target = Path(args.output) if args.output else Path.cwd()
    progress = ProgressLine(context.err, printable(document.filename), f"version {args.version}")
    try:
        path = service.versions.download_version(
            document.document_id,
            args.version,
            target,
            overwrite=args.overwrite,
            progress=progress.update,
        )
    finally:
        progress.finish()
    context.print(
        f"Downloaded version {args.version} of {printable(document.filename)} to "
        f"{printable(str(path))}"
    )
    return EXIT_OK


def version_number(text: str) -> int:
    """A version number argument (1 or more)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number (1, 2, ...)")
    return number


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms versions`."""
    versions = add_command(
        commands, "versions", cmd_versions, "list a document's versions, or restore an old one"
    )
    versions.add_argument(
        "document", metavar="DOCUMENT", help="a document's id, or its name if no other has it"
    )
    versions.add_argument(
        "--restore",
        type=version_number,
        metavar="N",
        help="make version N the newest again (as a new version; nothing is overwritten)",
    )
    versions.add_argument(
        "--expected-version",
        type=version_number,
        metavar="N",
        help="with --restore: only if the newest version is still N (else a conflict)",
    )
    versions.add_argument("--json", action="store_true")
