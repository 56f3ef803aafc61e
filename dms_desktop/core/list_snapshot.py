"""The first page of the list as the user last saw it, shown the moment the window opens.

A returning user (a remembered session) sees their documents at once, greyed, while the worker
loads the AWS SDK, resumes the session and fetches the live page (about a second on the sandbox,
longer on a slow network); the live rows then replace them. A snapshot is kept only for a
remembered session, one per profile, in the user's cache folder, readable by the user only, and
deleted at sign-out and when the remembered session ends. Qt-free; no AWS library.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .localfiles import write_cache_file
from .models import Document
from .paths import AppPaths

log = logging.getLogger(__name__)

SNAPSHOT_FOLDER = "list"  # in the cache folder; removed with the user's other caches


@dataclass(frozen=True)
class ListSnapshot:
    taken_at: datetime
    documents: list[Document]


class ListSnapshots:
    """Snapshots of the first page, one file per profile in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @classmethod
    def of(cls, paths: AppPaths) -> ListSnapshots:
        """The app's snapshots, in its cache folder."""
        return cls(paths.cache_dir / SNAPSHOT_FOLDER)

    def _path(self, profile: str) -> Path:
        return self._folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', profile)}.json"

    def save(self, profile: str, snapshot: ListSnapshot) -> None:
        """Replace the profile's snapshot (atomically; a failure only loses the snapshot)."""
        data = {
            "takenAt": snapshot.taken_at.isoformat(),
            "documents": [document.to_json_dict() for document in snapshot.documents],
        }
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(data, ensure_ascii=False)
            write_cache_file(self._path(profile), text.encode("utf-8"))  # readable by the user only
        except OSError as exc:
            log.warning("could not keep the list for the next start: %s", exc)

    def load(self, profile: str) -> ListSnapshot | None:
        """The profile's snapshot; None if there is none or it cannot be read (then it is
        deleted: the live list replaces it anyway)."""
        path = self._path(profile)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return ListSnapshot(
                taken_at=datetime.fromisoformat(data["takenAt"]),
                documents=[Document.model_validate(item) for item in data["documents"]],
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:  # ValueError: pydantic's too
            log.warning("ignoring an unreadable list snapshot %s: %s", path.name, exc)
            self.forget(profile)
            return None

    def forget(self, profile: str) -> None:
        try:
            self._path(profile).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete the list snapshot of %s: %s", profile, exc)
