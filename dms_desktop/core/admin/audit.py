"""The JSON audit log of every real run (cleanup, repair, recovery): who, when, criteria, ids,
outcome; one file per run in the admin's data folder (``audit/``). Dry runs write none."""

from __future__ import annotations

import json
import logging
from datetime import UTC
from pathlib import Path
from typing import Any

from ..identity import SignedIn
from ..models import format_timestamp
from .reports import DeletionReport

log = logging.getLogger(__name__)


def write_audit(
    audit_dir: Path | None,
    admin: SignedIn,
    report: DeletionReport,
    criteria: dict[str, Any],
    findings: list[dict[str, Any]] | None = None,
) -> Path | None:
    """Write the audit log of ``report`` into ``audit_dir``; its path, or None if there is no
    folder or it could not be written (logged: the run itself is done either way)."""
    if audit_dir is None:
        return None
    entry: dict[str, Any] = {
        "who": {"username": admin.username, "userId": admin.user_id},
        "when": format_timestamp(report.started_at),
        "criteria": criteria,
        "outcome": report.to_json_dict(),
    }
    if findings is not None:
        entry["findings"] = findings
    stamp = report.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    try:
        audit_dir.mkdir(parents=True, exist_ok=True)
        path = audit_dir / f"{stamp}.json"
        number = 1
        while path.exists():
            number += 1
            path = audit_dir / f"{stamp}-{number}.json"
        entry["outcome"]["auditLog"] = str(path)
        temp = path.with_suffix(".json.partial")
        temp.write_text(json.dumps(entry, indent=2, ensure_ascii=False), encoding="utf-8")
        temp.replace(path)
    except OSError:
        log.exception("could not write the audit log in %s", audit_dir)
        return None
    log.info("audit log of the %s written to %s", report.kind, path)
    return path
