"""`dms list`, `info`, `download`, `delete`, `tag`, `rename`: the signed-in user's documents."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import DmsError, IntegrityError, ValidationError
from ..core.formatting import human_size, human_time
from ..core.listing import MAX_PAGE_SIZE, ListQuery, damaged_message
from ..core.models import Document
from ..core.schema import SortField
from .arguments import number_argument
from .context import EXIT_OK, Context, add_command
from .terminal import ProgressLine, confirm


def _document_row(document: Document) -> str:
    tags = ", ".join(document.tags)
    return (
        f"{document.document_id}  {document.filename[:40]:<40}  {document.file_type[:24]:<24}  "
        f"{human_size(document.size):>9}  {human_time(document.updated_at)}  {tags}"
    )


def _print_details(context: Context, document: Document) -> None:
    rows = [
        ("Name", document.filename),
        ("Id", document.document_id),
        ("Type", document.file_type),
        ("Size", f"{human_size(document.size)} ({document.size} bytes)"),
        ("Tags", ", ".join(document.tags) or "-"),
        ("Folder", document.folder or "-"),
        ("Created", human_time(document.created_at)),
        ("Updated", human_time(document.updated_at)),
        ("Version", str(document.version)),
        ("SHA-256", document.checksum),
        ("Stored at", document.s3_key),
    ]
    if document.expires is not None:
        rows.append(("Expires", f"{human_time(document.expires)} (test record)"))
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
        for document in documents:
            context.print(_document_row(document))
        if cursor:
            context.note(f"{len(documents)} shown, more available: use --all, or --cursor {cursor}")
    if damaged:
        context.note(f"dms: {damaged_message(damaged)}")
    return code


def cmd_info(context: Context) -> int:
    document = context.service.get(context.args.id)
    if context.args.json:
        context.print_json(document.to_json_dict())
    else:
        _print_details(context, document)
    return EXIT_OK


def cmd_download(context: Context) -> int:
    args = context.args
    service = context.service
    document = service.get(args.id)
    target = Path(args.output) if args.output else Path.cwd()
    progress = ProgressLine(context.err, document.filename)
    try:
        path = service.download(
            document.document_id, target, overwrite=args.overwrite, progress=progress.update
        )
    finally:
        progress.finish()
    context.print(f"Downloaded {document.filename} to {path}")
    return EXIT_OK


def cmd_delete(context: Context) -> int:
    args = context.args
    service = context.service
    documents = [service.get(document_id) for document_id in dict.fromkeys(args.ids)]
    if not args.yes:
        if not context.interactive:
            raise ValidationError("Deleting needs confirmation: add --yes (no terminal to ask on).")
        names = "\n".join(f"  {doc.filename} ({doc.document_id})" for doc in documents)
        if not confirm(context, f"Delete {len(documents)} document(s)?\n{names}\n"):
            context.note("Nothing was deleted.")
            return EXIT_OK
    failures: list[DmsError] = []
    for document in documents:
        try:
            service.delete(document.document_id)
        except DmsError as error:
            failures.append(error)
            context.note(f"dms: {document.document_id}: {error}")
            continue
        context.print(f"Deleted {document.filename} ({document.document_id})")
    return failures[0].exit_code if failures else EXIT_OK


def cmd_tag(context: Context) -> int:
    args = context.args
    if not args.add and not args.remove:
        raise ValidationError("Say what to change: --add TAG and/or --remove TAG.")
    document = context.service.retag(args.id, add=args.add or (), remove=args.remove or ())
    context.print(f"{document.filename}: tags {', '.join(document.tags) or '(none)'}")
    return EXIT_OK


def cmd_rename(context: Context) -> int:
    document = context.service.rename(context.args.id, context.args.name)
    context.print(f"Renamed to {document.filename}")
    return EXIT_OK


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
    info.add_argument("id")
    info.add_argument("--json", action="store_true")

    download = add_command(
        commands, "download", cmd_download, "download a document (checksum verified)"
    )
    download.add_argument("id")
    download.add_argument("-o", "--output", help="a folder, or the file to write")
    download.add_argument("--overwrite", action="store_true", help="replace an existing file")

    delete = add_command(commands, "delete", cmd_delete, "delete documents")
    delete.add_argument("ids", nargs="+", metavar="ID")
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    tag = add_command(commands, "tag", cmd_tag, "add or remove tags")
    tag.add_argument("id")
    tag.add_argument("--add", action="append", metavar="TAG")
    tag.add_argument("--remove", action="append", metavar="TAG")

    rename = add_command(commands, "rename", cmd_rename, "rename a document")
    rename.add_argument("id")
    rename.add_argument("name")
