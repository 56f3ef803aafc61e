"""Integrity (issue 6): every upload stores a full-object checksum, every download verifies it.

moto accepts wrong digests, so the errors S3 and botocore raise for a body damaged on the way
are produced with botocore's Stubber or a ``before-call`` hook (the mechanism Stubber uses).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.httpchecksum import Crc32Checksum, StreamingChecksumBody
from botocore.stub import ANY, Stubber

from dms_desktop.core import schema
from dms_desktop.core.blobs import BlobStore, MiB, TransferSettings
from dms_desktop.core.errors import IntegrityError
from dms_desktop.core.listing import ListQuery
from dms_desktop.core.repository import DocumentRepository
from dms_desktop.core.service import DocumentService

from .conftest import USER_ID, write_file

BUCKET = schema.BUCKET_NAME
DAMAGED = "The CRC32 you specified did not match the calculated checksum."


def stored_keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def assert_nothing_stored(service: DocumentService, s3: Any) -> None:
    assert list(service.iter_documents(ListQuery())) == []
    assert stored_keys(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.nothing_lost(
    "integrity",
    "upload of 0 bytes, 1 KiB and 12 MiB (multipart)",
    "the SHA-256 of the whole body is stored with the metadata; S3 checked a CRC32 on receipt",
)
@pytest.mark.parametrize("size", [0, 1024, 12 * MiB], ids=["empty", "1KiB", "multipart"])
def test_every_upload_stores_the_checksum_of_the_whole_body(
    service: DocumentService, s3: Any, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "body.bin"
    data = write_file(source, size)

    document = service.upload(source)

    assert document.checksum == hashlib.sha256(data).hexdigest()
    assert service.get(document.document_id).checksum == document.checksum
    body = s3.get_object(Bucket=BUCKET, Key=document.s3_key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == document.checksum
    head = s3.head_object(Bucket=BUCKET, Key=document.s3_key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"]  # sent with the body; S3 refuses a body that does not match


@pytest.mark.nothing_lost(
    "integrity",
    "upload whose body S3 finds damaged on the way (BadDigest, Stubber)",
    "'damaged on the way … nothing was stored. Try again.' (exit code 9)",
)
def test_an_upload_damaged_on_the_way_is_an_integrity_error(s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "contract.pdf"
    write_file(source, 4096)
    with Stubber(s3) as stubber:
        stubber.add_client_error(
            "put_object",
            service_error_code="BadDigest",
            service_message=DAMAGED,
            http_status_code=400,
            expected_params={
                "Bucket": BUCKET,
                "Key": "private/user/document",
                "Body": ANY,
                "ContentType": "application/pdf",
                "ChecksumAlgorithm": "CRC32",  # S3 verifies the body against it
            },
        )
        with pytest.raises(IntegrityError, match="damaged on the way") as caught:
            BlobStore(s3, BUCKET).upload(source, "private/user/document", "application/pdf")
        stubber.assert_no_pending_responses()
    assert "nothing was stored. Try again." in str(caught.value)
    assert caught.value.exit_code == 9


def _damaged(operation: str, part_number: int | None = None) -> Any:
    """A ``before-call`` hook answering ``operation`` (only part ``part_number`` of an
    UploadPart) with BadDigest, the way Stubber answers: no request reaches moto."""

    def hook(params: dict[str, Any], **_: Any) -> Any:
        part = params["query_string"].get("partNumber")
        if part_number is not None and str(part) != str(part_number):
            return None
        error = {"Code": "BadDigest", "Message": DAMAGED}
        return AWSResponse("https://s3", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    return hook


@pytest.mark.nothing_lost(
    "integrity",
    "upload (single or the 2nd part of a multipart) that S3 finds damaged, through the service",
    "'damaged on the way … nothing was stored'; no metadata, no object, no open multipart upload",
)
@pytest.mark.parametrize(
    ("size", "operation", "part"),
    [(4096, "PutObject", None), (12 * MiB, "UploadPart", 2)],
    ids=["single", "multipart"],
)
def test_a_damaged_upload_stores_nothing(
    repository: DocumentRepository,
    s3: Any,
    tmp_path: Path,
    size: int,
    operation: str,
    part: int | None,
) -> None:
    source = tmp_path / "scan.tiff"
    write_file(source, size)
    settings = TransferSettings(multipart_threshold=5 * MiB, part_size=5 * MiB, concurrency=1)
    service = DocumentService(repository, BlobStore(s3, BUCKET, settings), USER_ID)
    s3.meta.events.register(f"before-call.s3.{operation}", _damaged(operation, part))

    with pytest.raises(IntegrityError, match="damaged on the way"):
        service.upload(source)

    assert_nothing_stored(service, s3)


class DamagedInTransit:
    """An S3 client whose first ``damaged`` GetObject bodies arrive with a wrong CRC32
    (botocore's own check); the later ones arrive whole."""

    def __init__(self, client: Any, damaged: int = 1) -> None:
        self._client = client
        self._damaged = damaged
        self.requests = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_object(self, **request: Any) -> dict[str, Any]:
        self.requests += 1
        response = self._client.get_object(**request)
        if self.requests <= self._damaged:
            data = response["Body"].read()
            response["Body"] = StreamingChecksumBody(
                io.BytesIO(data), len(data), Crc32Checksum(), "AAAAAA=="
            )
        return response


@pytest.mark.nothing_lost(
    "integrity",
    "download whose bytes arrive damaged (botocore's CRC32 check fails)",
    "'damaged on the way … nothing was written'; the existing file is untouched",
)
def test_a_download_damaged_on_the_way_writes_nothing(
    repository: DocumentRepository, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "minutes.txt"
    write_file(source, 3 * MiB)
    document = DocumentService(repository, BlobStore(s3, BUCKET), USER_ID).upload(source)
    client = DamagedInTransit(s3)
    service = DocumentService(repository, BlobStore(client, BUCKET), USER_ID)
    folder = tmp_path / "downloads"
    folder.mkdir()
    mine = folder / "minutes.txt"
    mine.write_bytes(b"my own edits")

    with pytest.raises(IntegrityError, match="damaged on the way") as caught:
        service.download(document.document_id, mine, overwrite=True)

    assert "nothing was written" in str(caught.value).lower()
    assert "Try again" in str(caught.value)  # read once more, it arrived whole: it will help
    assert client.requests == 2
    assert mine.read_bytes() == b"my own edits"
    assert leftovers(folder) == ["minutes.txt"]


@pytest.mark.nothing_lost(
    "integrity",
    "download of a body that fails the CRC32 it was stored with, each time it is read",
    "'the stored file is damaged … will not help' naming `dms admin check --verify-checksums` "
    "(was: 'damaged on the way … try again'); nothing written",
)
def test_a_body_damaged_where_it_is_stored_is_not_blamed_on_the_way(
    repository: DocumentRepository, s3: Any, tmp_path: Path
) -> None:
    source = tmp_path / "minutes.txt"
    write_file(source, 3 * MiB)
    document = DocumentService(repository, BlobStore(s3, BUCKET), USER_ID).upload(source)
    client = DamagedInTransit(s3, damaged=2)
    service = DocumentService(repository, BlobStore(client, BUCKET), USER_ID)

    with pytest.raises(IntegrityError, match="stored file is damaged") as caught:
        service.download(document.document_id, tmp_path / "copy.txt")

    message = str(caught.value)
    assert "will not help" in message
    assert "dms admin check --verify-checksums" in message
    assert "try again" not in message.lower()
    assert not (tmp_path / "copy.txt").exists()


@pytest.mark.nothing_lost(
    "integrity",
    "body replaced on the server behind the app's back",
    "'does not match its checksum … Nothing was written' (exit 9); the user's file is untouched",
)
@pytest.mark.parametrize("change", ["same size", "longer", "empty"])
def test_a_body_changed_behind_the_apps_back_is_reported_and_not_written(
    service: DocumentService, s3: Any, tmp_path: Path, change: str
) -> None:
    source = tmp_path / "ledger.xlsx"
    data = write_file(source, 2 * MiB)
    document = service.upload(source)
    replacement = {
        "same size": bytes(byte ^ 1 for byte in data[:10]) + data[10:],
        "longer": data + b"!",
        "empty": b"",
    }[change]
    s3.put_object(Bucket=BUCKET, Key=document.s3_key, Body=replacement)
    folder = tmp_path / "downloads"
    folder.mkdir()
    mine = folder / "ledger.xlsx"
    mine.write_bytes(b"the user's own copy")

    with pytest.raises(IntegrityError, match="does not match its checksum"):
        service.download(document.document_id, mine, overwrite=True)
    with pytest.raises(IntegrityError):
        service.download(document.document_id, folder / "fresh.xlsx")

    assert mine.read_bytes() == b"the user's own copy"
    assert leftovers(folder) == ["ledger.xlsx"]
