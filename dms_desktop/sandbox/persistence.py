"""Pickling moto's backends for the sandbox folder, and the state file of earlier versions.

Layout of the sandbox folder (0700; every file in it 0600):

- ``state.sqlite``: the state database (see ``state_store``): DynamoDB, S3 (without object
  bodies), Cognito user pools and identity pools (passwords as salted hashes, see ``passwords``;
  so are the log's records of user pools), plus the ids of the sandbox's own resources.
- ``bodies/<id>``: one file per S3 object body (see ``body_files``).
- ``wal/``: the write-ahead log of the changes since the state database was written (see ``wal``
  and ``change_log``); the database names the first segment it does not contain.
- ``damaged/``: body files found not to match their object, moved aside (see ``body_files``).
- ``state.pickle``: the state file of versions before the database (everything pickled whole);
  a start loads it, saves it as a database, and deletes it (:func:`load_legacy_state`).

Multipart uploads in progress are kept with their parts, so that a client can continue one after
the sandbox restarted (the app resumes interrupted uploads part by part). Each part is a key with
a body file of its own, written once when the part is stored (like any body, before the request
is answered); checkpoints refer to it and never copy it again. The parts of a *completed* upload
become the whole object's body (see ``multipart``), saved as one body file; their own files are
then unused and deleted at the next checkpoint.

The functions pickles refer to (``_new_key``, ``_new_object``, ...) stay in this module: saved
states and log records name them by it.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import moto
from joserfc import jwk
from moto.cognitoidentity.models import cognitoidentity_backends
from moto.cognitoidp.models import CognitoIdpUser, cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.s3.models import FakeKey, FakeMultipart, s3_backends
from moto.s3.utils import _VersionedKeyStore

from dms_desktop.core.errors import SandboxError
from dms_desktop.core.paths import PRIVATE_FILE_MODE, private_folder
from dms_desktop.sandbox.body_files import (
    _FILE_SIZE_ATTR,
    _LOST_ATTR,
    BODY_ID_ATTR,
    StoredBody,
    _BodyFiles,
    _loading,
)
from dms_desktop.sandbox.info import (
    BODIES_DIR,
    LEGACY_STATE_FILE,
)
from dms_desktop.sandbox.passwords import hash_password_of

log = logging.getLogger(__name__)

STATE_FORMAT = 1
_NOT_STATE = ("_value_buffer", "lock", BODY_ID_ATTR, _LOST_ATTR, _FILE_SIZE_ATTR)
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


# --- pickling ---------------------------------------------------------------------------------


class _StatePickler(pickle.Pickler):
    def __init__(self, file: IO[bytes], bodies: _BodyFiles) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._bodies = bodies
        self.body_ids: list[str] = []  # the body files what it pickled refers to

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is Item:
            return _item_reduction(obj)
        if isinstance(obj, CognitoIdpUser):
            hash_password_of(obj)  # the live user too: the plain text is gone from now on
            return NotImplemented
        if isinstance(obj, FakeKey):
            body_id = self._bodies.ensure_saved(obj)
            self.body_ids.append(body_id)
            state = {name: value for name, value in obj.__dict__.items() if name not in _NOT_STATE}
            return (_new_key, (body_id,), state, None, None, _set_key_state)
        if isinstance(obj, _VersionedKeyStore):
            # pickle's default for a dict subclass goes through items(), which moto's store
            # gives the newest version of each key only: every version is kept here.
            versions = [(name, list(keys)) for name, keys in obj.iterlists()]
            return (_new_key_store, (type(obj), versions))
        if isinstance(obj, FakeMultipart):  # its parts are keys: pickled as references
            return (_new_object, (FakeMultipart,), dict(obj.__dict__), None, None, _set_dict_state)
        if isinstance(obj, jwk.RSAKey):
            return (jwk.RSAKey.import_key, (obj.as_dict(private=True),))
        return NotImplemented


_COMPOUND_TYPES = frozenset({"L", "M"})  # values that hold DynamoTypes themselves


def _item_reduction(item: Item) -> Any:
    """An item as plain values: moto's own unpickling of an item re-measures its size once per
    attribute (``LimitedSizeDict.__setitem__``), which made loading 100,000 items take minutes."""
    attributes = [
        (name, None, value) if value.type in _COMPOUND_TYPES else (name, value.type, value.value)
        for name, value in item.attrs.items()
    ]
    extra = {
        name: value
        for name, value in item.__dict__.items()
        if name not in ("hash_key", "range_key", "attrs")
    }
    return (_new_item, (item.hash_key, item.range_key, attributes, extra or None))


def _new_item(
    hash_key: DynamoType,
    range_key: DynamoType | None,
    attributes: list[tuple[str, str | None, Any]],
    extra: dict[str, Any] | None,
) -> Item:
    item = cast(Item, Item.__new__(Item))
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(
        attrs,
        [
            (name, value if kind is None else _scalar(kind, value))
            for name, kind, value in attributes
        ],
    )
    item.__dict__.update(hash_key=hash_key, range_key=range_key, attrs=attrs)
    if extra:
        item.__dict__.update(extra)
    return item


def _scalar(kind: str, value: Any) -> DynamoType:
    scalar = _new_dynamo_type(DynamoType)
    scalar.__dict__ = {"type": kind, "value": value}
    return scalar


_new_dynamo_type = object.__new__


def _new_key(body_id: str) -> FakeKey:
    key = cast(FakeKey, FakeKey.__new__(FakeKey))
    path: Path = _loading.bodies_dir / body_id
    key.__dict__.update(
        _value_buffer=StoredBody(path), lock=threading.Lock(), **{BODY_ID_ATTR: body_id}
    )
    try:
        key.__dict__[_FILE_SIZE_ATTR] = path.stat().st_size
    except OSError:
        key.__dict__[_LOST_ATTR] = "its body file is missing"  # see take_out_lost_objects
    return key


def _set_key_state(key: FakeKey, state: dict[str, Any]) -> None:
    key.__dict__.update(state)
    file_size = key.__dict__.pop(_FILE_SIZE_ATTR, None)
    if file_size is not None and file_size != key.contentsize:
        key.__dict__[_LOST_ATTR] = f"its body file has {file_size} bytes, not {key.contentsize}"


def _new_key_store(cls: type[_VersionedKeyStore], versions: list[tuple[str, list[Any]]]) -> Any:
    store = cls()
    for name, keys in versions:
        store.setlist(name, keys)
    return store


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


# Used only while the first start deploys the template (see server._deploy_template); not kept,
# and not imported unless used: moto's CloudFormation imports most of moto (seconds at each start).
FIRST_START_MODULES = {
    "moto.cloudformation.models": "cloudformation_backends",
    "moto.iam.models": "iam_backends",
}


def clear_backends() -> None:
    """Empty moto's backends (they are process-wide), releasing their temp files."""
    first_start = [
        getattr(sys.modules[module], name)
        for module, name in FIRST_START_MODULES.items()
        if module in sys.modules
    ]
    for backend_dict in (*BACKENDS.values(), *first_start):
        for _account, _region, backend in backend_dict.iter_backends():
            backend.reset()
        backend_dict.clear()


