"""Saved searches: a name for a query, kept on this computer for each profile and user.

One JSON file in the data folder (``saved-searches.json``), shared by the CLI (``dms search
--save``, ``dms searches``) and the window's "Saved searches" panel. A query is checked when
it is saved, so a saved search always runs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from dms_desktop.core.errors import LocalFileError, NotFound, ValidationError
from dms_desktop.core.search.query import parse_query

log = logging.getLogger(__name__)

FILE_NAME = "saved-searches.json"
MAX_NAME_CHARS = 80
MAX_SAVED = 200


class SavedSearches:
    """The saved searches of one user of one profile."""

    def __init__(self, data_dir: Path, profile: str, user_id: str) -> None:
        self.path = data_dir / FILE_NAME
        self._scope = f"{profile}/{user_id}"

    def _load_all(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LocalFileError(
                f"The saved searches in {self.path} cannot be read ({exc}); fix or remove the file."
            ) from exc
        if not isinstance(data, dict):
            return {}
        return {
            scope: {str(name): str(query) for name, query in entries.items()}
            for scope, entries in data.items()
            if isinstance(entries, dict)
        }

    def _write_all(self, data: dict[str, dict[str, str]]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".saved-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, ensure_ascii=False, sort_keys=True)
            Path(temporary).replace(self.path)
        except OSError as exc:
            raise LocalFileError(f"Cannot save searches in {self.path}: {exc}") from exc

    def list(self) -> dict[str, str]:
        """Name -> query, in name order."""
        return dict(sorted(self._load_all().get(self._scope, {}).items()))

    def save(self, name: str, query: str) -> None:
        """Save (or replace) a search; ValidationError for an empty name or a bad query."""
        name = " ".join(name.split())
        if not name:
            raise ValidationError("A saved search needs a name.")
        if len(name) > MAX_NAME_CHARS:
            raise ValidationError(f"A saved search's name has at most {MAX_NAME_CHARS} characters.")
        parse_query(query)  # a saved search always runs
        data = self._load_all()
        mine = data.setdefault(self._scope, {})
        if name not in mine and len(mine) >= MAX_SAVED:
            raise ValidationError(f"At most {MAX_SAVED} searches can be saved; delete some first.")
        mine[name] = query
        self._write_all(data)

    def delete(self, name: str) -> None:
        data = self._load_all()
        mine = data.get(self._scope, {})
        if name not in mine:
            raise NotFound(f"There is no saved search named {name!r}.")
        del mine[name]
        self._write_all(data)
