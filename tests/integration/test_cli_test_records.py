"""`dms upload --expires-in`: test records that expire (DynamoDB TTL), on a real sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dms_desktop.core import schema
from dms_desktop.sandbox.provisioning import sandbox_client
from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


def test_upload_as_a_test_record_shows_its_expiry(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "fixture.txt"
    source.write_text("seeded by a test\n")
    before = datetime.now(UTC)

    result = shared_sandbox.dms("upload", str(source), "--expires-in", "2d", "--json")

    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    expires = datetime.fromtimestamp(document["expiresAt"], UTC)
    assert before + timedelta(days=2) <= expires <= datetime.now(UTC) + timedelta(days=2, seconds=1)
    info = shared_sandbox.dms("info", document["documentId"])
    assert info.code == 0, info.err
    assert "Expires:" in info.out and "(test record)" in info.out
    assert shared_sandbox.dms("delete", document["documentId"], "--permanently", "--yes").code == 0


def test_a_normal_upload_does_not_expire(shared_sandbox: SandboxHome, tmp_path: Path) -> None:
    source = tmp_path / "keeper.txt"
    source.write_text("a real document\n")

    result = shared_sandbox.dms("upload", str(source), "--json")

    assert result.code == 0, result.err
    (document,) = json.loads(result.out)
    assert document["expiresAt"] is None
    assert "Expires:" not in shared_sandbox.dms("info", document["documentId"]).out
    assert shared_sandbox.dms("delete", document["documentId"], "--permanently", "--yes").code == 0


@pytest.mark.parametrize("bad", ["7", "d", "0d", "-1d", "7y", "1.5h"])
def test_a_bad_duration_is_refused_before_anything_is_uploaded(
    shared_sandbox: SandboxHome, tmp_path: Path, bad: str
) -> None:
    source = tmp_path / "never.txt"
    source.write_text("must not be stored\n")
    listed_before = shared_sandbox.dms("list", "--all", "--json").out

    result = shared_sandbox.dms("upload", str(source), f"--expires-in={bad}")

    assert result.code == 2
    assert "is not a duration" in result.err and "e.g. 7d" in result.err
    assert "Traceback" not in result.err
    assert shared_sandbox.dms("list", "--all", "--json").out == listed_before


@pytest.mark.parametrize("huge", ["99999999999999d", "999999999d"])
def test_a_huge_duration_is_a_usage_error_not_a_crash(
    shared_sandbox: SandboxHome, tmp_path: Path, huge: str
) -> None:
    source = tmp_path / "never.txt"
    source.write_text("must not be stored\n")

    result = shared_sandbox.dms("upload", str(source), f"--expires-in={huge}")

    assert result.code == 2
    assert "too long a duration" in result.err
    assert "unexpected error" not in result.err and "Traceback" not in result.err


def test_the_sandbox_table_has_ttl_on_the_expiry_attribute(shared_sandbox: SandboxHome) -> None:
    dynamodb = sandbox_client(shared_sandbox.info.endpoint_url, "dynamodb", None)

    description = dynamodb.describe_time_to_live(TableName=shared_sandbox.info.table)

    assert description["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": schema.EXPIRES_AT,
    }
