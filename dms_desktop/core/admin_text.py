"""What the admin tools' results say in words: the same lines in the CLI and in the window.

Kept apart from ``core.admin`` so that the words can change without touching what the tools do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .formatting import human_size, plural, printable

if TYPE_CHECKING:
    from .admin import CheckReport, CleanupPlan, DeletionReport


@dataclass(frozen=True)
class ReportLine:
    """One line of a report; a ``problem`` is something that did not go as asked (the CLI
    prints those on stderr)."""

    text: str
    problem: bool = False


def deletion_report(report: DeletionReport) -> list[ReportLine]:
    """The report of a real cleanup or repair run: what was deleted, freed, skipped, failed."""
    lines = [
        ReportLine(
            f"Deleted {len(report.deleted)} of {plural(report.planned, 'document')} "
            f"({human_size(report.bytes_freed)} freed)."
        )
    ]
    if report.uploads_aborted:
        count = plural(len(report.uploads_aborted), "unfinished upload")
        lines.append(ReportLine(f"Aborted {count}."))
    if report.skipped:
        lines.append(ReportLine(f"{len(report.skipped)} no longer needed:"))
        lines += [
            ReportLine(f"  {skipped.document_id} ({skipped.what}): {printable(skipped.reason)}")
            for skipped in report.skipped
        ]
    if report.failed:
        lines.append(ReportLine(f"{len(report.failed)} failed:", problem=True))
        lines += [
            ReportLine(
                f"  {failure.document_id} ({failure.what}): {printable(failure.reason)}",
                problem=True,
            )
            for failure in report.failed
        ]
    if report.cancelled:
        lines.append(
            ReportLine(
                f"Cancelled: {report.not_attempted} not attempted; nothing half-done.", problem=True
            )
        )
    if report.stopped_by:
        lines.append(ReportLine(f"Stopped: {printable(report.stopped_by)}", problem=True))
    if report.audit_log:
        lines.append(ReportLine(f"Audit log: {printable(str(report.audit_log))}"))
    return lines


def deletion_report_text(report: DeletionReport) -> str:
    """:func:`deletion_report` as one block of text (the window's report view)."""
    return "\n".join(line.text for line in deletion_report(report))


def cleanup_plan_summary(plan: CleanupPlan) -> str:
    """'6 documents match, 1.2 MB in total (120 scanned).'"""
    match = "matches" if plan.count == 1 else "match"
    return (
        f"{plural(plan.count, 'document')} {match}, {human_size(plan.total_bytes)} in total "
        f"({plan.scanned} scanned)."
    )


def cleanup_plan_per_user(plan: CleanupPlan, names: Mapping[str, str] | None = None) -> list[str]:
    """One line per owner: 'us-east-1:6f1c…: 3 documents, 1.1 MB', or with ``names`` (owner id
    to a label, see core.owner_names) 'alice: 3 documents, 1.1 MB'."""
    labels = names or {}
    return [
        f"{printable(labels.get(user, user))}: {plural(totals.count, 'document')}, "
        f"{human_size(totals.bytes)}"
        for user, totals in plan.per_user.items()
    ]


def check_summary(report: CheckReport) -> str:
    """'Checked 120 documents, 118 stored files, 2 unfinished uploads: 3 problems.'"""
    checked = [
        plural(report.documents, "document"),
        plural(report.bodies, "stored file"),
        plural(report.uploads, "unfinished upload"),
    ]
    if report.checksums_verified:
        checked.append(plural(report.checksums_verified, "checksum"))
    problems = len(report.findings)
    found = plural(problems, "problem") if problems else "no problems found"
    return f"Checked {', '.join(checked)}: {found}."
