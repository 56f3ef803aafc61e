"""What a client needs to talk to a running sandbox, and the files that describe it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dms_desktop.core.identity import CognitoPool

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
STATE_FILE = "state.pickle"
BODIES_DIR = "bodies"
DAMAGED_DIR = "damaged"  # body files that turned out not to be their object's, moved aside
WAL_DIR = "wal"

HEALTH_PATH = "/dms-sandbox/health"
SHUTDOWN_PATH = "/dms-sandbox/shutdown"


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
        )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a temp file, fsync, then rename over the old file."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
