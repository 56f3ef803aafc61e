"""Snapshots of moto's in-memory backends in the sandbox folder.

Layout of the sandbox folder:

- ``state.pickle``: DynamoDB, S3 (without object bodies), Cognito user pools and identity pools,
  plus the ids of the sandbox's own resources. Rewritten whole at every checkpoint, atomically
  (temp file, fsync, rename, fsync of the folder).
- ``bodies/<id>``: one file per S3 object body. moto never changes the body of a stored key (a new
  PUT makes a new key), so each file is written once, before the first state that refers to it,
  and deleted once a committed state no longer refers to it.

Restored keys read their body file lazily: each read opens the file, so a restart costs
O(metadata) whatever the size of the bodies, and no file descriptor stays open per object. Bodies
of keys created after the start live in moto's own temp files until the next checkpoint copies them
to their body files; the keys then read those, as restored keys do, and the temp files are closed.

Not kept: the parts of multipart uploads. Those of *completed* uploads are the whole object's
body (see ``multipart``), saved as one body file. Those of uploads still in progress would be
copied at every checkpoint during a large upload (a 1 GB upload wrote its parts twice, and ran up
to 1.6x slower when a checkpoint fell in it), for nothing: no client continues an upload across a
restart of the server it talks to. Such an upload is kept without its parts, so it is still
listed and can be aborted.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import moto
from joserfc import jwk
from moto.cloudformation.models import cloudformation_backends
from moto.cognitoidentity.models import cognitoidentity_backends
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.s3.models import FakeKey, FakeMultipart, s3_backends

from dms_desktop.core.errors import SandboxError
from dms_desktop.sandbox.info import BODIES_DIR, STATE_FILE, fsync_dir

log = logging.getLogger(__name__)

STATE_FORMAT = 1
BODY_ID_ATTR = "_dms_body_id"  # set on FakeKeys whose body has a file in bodies/
_COPY_CHUNK = 8 * 1024 * 1024

BACKENDS: dict[str, Any] = {
    "dynamodb": dynamodb_backends,
    "s3": s3_backends,
    "cognito-idp": cognitoidp_backends,
    "cognito-identity": cognitoidentity_backends,
}


@dataclass(frozen=True)
class SandboxResources:
    """The ids of what the first start created; kept in the state file."""

    user_pool_id: str
    app_client_id: str
    identity_pool_id: str
    table: str
    bucket: str


def reset_command_hint() -> str:
    return "run `dms local reset` to move it aside and start with an empty sandbox"


class StoredBody(io.RawIOBase):
    """A read-only file object over a body file that opens the file for each read."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._position = 0

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
        with self.path.open("rb") as handle:
            handle.seek(self._position)
            data = handle.read(-1 if size is None else size)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)


# --- pickling ---------------------------------------------------------------------------------


class _BodyFiles:
    """The bodies/ folder: writes each key's body once and remembers which files a state uses."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.referenced: set[str] = set()

    def ensure_saved(self, key: FakeKey) -> str:
        body_id: str | None = key.__dict__.get(BODY_ID_ATTR)
        if body_id is None:
            body_id = uuid.uuid4().hex
            path = self.directory / body_id
            self._write(key, path)
            setattr(key, BODY_ID_ATTR, body_id)
            with key.lock:  # from now on it reads its body file, as a restored key does
                written = key._value_buffer
                key.__dict__["_value_buffer"] = StoredBody(path)
            written.close()  # moto's temp file, or a completed upload's parts: kept once, not twice
        self.referenced.add(body_id)
        return body_id

    @staticmethod
    def _write(key: FakeKey, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        _ = key.etag  # computes the cached ETag now, so nothing else moves the buffer's position
        with key.lock, tmp.open("wb") as out:
            buffer = key._value_buffer
            buffer.seek(0)
            while chunk := buffer.read(_COPY_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)

    def collect_garbage(self) -> int:
        """Delete body files (and leftover temp files) the committed state does not use."""
        removed = 0
        for path in self.directory.iterdir():
            if path.name in self.referenced:
                continue
            try:
                path.unlink()
                removed += 1
            except OSError as exc:  # e.g. still open on Windows: try again next time
                log.warning("Could not delete unused body file %s: %s", path, exc)
        return removed


class _StatePickler(pickle.Pickler):
    def __init__(self, file: IO[bytes], bodies: _BodyFiles) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._bodies = bodies

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, FakeKey):
            body_id = self._bodies.ensure_saved(obj)
            state = {
                name: value
                for name, value in obj.__dict__.items()
                if name not in ("_value_buffer", "lock", BODY_ID_ATTR)
            }
            return (_new_key, (body_id,), state, None, None, _set_dict_state)
        if isinstance(obj, FakeMultipart):
            state = dict(obj.__dict__, parts={}, partlist=[])  # see "Not kept" above
            return (_new_object, (FakeMultipart,), state, None, None, _set_dict_state)
        if isinstance(obj, jwk.RSAKey):
            return (jwk.RSAKey.import_key, (obj.as_dict(private=True),))
        return NotImplemented


_loading = threading.local()


def _new_key(body_id: str) -> FakeKey:
    key = cast(FakeKey, FakeKey.__new__(FakeKey))
    path: Path = _loading.bodies_dir / body_id
    if not path.is_file():
        raise FileNotFoundError(f"missing body file {path}")
    key.__dict__.update(
        _value_buffer=StoredBody(path), lock=threading.Lock(), **{BODY_ID_ATTR: body_id}
    )
    return key


def _new_object(cls: type[Any]) -> Any:
    return object.__new__(cls)


def _set_dict_state(obj: Any, state: dict[str, Any]) -> None:
    obj.__dict__.update(state)


# --- the state file ---------------------------------------------------------------------------


def _live_backends() -> dict[str, dict[str, dict[str, Any]]]:
    return {
        service: {account: dict(regions) for account, regions in backend_dict.items()}
        for service, backend_dict in BACKENDS.items()
    }


def _s3_buckets() -> Iterator[Any]:
    for _account, _region, backend in s3_backends.iter_backends():
        yield from cast(Any, backend).buckets.values()


def keys_without_body_file() -> list[FakeKey]:
    """Keys whose body has no file yet; call with the backends quiescent (fast: no I/O)."""
    found: list[FakeKey] = []
    for bucket in _s3_buckets():
        for _name, versions in bucket.keys.iterlists():
            found.extend(key for key in versions if BODY_ID_ATTR not in key.__dict__)
    return found


# Used only while the first start deploys the template (see server._deploy_template); not kept.
FIRST_START_BACKENDS: dict[str, Any] = {
    "cloudformation": cloudformation_backends,
    "iam": iam_backends,
}


def clear_backends() -> None:
    """Empty moto's backends (they are process-wide), releasing their temp files."""
    for backend_dict in (*BACKENDS.values(), *FIRST_START_BACKENDS.values()):
        for _account, _region, backend in backend_dict.iter_backends():
            backend.reset()
        backend_dict.clear()


