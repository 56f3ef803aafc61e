"""An upload planned before anything is sent, the same for `dms upload` and the upload dialog.

1. :func:`check_source`: each file must have a name the data model accepts, a folder path it
   accepts, and be a readable regular file; one that is not is refused with the reason.
2. :func:`check_content`: each file is read and hashed once, and the stored documents with the
   same content are looked up.
3. :func:`decide`: the duplicate policy says whether to upload it, skip it, or ask the person.
4. The upload gets the plan's :class:`~dms_desktop.core.localfiles.HashedFile`
   (``DocumentService.upload(..., content=...)``): the file is read once more to send it, but
   not hashed again unless it changed in between.

With the ``keep`` policy there is nothing to compare, so step 2 is left out and the upload
hashes the file as it sends it: either way every file is hashed exactly once.

Two uploads of the same content at the same time (two `dms upload --duplicates skip` of one
file, a script running several) would both find nothing stored and both store it:
:func:`claim_content` makes the check and the upload one step for the uploads of this machine.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import filelock

from .cancellation import CancelToken
from .errors import LocalFileError, ValidationError
from .formatting import printable
from .localfiles import HashedFile, UploadSource, check_readable_file, guess_file_type, hash_file
from .models import Document, normalize_filename, normalize_folder

MAX_NAMES_SHOWN = 3


class DuplicatePolicy(enum.StrEnum):
    """What to do with a file whose content is stored already."""

    ASK = "ask"  # ask the person; with nobody to ask, keep both and say so
    SKIP = "skip"
    KEEP = "keep"  # upload another copy


class Decision(enum.Enum):
    UPLOAD = "upload"
    SKIP = "skip"
    ASK = "ask"


@dataclass(frozen=True)
class CheckedSource:
    """A file that can be uploaded: its stored name and folder, as the data model has them."""

    source: UploadSource
    filename: str
    folder: str
    size: int
    file_type: str


@dataclass(frozen=True)
class ContentCheck:
    """A file hashed once, and the stored documents that have the same content."""

    content: HashedFile
    duplicates: tuple[Document, ...]


class DuplicateFinder(Protocol):
    def find_duplicates(self, checksum: str) -> list[Document]: ...


def check_source(source: UploadSource) -> CheckedSource:
    """The file as it would be stored; ValidationError (LocalFileError for a file that is
    missing or unreadable) with the reason it cannot be."""
    filename = normalize_filename(source.path.name)
    folder = normalize_folder(source.folder)
    check_readable_file(source.path)
    try:
        size = source.path.stat().st_size
    except OSError as exc:
        raise LocalFileError(f"{source.path} cannot be read ({exc.strerror or exc}).") from exc
    return CheckedSource(source, filename, folder, size, guess_file_type(filename))


def check_sources(
    sources: Sequence[UploadSource],
) -> tuple[list[CheckedSource], list[tuple[UploadSource, ValidationError]]]:
    """Every source checked: those that can be uploaded, and those refused with the reason."""
    checked: list[CheckedSource] = []
    refused: list[tuple[UploadSource, ValidationError]] = []
    for source in sources:
        try:
            checked.append(check_source(source))
        except ValidationError as error:
            refused.append((source, error))
    return checked, refused


def check_content(
    finder: DuplicateFinder, source: UploadSource, cancel: CancelToken | None = None
) -> ContentCheck:
    """Hash the file (once) and find the stored documents with the same content."""
    content = hash_file(source.path, cancel)
    return ContentCheck(content, tuple(finder.find_duplicates(content.checksum)))


CLAIM_BUCKETS = 256  # lock files at most: uploads of different content rarely wait on each other


@contextmanager
def claim_content(
    locks_dir: Path,
    finder: DuplicateFinder,
    owner: str,
    source: UploadSource,
    cancel: CancelToken | None = None,
) -> Iterator[ContentCheck]:
    """Hash the file and find its stored copies (:func:`check_content`), holding until the block
    ends a lock that any other upload of the same content by ``owner`` on this machine takes
    before its own check: the second one then finds the first one's document. (Uploads from two
    machines at the same instant can still both store it; see docs/limits.md.)"""
    content = hash_file(source.path, cancel)
    bucket = hashlib.sha256(f"{owner}\0{content.checksum}".encode()).digest()[0] % CLAIM_BUCKETS
    locks_dir.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(locks_dir / f"upload-{bucket:02x}.lock")):
        yield ContentCheck(content, tuple(finder.find_duplicates(content.checksum)))


def decide(duplicates: Sequence[Document], policy: DuplicatePolicy, can_ask: bool) -> Decision:
    """Upload, skip, or ask, for a file whose stored copies are ``duplicates``."""
    if not duplicates or policy is DuplicatePolicy.KEEP:
        return Decision.UPLOAD
    if policy is DuplicatePolicy.SKIP:
        return Decision.SKIP
    return Decision.ASK if can_ask else Decision.UPLOAD


def duplicate_names(duplicates: Sequence[Document], *, with_ids: bool = False) -> str:
    """'a.pdf, b.pdf, c.pdf and 2 more' (with ids: 'a.pdf (01938f2c-…), …')."""
    shown = [
        printable(document.filename) + (f" ({document.document_id})" if with_ids else "")
        for document in duplicates[:MAX_NAMES_SHOWN]
    ]
    more = len(duplicates) - MAX_NAMES_SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
