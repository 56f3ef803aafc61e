"""The sandbox's state keeps every version of an object of its versioned bucket: old versions
and delete markers survive a checkpoint (moto's key store pickles only the newest version of
each key by itself, and a delete marker has no body to save)."""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.s3.models import FakeDeleteMarker, FakeKey, s3_backends

from dms_desktop.sandbox import body_files
from dms_desktop.sandbox.body_files import _BodyFiles, keys_without_body_file
from dms_desktop.sandbox.persistence import _StatePickler

BUCKET = "versions-bucket"


@pytest.fixture
def versioned_key() -> Iterator[Any]:
    """A key written twice and then deleted: two versions under a delete marker."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"one")
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"two")
        s3.delete_object(Bucket=BUCKET, Key="k")
        yield s3_backends["123456789012"]["aws"].buckets[BUCKET].keys


def test_a_delete_marker_has_no_body_file_to_write(versioned_key: Any) -> None:
    found = keys_without_body_file()

    assert len(found) == 2 and all(isinstance(key, FakeKey) for key in found)


def test_every_version_of_a_key_is_pickled(versioned_key: Any, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    _StatePickler(buffer, _BodyFiles(tmp_path)).dump(versioned_key)
    body_files._loading.bodies_dir = tmp_path

    loaded = pickle.loads(buffer.getvalue())  # noqa: S301 (written just above)

    versions = loaded.getlist("k")
    assert [type(version) for version in versions] == [FakeKey, FakeKey, FakeDeleteMarker]
    assert [version.value for version in versions[:2]] == [b"one", b"two"]
