"""The sandbox's state file as versions before the state database wrote it (``state.pickle``),
for the test that such a folder is migrated: the same pickling as those versions (every backend
whole, items by moto's own pickling), written the same way."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import moto
from moto.dynamodb.models.dynamo_type import Item

from dms_desktop.sandbox import persistence
from dms_desktop.sandbox.body_files import BodyFolder
from dms_desktop.sandbox.info import LEGACY_STATE_FILE, fsync_dir, open_private
from dms_desktop.sandbox.persistence import SandboxResources


class _LegacyPickler(persistence._StatePickler):
    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is Item:
            return NotImplemented  # as those versions pickled items
        return super().reducer_override(obj)


def write_legacy_state(
    sandbox_dir: Path, resources: SandboxResources, samples_seeded: bool, wal_segment: int
) -> None:
    """Write the backends installed in moto now as ``state.pickle``."""
    bodies = BodyFolder(sandbox_dir).body_files()
    state = {
        "format": persistence.STATE_FORMAT,
        "moto": moto.__version__,
        "resources": resources,
        "samples_seeded": samples_seeded,
        "wal_segment": wal_segment,
        "backends": persistence._live_backends(),
    }
    path = sandbox_dir / LEGACY_STATE_FILE
    with open_private(path) as handle:
        _LegacyPickler(handle, bodies).dump(state)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(sandbox_dir)
