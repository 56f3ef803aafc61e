"""Every stored body names its file for downloads (Content-Disposition), so a browser or Amplify's
Storage Browser saves it under its real name although its key is the document id."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from dms_desktop.core import schema
from dms_desktop.core.blobs import content_disposition
from dms_desktop.core.service import DocumentService


@pytest.mark.parametrize("size", [1_000, 6 * 1024 * 1024], ids=["one request", "multipart"])
def test_an_uploaded_body_names_its_file(
    service: DocumentService, s3: Any, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "Jahresbericht – 2024.pdf"
    source.write_bytes(os.urandom(size))

    document = service.upload(source, filename="Annual report.pdf")

    head = s3.head_object(Bucket=schema.BUCKET_NAME, Key=document.s3_key)
    assert head["ContentDisposition"] == content_disposition("Annual report.pdf")
    assert head["ContentType"] == "application/pdf"


def test_content_disposition_names_the_file_in_ascii_and_utf8() -> None:
    assert content_disposition('Größe "1".pdf') == (
        "attachment; filename=\"Groe _1_.pdf\"; filename*=UTF-8''Gr%C3%B6%C3%9Fe%20%221%22.pdf"
    )
    assert content_disposition("日本語.txt").startswith('attachment; filename=".txt"; ')
    assert content_disposition("日本").startswith('attachment; filename="download"; ')
