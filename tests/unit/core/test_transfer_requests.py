"""What a transfer costs in requests and waits: small uploads and downloads (issue 7, row 4)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dms_desktop.core import schema
from dms_desktop.core.blobs import MiB
from dms_desktop.core.service import DocumentService

from .conftest import write_file

BUCKET = schema.BUCKET_NAME


def test_a_small_upload_is_one_request_sent_from_the_calling_thread(
    service: DocumentService, s3: Any, tmp_path: Path
) -> None:
    sent: list[tuple[str, threading.Thread]] = []

    def record(event_name: str, **_: Any) -> None:
        sent.append((event_name.rsplit(".", 1)[-1], threading.current_thread()))

    s3.meta.events.register("before-send.s3", record)
    source = tmp_path / "letter.pdf"
    data = write_file(source, MiB)

    document = service.upload(source)

    # No transfer manager: its thread pool and hand-offs cost more than the request itself.
    assert sent == [("PutObject", threading.current_thread())]
    assert s3.get_object(Bucket=BUCKET, Key=document.s3_key)["Body"].read() == data


def test_a_download_asks_for_the_body_without_waiting_for_the_metadata(
    service: DocumentService, dynamodb: Any, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "scan.png"
    data = write_file(source, MiB)
    document = service.upload(source)
    body_requested = threading.Event()
    requested_before_the_metadata_came: list[bool] = []
    s3.meta.events.register("before-send.s3.GetObject", lambda **_: body_requested.set())

    def hold_the_metadata_read(**_: Any) -> None:
        # A download that asked for the body only after the metadata would wait here in vain.
        requested_before_the_metadata_came.append(body_requested.wait(timeout=10))

    dynamodb.meta.events.register("before-send.dynamodb.GetItem", hold_the_metadata_read)

    copy = service.download(document.document_id, tmp_path / "copy.png")

    assert requested_before_the_metadata_came == [True]
    assert copy.read_bytes() == data
