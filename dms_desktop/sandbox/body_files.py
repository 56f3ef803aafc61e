"""The sandbox's body files (``bodies/<id>``): one per S3 object body, written once, read lazily,
and what happens when one is lost.

moto never changes the body of a stored key (a new PUT makes a new key), so each file is written
once, before the first state or log record that refers to it, and deleted once the saved state no
longer refers to it (see ``state_store``).

Restored keys read their body file lazily: each read opens the file, so a restart costs
O(metadata) whatever the size of the bodies, and no file descriptor stays open per object. A key
created by a request gets its body file before the request is answered (``change_log``); from
then on it reads that file, as restored keys do, and moto's temp file is closed.

Lost bodies: a body file that is missing, or whose size is not its object's, fails that object
only. At a start such objects are taken out of their bucket (the file, if any, is moved to
``damaged/``) and logged; while running, the read that finds one answers NoSuchKey and takes the
object out the same way. Every other object is served as before, and ``dms admin check`` reports
the documents whose stored file is gone.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from moto.s3.exceptions import MissingKey
from moto.s3.models import FakeKey, s3_backends

from dms_desktop.core.paths import private_folder
from dms_desktop.sandbox.info import BODIES_DIR, DAMAGED_DIR, open_private

log = logging.getLogger(__name__)

BODY_ID_ATTR = "_dms_body_id"  # set on FakeKeys whose body has a file in bodies/
_LOST_ATTR = "_dms_lost"  # why a restored key's body file cannot be its body
_FILE_SIZE_ATTR = "_dms_file_size"  # the body file's size when the key was restored
_COPY_CHUNK = 1024 * 1024  # small: a request copies a body while others need memory too


class BodyLost(OSError):
    """A body file is missing or no longer the object's body."""


class StoredBody(io.RawIOBase):
    """A read-only file object over a body file that opens the file for each read."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._position = 0

    def problem(self, expected_size: int) -> str | None:
        """Why the file cannot be the body of an object of ``expected_size`` bytes, or None."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return "its body file is missing"
        except OSError as exc:
            return f"its body file cannot be read ({exc.strerror or exc})"
        if size != expected_size:
            return f"its body file has {size} bytes, not {expected_size}"
        return None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._position = offset
        elif whence == io.SEEK_CUR:
            self._position += offset
        else:
            self._position = self.path.stat().st_size + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._position)
                data = handle.read(-1 if size is None else size)
        except FileNotFoundError as exc:
            raise BodyLost(f"its body file {self.path.name} is missing") from exc
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)


# --- lost bodies ------------------------------------------------------------------------------

# Told about each object taken out because its body was lost (``changes`` logs it).
on_object_removed: Callable[[FakeKey], None] | None = None

_moto_value_get: Callable[[FakeKey], bytes] = FakeKey.value.fget  # type: ignore[attr-defined]


def _checked_value(key: FakeKey) -> bytes:
    """moto's ``FakeKey.value``, but a lost body fails only this object: NoSuchKey."""
    buffer = key._value_buffer
    if isinstance(buffer, StoredBody):
        problem = buffer.problem(key.contentsize)
        if problem is not None:
            raise _lost(key, problem)
    try:
        return _moto_value_get(key)
    except BodyLost as exc:
        raise _lost(key, str(exc)) from exc


_checked_value._dms_checked = True  # type: ignore[attr-defined]


def _lost(key: FakeKey, problem: str) -> MissingKey:
    bodies_dir = (
        key._value_buffer.path.parent if isinstance(key._value_buffer, StoredBody) else None
    )
    log.error(
        "Object %s/%s (version %s) is lost: %s; it is taken out of its bucket",
        key.bucket_name,
        key.name,
        key.version_id,
        problem,
    )
    if bodies_dir is not None:
        _quarantine(key, bodies_dir)
    if _take_out(key) and on_object_removed is not None:
        on_object_removed(key)
    return MissingKey(key=key.name)


def _quarantine(key: FakeKey, bodies_dir: Path) -> None:
    """Move a damaged body file to ``damaged/`` (nothing to move if it is missing)."""
    body_id = key.__dict__.get(BODY_ID_ATTR)
    if body_id is None:
        return
    source = bodies_dir / body_id
    target_dir = bodies_dir.parent / DAMAGED_DIR
    try:
        target_dir.mkdir(mode=0o700, exist_ok=True)
        source.replace(target_dir / body_id)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("Could not move the damaged body file %s aside: %s", source, exc)
    else:
        log.warning(
            "The damaged body file of %s/%s is now %s",
            key.bucket_name,
            key.name,
            target_dir / body_id,
        )


def _take_out(key: FakeKey) -> bool:
    """Remove this version of ``key`` from its bucket; False if it was no longer there."""
    for bucket in _s3_buckets():
        if bucket.name != key.bucket_name:
            continue
        versions = list(bucket.keys.getlist(key.name, []))
        if not any(version is key for version in versions):
            continue
        kept = [version for version in versions if version is not key]
        if kept:
            bucket.keys.setlist(key.name, kept)  # disposes of the lost version
        else:
            bucket.keys.pop(key.name)
        return True
    return False


