"""`dms admin ...`: clean up test records and check metadata against stored files (admins only).

Both commands are a dry run unless ``--yes`` is given. A real run of more than 100 documents on a
terminal asks to type their number; without a terminal ``--yes`` is required and enough. Ctrl+C
during a real run cancels between batches and still prints (and logs) what was done; exit code 8.
A non-admin gets exit code 6 before anything is read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from ..connect import open_admin_service
from ..core.admin import (
    CONFIRM_TYPED_ABOVE,
    DEFAULT_ORPHAN_GRACE,
    DEFAULT_STALE_HOURS,
    REPAIRABLE_KINDS,
    AdminService,
    CheckReport,
    CleanupCriteria,
    CleanupPlan,
    DeletionReport,
    FindingKind,
    needs_typed_confirmation,
)
from ..core.admin_text import (
    check_summary,
    cleanup_plan_per_user,
    cleanup_plan_summary,
    deletion_report,
)
from ..core.cancellation import CancelToken
from ..core.errors import Cancelled, Unavailable
from ..core.formatting import human_size, plural, printable
from .arguments import number_argument, timestamp_argument
from .configure import register_amplify_outputs
from .context import EXIT_OK, Context
from .search import register_admin
from .terminal import CountProgress, cancel_on_interrupt

MAX_ROWS = 50  # rows printed in a text dry run; --json lists every document


def _service(context: Context) -> AdminService:
    service = open_admin_service(context.backend, context.user, context.paths)
    context.report_recovered(service.recover_interrupted())
    return service


def _confirm_count(context: Context, count: int, what: str) -> bool:
    """The confirmation of a real run (``--yes`` was given)."""
    if not context.interactive or not needs_typed_confirmation(count):
        return True
    context.err.write(
        f"This deletes {count} {what} (more than {CONFIRM_TYPED_ABOVE}). Type {count} to confirm: "
    )
    context.err.flush()
    return sys.stdin.readline().strip() == str(count)


def _exit_code(report: DeletionReport) -> int:
    if report.cancelled:
        return Cancelled.exit_code
    if report.failed or report.stopped_by:
        return Unavailable.exit_code
    return EXIT_OK


def _print_report(context: Context, report: DeletionReport) -> None:
    for line in deletion_report(report):
        if line.problem:
            context.note(line.text)
        else:
            context.print(line.text)


# --- cleanup ----------------------------------------------------------------------------------


def _criteria(args: argparse.Namespace) -> CleanupCriteria:
    return CleanupCriteria(
        tag=args.tag,
        name_prefix=args.name_prefix,
        name_glob=args.name_glob,
        created_before=args.created_before,
        created_after=args.created_after,
        owners=tuple(args.owner or ()),
        min_size=args.min_size,
        max_size=args.max_size,
        orphans=args.orphans,
        expired=args.expired,
    )


def _print_plan(context: Context, plan: CleanupPlan) -> None:
    context.print(cleanup_plan_summary(plan))
    for line in cleanup_plan_per_user(plan):
        context.print(f"  {line}")
    for item in plan.items[:MAX_ROWS]:
        note = "" if item.reason.value == "matched" else f"  [{item.reason.value}]"
        context.print(
            f"{item.document_id}  {printable(item.filename)[:40]:<40}  "
            f"{human_size(item.size):>9}  {printable(item.user_id)}{note}"
        )
    if plan.count > MAX_ROWS:
        context.print(f"...and {plan.count - MAX_ROWS} more (--json lists them all).")


def cmd_admin_cleanup(context: Context) -> int:
    args = context.args
    criteria = _criteria(args)  # bad criteria fail before signing in
    service = _service(context)
    grace = timedelta(minutes=args.orphan_grace_minutes)
    plan = service.plan_cleanup(criteria, orphan_grace=grace)
    if not args.yes:
        if args.json:
            context.print_json(plan.to_json_dict())
        else:
            _print_plan(context, plan)
        context.note(
            "Dry run: nothing was deleted."
            + (
                f" Add --yes to delete these {plural(plan.count, 'document')}."
                if plan.count
                else ""
            )
        )
        return EXIT_OK
    if plan.count == 0:
        if args.json:
            context.print_json({"dryRun": False, "planned": 0, "deleted": []})
        else:
            context.print("No documents match; nothing to delete.")
        return EXIT_OK
    if not _confirm_count(context, plan.count, "documents"):
        context.note("The number did not match; nothing was deleted.")
        return EXIT_OK
    cancel = CancelToken()
    progress = CountProgress(context.err, "Deleting")
    try:
        with cancel_on_interrupt(cancel):
            report = service.delete(plan, progress=progress.update, cancel=cancel)
    finally:
        progress.finish()
    if args.json:
        context.print_json(report.to_json_dict())
    else:
        _print_report(context, report)
    return _exit_code(report)


# --- check ------------------------------------------------------------------------------------


def _print_check(context: Context, report: CheckReport) -> None:
    context.print(check_summary(report))
    for kind in FindingKind:
        found = report.of_kind(kind)
        if not found:
            continue
        action = "repairable" if kind in REPAIRABLE_KINDS else "flagged only"
        context.print(f"{kind.value}: {len(found)} ({action})")
        for finding in found[:MAX_ROWS]:
            name = f" {finding.filename!r}" if finding.filename else ""
            context.print(f"  {printable(finding.key)}{name}: {printable(finding.detail)}")
        if len(found) > MAX_ROWS:
            context.print(f"  ...and {len(found) - MAX_ROWS} more (--json lists them all).")


def cmd_admin_check(context: Context) -> int:
    args = context.args
    service = _service(context)
    cancel = CancelToken()
    progress = CountProgress(context.err, "Checking")
    try:
        with cancel_on_interrupt(cancel):
            report = service.check(
                stale_hours=args.stale_hours,
                verify_checksums=args.verify_checksums,
                orphan_grace=timedelta(minutes=args.orphan_grace_minutes),
                progress=progress.update,
                cancel=cancel,
            )
    finally:
        progress.finish()
    kinds = sorted({f.kind for f in report.findings if f.kind in REPAIRABLE_KINDS})
    repairs = [f for f in report.findings if f.kind in REPAIRABLE_KINDS]
    output: dict[str, Any] = {"check": report.to_json_dict()}
    if not args.json:
        _print_check(context, report)
    if not args.repair or not repairs:
        if args.json:
            context.print_json(output)
        elif args.repair:
            context.print("Nothing to repair.")
        return EXIT_OK
    if not args.yes:
        if args.json:
            output["repair"] = {"dryRun": True, "kinds": kinds, "count": len(repairs)}
            context.print_json(output)
        context.note(f"Dry run: nothing was repaired. Add --yes to repair {len(repairs)}.")
        return EXIT_OK
    if not _confirm_count(context, len(repairs), "repairs"):
        context.note("The number did not match; nothing was repaired.")
        return EXIT_OK
    cancel = CancelToken()
    progress = CountProgress(context.err, "Repairing")
    try:
        with cancel_on_interrupt(cancel):
            result = service.repair(report, kinds, progress=progress.update, cancel=cancel)
    finally:
        progress.finish()
    if args.json:
        output["repair"] = result.to_json_dict()
        context.print_json(output)
    else:
        _print_report(context, result)
    return _exit_code(result)


# --- parser -----------------------------------------------------------------------------------


_size = number_argument(int, 0, "a number of bytes")
_amount = number_argument(float, 0.0, "a number")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dms admin cleanup` and `dms admin check` on the `dms` subcommands."""
    admin = commands.add_parser(
        "admin", help="admin tools: clean up test records, check consistency (admins only)"
    )
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="COMMAND", required=True)
    grace_default = int(DEFAULT_ORPHAN_GRACE.total_seconds() // 60)
    grace_help = (
        f"stored files younger than this are not orphans (default {grace_default}): an upload "
        "may be writing their metadata"
    )

    cleanup = admin_commands.add_parser(
        "cleanup",
        help="delete the documents matching all criteria, across users (dry run unless --yes)",
        description="Delete the documents of every user that match ALL the criteria given. "
        "Without --yes this is a dry run that deletes nothing.",
    )
    cleanup.add_argument("--tag", help="documents with this tag (any case)")
    names = cleanup.add_mutually_exclusive_group()
    names.add_argument("--name-glob", metavar="GLOB", help="filename matches GLOB (any case)")
    names.add_argument("--name-prefix", metavar="PREFIX", help="filename starts with PREFIX")
    cleanup.add_argument("--created-before", type=timestamp_argument, metavar="ISO")
    cleanup.add_argument("--created-after", type=timestamp_argument, metavar="ISO")
    cleanup.add_argument("--owner", action="append", metavar="ID", help="user id (repeatable)")
    cleanup.add_argument("--min-size", type=_size, metavar="N", help="at least N bytes")
    cleanup.add_argument("--max-size", type=_size, metavar="N", help="at most N bytes")
    cleanup.add_argument(
        "--orphans",
        action="store_true",
        help="only metadata whose stored file is missing, plus stored files without metadata",
    )
    cleanup.add_argument(
        "--expired", action="store_true", help="test records whose expiresAt is past"
    )
    cleanup.add_argument(
        "--orphan-grace-minutes", type=_amount, default=grace_default, metavar="M", help=grace_help
    )
    mode = cleanup.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only show what matches (default)")
    mode.add_argument("--yes", "-y", action="store_true", help="delete (no question to confirm)")
    cleanup.add_argument("--json", action="store_true")
    cleanup.set_defaults(handler=cmd_admin_cleanup)

    check = admin_commands.add_parser(
        "check",
        help="compare metadata with stored files and unfinished uploads; --repair fixes",
        description="Find metadata whose stored file is missing, stored files without metadata, "
        "size (and with --verify-checksums, checksum) mismatches and abandoned multipart "
        "uploads. --repair --yes deletes orphan files and broken metadata and aborts stale "
        "uploads; mismatches are only reported.",
    )
    check.add_argument("--repair", action="store_true", help="repair what can be (see --yes)")
    check.add_argument("--yes", "-y", action="store_true", help="really repair (with --repair)")
    check.add_argument(
        "--stale-hours",
        type=_amount,
        default=DEFAULT_STALE_HOURS,
        metavar="N",
        help=f"unfinished uploads idle this long are abandoned (default {DEFAULT_STALE_HOURS:g})",
    )
    check.add_argument(
        "--verify-checksums",
        action="store_true",
        help="download and hash every stored file (slow: reads everything)",
    )
    check.add_argument(
        "--orphan-grace-minutes", type=_amount, default=grace_default, metavar="M", help=grace_help
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=cmd_admin_check)
    register_admin(admin_commands)  # `dms admin reindex` lives with the search commands
    register_amplify_outputs(admin_commands)
