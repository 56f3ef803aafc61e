"""The admin tools' reports in words, the same in the CLI and the window."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dms_desktop.core.admin import DeletionReport, Failure
from dms_desktop.core.admin_text import deletion_report, deletion_report_text

STARTED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_a_report_says_what_was_deleted_freed_and_what_failed() -> None:
    report = DeletionReport(
        kind="cleanup",
        admin="admin",
        started_at=STARTED,
        planned=3,
        deleted=["a", "b"],
        bytes_freed=2048,
        uploads_aborted=["private/u/x upload-1"],
        failed=[Failure("c", "metadata", "The backend refused\nthe request")],
        audit_log=Path("/data/audit/cleanup.json"),
    )

    lines = deletion_report(report)

    assert [line.text for line in lines] == [
        "Deleted 2 of 3 documents (2.0 KB freed).",
        "Aborted 1 unfinished upload.",
        "1 failed:",
        "  c (metadata): The backend refused\\nthe request",
        "Audit log: /data/audit/cleanup.json",
    ]
    assert [line.problem for line in lines] == [False, False, True, True, False]
    assert deletion_report_text(report) == "\n".join(line.text for line in lines)


def test_a_cancelled_run_says_how_much_was_not_attempted() -> None:
    report = DeletionReport(
        kind="cleanup", admin="admin", started_at=STARTED, planned=1, cancelled=True
    )
    report.not_attempted = 1

    text = deletion_report_text(report)

    assert text.startswith("Deleted 0 of 1 document (0 bytes freed).")
    assert "Cancelled: 1 not attempted; nothing half-done." in text
    assert "(s)" not in text
