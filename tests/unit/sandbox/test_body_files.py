"""Body files: a stored body reads like a file."""

from __future__ import annotations

from pathlib import Path

from dms_desktop.sandbox.body_files import StoredBody


def test_stored_body_reads_like_a_file(tmp_path: Path) -> None:
    path = tmp_path / "body"
    path.write_bytes(b"0123456789")
    body = StoredBody(path)
    body.seek(0)
    assert body.read(4) == b"0123"
    assert body.read() == b"456789"
    body.seek(2)
    assert body.read() == b"23456789"
    body.close()
