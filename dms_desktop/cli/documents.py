"""`dms list`, `info`, `download`, `delete`, `tag`, `rename`: the signed-in user's documents."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.bulk_delete import DeleteStatus
from ..core.change_report import ChangeStatus
from ..core.errors import IntegrityError, NotFound, ValidationError
from ..core.formatting import exact_size, human_size, human_time, plural, printable
from ..core.ids import is_document_id
from ..core.job_progress import JobOutcome
from ..core.listing import MAX_PAGE_SIZE, ListQuery, damaged_message
from ..core.models import Document
from ..core.schema import SortField
from ..core.service import DocumentService
from .arguments import number_argument
from .context import EXIT_OK, Context, add_command
from .terminal import JobProgressLine, ProgressLine, confirm
from .trash import print_changes
from .versions import download_version, version_number

NAME_WIDTH = 40
TYPE_WIDTH = 24


def _document_row(document: Document) -> str:
    tags = printable(", ".join(document.tags))
    return (
        f"{document.document_id}  {_column(document.filename, NAME_WIDTH)}  "
        f"{_column(document.file_type, TYPE_WIDTH)}  "
        f"{human_size(document.size):>9}  {human_time(document.updated_at)}  {tags}"
    )


def _header_row() -> str:
    return (
        f"{'ID':<36}  {'NAME':<{NAME_WIDTH}}  {'TYPE':<{TYPE_WIDTH}}  {'SIZE':>9}  "
        f"{'UPDATED':<16}  TAGS"
    )


def _column(text: str, width: int) -> str:
    shown = printable(text)
    if len(shown) > width:
        shown = shown[: width - 1] + "…"
    return f"{shown:<{width}}"


def _print_details(context: Context, document: Document) -> None:
    rows = [
        ("Name", printable(document.filename)),
        ("Id", document.document_id),
        ("Type", document.file_type),
        ("Size", exact_size(document.size)),
        ("Tags", printable(", ".join(document.tags)) or "-"),
        ("Folder", printable(document.folder) or "-"),
        ("Created", human_time(document.created_at)),
        ("Updated", human_time(document.updated_at)),
        ("Version", str(document.version)),
        ("SHA-256", document.checksum),
        ("Stored at", printable(document.s3_key)),
    ]
    if document.expires is not None:
        rows.append(("Expires", f"{human_time(document.expires)} (test record)"))
    if document.trashed_at is not None:
        rows.append(("In trash", f"since {human_time(document.trashed_at)} (`dms restore`)"))
        if document.purges is not None:
            rows.append(("Purged on", human_time(document.purges)))
    for label, value in rows:
        context.print(f"{label + ':':<11}{value}")


def cmd_list(context: Context) -> int:
    args = context.args
    if args.all and args.cursor:
        raise ValidationError("--all starts at the beginning; it cannot be combined with --cursor.")
    query = ListQuery(
        sort=SortField(args.sort),
        descending=args.desc if args.sort != SortField.CREATED else not args.asc,
        tag=args.tag,
        text=args.search,
        file_type=args.type,
        page_size=min(args.limit, MAX_PAGE_SIZE) if not args.all else MAX_PAGE_SIZE,
    )
    service = context.service
    documents: list[Document] = []
    damaged: list[str] = []
    cursor = args.cursor
    while True:
        page = service.list_page(query, cursor)
        documents += page.documents
        damaged += page.damaged
        cursor = page.cursor
        if not args.all or cursor is None:
            break
    # A damaged document is left out, not allowed to hide the others; exit 9 says so to scripts.
    code = IntegrityError.exit_code if damaged else EXIT_OK
    if args.json:
        context.print_json(
            {
                "documents": [doc.to_json_dict() for doc in documents],
                "nextCursor": cursor,
                "damaged": damaged,
            }
        )
    elif not documents:
        context.print("No documents match." if query.is_filtered else "No documents yet.")
    else:
        context.print(_header_row())
        for document in documents:
            context.print(_document_row(document))
        if cursor:
            context.note(
                f"{plural(len(documents), 'document')} shown, more available: use --all, "
                f"or --cursor {cursor}"
            )
    if damaged:
        context.note(f"dms: {damaged_message(damaged)}")
    return code


def cmd_info(context: Context) -> int:
    document = context.service.find(context.args.document)
    if context.args.json:
        context.print_json(document.to_json_dict())
    else:
        _print_details(context, document)
    return EXIT_OK


def cmd_download(context: Context) -> int:
    args = context.args
    if args.version is not None:
        if len(args.documents) != 1:
            raise ValidationError("--version downloads a version of one document: name one.")
        args.document = args.documents[0]  # as `dms versions` names it
        return download_version(context)
    service = context.service
    if len(args.documents) > 1:
        return _download_job(context, service)
    document = service.find(args.documents[0])
    target = Path(args.output) if args.output else Path.cwd()
    kept = service.find_interrupted_download(document.document_id, target)
    progress = ProgressLine(context.err, printable(document.filename))
    try:
        if kept is not None:  # continues from what it had written (core.downloading)
            context.note(f"Resuming the interrupted download of {printable(document.filename)}.")
            resumed = service.resume_transfer(kept, progress=progress.update, notice=context.note)
            assert isinstance(resumed, Path)
            path = resumed
        else:
            path = service.download(
                document.document_id, target, overwrite=args.overwrite, progress=progress.update
            )
    finally:
        progress.finish()
    context.print(f"Downloaded {printable(document.filename)} to {printable(str(path))}")
    return EXIT_OK


def _download_job(context: Context, service: DocumentService) -> int:
    """Several documents into one folder: one job (core.transfer_jobs), resumed if kept."""
    args = context.args
    folder = Path(args.output) if args.output else Path.cwd()
    if not folder.is_dir():
        raise ValidationError(
            f"{printable(str(folder))} is not a folder: several documents are downloaded into "
            "a folder (-o FOLDER)."
        )
    documents = list({d.document_id: d for d in map(service.find, args.documents)}.values())
    name = plural(len(documents), "document")
    kept = service.find_interrupted_download_job([d.document_id for d in documents], folder)
    progress = JobProgressLine(context.err, name)
    try:
        if kept is not None:
            context.note(f"Resuming the interrupted download of {name}.")
            resumed = service.resume_transfer(
                kept, job_progress=progress.update, notice=context.note
            )
            assert isinstance(resumed, JobOutcome)
            outcome = resumed
        else:
            outcome = service.download_job(
                documents,
                folder,
                name=name,
                overwrite=args.overwrite,
                progress=progress.update,
                notice=context.note,
            )
    finally:
        progress.finish()
    for path in outcome.paths:
        context.print(f"Downloaded {printable(str(path))}")
    for failure in outcome.failures:
        context.note(f"dms: {failure}")
    summary = f"Downloaded {len(outcome.paths)} of {name}"
    if outcome.done_before:
        summary += f", {outcome.done_before} before the interruption"
    if outcome.failures:
        summary += f", {len(outcome.failures)} failed"
    context.note(summary + ".")
    return outcome.failures[0].exit_code if outcome.failures else EXIT_OK


def cmd_delete(context: Context) -> int:
    args = context.args
    service = context.service
    if not args.permanently:
        # Into the trash: undone by `dms restore`, so nothing to confirm (core.trash).
        document_ids = list(dict.fromkeys(_document_id(service, ref) for ref in args.documents))
        code = print_changes(context, service.trash_many(document_ids), "Moved to the trash:")
        context.note("`dms restore ID...` brings them back; `dms trash` lists the trash.")
        return code
    # An id is taken as it is (a damaged document can still be deleted by its id); a name is
    # looked up. The deletes are batched: metadata first, then the files (core.bulk_delete).
    document_ids = list(dict.fromkeys(_document_id(service, ref) for ref in args.documents))
    if not args.yes:
        if not context.interactive:
            raise ValidationError("Deleting needs confirmation: add --yes (no terminal to ask on).")
        names = service.names_of(document_ids)
        if not names:
            raise NotFound(f"There is no document with id {document_ids[0]}.")
        listed = "\n".join(
            f"  {printable(names[i]) or '(damaged)'} ({i})" for i in document_ids if i in names
        )
        missing = len(document_ids) - len(names)
        listed += f"\n  ({plural(missing, 'id')} not found)" if missing else ""
        question = f"Delete {plural(len(names), 'document')} for good?\n{listed}\n"
        if not confirm(context, question):
            context.note("Nothing was deleted.")
            return EXIT_OK
    report = service.delete_many(document_ids)
    for result in report.results:
        if result.status is DeleteStatus.DELETED:
            name = printable(result.filename) or "a damaged document"
            context.print(f"Deleted {name} ({result.document_id})")
        else:
            context.note(f"dms: {result.document_id}: {printable(result.message)}")
    error = report.first_error
    return error.exit_code if error is not None else EXIT_OK


def _document_id(service: DocumentService, reference: str) -> str:
    """The id ``reference`` is, or the id of the one document it names."""
    text = reference.strip()
    return text if is_document_id(text) else service.find(reference).document_id


def _named(document: Document) -> str:
    return f"{printable(document.filename)} ({document.document_id})"


def cmd_tag(context: Context) -> int:
    args = context.args
    if not args.add and not args.remove:
        raise ValidationError("Say what to change: --add TAG and/or --remove TAG.")
    service = context.service
    # Batched: 100 documents a read and a write (core.bulk_tags); one changed meanwhile is
    # reported as a conflict and left as it is.
    document_ids = list(dict.fromkeys(_document_id(service, ref) for ref in args.documents))
    report = service.retag_many(document_ids, add=args.add or (), remove=args.remove or ())
    for result in report.results:
        if result.status is ChangeStatus.DONE and result.document is not None:
            tags = printable(", ".join(result.document.tags)) or "(none)"
            context.print(f"{printable(result.document.filename)}: tags {tags}")
        elif result.status is not ChangeStatus.DONE:
            context.note(f"dms: {result.document_id}: {printable(result.message)}")
    error = report.first_error
    return error.exit_code if error is not None else EXIT_OK


def cmd_rename(context: Context) -> int:
    service = context.service
    document = service.rename(_document_id(service, context.args.document), context.args.name)
    context.print(f"Renamed to {printable(document.filename)}")
    return EXIT_OK


DOCUMENT_HELP = "a document's id, or its name if no other document has it"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms list`, `info`, `download`, `delete`, `tag` and `rename`."""
    listing = add_command(commands, "list", cmd_list, "list documents (newest first)")
    listing.add_argument("--tag", help="only documents with this tag (any case)")
    listing.add_argument("--search", metavar="TEXT", help="filename contains TEXT (any case)")
    listing.add_argument(
        "--type", metavar="MIME", help="file type, e.g. application/pdf or image/*"
    )
    listing.add_argument("--sort", choices=[field.value for field in SortField], default="created")
    order = listing.add_mutually_exclusive_group()
    order.add_argument("--desc", action="store_true", help="descending (created: the default)")
    order.add_argument("--asc", action="store_true", help="ascending (the default but for created)")
    listing.add_argument(
        "--limit",
        type=number_argument(int, 1, "a whole number"),
        default=50,
        help="page size (default 50)",
    )
    listing.add_argument("--cursor", help="continue after a previous page (see --json nextCursor)")
    listing.add_argument("--all", action="store_true", help="every matching document")
    listing.add_argument("--json", action="store_true")

    info = add_command(commands, "info", cmd_info, "show a document's details")
    info.add_argument("document", metavar="DOCUMENT", help=DOCUMENT_HELP)
    info.add_argument("--json", action="store_true")

    download = add_command(
        commands, "download", cmd_download, "download documents (checksum verified)"
    )
    download.add_argument(
        "documents",
        nargs="+",
        metavar="DOCUMENT",
        help=DOCUMENT_HELP + "; several go into one folder as one job",
    )
    download.add_argument("-o", "--output", help="a folder, or the file to write (one document)")
    download.add_argument("--overwrite", action="store_true", help="replace an existing file")
    download.add_argument(
        "--version", type=version_number, metavar="N", help="an older version (`dms versions`)"
    )

    delete = add_command(
        commands, "delete", cmd_delete, "move documents to the trash (or delete them for good)"
    )
    delete.add_argument("documents", nargs="+", metavar="DOCUMENT", help=DOCUMENT_HELP)
    delete.add_argument(
        "--permanently", action="store_true", help="delete for good, not into the trash (asks)"
    )
    delete.add_argument(
        "--yes", "-y", action="store_true", help="with --permanently: do not ask for confirmation"
    )

    tag = add_command(commands, "tag", cmd_tag, "add or remove tags (of many documents at once)")
    tag.add_argument("documents", nargs="+", metavar="DOCUMENT", help=DOCUMENT_HELP)
    tag.add_argument("--add", action="append", metavar="TAG")
    tag.add_argument("--remove", action="append", metavar="TAG")

    rename = add_command(commands, "rename", cmd_rename, "rename a document")
    rename.add_argument("document", metavar="DOCUMENT", help=DOCUMENT_HELP)
    rename.add_argument("name")
