"""The local side of transfers: which files an upload takes, and safe names for downloads."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .cancellation import CancelToken
from .errors import LocalFileError
from .models import DEFAULT_FILE_TYPE

# Built-in table only: the same answer on every machine, whatever /etc/mime.types says.
_mime_types = mimetypes.MimeTypes(filenames=())
for _type, _extension in [
    ("text/markdown", ".md"),
    ("text/markdown", ".markdown"),
    ("text/x-python", ".py"),
    ("application/x-yaml", ".yaml"),
    ("application/x-yaml", ".yml"),
    ("application/toml", ".toml"),
    ("image/webp", ".webp"),
]:
    _mime_types.add_type(_type, _extension)

_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
MAX_LOCAL_NAME_BYTES = 255


HASH_CHUNK = 1024 * 1024


def guess_file_type(filename: str) -> str:
    guessed, _ = _mime_types.guess_type(filename, strict=False)
    return guessed or DEFAULT_FILE_TYPE


@dataclass(frozen=True)
class UploadSource:
    path: Path
    folder: str  # relative folder inside an uploaded folder ('' for a file chosen directly)


def check_readable_file(path: Path) -> None:
    """LocalFileError unless ``path`` is an existing, readable regular file."""
    if not path.exists():
        if path.is_symlink():
            raise LocalFileError(f"{path} is a symbolic link to nothing (or to itself).")
        raise LocalFileError(f"{path} does not exist.")
    if path.is_dir():
        raise LocalFileError(f"{path} is a folder; upload it as a folder or choose a file.")
    if not path.is_file():
        raise LocalFileError(f"{path} is not a regular file.")
    try:
        # Opening is the real test: os.access asks for the real, not the effective user, and
        # misses ACLs and network file systems that refuse reads.
        path.open("rb").close()
    except PermissionError as exc:
        raise LocalFileError(f"{path} cannot be read (permission denied).") from exc
    except OSError as exc:
        raise LocalFileError(f"{path} cannot be read ({exc.strerror or exc}).") from exc


def collect_upload_sources(paths: list[Path]) -> list[UploadSource]:
    """Files to upload: each file as given; each folder recursively.

    A folder's files keep their place as ``folder`` = the folder's name plus the path inside it
    ('Invoices/2024'); symlinked folders are not followed (no loops), symlinked files are.
    """
    sources: list[UploadSource] = []
    for path in paths:
        if path.is_dir():
            # The folder's own name, also for '.' or '..' (whose path has no usable name).
            top = Path(os.path.normpath(path.absolute())).name  # not resolve(): keep link names
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs.sort()
                relative = (Path(top) / Path(root).relative_to(path)).as_posix()
                for name in sorted(files):
                    candidate = Path(root) / name
                    if candidate.is_file():
                        sources.append(UploadSource(candidate, relative))
        else:
            check_readable_file(path)
            sources.append(UploadSource(path, ""))
    return sources


def safe_local_name(filename: str) -> str:
    """A name safe to create in a local folder: no separators, control or reserved names.

    The stored filename is untrusted input: it may try to escape the folder ('../x'), hide
    itself ('.bashrc'), or be unusable on Windows ('CON', 'name. ').
    """
    name = unicodedata.normalize("NFC", filename)
    name = _UNSAFE_CHARS.sub("_", name)
    name = name.strip().rstrip(". ").lstrip(".")
    if not name:
        name = "document"
    if _WINDOWS_RESERVED.match(name):
        name = f"_{name}"
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    suffix = f".{extension}" if dot and len(extension.encode()) < 32 else ""
    base = stem if suffix else name
    while len((base + suffix).encode("utf-8")) > MAX_LOCAL_NAME_BYTES:
        base = base[:-1]
    return base + suffix


def unique_download_targets(folder: Path, named: list[tuple[str, str]]) -> dict[str, Path]:
    """Download targets in ``folder`` for ``(key, stored filename)`` pairs: safe names, made
    unique within the batch by " (2)", " (3)"... before the extension, within the byte limit."""
    used: set[str] = set()
    targets: dict[str, Path] = {}
    for key, filename in named:
        name = safe_local_name(filename)
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        candidate, number = name, 2
        while candidate.casefold() in used:
            tail = f" ({number}){dot}{extension}"
            candidate = truncate_to_bytes(stem, MAX_LOCAL_NAME_BYTES - len(tail.encode())) + tail
            number += 1
        used.add(candidate.casefold())
        targets[key] = folder / candidate
    return targets


def truncate_to_bytes(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` whose UTF-8 form fits in ``max_bytes`` (whole characters)."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


PARTIAL_SUFFIX = ".dms-partial"


def partial_file_prefix(target_name: str) -> str:
    """The start of the hidden file a download is written to before it is moved to
    ``target_name``: short enough in bytes that the whole name (plus the random part and
    :data:`PARTIAL_SUFFIX`) fits the file system's limit, whatever the script of the name."""
    return f".{truncate_to_bytes(target_name, 100)}."


def download_target(folder: Path, filename: str) -> Path:
    """Where a download of ``filename`` goes inside ``folder``; never outside it."""
    target = folder / safe_local_name(filename)
    if target.resolve().parent != folder.resolve():
        raise LocalFileError(f"Refusing to write {filename!r} outside {folder}.")
    return target


def file_checksum(path: Path, cancel: CancelToken | None = None) -> str:
    """SHA-256 (hex) of a local file, as stored in a document's ``checksum``."""
    return hash_file(path, cancel).checksum


# A file changed this shortly before it was hashed may change again without its fingerprint
# showing it (a write within the same tick of a coarse clock: 2 s on FAT): such a hash is not
# reused (git's "racily clean" rule).
_RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True)
class FileFingerprint:
    """What the file system says about a file without reading it; any write changes it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> FileFingerprint:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


@dataclass(frozen=True)
class HashedFile:
    """A local file's SHA-256 and its fingerprint when it was hashed, so that an upload that
    follows can use the checksum instead of hashing the file again (see :meth:`is_unchanged`)."""

    checksum: str
    fingerprint: FileFingerprint
    reusable: bool  # False: the file was being written around the time it was hashed

    @property
    def size(self) -> int:
        return self.fingerprint.size

    def is_unchanged(self, path: Path) -> bool:
        """True if ``path`` still has the content that was hashed, as far as the file system
        can tell without reading it; False means hash it again."""
        try:
            return self.reusable and FileFingerprint.of(path) == self.fingerprint
        except OSError:
            return False


def hash_file(path: Path, cancel: CancelToken | None = None) -> HashedFile:
    """Read ``path`` once and return its SHA-256 with the fingerprint it had meanwhile."""
    check_readable_file(path)
    started_ns = time.time_ns()
    digest = hashlib.sha256()
    try:
        before = FileFingerprint.of(path)
        with path.open("rb") as file:
            while chunk := file.read(HASH_CHUNK):
                if cancel is not None:
                    cancel.raise_if_cancelled("Checking for duplicates")
                digest.update(chunk)
        after = FileFingerprint.of(path)
    except OSError as exc:
        raise LocalFileError(f"{path} cannot be read ({exc.strerror or exc}).") from exc
    reusable = before == after and after.mtime_ns < started_ns - _RACY_WINDOW_NS
    return HashedFile(digest.hexdigest(), after, reusable)


def write_cache_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, whole or not at all: a temporary file beside it (readable by
    the user only, as ``mkstemp`` makes it) renamed over it. Not forced to disk: for caches, which
    may be lost in a power cut."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
