"""The templates lint clean: cfn-lint (all rules, informational ones too) and checkov.

checkov is not in the test extras: it pins boto3 1.35 / s3transfer 0.10, older than the app
needs. `.ci/setup` installs it into its own virtualenv, `.venv-checkov` (DMS_CHECKOV may name
another executable). Every checkov finding on the backend must be listed, with its reason, in the
"Deploying to AWS" section of docs/operations.md; every finding on the pipeline is in
PIPELINE_FINDINGS below and explained in docs/pipeline.md; every listed finding must still occur.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

from tests.infra.pipeline_template import PIPELINE_TEMPLATE
from tests.infra.template import TEMPLATE

REPO = Path(__file__).resolve().parents[2]
OPERATIONS_GUIDE = REPO / "docs" / "operations.md"
PIPELINE_GUIDE = REPO / "docs" / "pipeline.md"
# Accepted on the pipeline template, each for the reason docs/pipeline.md gives.
PIPELINE_FINDINGS = {
    "CKV_AWS_18",  # artifact bucket access logging
    "CKV_AWS_158",  # CodeBuild log groups encrypted with a customer-managed KMS key
}


def test_cfn_lint_is_clean_including_informational_rules() -> None:
    matches = lint_file(TEMPLATE, ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def test_cfn_lint_finds_nothing_in_the_pipeline_template() -> None:
    matches = lint_file(PIPELINE_TEMPLATE, ManualArgs(include_checks=["I"], regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def _documented_checkov_findings() -> set[str]:
    text = OPERATIONS_GUIDE.read_text(encoding="utf-8")
    section = text.split("## Deploying to AWS", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(CKV_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def _checkov_findings(template: Path) -> set[str]:
    checkov = os.environ.get("DMS_CHECKOV") or str(REPO / ".venv-checkov" / "bin" / "checkov")
    assert Path(checkov).exists(), f"{checkov} is missing: run `bash .ci/setup`"
    result = subprocess.run(
        [
            checkov,
            "-f",
            str(template),
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
    return {check["check_id"] for check in report["results"]["failed_checks"]}


def test_checkov_finds_only_what_the_operations_guide_explains() -> None:
    assert _checkov_findings(TEMPLATE) == _documented_checkov_findings()


def test_checkov_finds_only_the_accepted_findings_in_the_pipeline_template() -> None:
    assert _checkov_findings(PIPELINE_TEMPLATE) == PIPELINE_FINDINGS
    text = PIPELINE_GUIDE.read_text(encoding="utf-8")
    explained = set(re.findall(r"^\| `(CKV_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert explained == PIPELINE_FINDINGS
