"""Sample documents for a fresh sandbox, uploaded as the demo user through the app's own service
(the same path as any upload), so the first `dms list` or window shows something real."""

from __future__ import annotations

import logging
import tempfile
from importlib import resources
from pathlib import Path

from dms_desktop.core.auth import sign_in_with_password
from dms_desktop.core.service import DocumentService
from dms_desktop.sandbox.info import DEMO_USER, SandboxInfo

log = logging.getLogger(__name__)

SAMPLE_DOCUMENTS: list[tuple[str, tuple[str, ...]]] = [
    ("welcome.md", ("getting-started",)),
    ("meeting-notes.txt", ("meetings", "project")),
    ("budget-2026.csv", ("finance", "2026")),
    ("quarterly-report.pdf", ("finance", "reports")),
    ("sunrise.png", ("photos",)),
    ("settings-example.json", ("project",)),
]


def seed_sample_documents(info: SandboxInfo) -> None:
    """Upload the sample documents as the demo user (called once, on the first start)."""
    user = sign_in_with_password(info.cognito_pool(), *DEMO_USER)
    service = DocumentService.for_user(
        user.session, info.endpoint_url, info.table, info.bucket, user.user_id
    )
    samples = resources.files("dms_desktop.resources") / "samples"
    with tempfile.TemporaryDirectory(prefix="dms-samples-") as folder:
        for name, tags in SAMPLE_DOCUMENTS:
            local = Path(folder) / name
            local.write_bytes((samples / name).read_bytes())
            service.upload(local, tags=tags)
    log.info("seeded %d sample documents for %s", len(SAMPLE_DOCUMENTS), DEMO_USER[0])
