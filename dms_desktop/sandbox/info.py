"""What a client needs to talk to a running sandbox, and the files that describe it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from dms_desktop.core.identity import CognitoPool
from dms_desktop.core.paths import PRIVATE_FILE_MODE

REGION = "us-east-1"
# Dummy credentials: moto accepts anything, and these never leave the machine.
ACCESS_KEY_ID = "sandbox"
SECRET_ACCESS_KEY = "sandbox"  # noqa: S105 (not a secret)

DEMO_USER = ("demo", "demo-password")
ADMIN_USER = ("admin", "admin-password")
ADMINS_GROUP = "admins"

INFO_FILE = "sandbox.json"
RUN_LOCK_FILE = "sandbox.lock"  # held by the running server
START_LOCK_FILE = "start.lock"  # serialises clients that may spawn a server
STATE_FILE = "state.sqlite"  # the state database (see sandbox.state_store)
LEGACY_STATE_FILE = "state.pickle"  # the state file of earlier versions, migrated at a start
BODIES_DIR = "bodies"
DAMAGED_DIR = "damaged"  # body files that turned out not to be their object's, moved aside
WAL_DIR = "wal"

HEALTH_PATH = "/dms-sandbox/health"
SHUTDOWN_PATH = "/dms-sandbox/shutdown"
LEASE_PATH = "/dms-sandbox/lease"

# Every request carries the sandbox's key (a new one at each start, in the 0600 info file of the
# 0700 sandbox folder): only its owner can read it. The health check proves the key both ways
# without sending it (see ``proof``), so a client never hands the key to a program that took the
# port of a stopped sandbox.
KEY_HEADER = "X-Dms-Sandbox-Key"
CHALLENGE_HEADER = "X-Dms-Sandbox-Challenge"
PROOF_HEADER = "X-Dms-Sandbox-Proof"
# Error codes of the sandbox's own refusals (shaped as AWS errors, so botocore parses them).
KEY_REJECTED = "DmsSandboxKeyRejected"
STOPPING = "DmsSandboxStopping"
FOREIGN_HOST = "DmsSandboxForeignHost"


def new_key() -> str:
    return secrets.token_urlsafe(32)


def proof(key: str, role: str, challenge: str) -> str:
    """What ``role`` ("client" or "server") answers to ``challenge`` to show it has ``key``."""
    message = f"{role}:{challenge}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def proof_matches(key: str, role: str, challenge: str, given: str) -> bool:
    return hmac.compare_digest(proof(key, role, challenge), given)


SHARE_PARAM = "dms-share"
"""The query parameter that lets a share link in without the key: the proof that the sandbox's
owner made this very link (its path and signature), so no other page or user can forge one."""


def share_link_proof(key: str, path: str, signature: str) -> str:
    return proof(key, "share", f"{path}\n{signature}")


@dataclass(frozen=True)
class SandboxInfo:
    """Where the running sandbox listens and the ids of its resources."""

    endpoint_url: str
    region: str
    user_pool_id: str
    app_client_id: str
    identity_pool_id: str
    table: str
    bucket: str
    pid: int
    key: str = field(default="", repr=False)  # proves requests come from the owner (see above)

    def cognito_pool(self) -> CognitoPool:
        """How to sign in here: ids made stable from the user's sub; no SRP (moto's SRP accepts
        any password, so USER_PASSWORD_AUTH is what really checks it)."""
        return CognitoPool(
            region=self.region,
            user_pool_id=self.user_pool_id,
            app_client_id=self.app_client_id,
            identity_pool_id=self.identity_pool_id,
            endpoint_url=self.endpoint_url,
            stable_ids_from_sub=True,
            use_srp=False,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> SandboxInfo:
        data: dict[str, Any] = json.loads(text)
        return cls(
            endpoint_url=str(data["endpoint_url"]),
            region=str(data["region"]),
            user_pool_id=str(data["user_pool_id"]),
            app_client_id=str(data["app_client_id"]),
            identity_pool_id=str(data["identity_pool_id"]),
            table=str(data["table"]),
            bucket=str(data["bucket"]),
            pid=int(data["pid"]),
            key=str(data.get("key", "")),  # none: started by an earlier version
        )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (readable by its owner only): a temp file, fsync, then
    rename over the old file."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open_private(tmp) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


def open_private(path: Path) -> BinaryIO:
    """``path`` opened for writing (truncated), created readable and writable by its owner
    only, whatever the umask; an existing file's mode is narrowed too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY, PRIVATE_FILE_MODE)
    if os.name == "posix":
        os.fchmod(fd, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "wb")


_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
