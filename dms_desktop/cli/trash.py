"""`dms trash`, `dms trash empty` and `dms restore`: documents deleted without --permanently wait
in the trash until they are restored, emptied out or purged (see docs/lifecycle.md)."""

from __future__ import annotations

import argparse

from ..core.change_report import ChangeReport, ChangeStatus
from ..core.errors import IntegrityError, ValidationError
from ..core.formatting import human_size, human_time, plural, printable
from ..core.ids import is_document_id
from ..core.listing import damaged_message
from ..core.models import Document, utc_now
from .arguments import duration_argument
from .context import EXIT_OK, Context, add_command
from .terminal import confirm

NAME_WIDTH = 40
TRASH_PAGE = 500


def _whole_trash(context: Context) -> tuple[list[Document], list[str]]:
    documents: list[Document] = []
    damaged: list[str] = []
    cursor: str | None = None
    while True:
        page = context.service.trash_page(cursor, TRASH_PAGE)
        documents += page.documents
        damaged += page.damaged
        cursor = page.cursor
        if cursor is None:
            return documents, damaged


def _row(document: Document) -> str:
    name = printable(document.filename)
    if len(name) > NAME_WIDTH:
        name = name[: NAME_WIDTH - 1] + "…"
    deleted = human_time(document.trashed_at) if document.trashed_at else "-"
    purges = human_time(document.purges) if document.purges else "-"
    return (
        f"{document.document_id}  {name:<{NAME_WIDTH}}  {human_size(document.size):>9}  "
        f"{deleted:<16}  {purges}"
    )


def cmd_trash(context: Context) -> int:
    if context.args.action == "empty":
        return _empty(context)
    if context.args.older_than is not None or context.args.yes:
        raise ValidationError("--older-than and --yes go with `dms trash empty`.")
    documents, damaged = _whole_trash(context)
    code = IntegrityError.exit_code if damaged else EXIT_OK
    if context.args.json:
        context.print_json(
            {"documents": [doc.to_json_dict() for doc in documents], "damaged": damaged}
        )
    elif not documents:
        context.print("The trash is empty.")
    else:
        context.print(
            f"{'ID':<36}  {'NAME':<{NAME_WIDTH}}  {'SIZE':>9}  {'DELETED':<16}  PURGED ON"
        )
        for document in documents:
            context.print(_row(document))
        days = context.service.trash_days
        context.note(
            f"{plural(len(documents), 'document')} in the trash; each is purged {days} days "
            "after it was deleted. `dms restore ID...` brings them back."
        )
    if damaged:
        context.note(f"dms: {damaged_message(damaged)}")
    return code


def _empty(context: Context) -> int:
    args = context.args
    service = context.service
    before = utc_now() - args.older_than if args.older_than is not None else None
    if not args.yes:
        if not context.interactive:
            raise ValidationError(
                "Emptying the trash needs confirmation: add --yes (no terminal to ask on)."
            )
        what = "the trash"
        if before is not None:
            what = f"the documents deleted before {human_time(before)}"
        if not confirm(context, f"Delete {what} for good? This cannot be undone."):
            context.note("Nothing was deleted.")
            return EXIT_OK
    report = service.empty_trash(trashed_before=before)
    for result in report.problems:
        context.note(f"dms: {result.document_id}: {printable(result.message)}")
    context.print(f"Deleted {plural(len(report.deleted), 'document')} from the trash for good.")
    error = report.first_error
    return error.exit_code if error is not None else EXIT_OK


def cmd_restore(context: Context) -> int:
    service = context.service
    document_ids = list(
        dict.fromkeys(
            ref.strip() if is_document_id(ref.strip()) else service.find_in_trash(ref).document_id
            for ref in context.args.documents
        )
    )
    report = service.restore_many(document_ids)
    return print_changes(context, report, "Restored")


def print_changes(context: Context, report: ChangeReport, verb: str) -> int:
    """One line per document changed, a note per one that was not; the first error's exit code."""
    for result in report.results:
        if result.status is ChangeStatus.DONE:
            name = printable(result.filename) or "a damaged document"
            context.print(f"{verb} {name} ({result.document_id})")
        else:
            context.note(f"dms: {result.document_id}: {printable(result.message)}")
    error = report.first_error
    return error.exit_code if error is not None else EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms trash [empty]` and `dms restore`."""
    trash = add_command(
        commands, "trash", cmd_trash, "list the trash, or empty it (`dms trash empty`)"
    )
    trash.add_argument(
        "action", nargs="?", choices=["empty"], help="empty: delete what is in the trash for good"
    )
    trash.add_argument(
        "--older-than",
        type=duration_argument,
        metavar="AGE",
        help="empty only documents deleted longer ago than AGE (e.g. 7d, 12h)",
    )
    trash.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    trash.add_argument("--json", action="store_true")

    restore = add_command(commands, "restore", cmd_restore, "take documents out of the trash")
    restore.add_argument(
        "documents",
        nargs="+",
        metavar="DOCUMENT",
        help="a document's id, or its name if no other document in the trash has it",
    )