def take_out_lost_objects() -> int:
    """Take the objects whose body file was missing or damaged at load out of their buckets."""
    lost: list[FakeKey] = []
    for bucket in _s3_buckets():
        for _name, versions in bucket.keys.iterlists():
            lost.extend(
                version
                for version in versions
                if isinstance(version, FakeKey) and version.__dict__.get(_LOST_ATTR)
            )
    for key in lost:
        _lost(key, key.__dict__[_LOST_ATTR])
    return len(lost)


def install() -> None:
    """Make a lost body fail its own object only (process-wide, idempotent; after
    ``multipart.install``, which sets ``FakeKey.value`` itself)."""
    current: property = FakeKey.value  # type: ignore[assignment]
    if getattr(current.fget, "_dms_checked", False):
        return
    FakeKey.value = property(_checked_value, current.fset)  # type: ignore[method-assign,assignment]


_writing: set[str] = set()  # body files being written now: never garbage
_save_locks: dict[int, threading.Lock] = {}  # id(key) -> held while its body file is written
_writing_lock = threading.Lock()


class _BodyFiles:
    """The bodies/ folder: writes each key's body once and remembers which files a state uses."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.referenced: set[str] = set()
        self.written = 0  # body files this instance wrote

    def ensure_saved(self, key: FakeKey) -> str:
        """The id of the key's body file, written (and synced) first if it has none.

        Safe from several threads at once (requests and the checkpoint): one of them writes."""
        body_id: str | None = key.__dict__.get(BODY_ID_ATTR)
        if body_id is None:
            with _writing_lock:  # not on the key: moto deep-copies keys, and locks do not copy
                save_lock = _save_locks.setdefault(id(key), threading.Lock())
            try:
                with save_lock:
                    body_id = key.__dict__.get(BODY_ID_ATTR)
                    if body_id is None:
                        body_id = self._save(key)
            finally:
                with _writing_lock:
                    _save_locks.pop(id(key), None)
        self.referenced.add(body_id)
        return body_id

    def _save(self, key: FakeKey) -> str:
        body_id = uuid.uuid4().hex
        path = self.directory / body_id
        with _writing_lock:
            _writing.add(body_id)
        try:
            self._write(key, path)
        finally:
            with _writing_lock:
                _writing.discard(body_id)
        setattr(key, BODY_ID_ATTR, body_id)
        with key.lock:  # from now on it reads its body file, as a restored key does
            written = key._value_buffer
            key.__dict__["_value_buffer"] = StoredBody(path)
        written.close()  # moto's temp file, or a completed upload's parts: kept once, not twice
        self.written += 1
        return body_id

    @staticmethod
    def _write(key: FakeKey, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        _ = key.etag  # computes the cached ETag now, so nothing else moves the buffer's position
        with key.lock, open_private(tmp) as out:
            buffer = key._value_buffer
            buffer.seek(0)
            while chunk := buffer.read(_COPY_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)


_loading = threading.local()


def _s3_buckets() -> Iterator[Any]:
    for _account, _region, backend in s3_backends.iter_backends():
        yield from cast(Any, backend).buckets.values()


def keys_without_body_file() -> list[FakeKey]:
    """Keys whose body has no file yet; call with the backends quiescent (fast: no I/O)."""
    found: list[FakeKey] = []
    for bucket in _s3_buckets():
        for _name, versions in bucket.keys.iterlists():
            found.extend(  # a delete marker (a versioned bucket's delete) has no body
                key
                for key in versions
                if isinstance(key, FakeKey) and BODY_ID_ATTR not in key.__dict__
            )
    return found


class BodyFolder:
    """The ``bodies/`` folder of a sandbox: writes body files, and reads keys that refer to them."""

    def __init__(self, sandbox_dir: Path) -> None:
        self.directory = sandbox_dir / BODIES_DIR

    def body_files(self) -> _BodyFiles:
        """Writes body files into this folder (for the write-ahead log's records)."""
        private_folder(self.directory)
        return _BodyFiles(self.directory)

    def write_bodies(self, keys: list[FakeKey]) -> None:
        """Write body files for ``keys`` ahead of a checkpoint (no lock: bodies never change)."""
        bodies = self.body_files()
        for key in keys:
            if key.__dict__.get("disposed"):
                continue  # deleted meanwhile
            try:
                bodies.ensure_saved(key)
            except ValueError:  # its buffer was closed: deleted meanwhile
                continue

    @contextlib.contextmanager
    def reading_bodies(self) -> Iterator[None]:
        """Unpickle keys (a state, a log record) whose body files are in this folder."""
        _loading.bodies_dir = self.directory
        try:
            yield
        finally:
            _loading.bodies_dir = None

    def remove_unused(self, body_ids: set[str]) -> int:
        """Delete these body files (no longer referred to), unless a request is writing one."""
        removed = 0
        for body_id in body_ids:
            with _writing_lock:
                if body_id in _writing:
                    continue
            try:
                (self.directory / body_id).unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:  # e.g. still open on Windows: the next start's sweep
                log.warning("Could not delete unused body file %s: %s", body_id, exc)
        return removed

    def remove_all_but(self, used: set[str]) -> int:
        """Delete every body file (and leftover temp file) not in ``used``; call it while no
        request runs (at a start)."""
        if not self.directory.is_dir():
            return 0
        unused = {
            path.name for path in self.directory.iterdir() if path.name.split(".")[0] not in used
        }
        return self.remove_unused(unused)
