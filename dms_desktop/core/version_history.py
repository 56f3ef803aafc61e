"""A document's version history as its item holds it (``bodyVersions``), and the retention
policy that bounds it (see core.versions)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import IntegrityError, NotFound
from .items import from_item
from .models import Document, format_timestamp, parse_timestamp, utc_now
from .schema import BODY_VERSIONS, MAX_OLD_VERSIONS, OLD_VERSION_DAYS


@dataclass(frozen=True)
class BodyVersion:
    """One version of a document's body."""

    number: int
    size: int
    checksum: str  # SHA-256, lower-case hex
    s3_version_id: str | None  # None: a body stored before versions, not resolved yet
    created_at: datetime
    restored_from: int | None = None  # the version whose bytes a restore copied

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "size": self.size,
            "checksum": self.checksum,
            "createdAt": format_timestamp(self.created_at),
            "s3VersionId": self.s3_version_id,
            "restoredFrom": self.restored_from,
        }

    def to_attribute(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "number": {"N": str(self.number)},
            "size": {"N": str(self.size)},
            "checksum": {"S": self.checksum},
            "createdAt": {"S": format_timestamp(self.created_at)},
        }
        if self.s3_version_id is not None:
            entry["s3VersionId"] = {"S": self.s3_version_id}
        if self.restored_from is not None:
            entry["restoredFrom"] = {"N": str(self.restored_from)}
        return {"M": entry}


@dataclass(frozen=True)
class VersionHistory:
    """A document and its versions, the oldest first (the last one is the current body)."""

    document: Document
    versions: tuple[BodyVersion, ...]

    @property
    def latest(self) -> BodyVersion:
        return self.versions[-1]

    def version(self, number: int) -> BodyVersion:
        for version in self.versions:
            if version.number == number:
                return version
        numbers = ", ".join(str(version.number) for version in self.versions)
        raise NotFound(
            f"{self.document.filename} has no version {number} (it has {numbers}; old versions "
            f"are kept {OLD_VERSION_DAYS} days after they are replaced, at most "
            f"{MAX_OLD_VERSIONS} of them)."
        )


def read_history(item: dict[str, Any], now: datetime | None = None) -> VersionHistory:
    """The history an item holds (IntegrityError if it is damaged), without the old versions
    whose time is over (their bytes are gone from the bucket)."""
    document = from_item(item)
    stored = item.get(BODY_VERSIONS, {}).get("L")
    if not stored:
        first = BodyVersion(1, document.size, document.checksum, None, document.created_at)
        return VersionHistory(document, (first,))
    try:
        versions = [_version_of(entry["M"]) for entry in stored]
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(
            f"The version history of {document.filename} ({document.document_id}) is damaged; "
            "its current version can still be downloaded."
        ) from exc
    return VersionHistory(document, tuple(kept_versions(versions, now or utc_now())))


def _version_of(entry: dict[str, Any]) -> BodyVersion:
    restored = entry.get("restoredFrom")
    version_id = entry.get("s3VersionId")
    return BodyVersion(
        number=int(entry["number"]["N"]),
        size=int(entry["size"]["N"]),
        checksum=str(entry["checksum"]["S"]),
        s3_version_id=str(version_id["S"]) if version_id else None,
        created_at=parse_timestamp(entry["createdAt"]["S"]),
        restored_from=int(restored["N"]) if restored else None,
    )


def kept_versions(versions: Sequence[BodyVersion], now: datetime) -> list[BodyVersion]:
    """``versions`` without the old ones replaced more than OLD_VERSION_DAYS ago, and without
    the oldest beyond MAX_OLD_VERSIONS old ones."""
    oldest_kept = now - timedelta(days=OLD_VERSION_DAYS)
    kept = [
        version
        for version, newer in itertools.pairwise(versions)
        if newer.created_at >= oldest_kept
    ]
    return [*kept[-MAX_OLD_VERSIONS:], versions[-1]]


def version_file_name(filename: str, number: int, history: VersionHistory) -> str:
    """The local name of a downloaded version: the document's name, with " (version N)"
    before the extension unless it is the current version."""
    if number == history.latest.number:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if not stem:
        return f"{filename} (version {number})"
    return f"{stem} (version {number}){dot}{extension}"