def load_legacy_state(sandbox_dir: Path) -> LoadedState | None:
    """Install the backends of a ``state.pickle`` (the state file of versions before the state
    database) into moto; None if there is none. Call it after ``clear_backends``."""
    state_path = sandbox_dir / LEGACY_STATE_FILE
    if not state_path.exists():
        return None
    narrow_file_modes(sandbox_dir)
    _loading.bodies_dir = sandbox_dir / BODIES_DIR
    try:
        with state_path.open("rb") as handle:
            state = pickle.load(handle)  # noqa: S301 (our own file in the user's folder)
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError("unknown state format")
        resources = state["resources"]
        if not isinstance(resources, SandboxResources):
            raise TypeError("no sandbox resources in the state")
        saved: dict[str, dict[str, dict[str, Any]]] = state["backends"]
    except Exception as exc:
        log.exception("Cannot read the sandbox state %s", state_path)
        raise SandboxError(
            f"The local sandbox's state file {state_path} is unreadable ({exc}); "
            f"{reset_command_hint()}"
        ) from exc
    finally:
        _loading.bodies_dir = None
    if state.get("moto") != moto.__version__:
        log.warning(
            "Sandbox state written by moto %s, running %s", state.get("moto"), moto.__version__
        )
    install_backends(saved)
    return LoadedState(
        resources,
        bool(state.get("samples_seeded")),
        int(state.get("wal_segment", 0)),
        migrated_from=state_path,
    )


def install_backends(saved: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put saved backends (service -> account -> region -> backend) in place of moto's."""
    for service, accounts in saved.items():
        backend_dict = BACKENDS[service]
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backend_dict[account][region] = backend


@dataclass(frozen=True)
class LoadedState:
    resources: SandboxResources
    samples_seeded: bool
    wal_segment: int  # replay the write-ahead log from this segment on
    migrated_from: Path | None = None  # a state file of an earlier version, to save anew


def narrow_file_modes(sandbox_dir: Path) -> None:
    """Make the files of a folder written by an earlier version (0644) their owner's only."""
    if os.name != "posix":
        return
    folders = [sandbox_dir, *(path for path in sandbox_dir.iterdir() if path.is_dir())]
    for folder in folders:
        private_folder(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mode & 0o077:
                    Path(entry.path).chmod(PRIVATE_FILE_MODE)
