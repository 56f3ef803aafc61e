"""The template lints clean: cfn-lint (all rules, informational ones too) and checkov.

checkov is not in the test extras: it pins boto3 1.35 / s3transfer 0.10, older than the app
needs. `.ci/setup` installs it into its own virtualenv, `.venv-checkov` (DMS_CHECKOV may name
another executable). Every checkov finding must be listed, with its reason, in the "Deploying to
AWS" section of docs/operations.md, and every listed finding must still occur.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

from tests.infra.template import TEMPLATE

REPO = Path(__file__).resolve().parents[2]
OPERATIONS_GUIDE = REPO / "docs" / "operations.md"


def test_cfn_lint_is_clean_including_informational_rules() -> None:
    matches = lint_file(TEMPLATE, ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def _documented_checkov_findings() -> set[str]:
    text = OPERATIONS_GUIDE.read_text(encoding="utf-8")
    section = text.split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(CKV_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_checkov_finds_only_what_the_operations_guide_explains() -> None:
    checkov = os.environ.get("DMS_CHECKOV") or str(REPO / ".venv-checkov" / "bin" / "checkov")
    assert Path(checkov).exists(), f"{checkov} is missing: run `bash .ci/setup`"
    result = subprocess.run(
        [
            checkov,
            "-f",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    failed = {check["check_id"] for check in report["results"]["failed_checks"]}
    assert failed == _documented_checkov_findings()
