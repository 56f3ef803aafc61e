"""`dms share` on the sandbox: the link downloads the right bytes with plain HTTP from this
machine, and stops working after its expiry; nobody shares another user's document."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import botocore.auth
import pytest

from tests.integration.conftest import SandboxHome

pytestmark = pytest.mark.server


def _upload(sandbox: SandboxHome, path: Path) -> str:
    result = sandbox.dms("upload", str(path), "--json", "--duplicates", "keep")
    assert result.code == 0, result.err
    return str(json.loads(result.out)[0]["documentId"])


def _share(sandbox: SandboxHome, document_id: str, *args: str) -> dict[str, str]:
    result = sandbox.dms("share", document_id, "--json", *args)
    assert result.code == 0, result.err
    link: dict[str, str] = json.loads(result.out)
    return link


def test_a_share_link_downloads_the_document_with_plain_http(
    shared_sandbox: SandboxHome, tmp_path: Path
) -> None:
    source = tmp_path / "Jahresabschluss 2024.pdf"
    source.write_bytes(os.urandom(200_000))
    document_id = _upload(shared_sandbox, source)

    link = _share(shared_sandbox, document_id, "--expires", "7d")

    with urllib.request.urlopen(link["url"], timeout=30) as response:  # noqa: S310 (our link)
        assert response.read() == source.read_bytes()
        assert "Jahresabschluss%202024.pdf" in response.headers["Content-Disposition"]
    # Without the proof that the sandbox's owner made it, the same link is refused.
    stripped = link["url"].split("&dms-share=")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stripped, timeout=30)  # noqa: S310
    assert refused.value.code == 403
    assert link["signedBy"] == "credentials"
    expires = dt.datetime.fromisoformat(link["expiresAt"])
    assert abs((expires - dt.datetime.now(dt.UTC)) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    plain = shared_sandbox.dms("share", document_id)  # default: a day
    assert plain.code == 0 and plain.out.startswith("http://127.0.0.1:")
    assert "until" in plain.err and "presigned with your sign-in's credentials" in plain.err


def test_a_share_link_stops_working_after_its_expiry(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "short.txt"
    source.write_text("short-lived")
    document_id = _upload(shared_sandbox, source)
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)

    def signing_clock(remove_tzinfo: bool = True) -> dt.datetime:  # signs as if two hours ago
        return two_hours_ago.replace(tzinfo=None) if remove_tzinfo else two_hours_ago

    with monkeypatch.context() as patched:
        patched.setattr(botocore.auth, "get_current_datetime", signing_clock)
        old = _share(shared_sandbox, document_id, "--expires", "1h")

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(old["url"], timeout=30)  # noqa: S310
    assert refused.value.code == 403
    assert b"Request has expired" in refused.value.read()
    fresh = _share(shared_sandbox, document_id, "--expires", "1h")
    with urllib.request.urlopen(fresh["url"], timeout=30) as response:  # noqa: S310
        assert response.read() == b"short-lived"


def test_nobody_shares_another_users_document_or_one_in_the_trash(
    shared_sandbox: SandboxHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "private.txt"
    source.write_text("private")
    mine, trashed = _upload(shared_sandbox, source), _upload(shared_sandbox, source)
    assert shared_sandbox.dms("delete", trashed).code == 0

    in_trash = shared_sandbox.dms("share", trashed)
    assert in_trash.code == 4 and "in the trash" in in_trash.err

    shared_sandbox.sign_in_as_new_user(monkeypatch, "eve")
    refused = shared_sandbox.dms("share", mine)
    assert refused.code == 4 and refused.out == ""
