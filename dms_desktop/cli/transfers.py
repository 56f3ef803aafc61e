"""`dms transfers`: uploads and downloads that stopped before they were done (core.interrupted).

``dms transfers`` lists them (``--json`` for scripts); ``dms transfers resume ID|--all``
continues them where they stopped, ``dms transfers discard ID|--all`` gives them up (a multipart
upload is aborted, a partial download file deleted). An id may be shortened to its first
characters, as listed.
"""

from __future__ import annotations

import argparse

from ..core.errors import DmsError, ValidationError
from ..core.formatting import human_size, printable
from ..core.interrupted import InterruptedTransfer
from ..core.job_progress import JobOutcome
from ..core.models import Document
from .context import EXIT_OK, Context, add_command
from .terminal import ProgressLine


def _row(transfer: InterruptedTransfer) -> str:
    state = "running elsewhere" if transfer.running else "interrupted"
    done = f"{human_size(transfer.done)} of {human_size(transfer.total)}"
    if transfer.is_job:
        done = f"{transfer.files_done} of {transfer.files_total} files, {done}"
    name = printable(transfer.name)
    if transfer.new_version_of is not None:
        name += f" (new version {_next_number(transfer)} of {transfer.new_version_of})"
    return (
        f"{transfer.short_id}  {transfer.kind:<8}  {state:<17}  {done:<20}  "
        f"{name}  ({printable(transfer.local_path)})"
    )


def _next_number(transfer: InterruptedTransfer) -> int:
    return (transfer.based_on or 0) + 1


def cmd_transfers(context: Context) -> int:
    transfers = context.service.interrupted_transfers()
    if context.args.json:
        context.print_json([transfer.to_json_dict() for transfer in transfers])
        return EXIT_OK
    if not transfers:
        context.print("No interrupted transfers.")
        return EXIT_OK
    for transfer in transfers:
        context.print(_row(transfer))
    # A job of many files counts as one transfer: resume or discard it as a whole.
    return EXIT_OK


def _chosen(context: Context) -> list[str]:
    """The ids named on the command line, or every idle kept transfer with ``--all``."""
    args = context.args
    if args.all == bool(args.ids):
        raise ValidationError("Name the transfers (ids from `dms transfers`) or give --all.")
    if args.all:
        return [t.transfer_id for t in context.service.interrupted_transfers() if not t.running]
    return list(args.ids)


def cmd_transfers_resume(context: Context) -> int:
    service = context.service
    failures: list[DmsError] = []
    kept = service.interrupted_transfers()
    for transfer_id in _chosen(context):
        version = next(
            (
                transfer
                for transfer in kept
                if transfer.transfer_id.startswith(transfer_id.strip().lower())
                and transfer.new_version_of is not None
            ),
            None,
        )
        progress = ProgressLine(context.err, f"resuming {transfer_id[:8]}")
        try:
            result = service.resume_transfer(
                transfer_id,
                progress=progress.update,
                notice=context.note,
                locks_dir=context.paths.locks_dir,
            )
        except DmsError as error:
            progress.finish()
            failures.append(error)
            context.note(f"dms: {printable(str(error))}")
            continue
        progress.finish()
        if isinstance(result, JobOutcome):
            for failure in result.failures:
                failures.append(DmsError(str(failure)))
                context.note(f"dms: {failure}")
            done = result.done_before + result.moved + result.skipped
            verb = "Uploaded" if result.kind == "upload" else "Downloaded"
            context.print(
                f"{verb} {printable(result.name)}: {done} of {result.files_total} files done"
                + (f", {len(result.failures)} failed" if result.failures else "")
            )
        elif isinstance(result, Document) and version is not None:
            context.print(
                f"Uploaded version {_next_number(version)} of {printable(result.filename)} "
                f"({result.document_id})"
            )
        elif isinstance(result, Document):
            context.print(f"Uploaded {printable(result.filename)} as {result.document_id}")
        else:
            context.print(f"Downloaded to {printable(str(result))}")
    return failures[0].exit_code if failures else EXIT_OK


def cmd_transfers_discard(context: Context) -> int:
    service = context.service
    failures: list[DmsError] = []
    for transfer_id in _chosen(context):
        try:
            what = service.discard_transfer(transfer_id)
        except DmsError as error:
            failures.append(error)
            context.note(f"dms: {printable(str(error))}")
            continue
        context.print(f"Discarded {printable(what)}")
    return failures[0].exit_code if failures else EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dms transfers`, `dms transfers resume`, `dms transfers discard`."""
    transfers = add_command(
        commands, "transfers", cmd_transfers, "list interrupted uploads and downloads"
    )
    transfers.add_argument("--json", action="store_true")
    actions = transfers.add_subparsers(dest="action", metavar="ACTION")
    for name, handler, help_text in (
        ("resume", cmd_transfers_resume, "continue interrupted transfers where they stopped"),
        (
            "discard",
            cmd_transfers_discard,
            "give up interrupted transfers (abort the upload, delete the partial file)",
        ),
    ):
        action = add_command(actions, name, handler, help_text)
        action.add_argument("ids", nargs="*", metavar="ID", help="as `dms transfers` lists it")
        action.add_argument("--all", action="store_true", help="every interrupted transfer")