class StateStore:
    """Reads and writes the sandbox folder's state file and body files."""

    def __init__(self, sandbox_dir: Path) -> None:
        self.sandbox_dir = sandbox_dir
        self.state_path = sandbox_dir / STATE_FILE
        self.bodies_dir = sandbox_dir / BODIES_DIR

    def exists(self) -> bool:
        return self.state_path.exists()

    def write_bodies(self, keys: list[FakeKey]) -> None:
        """Write body files for ``keys`` ahead of a checkpoint (no lock: bodies never change)."""
        self.bodies_dir.mkdir(parents=True, exist_ok=True)
        bodies = _BodyFiles(self.bodies_dir)
        for key in keys:
            if key.__dict__.get("disposed"):
                continue  # deleted meanwhile
            try:
                bodies.ensure_saved(key)
            except ValueError:  # its buffer was closed: deleted meanwhile
                continue

    def save(self, resources: SandboxResources, samples_seeded: bool) -> int:
        """Write the whole state atomically; return how many unused body files were deleted.

        The backends must not change meanwhile (the caller holds the write lock).
        """
        self.bodies_dir.mkdir(parents=True, exist_ok=True)
        bodies = _BodyFiles(self.bodies_dir)
        state = {
            "format": STATE_FORMAT,
            "moto": moto.__version__,
            "resources": resources,
            "samples_seeded": samples_seeded,
            "backends": _live_backends(),
        }
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with tmp.open("wb") as handle:
            _StatePickler(handle, bodies).dump(state)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(self.bodies_dir)  # body files are durable before the state refers to them
        tmp.replace(self.state_path)
        fsync_dir(self.sandbox_dir)
        return bodies.collect_garbage()

    def load(self) -> tuple[SandboxResources, bool] | None:
        """Install the saved backends into moto; None for a fresh folder.

        Returns the resources and whether the samples were seeded.
        """
        clear_backends()
        if not self.state_path.exists():
            return None
        _loading.bodies_dir = self.bodies_dir
        try:
            with self.state_path.open("rb") as handle:
                state = pickle.load(handle)  # noqa: S301 (our own file in the user's folder)
            if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
                raise ValueError("unknown state format")
            resources = state["resources"]
            if not isinstance(resources, SandboxResources):
                raise TypeError("no sandbox resources in the state")
            saved: dict[str, dict[str, dict[str, Any]]] = state["backends"]
        except Exception as exc:
            log.exception("Cannot read the sandbox state %s", self.state_path)
            raise SandboxError(
                f"The local sandbox's state file {self.state_path} is unreadable ({exc}); "
                f"{reset_command_hint()}"
            ) from exc
        finally:
            _loading.bodies_dir = None
        if state.get("moto") != moto.__version__:
            log.warning(
                "Sandbox state written by moto %s, running %s", state.get("moto"), moto.__version__
            )
        for service, accounts in saved.items():
            backend_dict = BACKENDS[service]
            for account, regions in accounts.items():
                for region, backend in regions.items():
                    backend_dict[account][region] = backend
        return resources, bool(state.get("samples_seeded"))
